"""Numerical equivalence of a TF1 graph and its Keras 3 twin: the generic harness.

Short answer: build a `Twin` (or take one from `keras_bridge.twins`: `dnn_twin`, `image_filter_twin`,
`shared_fc_twin`, `affine_reuseable_twin`, `auto_reuse_twin`, `gan_twin`), copy the TF1 weights into the
Keras model, then

* `compare_outputs(twin, inputs)`: the max absolute difference of every compared tensor (every layer of the
  DNN; each output of the shared models; the GAN's sample and both logits);
* `compare_training(twin, batches)`: one TF1 step (`sess.run` of the reference's training ops, in order)
  and one Keras step (`GradientTape` + `keras.optimizers.SGD`) per batch, then the max absolute difference
  of every weight.

Weights are copied in one of two ways, and both go through the bridge's mapping engine
(`keras_bridge._mapping.build_mapping`: canonical paths + `DEFAULT_RULES`):

* `copy_weights`: in memory, from the session's variable values;
* `copy_weights_via_checkpoint`: through a real name-based checkpoint written by the reference's
  `tf.compat.v1.train.Saver` and read by `load_tf1_checkpoint`.

Sessions: keep the TF1 session open with `session = tf.compat.v1.Session(graph=g)` rather than
`with tf.compat.v1.Session(graph=g):`, which makes `g` the default graph, so that Keras (eager) calls in the
same block would try to add ops to it and fail with "Attempting to capture an EagerTensor without building a
function".

Tolerances. On CPU in float32 both sides run the same TensorFlow kernels (MatMul, Conv2D, BiasAdd, Relu,
the same cross-entropy ops), so forward outputs agree to `CPU_FORWARD_TOL` = 1e-6 and five SGD steps to
`CPU_TRAINING_TOL` = 1e-5 (measured: forward differences are 0 or a few ulps; see the tests). On a GPU two
things break bit-equality: TensorFloat-32, on by default for float32 matmuls and convolutions on Ampere and
newer (10-bit mantissa, relative error about 1e-3), and cuDNN's choice of convolution algorithm, which may
differ between the TF1 graph and the Keras call and sums in a different order. The GPU tests
(tests/conformance/test_equivalence_gpu.py, `@pytest.mark.gpu`) therefore use small models with
O(1) activations and `GPU_FORWARD_TOL` = `GPU_TRAINING_TOL` = 1e-4 with TF32 switched off, and
`GPU_TF32_TOL` = 1e-2 (relative to the largest reference magnitude) with TF32 left on.
"""

import dataclasses
import os
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _mapping
from keras_bridge import _naming
from keras_bridge import _tf1_checkpoint
from keras_bridge import _tolerances

v1 = tf.compat.v1

# The tolerances are defined once, in _tolerances; these names stay for the harness's callers.
CPU_FORWARD_TOL = _tolerances.CPU_FORWARD_TOL
CPU_TRAINING_TOL = _tolerances.CPU_TRAINING_TOL
GPU_FORWARD_TOL = _tolerances.GPU_FORWARD_TOL
GPU_TRAINING_TOL = _tolerances.GPU_TRAINING_TOL
GPU_TF32_TOL = _tolerances.GPU_TF32_TOL

#: `(TF1 training op, its loss)` pairs, run in order as one TF1 step.
TrainOps = Sequence[Tuple[tf.Operation, tf.Tensor]]
#: `keras_step(inputs, targets) -> losses`, one Keras step; the losses in the order of `Twin.train_ops`.
KerasStep = Callable[[Sequence[np.ndarray], Sequence[np.ndarray]], Sequence[float]]
#: `sample(rng, batch_size) -> (inputs, targets)`, NumPy arrays for one batch.
Sampler = Callable[[np.random.Generator, int], Tuple[List[np.ndarray], List[np.ndarray]]]


@dataclasses.dataclass
class Twin:
  """A tf1_reference graph in a live session and its Keras 3 twin.

  Attributes:
    name: a readable id ("dnn", "gan", ...).
    session: a `tf.compat.v1.Session` on the reference graph, variables initialized.
    variables: the TF1 model variables that map onto the Keras weights.
    inputs: TF1 placeholders, fed in this order with the arrays the Keras side receives.
    outputs: TF1 tensors to compare, by name (per layer where the twin can expose it).
    model: the Keras twin.
    keras_outputs: `keras_outputs(inputs) -> {name: tensor}`, the same names as `outputs`.
    targets: TF1 placeholders for training targets (labels, regression targets; empty for the GAN).
    train_ops: `(op, loss)` pairs; one TF1 step runs them in order with the same feed.
    keras_step: one Keras step with the same batch; returns the losses in the order of `train_ops`.
    sample: draws a batch `(inputs, targets)`.
    saver: a `tf.compat.v1.train.Saver` over `variables` (the reference's own where it has one).
    rules: user mapping rules for the bridge, applied before `DEFAULT_RULES`.
  """

  name: str
  session: "v1.Session"
  variables: List[tf.Variable]
  inputs: List[tf.Tensor]
  outputs: Dict[str, tf.Tensor]
  model: keras.Model
  keras_outputs: Callable[[Sequence[np.ndarray]], Mapping[str, object]]
  targets: List[tf.Tensor]
  train_ops: TrainOps
  keras_step: KerasStep
  sample: Sampler
  saver: "v1.train.Saver"
  rules: tuple = ()

  def feed(self, inputs: Sequence[np.ndarray], targets: Sequence[np.ndarray] = ()) -> dict:
    """The TF1 `feed_dict` for one batch."""
    feed = dict(zip(self.inputs, inputs))
    feed.update(zip(self.targets, targets))
    return feed

  def close(self):
    self.session.close()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()


@dataclasses.dataclass(frozen=True)
class Comparison:
  """Max absolute differences by name; `max_abs_diff` is the largest of them."""

  diffs: Dict[str, float]

  @property
  def max_abs_diff(self) -> float:
    return max(self.diffs.values()) if self.diffs else 0.0

  def worst(self) -> Tuple[str, float]:
    """The name with the largest difference, and that difference."""
    name = max(self.diffs, key=self.diffs.get)
    return name, self.diffs[name]


@dataclasses.dataclass(frozen=True)
class TrainingComparison:
  """The result of `compare_training`.

  Attributes:
    steps: number of steps run on each side.
    weights: max absolute difference per canonical weight path after the last step.
    per_step: the largest weight difference after each step.
    losses: the largest relative loss difference `|a - b| / max(1, |a|)` at each step (losses are computed
      before each update; the shared models' regression losses can be large).
  """

  steps: int
  weights: Comparison
  per_step: Tuple[float, ...]
  losses: Tuple[float, ...]

  @property
  def max_abs_diff(self) -> float:
    return self.weights.max_abs_diff


def _max_abs_diff(a, b) -> float:
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  if a.shape != b.shape:
    raise _errors.ArgumentError(f"Cannot compare arrays of different shapes. Received: {a.shape} and {b.shape}.")
  return float(np.max(np.abs(a - b))) if a.size else 0.0


def _mapped(session, variables, model, rules, how):
  """The mapping report and the TF1 values of `variables`; raises MappingError unless it is complete."""
  specs = {v.op.name: (tuple(v.shape.as_list()), v.dtype.base_dtype.name) for v in variables}
  report = _mapping.build_mapping(model, specs, rules=rules)
  if not report.ok:
    problems = report.problems()
    raise _errors.MappingError(
        f"The TF1 variables do not map one-to-one onto the weights of Keras model {model.name!r} ({how}); "
        f"nothing was assigned. {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)
        + "\nGive the twin matching layer names, or pass rules=.", report=report)
  by_name = {v.op.name: v for v in variables}
  values = session.run({m.tf1_key: by_name[m.tf1_key] for m in report.matched})
  return report, values


def copy_variables(session: "v1.Session", variables: Sequence[tf.Variable], model: keras.Model,
                   rules=()) -> _mapping.MappingReport:
  """Copies TF1 variable values from a live session into a Keras model, in memory.

  Args:
    session: a session on the graph that holds `variables`.
    variables: TF1 variables; their names are mapped with `rules`, then `DEFAULT_RULES`.
    model: the Keras model.
    rules: user `(regex, replacement)` rules.

  Returns:
    The mapping report (`assigned` True).

  Raises:
    MappingError: a variable or weight is unmatched, or shapes/dtypes differ; nothing is assigned.
  """
  report, values = _mapped(session, variables, model, rules, "in-memory copy")
  weights = _naming.canonical_weights(model)
  for m in report.matched:
    weights[m.keras_path].assign(values[m.tf1_key])
  report.assigned = True
  return report


def compare_variables(session: "v1.Session", variables: Sequence[tf.Variable], model: keras.Model,
                      rules=()) -> Comparison:
  """Max absolute difference per canonical path between TF1 variables and the Keras weights they map to.

  Raises:
    MappingError: as `copy_variables`.
  """
  report, values = _mapped(session, variables, model, rules, "weight comparison")
  weights = _naming.canonical_weights(model)
  return Comparison({m.keras_path: _max_abs_diff(values[m.tf1_key], keras.ops.convert_to_numpy(
      weights[m.keras_path])) for m in report.matched})


def copy_weights(twin: Twin) -> _mapping.MappingReport:
  """`copy_variables` for a twin: the session's TF1 values into `twin.model`, in memory."""
  return copy_variables(twin.session, twin.variables, twin.model, twin.rules)


def copy_weights_via_checkpoint(twin: Twin, directory: str) -> _mapping.MappingReport:
  """Saves the TF1 variables with `twin.saver` and loads the checkpoint with `load_tf1_checkpoint`.

  Args:
    twin: the pair.
    directory: where to write `<directory>/<twin.name>.ckpt`.

  Returns:
    The report of `load_tf1_checkpoint` (strict, default rules plus `twin.rules`).
  """
  with twin.session.graph.as_default():
    prefix = twin.saver.save(twin.session, os.path.join(directory, f"{twin.name}.ckpt"))
  return _tf1_checkpoint.load_tf1_checkpoint(twin.model, prefix, rules=twin.rules)


def compare_weights(twin: Twin) -> Comparison:
  """`compare_variables` for a twin."""
  return compare_variables(twin.session, twin.variables, twin.model, twin.rules)


def compare_outputs(twin: Twin, inputs: Sequence[np.ndarray]) -> Comparison:
  """Runs both sides on the same inputs and compares every tensor named in `twin.outputs`.

  Args:
    twin: the pair, weights already copied.
    inputs: one array per `twin.inputs` placeholder.

  Returns:
    The max absolute difference per output name.

  Raises:
    keras_bridge.ArgumentError: the two sides return different output names, or an output's shapes differ.
  """
  tf1 = twin.session.run(twin.outputs, feed_dict=twin.feed(inputs))
  ours = twin.keras_outputs(inputs)
  missing = sorted(set(tf1) ^ set(ours))
  if missing:
    raise _errors.ArgumentError(f"The TF1 outputs {sorted(tf1)} and the Keras outputs {sorted(ours)} of twin "
                     f"{twin.name!r} differ in {missing}; keras_outputs must return the same names.")
  return Comparison({name: _max_abs_diff(tf1[name], keras.ops.convert_to_numpy(ours[name])) for name in tf1})


def compare_training(twin: Twin, batches: Sequence[Tuple[Sequence[np.ndarray], Sequence[np.ndarray]]]
                     ) -> TrainingComparison:
  """Trains both sides on the same batches, one step each per batch, and compares the weights.

  Args:
    twin: the pair, weights already copied (see `copy_weights`).
    batches: `(inputs, targets)` per step, e.g. from `twin.sample`.

  Returns:
    A `TrainingComparison`.
  """
  per_step, losses = [], []
  for inputs, targets in batches:
    feed = twin.feed(inputs, targets)
    tf1_losses = [twin.session.run([op, loss], feed_dict=feed)[1] for op, loss in twin.train_ops]
    keras_losses = twin.keras_step(inputs, targets)
    losses.append(max(_max_abs_diff(a, keras.ops.convert_to_numpy(b)) / max(1.0, abs(float(a)))
                      for a, b in zip(tf1_losses, keras_losses)))
    per_step.append(compare_weights(twin).max_abs_diff)
  return TrainingComparison(steps=len(batches), weights=compare_weights(twin), per_step=tuple(per_step),
                            losses=tuple(losses))


def sgd_step(model: keras.Model, loss_fn, learning_rate: float, clip_value: Optional[float] = None
             ) -> KerasStep:
  """A Keras step equivalent to TF1 `GradientDescentOptimizer(lr)` over the model's trainable weights.

  Args:
    model: the Keras twin.
    loss_fn: `loss_fn(inputs, targets) -> scalar`, computed with `model`.
    learning_rate: as in the TF1 optimizer.
    clip_value: clip each gradient to [-clip_value, clip_value] first, as the 002 DNN's
      `tf.clip_by_value` over `compute_gradients` does (`SGD(clipvalue=...)`).

  Returns:
    `step(inputs, targets) -> [loss]`. Frozen layers (`layer.trainable = False`) are left out, as TF1's
    `var_list` leaves variables out.
  """
  optimizer = keras.optimizers.SGD(learning_rate=learning_rate, clipvalue=clip_value)

  def step(inputs, targets):
    variables = model.trainable_weights
    with tf.GradientTape() as tape:
      loss = loss_fn(inputs, targets)
    optimizer.apply(tape.gradient(loss, variables), variables)
    return [loss]

  return step
