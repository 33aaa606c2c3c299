"""Trains the small GAN of 003_edbfd8374a89a122.txt in TF1: two scopes, two optimizers, two `var_list`s.

The real data is the reference's toy distribution, N(3, 0.5) in --data_dim dimensions; the generator maps
uniform noise onto it. Each step runs `train_discriminator` (var_list = discriminator variables) and then
`train_generator` (var_list = generator variables). The table shows both var_lists, the losses, and how close
the generated samples' mean and spread come to the real ones. The model is saved to --checkpoint_dir.

Example: python -m scripts.gan_tf1 --steps=2000 --checkpoint_dir=runs/gan_tf1 --logdir=runs/logs
"""

import dataclasses
import os
from typing import List, Optional

from absl import flags
import numpy as np
import tensorflow as tf

from keras_bridge import _errors
from scripts import _common
from tf1_reference import gan as _gan

v1 = tf.compat.v1

_STEPS = flags.DEFINE_integer("steps", 2000, "Training steps (one discriminator and one generator update each).",
                              lower_bound=1)
_DATA_DIM = flags.DEFINE_integer("data_dim", 2, "Dimensions of the toy data (2 to 4).", lower_bound=1)
_NOISE_DIM = flags.DEFINE_integer("noise_dim", 2, "Dimensions of the generator's noise.", lower_bound=1)
_HIDDEN_UNITS = flags.DEFINE_integer("hidden_units", 16, "Units of each network's hidden layer.", lower_bound=1)
_D_LEARNING_RATE = flags.DEFINE_float("d_learning_rate", 0.05, "Discriminator learning rate.")
_G_LEARNING_RATE = flags.DEFINE_float("g_learning_rate", 0.05, "Generator learning rate.")

for _name in ("batch_size", "seed", "checkpoint_dir", "logdir", "progress", "overwrite"):
  flags.declare_key_flag(_name)

DEFAULT_CHECKPOINT_DIR = os.path.join("runs", "gan_tf1")
#: The reference's toy distribution (`tf1_reference.gan.sample_batch`): N(REAL_MEAN, REAL_STD).
REAL_MEAN, REAL_STD = 3.0, 0.5
_EVAL_SAMPLES = 1000


@dataclasses.dataclass
class GanResult:
  """What a GAN run produced.

  Attributes:
    checkpoint: the saved model's prefix.
    steps: training steps.
    d_loss: discriminator loss at the last step.
    g_loss: generator loss at the last step.
    sample_mean: mean of generated samples (over every dimension), before and after training.
    sample_std: their standard deviation, before and after training.
    discriminator_variables: the discriminator optimizer's var_list.
    generator_variables: the generator optimizer's var_list.
    logdir: the TensorBoard run directory, or None.
  """

  checkpoint: str
  steps: int
  d_loss: float
  g_loss: float
  sample_mean: tuple
  sample_std: tuple
  discriminator_variables: List[str]
  generator_variables: List[str]
  logdir: Optional[str] = None


def train_gan(checkpoint_dir: str,
              *,
              steps: int = 2000,
              batch_size: int = 20,
              data_dim: int = 2,
              noise_dim: int = 2,
              hidden_units: int = 16,
              d_learning_rate: float = 0.05,
              g_learning_rate: float = 0.05,
              seed: int = 42,
              logdir: Optional[str] = None,
              progress: bool = False,
              overwrite: bool = False) -> GanResult:
  """Builds `tf1_reference.gan.build_gan`, trains it on the toy distribution, and saves it.

  Args:
    checkpoint_dir: where `model-<steps>` is saved.
    steps: alternating discriminator/generator steps.
    batch_size: real samples and noise vectors per step.
    data_dim: toy data dimensions.
    noise_dim: noise dimensions.
    hidden_units: hidden units of each network.
    d_learning_rate: discriminator's gradient-descent learning rate.
    g_learning_rate: generator's gradient-descent learning rate.
    seed: graph seed and sampling seed.
    logdir: TensorBoard run directory; None writes no logs.
    progress: show a progress bar over the steps.
    overwrite: allow a non-empty `checkpoint_dir`.

  Returns:
    A `GanResult`.

  Raises:
    keras_bridge.OutputExistsError: `checkpoint_dir` is not empty and `overwrite` is False.
  """
  if os.path.isdir(checkpoint_dir) and os.listdir(checkpoint_dir) and not overwrite:
    raise _errors.OutputExistsError(f"Output directory {checkpoint_dir!r} is not empty. Pass --overwrite to save "
                                    "the GAN there anyway, or choose another --checkpoint_dir.")
  net = _gan.build_gan(data_dim=data_dim, noise_dim=noise_dim, hidden_units=hidden_units,
                       d_learning_rate=d_learning_rate, g_learning_rate=g_learning_rate, seed=seed)
  with net.graph.as_default():
    summary_op = v1.summary.merge([v1.summary.scalar("gan/d_loss", net.d_loss),
                                   v1.summary.scalar("gan/g_loss", net.g_loss),
                                   v1.summary.histogram("gan/generated", net.g_sample)])
    writer = v1.summary.FileWriter(logdir, graph=net.graph) if logdir else None
  rng = np.random.default_rng(seed)
  eval_z = rng.uniform(-1.0, 1.0, size=(_EVAL_SAMPLES, noise_dim)).astype(np.float32)
  log_every = max(steps // 50, 1)
  try:
    with v1.Session(graph=net.graph) as sess:
      sess.run(net.init)
      before = sess.run(net.g_sample, {net.z: eval_z})
      bar = _common.Progress(steps, progress)
      for step in range(1, steps + 1):
        x, z = _gan.sample_batch(rng, batch_size, data_dim, noise_dim)
        feed = {net.x_real: x, net.z: z}
        _, d_loss = sess.run([net.train_discriminator, net.d_loss], feed)
        _, g_loss = sess.run([net.train_generator, net.g_loss], feed)
        if step % log_every == 0 or step == steps:
          if writer:
            writer.add_summary(sess.run(summary_op, feed), step)
          bar.update(step, [("d_loss", d_loss), ("g_loss", g_loss)])
      after = sess.run(net.g_sample, {net.z: eval_z})
      os.makedirs(checkpoint_dir, exist_ok=True)
      saved = net.saver.save(sess, os.path.join(checkpoint_dir, "model"), global_step=steps)
  finally:
    if writer:
      writer.close()
  return GanResult(checkpoint=saved, steps=steps, d_loss=float(d_loss), g_loss=float(g_loss),
                   sample_mean=(float(before.mean()), float(after.mean())),
                   sample_std=(float(before.std()), float(after.std())),
                   discriminator_variables=[v.op.name for v in net.discriminator_variables],
                   generator_variables=[v.op.name for v in net.generator_variables], logdir=logdir)


def main(argv):
  _common.no_positional_args(argv)
  _common.require(
      [f"--{flag.name} must be positive. Received: --{flag.name}={flag.value}"
       for flag in (_D_LEARNING_RATE, _G_LEARNING_RATE) if flag.value <= 0] +
      [f"--data_dim must be between 1 and 4 (the toy data of 003). Received: --data_dim={_DATA_DIM.value}"
       if _DATA_DIM.value > 4 else ""])
  result = train_gan(_common.CHECKPOINT_DIR.value or DEFAULT_CHECKPOINT_DIR, steps=_STEPS.value,
                     batch_size=_common.BATCH_SIZE.value, data_dim=_DATA_DIM.value, noise_dim=_NOISE_DIM.value,
                     hidden_units=_HIDDEN_UNITS.value, d_learning_rate=_D_LEARNING_RATE.value,
                     g_learning_rate=_G_LEARNING_RATE.value, seed=_common.SEED.value,
                     logdir=_common.run_logdir(_common.LOGDIR.value, "gan"),
                     progress=_common.show_progress(_common.PROGRESS.value), overwrite=_common.OVERWRITE.value)
  print(_common.format_table(
      [("discriminator var_list", ", ".join(result.discriminator_variables)),
       ("generator var_list", ", ".join(result.generator_variables)),
       ("steps", result.steps),
       ("d_loss / g_loss", f"{result.d_loss:.4f} / {result.g_loss:.4f}"),
       ("generated mean", f"{result.sample_mean[0]:.3f} -> {result.sample_mean[1]:.3f} (real {REAL_MEAN})"),
       ("generated std", f"{result.sample_std[0]:.3f} -> {result.sample_std[1]:.3f} (real {REAL_STD})"),
       ("checkpoint", result.checkpoint),
       ("TensorBoard run", result.logdir or "-")]))
  return 0


def run():
  _common.run(main)


if __name__ == "__main__":
  run()
