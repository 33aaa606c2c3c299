"""One name-based checkpoint in the TF1 graph and in its Keras 3 twin, compared layer by layer.

The TF1 side is the `tf1_reference` graph restored with `tf.compat.v1.train.Saver`; the Keras side is the twin
filled by `keras_bridge.load_tf1_checkpoint`. Both run on the same inputs; the `Verification` holds the max
absolute difference of each layer's output (or of the GAN's sample and logits) and, given labels, both
accuracies. Layer sizes are read from the checkpoint. `keras_bridge.CPU_CHECKPOINT_TOL` is the difference
accepted as "the same model" on CPU.
"""

import dataclasses
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from keras_bridge import _equivalence
from keras_bridge import _errors
from keras_bridge import _mapping
from keras_bridge import _tables
from keras_bridge import _tf1_checkpoint
from keras_bridge.twins import checkpoints
from keras_bridge.twins import models
from tf1_reference import dnn as _dnn

v1 = tf.compat.v1

#: Models `verify_dnn` and `verify_gan` rebuild from a checkpoint: the 002 DNNs and the 003 GAN.
MODELS = ("dnn", "transfer_dnn", "gan")
#: The GAN's compared tensors: the names of `tf1_reference.gan.GANGraph` and of `models.GAN.call`'s outputs.
GAN_OUTPUTS = ("g_sample", "d_real_logits", "d_fake_logits")


@dataclasses.dataclass
class Verification:
  """The outcome of `verify`.

  Attributes:
    checkpoint: the resolved checkpoint prefix.
    kind: "dnn", "transfer_dnn" or "gan".
    outputs: max absolute difference per layer output (`hidden1`, ..., `outputs`), TF1 vs Keras.
    tf1_accuracy: accuracy of the TF1 graph on the labels given (None without labels).
    keras_accuracy: accuracy of the Keras model on the same labels (None without labels).
    report: the bridge's mapping report for the Keras load.
    keras_model: the Keras twin, loaded.
  """

  checkpoint: str
  kind: str
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
    return _tables.format_table(rows, ("layer", "max |TF1 - Keras|"))


def _build_tf1(kind: str, n_inputs: int, hidden_sizes, n_outputs: int) -> _dnn.DNNGraph:
  if kind == "transfer_dnn":
    return _dnn.build_transfer_dnn(n_inputs, n_outputs, hidden_sizes)
  return _dnn.build_dnn(n_inputs, n_outputs, hidden_sizes)


def verify_dnn(checkpoint: str, x: np.ndarray, y: Optional[np.ndarray] = None, *, kind: str = "dnn",
               keras_model: Optional[keras.Model] = None) -> Verification:
  """Runs a checkpoint in TF1 and in Keras 3 on the same inputs and compares each layer's output.

  Args:
    checkpoint: a name-based checkpoint of the 002 DNN or its transfer variant.
    x: inputs, `(batch, n_inputs)` float32.
    y: optional int labels, for the two accuracies.
    kind: "dnn" or "transfer_dnn": which tf1_reference graph and Keras twin to build.
    keras_model: an already-built twin to load the checkpoint into (and return), instead of a new one.

  Returns:
    A `Verification`.

  Raises:
    keras_bridge.ArgumentError: `kind` is not "dnn" or "transfer_dnn".
    keras_bridge.CheckpointNotFoundError, CheckpointFormatError, MappingError: from the bridge, when the
      checkpoint is missing, unreadable, or does not fit the model.
  """
  if kind not in ("dnn", "transfer_dnn"):
    raise _errors.ArgumentError(f"kind must be 'dnn' or 'transfer_dnn' (verify_gan for the GAN). Received: "
                                f"kind={kind!r}")
  prefix = _tf1_checkpoint.resolve_checkpoint(checkpoint)
  n_inputs, hidden_sizes, n_outputs = checkpoints.dnn_sizes(_tf1_checkpoint.read_variables(prefix), repr(prefix))
  if x.shape[-1] != n_inputs:
    raise _errors.MappingError(f"Checkpoint {prefix!r} takes {n_inputs} inputs (hidden1/kernel) but the data has "
                               f"{x.shape[-1]} features; pass the --dataset it was trained on.")
  if keras_model is None:
    build = models.transfer_dnn if kind == "transfer_dnn" else models.dnn
    keras_model = build(n_inputs, n_outputs, hidden_sizes)
  report = _tf1_checkpoint.load_tf1_checkpoint(keras_model, prefix)

  net = _build_tf1(kind, n_inputs, hidden_sizes, n_outputs)
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
  return Verification(checkpoint=prefix, kind=kind, outputs=_equivalence.Comparison(diffs),
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
  sizes = checkpoints.gan_sizes(_tf1_checkpoint.read_variables(prefix), repr(prefix))
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
  return Verification(checkpoint=prefix, kind="gan", outputs=_equivalence.Comparison(diffs),
                      tf1_accuracy=None, keras_accuracy=None, report=report, keras_model=keras_model)
