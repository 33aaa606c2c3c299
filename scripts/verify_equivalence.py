"""Loads one name-based checkpoint into the TF1 graph and into its Keras 3 twin, and compares every layer.

The TF1 side is the tf1_reference graph restored with `tf.compat.v1.train.Saver`; the Keras side is the
keras_bridge twin filled by `load_tf1_checkpoint`. Both run on the same inputs (the --dataset test set), and
the table gives the max absolute difference of each layer's output plus both accuracies. Layer sizes are read
from the checkpoint. Exit status 1 when a difference exceeds --tolerance.

Examples:
  python -m scripts.verify_equivalence --checkpoint=runs/transfer_tf1 --model=transfer_dnn
  python -m scripts.verify_equivalence --checkpoint=runs/gan_tf1 --model=gan   # generated samples and logits
"""

import dataclasses
from typing import Optional

from absl import flags
import keras
import numpy as np
import tensorflow as tf

from keras_bridge import _equivalence
from keras_bridge import _errors
from keras_bridge import _mapping
from keras_bridge import _tf1_checkpoint
from keras_bridge import models
from scripts import _common
from scripts import _data
from tf1_reference import dnn as _dnn

v1 = tf.compat.v1

_TOLERANCE = flags.DEFINE_float("tolerance", 1e-5, "Largest max-abs output difference that counts as equal.")

for _name in ("checkpoint", "model", "dataset", "data_dir"):
  flags.declare_key_flag(_name)

#: Models this script can rebuild from a checkpoint: the 002 DNNs and the 003 GAN.
MODELS = ("dnn", "transfer_dnn", "gan")
#: The GAN's compared tensors: the names of `tf1_reference.gan.GANGraph` and of `models.GAN.call`'s outputs.
GAN_OUTPUTS = ("g_sample", "d_real_logits", "d_fake_logits")


@dataclasses.dataclass
class Verification:
  """The outcome of `verify`.

  Attributes:
    checkpoint: the resolved checkpoint prefix.
    model: "dnn" or "transfer_dnn".
    outputs: max absolute difference per layer output (`hidden1`, ..., `outputs`), TF1 vs Keras.
    tf1_accuracy: accuracy of the TF1 graph on the labels given (None without labels).
    keras_accuracy: accuracy of the Keras model on the same labels (None without labels).
    report: the bridge's mapping report for the Keras load.
    keras_model: the Keras twin, loaded.
  """

  checkpoint: str
  model: str
  outputs: _equivalence.Comparison
  tf1_accuracy: Optional[float]
  keras_accuracy: Optional[float]
  report: _mapping.MappingReport
  keras_model: keras.Model

  @property
  def max_abs_diff(self) -> float:
    return self.outputs.max_abs_diff

  def table(self) -> str:
    rows = [(name, f"{diff:.3g}") for name, diff in self.outputs.diffs.items()]
    rows.append(("max", f"{self.max_abs_diff:.3g}"))
    if self.tf1_accuracy is not None:
      rows.append(("accuracy", f"TF1 {self.tf1_accuracy:.4f}, Keras {self.keras_accuracy:.4f}"))
    return _common.format_table(rows, ("layer", "max |TF1 - Keras|"))


def _build_tf1(model: str, n_inputs: int, hidden_sizes, n_outputs: int) -> _dnn.DNNGraph:
  if model == "transfer_dnn":
    return _dnn.build_transfer_dnn(n_inputs, n_outputs, hidden_sizes)
  return _dnn.build_dnn(n_inputs, n_outputs, hidden_sizes)


def verify(checkpoint: str, x: np.ndarray, y: Optional[np.ndarray] = None, *, model: str = "dnn",
           keras_model: Optional[keras.Model] = None) -> Verification:
  """Runs a checkpoint in TF1 and in Keras 3 on the same inputs and compares each layer's output.

  Args:
    checkpoint: a name-based checkpoint of the 002 DNN or its transfer variant.
    x: inputs, `(batch, n_inputs)` float32.
    y: optional int labels, for the two accuracies.
    model: "dnn" or "transfer_dnn": which tf1_reference graph and Keras twin to build.
    keras_model: an already-built twin to load the checkpoint into (and return), instead of a new one.

  Returns:
    A `Verification`.

  Raises:
    keras_bridge.CheckpointNotFoundError, CheckpointFormatError, MappingError: from the bridge, when the
      checkpoint is missing, unreadable, or does not fit the model.
  """
  if model not in ("dnn", "transfer_dnn"):
    raise ValueError(f"model must be 'dnn' or 'transfer_dnn' (verify_gan for the GAN). Received: model={model!r}")
  prefix = _tf1_checkpoint.resolve_checkpoint(checkpoint)
  n_inputs, hidden_sizes, n_outputs = _common.dnn_sizes(_tf1_checkpoint.read_variables(prefix), repr(prefix))
  if x.shape[-1] != n_inputs:
    raise _errors.MappingError(f"Checkpoint {prefix!r} takes {n_inputs} inputs (hidden1/kernel) but the data has "
                               f"{x.shape[-1]} features; pass the --dataset it was trained on.")
  if keras_model is None:
    build = models.transfer_dnn if model == "transfer_dnn" else models.dnn
    keras_model = build(n_inputs, n_outputs, hidden_sizes)
  report = _tf1_checkpoint.load_tf1_checkpoint(keras_model, prefix)

  net = _build_tf1(model, n_inputs, hidden_sizes, n_outputs)
  names = net.layer_names
  with net.graph.as_default():
    # Only the layer weights: a transfer checkpoint has no global_step, a train_tf1 one has.
    saver = v1.train.Saver({v.op.name: v for v in net.model_variables()})
  with v1.Session(graph=net.graph) as sess:
    saver.restore(sess, prefix)
    tf1_out = sess.run(dict(zip(names, list(net.hidden) + [net.logits])), feed_dict={net.X: x})

  probe = keras.Model(keras_model.input, [keras_model.get_layer(n).output for n in names])
  keras_out = dict(zip(names, (keras.ops.convert_to_numpy(t) for t in probe(x))))
  diffs = {n: float(np.max(np.abs(tf1_out[n].astype(np.float64) - keras_out[n]))) for n in names}
  tf1_acc = keras_acc = None
  if y is not None:
    tf1_acc = float(np.mean(np.argmax(tf1_out["outputs"], axis=1) == y))
    keras_acc = float(np.mean(np.argmax(keras_out["outputs"], axis=1) == y))
  return Verification(checkpoint=prefix, model=model, outputs=_equivalence.Comparison(diffs),
                      tf1_accuracy=tf1_acc, keras_accuracy=keras_acc, report=report, keras_model=keras_model)


def verify_gan(checkpoint: str, n_samples: int = 256, seed: int = 0,
               keras_model: Optional[keras.Model] = None) -> Verification:
  """Runs a `gan_tf1` checkpoint in the 003 TF1 graph and in `models.GAN` on the same real data and noise.

  Compares the generator's samples and the discriminator's logits on real and generated data (the tensors
  `build_gan` names). Sizes are read from the checkpoint. There are no accuracies.

  Raises:
    keras_bridge.CheckpointNotFoundError, CheckpointFormatError, MappingError: from the bridge.
  """
  from tf1_reference import gan as _gan  # pylint: disable=g-import-not-at-top

  prefix = _tf1_checkpoint.resolve_checkpoint(checkpoint)
  sizes = _common.gan_sizes(_tf1_checkpoint.read_variables(prefix), repr(prefix))
  keras_model = keras_model or models.GAN(**sizes)
  keras_model((np.zeros((1, sizes["data_dim"]), np.float32), np.zeros((1, sizes["noise_dim"]), np.float32)))
  report = _tf1_checkpoint.load_tf1_checkpoint(keras_model, prefix)

  rng = np.random.default_rng(seed)
  x_real = rng.normal(size=(n_samples, sizes["data_dim"])).astype(np.float32)
  z = rng.uniform(-1, 1, size=(n_samples, sizes["noise_dim"])).astype(np.float32)
  net = _gan.build_gan(**sizes)
  with net.graph.as_default():
    # Only the networks' weights: a training checkpoint also holds optimizer slots.
    saver = v1.train.Saver({v.op.name: v for v in net.generator_variables + net.discriminator_variables})
  with v1.Session(graph=net.graph) as sess:
    saver.restore(sess, prefix)
    tf1_out = sess.run({n: getattr(net, n) for n in GAN_OUTPUTS}, feed_dict={net.x_real: x_real, net.z: z})
  keras_out = {n: keras.ops.convert_to_numpy(t) for n, t in keras_model((x_real, z)).items()}
  diffs = {n: float(np.max(np.abs(tf1_out[n].astype(np.float64) - keras_out[n]))) for n in GAN_OUTPUTS}
  return Verification(checkpoint=prefix, model="gan", outputs=_equivalence.Comparison(diffs),
                      tf1_accuracy=None, keras_accuracy=None, report=report, keras_model=keras_model)


def main(argv):
  _common.no_positional_args(argv)
  _common.require([
      "--checkpoint is required: a train_tf1, transfer_tf1 or gan_tf1 checkpoint."
      if not _common.CHECKPOINT.value else "",
      f"--model must be one of {', '.join(MODELS)} here. Received: --model={_common.MODEL.value}"
      if _common.MODEL.value not in MODELS else "",
      f"--tolerance must be non-negative. Received: --tolerance={_TOLERANCE.value}"
      if _TOLERANCE.value < 0 else ""])
  if _common.MODEL.value == "gan":
    result = verify_gan(_common.CHECKPOINT.value)
  else:
    data = _data.load_dataset(_common.DATASET.value, _common.DATA_DIR.value)
    result = verify(_common.CHECKPOINT.value, data.x_test, data.y_test, model=_common.MODEL.value)
  print(f"checkpoint: {result.checkpoint} ({len(result.report.matched)} tensors loaded into Keras)")
  print(result.table())
  ok = result.max_abs_diff <= _TOLERANCE.value
  print(f"{'EQUIVALENT' if ok else 'DIFFERENT'}: max output difference {result.max_abs_diff:.3g} "
        f"{'<=' if ok else '>'} tolerance {_TOLERANCE.value:g}")
  return 0 if ok else 1


def run():
  _common.run(main)


if __name__ == "__main__":
  run()
