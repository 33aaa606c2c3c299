"""The proof: the TF1 graph itself and the imported Keras model on the same probe inputs."""

import dataclasses
from typing import List, Mapping, Optional

import numpy as np
import tensorflow as tf

from keras_bridge import _tables
from keras_bridge import _tolerances

#: "Equal" on CPU: |keras - tf1| <= FORWARD_RTOL * max(1, max|tf1|), output by output.
FORWARD_RTOL = _tolerances.CPU_IMPORT_RTOL


@dataclasses.dataclass
class OutputComparison:
  tf1_name: str
  max_diff: float
  max_abs: float
  tolerance: float

  @property
  def ok(self) -> bool:
    return self.max_diff <= self.tolerance


@dataclasses.dataclass
class Verification:
  """Output-by-output comparison of the TF1 graph and the Keras model. `ok` when every output is equal."""

  outputs: List[OutputComparison]
  batch_size: int

  @property
  def ok(self) -> bool:
    return all(o.ok for o in self.outputs)

  @property
  def max_diff(self) -> float:
    return max((o.max_diff for o in self.outputs), default=0.0)

  def __str__(self):
    return _tables.format_table(
        [(o.tf1_name, f"{o.max_diff:.3g}", f"{o.max_abs:.3g}", f"{o.tolerance:.3g}", "yes" if o.ok else "NO")
         for o in self.outputs], ("TF1 output", "max |diff|", "max |y|", "tolerance", "equal"))


def _probes(graph, result, batch_size, seed, unknown_dim):
  """Random inputs for `result.inputs`: normal floats, integer ids below the vocabulary of their embedding."""
  rng = np.random.default_rng(seed)
  out = {}
  for name in result.inputs:
    t = graph.get_tensor_by_name(name)
    shape = [batch_size if i == 0 and d is None else (unknown_dim if d is None else d)
             for i, d in enumerate(t.shape.as_list())]
    if t.dtype.is_integer:
      out[name] = rng.integers(0, result.probe_vocab.get(name, 2), size=shape).astype(t.dtype.as_numpy_dtype)
    elif t.dtype == tf.bool:
      out[name] = rng.integers(0, 2, size=shape).astype(bool)
    else:
      out[name] = rng.standard_normal(shape).astype(t.dtype.as_numpy_dtype)
  return out


def run_tf1(result, inputs, batch_size, seed, unknown_dim):
  """Imports the MetaGraph once, restores the checkpoint and runs the outputs; returns (inputs, outputs)."""
  graph = tf.Graph()
  with graph.as_default():
    saver = tf.compat.v1.train.import_meta_graph(result.meta, clear_devices=True)
    if inputs is None:
      inputs = _probes(graph, result, batch_size, seed, unknown_dim)
    with tf.compat.v1.Session(graph=graph) as sess:
      saver.restore(sess, result.prefix)
      return inputs, sess.run(list(result.outputs), dict(result.feeds, **inputs))


def verify(result, inputs: Optional[Mapping[str, np.ndarray]], *, batch_size, seed, unknown_dim):
  inputs, want = run_tf1(result, dict(inputs) if inputs is not None else None, batch_size, seed, unknown_dim)
  got = result.model([inputs[n] for n in result.inputs], training=False)
  got = got if isinstance(got, (list, tuple)) else [got]
  rows = []
  for name, w, g in zip(result.outputs, want, got):
    w = np.asarray(w, np.float64)
    g = np.asarray(g, np.float64)
    diff = float(np.max(np.abs(w - g))) if w.size and w.shape == g.shape else float("inf")
    top = float(np.max(np.abs(w))) if w.size else 0.0
    rows.append(OutputComparison(name, diff, top, FORWARD_RTOL * max(1.0, top)))
  return Verification(rows, batch_size)
