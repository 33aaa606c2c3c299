"""`MatMul` with a weight becomes `layers.Dense`; a gather from a weight becomes `layers.Embedding`.

The bias (`BiasAdd`, or `+ b` written as `Add`) and the activation that follow are fused into the layer by
`_fuse` when nothing else reads the intermediate tensors, so `tf.layers.dense(x, 300, tf.nn.relu)` and
`tf.nn.relu(tf.matmul(x, W) + b)` both become `Dense(300, activation="relu")`.
"""

import numpy as np

from keras_bridge.importer import _ir
from keras_bridge.importer._evaluate import handles
from keras_bridge.importer._evaluate import Unsupported


@handles("MatMul")
def matmul(ev, op, ins):
  a, b = ins
  merged = isinstance(a, _ir.Merged)
  if merged:
    a = a.sym
  if op.get_attr("transpose_a"):
    raise Unsupported("MatMul with transpose_a=True")
  if not (isinstance(a, (_ir.Sym, _ir.Affine)) and isinstance(b, _ir.Weight)):
    raise Unsupported(f"MatMul of a {type(a).__name__} by a {type(b).__name__}; only inputs x weights is a "
                      f"Dense layer")
  if b.leaf is None:
    raise Unsupported("MatMul by a weight computed from several variables")
  transpose = bool(op.get_attr("transpose_b"))
  units = b.shape[0] if transpose else b.shape[1]
  kernel = ({"parts": [{"key": b.leaf.key, "transpose": True}]} if transpose else b.leaf.key)
  layer = ev.layer("Dense", {"units": int(units), "use_bias": False}, weights={"kernel": kernel}, op=op)
  out = ev.call(layer, a, [op], [op.outputs[0]])[0]
  if merged:  # tf.tensordot: the Dense acts on the last axis of the rank-3 tensor
    out.shape = tuple(a.shape[:-1]) + (int(units),)
    return _ir.Merged(out)
  return out


@handles("GatherV2", "Gather", "ResourceGather")
def gather(ev, op, ins):
  params, ids = ins[0], ins[1]
  axis = ins[2] if len(ins) > 2 else _ir.Known(np.asarray(0))
  if not (isinstance(params, _ir.Weight) and params.leaf is not None and isinstance(ids, _ir.Sym)):
    raise Unsupported("a gather that is not an embedding lookup (ids from the inputs into one variable)")
  if not isinstance(axis, _ir.Known) or int(axis.value) != 0 or len(params.shape) != 2:
    raise Unsupported("an embedding lookup needs a 2-D table gathered on axis 0")
  vocab, dim = params.shape
  scope = params.leaf.key.rsplit("/", 1)[0] if "/" in params.leaf.key else params.leaf.key
  layer = ev.layer("Embedding", {"input_dim": int(vocab), "output_dim": int(dim)},
                   weights={"embeddings": params.leaf.key}, scope=scope, op=op)
  return ev.call(layer, ids, [op], [op.outputs[0]])[0]
