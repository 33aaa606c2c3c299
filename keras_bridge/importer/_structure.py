"""Structure: inputs and variables, shapes, reshapes, concatenation, transposes, padding and reductions.

Shapes computed at run time (`tf.shape(x)[0]` packed into a `Reshape` target or a transposed convolution's
output shape) are folded with the batch size unknown: the value of `Shape` is known but for its unknown
dimensions, which the evaluator carries as -1 (`Known(partial=True)`).
"""

import numpy as np

from keras_bridge.importer import _ir
from keras_bridge.importer._evaluate import handles
from keras_bridge.importer._evaluate import SENTINEL
from keras_bridge.importer._evaluate import Unsupported


@handles("Placeholder")
def placeholder(ev, op, ins):
  raise Unsupported(f"placeholder {op.outputs[0].name!r} reaches the outputs but is neither an input nor fed; "
                    f"add it to inputs= or give its value in feeds=")


@handles("VariableV2", "VarHandleOp", "Variable", "VariableV1")
def variable(ev, op, ins):
  return ev.weight(op)


@handles("Shape")
def shape(ev, op, ins):
  (x,) = ins
  base = x.x if isinstance(x, _ir.Affine) else x
  if isinstance(base, _ir.Sym) and base.shape is not None:
    dims = [SENTINEL if d is None else d for d in base.shape]
    partial = any(d is None for d in base.shape)
    ev.op_notes[op.name] = "folded (shape)"
    return _ir.Known(np.asarray(dims, dtype=op.outputs[0].dtype.as_numpy_dtype), partial=partial)
  if isinstance(x, (_ir.Weight,)):
    return _ir.Known(np.asarray(x.shape, dtype=op.outputs[0].dtype.as_numpy_dtype))
  if isinstance(x, _ir.Random):
    return _ir.Random(ops=(op.name,))
  raise Unsupported(f"the shape of a {type(x).__name__}")


def _target(ev, op, x, target):
  """The per-sample target shape of a reshape of `x` to `target` (a Known, -1 for the batch)."""
  if not isinstance(target, _ir.Known):
    raise Unsupported("a reshape to a shape computed from the inputs' values")
  dims = [int(d) for d in np.asarray(target.value).reshape(-1)]
  dims = [-1 if d % SENTINEL == 0 and d != 0 else d for d in dims] if target.partial else dims
  out = op.outputs[0].shape
  if out.rank is not None and out.rank == len(dims):
    dims = [d if (d >= 0 or out[i] is None) else out[i] for i, d in enumerate(dims)]
  if not dims or dims[0] not in (-1,) and x.shape[0] is None:
    if dims and out.rank and out[0] is None and len(dims) == len(out):
      dims = [-1] + dims[1:]
    else:
      raise Unsupported(f"a reshape to {dims} that does not keep the batch dimension first")
  rest = dims[1:]
  known = int(np.prod([d for d in x.shape[1:]])) if all(d is not None for d in x.shape[1:]) else None
  if -1 in rest and known is not None:
    fixed = int(np.prod([d for d in rest if d != -1]))
    rest[rest.index(-1)] = known // fixed
  if known is not None and int(np.prod(rest)) != known:
    raise Unsupported(f"a reshape of {x.shape} to {dims} that moves values across the batch dimension")
  return tuple(rest)


@handles("Reshape")
def reshape(ev, op, ins):
  x, target = ins
  if isinstance(x, (_ir.Known, _ir.Weight)):
    raise Unsupported("a reshape of a weight")
  if isinstance(x, _ir.Merged):
    dims = [int(d) for d in np.asarray(getattr(target, "value", [])).reshape(-1)]
    want = list(x.sym.shape[1:])
    if isinstance(target, _ir.Known) and len(dims) == len(want) + 1 and dims[1:] == want:
      ev.op_notes[op.name] = "tensordot reshape (folded into the Dense)"
      return x.sym
    raise Unsupported("a reshape of a tensordot result to another shape")
  x = ev.sym(x)
  dims = [int(d) for d in np.asarray(target.value).reshape(-1)] if isinstance(target, _ir.Known) else []
  if (len(x.shape) >= 3 and target.partial and len(dims) == 2 and dims[1] == x.shape[-1]
      and dims[0] % SENTINEL == 0 and dims[0] != 0):
    ev.op_notes[op.name] = "tensordot reshape (folded into the Dense)"
    return _ir.Merged(x)
  rest = _target(ev, op, x, target)
  if tuple(x.shape[1:]) == rest:
    ev.op_notes[op.name] = "identity reshape (dropped)"
    return x
  if len(rest) == 1 and len(x.shape) > 2:
    return ev.simple("Flatten", {}, x, op)
  return ev.simple("Reshape", {"target_shape": rest}, x, op)


@handles("Squeeze", "ExpandDims")
def squeeze(ev, op, ins):
  x = ev.sym(ins[0])
  out = op.outputs[0].shape
  if out.rank is None or any(d is None for d in out[1:]) or (out[0] is not None and x.shape[0] is None):
    raise Unsupported(f"{op.type} to a shape not known statically")
  rest = tuple(out.as_list()[1:])
  if rest == tuple(x.shape[1:]):
    return x
  if len(rest) == 1 and len(x.shape) > 2:
    return ev.simple("Flatten", {}, x, op)
  return ev.simple("Reshape", {"target_shape": rest}, x, op)


@handles("ConcatV2")
def concat(ev, op, ins):
  values, axis = ins[:-1], ins[-1]
  if not isinstance(axis, _ir.Known):
    raise Unsupported("a concatenation axis computed from the inputs")
  axis = int(axis.value)
  if all(isinstance(v, (_ir.Sym, _ir.Affine)) for v in values):
    rank = len(op.outputs[0].shape)
    axis = axis if axis < 0 else axis - rank
    if axis == -rank:
      raise Unsupported("a concatenation along the batch axis")
    return ev.simple("Concatenate", {"axis": axis}, list(values), op)
  if all(isinstance(v, _ir.Weight) for v in values):
    whole = _partitions(values, axis)
    if whole is not None:
      ev.op_notes[op.name] = f"partitions of weight {whole.leaf.key!r}"
      return whole
  raise Unsupported("a concatenation of tensors with weights or constants")


def _partitions(values, axis):
  """The whole variable when `values` are its partitions in order along `axis` (a partitioned variable)."""
  exprs = [v.expr for v in values]
  if not all(isinstance(e, _ir.Expr) and e.op == "slice" for e in exprs):
    return None
  leaves = {e.args[0] for e in exprs}
  if len(leaves) != 1:
    return None
  (leaf,) = leaves
  axis %= len(leaf.shape)
  at = 0
  for e in exprs:
    attrs = dict(e.attrs)
    if attrs["begin"][axis] != at or any(b != 0 for i, b in enumerate(attrs["begin"]) if i != axis):
      return None
    at += attrs["size"][axis]
  if at != leaf.shape[axis]:
    return None
  return _ir.Weight(leaf, leaf.shape, leaf.dtype)


@handles("Transpose")
def transpose(ev, op, ins):
  x, perm = ins
  if not isinstance(perm, _ir.Known):
    raise Unsupported("a transpose by a permutation computed from the inputs")
  perm = [int(p) for p in np.asarray(perm.value)]
  if isinstance(x, _ir.TimeMajor) and perm[:2] == [1, 0] and perm[2:] == sorted(perm[2:]):
    return x.sym
  if not isinstance(x, (_ir.Sym, _ir.Affine)) or perm[0] != 0:
    raise Unsupported(f"a transpose {perm} that moves the batch dimension")
  if perm == sorted(perm):
    return ev.sym(x)
  return ev.simple("Permute", {"dims": tuple(perm[1:])}, x, op)


@handles("Pad", "PadV2", "MirrorPad")
def pad(ev, op, ins):
  x, paddings = ins[0], ins[1]
  if op.type != "Pad" and not (op.type == "PadV2" and isinstance(ins[2], _ir.Known) and not np.any(
      ins[2].value)):
    raise Unsupported(f"{op.type} (only zero padding has a Keras layer)")
  if not isinstance(paddings, _ir.Known):
    raise Unsupported("paddings computed from the inputs")
  p = np.asarray(paddings.value).tolist()
  if len(p) == 4 and p[0] == [0, 0] and p[3] == [0, 0]:
    return ev.simple("ZeroPadding2D", {"padding": (tuple(p[1]), tuple(p[2]))}, x, op)
  if len(p) == 3 and p[0] == [0, 0] and p[2] == [0, 0]:
    return ev.simple("ZeroPadding1D", {"padding": tuple(p[1])}, x, op)
  raise Unsupported(f"padding {p} of the batch or channel dimension")


_GLOBAL = {("Mean", 4): "GlobalAveragePooling2D", ("Max", 4): "GlobalMaxPooling2D",
           ("Mean", 3): "GlobalAveragePooling1D", ("Max", 3): "GlobalMaxPooling1D",
           ("Sum", 4): "GlobalAveragePooling2D", ("Sum", 3): "GlobalAveragePooling1D"}


@handles("Mean", "Sum", "Max")
def reduce(ev, op, ins):
  x, axes = ins
  if not isinstance(axes, _ir.Known):
    raise Unsupported("reduction axes computed from the inputs")
  x = ev.sym(x)
  rank = len(x.shape)
  axes = sorted(int(a) % rank for a in np.asarray(axes.value).reshape(-1))
  keepdims = bool(op.get_attr("keep_dims"))
  if axes != list(range(1, rank - 1)) or (op.type, rank) not in _GLOBAL:
    raise Unsupported(f"{op.type} over axes {axes} of a rank-{rank} tensor (only the spatial/time axes of a "
                      f"channels-last tensor have a Keras pooling layer)")
  config = {"keepdims": True} if keepdims else {}
  if op.type != "Sum":
    return ev.simple(_GLOBAL[(op.type, rank)], config, x, op)
  count = int(np.prod(x.shape[1:-1]))
  pooled = ev.call(ev.layer(_GLOBAL[(op.type, rank)], config, scope=op.name + "/mean", share=False), x, [op],
                   [op.outputs[0]])[0]
  layer = ev.layer("Rescaling", {"scale": float(count)}, scope=op.name, share=False)
  layer.notes.append(f"tf.reduce_sum over {count} positions as their mean times {count} (float32 rounding)")
  return ev.call(layer, pooled, [op], [op.outputs[0]])[0]
