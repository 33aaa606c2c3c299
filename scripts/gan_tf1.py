"""Trains the small GAN of 003_edbfd8374a89a122.txt in TF1: two scopes, two optimizers, two `var_list`s.

The real data is the reference's toy distribution, N(3, 0.5) in --data_dim dimensions; the generator maps
uniform noise onto it. Each step runs `train_discriminator` (var_list = discriminator variables) and then
`train_generator` (var_list = generator variables). The table shows both var_lists, the losses, and how close
the generated samples' mean and spread come to the real ones. The model is saved to --checkpoint_dir.
The work is `keras_bridge.twins.training.train_gan`.

Example: python -m scripts.gan_tf1 --steps=2000 --checkpoint_dir=runs/gan_tf1 --logdir=runs/logs
"""

import os

from absl import flags

from . import _cli

_STEPS = flags.DEFINE_integer("steps", 2000, "Training steps (one discriminator and one generator update each).",
                              lower_bound=1)
_DATA_DIM = flags.DEFINE_integer("data_dim", 2, "Dimensions of the toy data (2 to 4).", lower_bound=1)
_NOISE_DIM = flags.DEFINE_integer("noise_dim", 2, "Dimensions of the generator's noise.", lower_bound=1)
_HIDDEN_UNITS = flags.DEFINE_integer("hidden_units", 16, "Units of each network's hidden layer.", lower_bound=1)
_D_LEARNING_RATE = flags.DEFINE_float("d_learning_rate", 0.05, "Discriminator learning rate.")
_G_LEARNING_RATE = flags.DEFINE_float("g_learning_rate", 0.05, "Generator learning rate.")
_SAVE_EVERY = flags.DEFINE_integer("save_every", 0, "Also write a checkpoint every this many steps (0: only at "
                                   "the end); a --checkpoint_dir that holds one is resumed.", lower_bound=0)

for _name in ("batch_size", "seed", "checkpoint_dir", "logdir", "progress", "overwrite"):
  flags.declare_key_flag(_name)

DEFAULT_CHECKPOINT_DIR = os.path.join("runs", "gan_tf1")


def main(argv):
  _cli.no_positional_args(argv)
  _cli.require(
      [f"--{flag.name} must be positive. Received: --{flag.name}={flag.value}"
       for flag in (_D_LEARNING_RATE, _G_LEARNING_RATE) if flag.value <= 0] +
      [f"--data_dim must be between 1 and 4 (the toy data of 003). Received: --data_dim={_DATA_DIM.value}"
       if _DATA_DIM.value > 4 else ""])
  with _cli.tensorflow_quietly():
    from keras_bridge.twins import training  # pylint: disable=g-import-not-at-top

  result = training.train_gan(_cli.CHECKPOINT_DIR.value or DEFAULT_CHECKPOINT_DIR, steps=_STEPS.value,
                              batch_size=_cli.BATCH_SIZE.value, data_dim=_DATA_DIM.value,
                              noise_dim=_NOISE_DIM.value, hidden_units=_HIDDEN_UNITS.value,
                              d_learning_rate=_D_LEARNING_RATE.value, g_learning_rate=_G_LEARNING_RATE.value,
                              seed=_cli.SEED.value, logdir=_cli.run_logdir(_cli.LOGDIR.value, "gan"),
                              progress=_cli.show_progress(_cli.PROGRESS.value), overwrite=_cli.OVERWRITE.value,
                              save_every=_SAVE_EVERY.value)
  print(result.table())
  return 0


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
