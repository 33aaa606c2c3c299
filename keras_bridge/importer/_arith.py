"""Element-wise arithmetic: residual adds, tower differences, scaling, hand-written leaky ReLU and dropout.

What an `Add` becomes depends on what its inputs are:

* two Keras tensors: `layers.Add` (a residual connection), `Subtract`, `Multiply`, `Maximum`;
* a Keras tensor and weights or constants: an `Affine` (`x * scale + offset`) that the next op either
  fuses into a layer (a bias) or that `_norm` recognises as a batch norm written by hand;
* weights and constants only: a weight expression (`gamma * rsqrt(var + eps)`), evaluated at load time;
* random draws: the mask of a dropout written by hand (`floor(keep_prob + random_uniform(...))`).
"""

import numpy as np

from keras_bridge.importer import _ir
from keras_bridge.importer._evaluate import handles
from keras_bridge.importer._evaluate import Unsupported

_NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "neg": np.negative,
          "rsqrt": lambda x: 1 / np.sqrt(x), "sqrt": np.sqrt, "square": np.square, "maximum": np.maximum}


def is_const(v) -> bool:
  return isinstance(v, (_ir.Known, _ir.Weight))


def is_tensor(v) -> bool:
  return isinstance(v, (_ir.Sym, _ir.Affine))


def expr(op, *args):
  """`op` over weights/constants: a `Known` when every argument is known, else a `Weight` expression."""
  if all(isinstance(a, _ir.Known) for a in args):
    with np.errstate(divide="ignore", invalid="ignore"):
      value = _NUMPY[op](*[a.value for a in args])
    return _ir.Known(np.asarray(value, dtype=args[0].value.dtype), fed=any(a.fed for a in args),
                     source=next((a.source for a in args if a.source), ""))
  shapes = [a.shape if isinstance(a, _ir.Weight) else np.shape(a.value) for a in args]
  dtype = next(a.dtype for a in args if isinstance(a, _ir.Weight))
  return _ir.Weight(_ir.Expr(op, tuple(a.expr if isinstance(a, _ir.Weight) else a for a in args)),
                    tuple(np.broadcast_shapes(*shapes)), dtype)


def evaluate(e, values):
  """Evaluates a weight expression with `values` (TF1 key -> array)."""
  if isinstance(e, _ir.Weight):
    e = e.expr
  if isinstance(e, _ir.Leaf):
    return np.asarray(values[e.key])
  if isinstance(e, _ir.Known):
    return e.value
  args = [evaluate(a, values) for a in e.args]
  with np.errstate(divide="ignore", invalid="ignore"):
    return np.asarray(_NUMPY[e.op](*args))


def _one() :
  return _ir.Known(np.asarray(1.0, np.float32))


def _channelwise(tensor, const, op):
  """Checks that `const` broadcasts over the last axis of `tensor` only (a scalar or a (C,) vector)."""
  shape = const.shape if isinstance(const, _ir.Weight) else np.shape(const.value)
  size = int(np.prod(shape)) if shape else 1
  last = tensor.shape[-1] if tensor.shape else None
  if size == 1 or (shape[-1] == last and size == last):
    return
  raise Unsupported(f"op {op.name!r} combines a tensor of shape {tensor.shape} with a constant of shape "
                    f"{tuple(shape)}, which is not a scalar or a per-channel vector")


def affine(x, scale=None, offset=None, ops=()):
  if isinstance(x, _ir.Affine):
    return _ir.Affine(x.x, x.scale, x.offset, x.ops + tuple(ops)) if scale is None and offset is None else x
  return _ir.Affine(x, scale, offset, tuple(ops))


def _scale(a: _ir.Affine, k, op):
  return _ir.Affine(a.x, k if a.scale is None else expr("mul", a.scale, k),
                    None if a.offset is None else expr("mul", a.offset, k), a.ops + (op.name,))


def _shift(a: _ir.Affine, k, op):
  return _ir.Affine(a.x, a.scale, k if a.offset is None else expr("add", a.offset, k), a.ops + (op.name,))


def operand(ev, v):
  """`v`, with a bias after a bias-free Dense/Conv turned into that layer's bias first.

  `tf.matmul(x, W) + b` is an `Affine` until something needs a tensor; an op that scales or combines it
  (`tf.maximum(0.2 * h, h)`) must see the biased layer output, not fold the bias into its own arithmetic.
  """
  if (isinstance(v, _ir.Affine) and v.scale is None and isinstance(v.offset, _ir.Weight)
      and v.offset.leaf is not None and len(v.offset.shape) == 1 and isinstance(v.x, _ir.Sym)
      and v.x.node.layer is not None and v.x.node.layer.cls in ("Dense", "Conv2D", "DepthwiseConv2D",
                                                                 "Conv2DTranspose")
      and not v.x.node.layer.config.get("use_bias", True)):
    return ev.sym(v)
  return v


def _as_affine(v):
  return v if isinstance(v, _ir.Affine) else _ir.Affine(v, None, None, ())


def _base(v):
  return v.x if isinstance(v, _ir.Affine) else v


@handles("Add", "AddV2", "BiasAdd")
def add(ev, op, ins):
  ins = [operand(ev, v) for v in ins]
  a, b = ins
  if isinstance(a, _ir.Random) or isinstance(b, _ir.Random):
    rand, other = (a, b) if isinstance(a, _ir.Random) else (b, a)
    if isinstance(other, _ir.Known):  # keep_prob + random_uniform(...): the mask's keep probability
      return _ir.Random(keep=other, ops=rand.ops + (op.name,))
    raise Unsupported("adds a random draw to a tensor that is not a constant keep probability")
  if is_const(a) and is_const(b):
    return expr("add", a, b)
  if is_tensor(a) and is_const(b) or is_const(a) and is_tensor(b):
    t, k = (a, b) if is_tensor(a) else (b, a)
    _channelwise(_base(t), k, op)
    return _shift(_as_affine(t), k, op)
  if is_tensor(a) and is_tensor(b):
    leaky = _handwritten_leaky_abs(ev, op, a, b)
    if leaky is not None:
      return leaky
    return ev.simple("Add", {}, [a, b], op)
  raise Unsupported(f"cannot add a {type(a).__name__} and a {type(b).__name__}")


@handles("Sub")
def sub(ev, op, ins):
  ins = [operand(ev, v) for v in ins]
  a, b = ins
  if is_const(a) and is_const(b):
    return expr("sub", a, b)
  if is_tensor(a) and is_const(b):
    _channelwise(_base(a), b, op)
    return _shift(_as_affine(a), expr("neg", b), op)
  if is_const(a) and is_tensor(b):
    _channelwise(_base(b), a, op)
    return _shift(_scale(_as_affine(b), _ir.Known(np.asarray(-1.0, np.float32)), op), a, op)
  if is_tensor(a) and is_tensor(b):
    return ev.simple("Subtract", {}, [a, b], op)
  raise Unsupported(f"cannot subtract a {type(b).__name__} from a {type(a).__name__}")


@handles("Mul")
def mul(ev, op, ins):
  ins = [operand(ev, v) for v in ins]
  a, b = ins
  if isinstance(a, _ir.Random) or isinstance(b, _ir.Random):
    from keras_bridge.importer import _dropout  # pylint: disable=import-outside-toplevel
    rand, other = (a, b) if isinstance(a, _ir.Random) else (b, a)
    if rand.mask and is_tensor(other):
      return _dropout.dropout(ev, op, other, rand)
    raise Unsupported("multiplies by a random draw that is not a dropout mask")
  if is_const(a) and is_const(b):
    return expr("mul", a, b)
  if is_tensor(a) and is_const(b) or is_const(a) and is_tensor(b):
    t, k = (a, b) if is_tensor(a) else (b, a)
    _channelwise(_base(t), k, op)
    return _scale(_as_affine(t), k, op)
  if is_tensor(a) and is_tensor(b):
    return ev.simple("Multiply", {}, [a, b], op)
  raise Unsupported(f"cannot multiply a {type(a).__name__} and a {type(b).__name__}")


@handles("RealDiv", "Div")
def div(ev, op, ins):
  ins = [operand(ev, v) for v in ins]
  a, b = ins
  if is_const(a) and is_const(b):
    return expr("div", a, b)
  if is_tensor(a) and is_const(b):
    _channelwise(_base(a), b, op)
    return _scale(_as_affine(a), expr("div", _one(), b), op)
  raise Unsupported(f"divides a {type(a).__name__} by a {type(b).__name__}")


@handles("Neg")
def neg(ev, op, ins):
  ins = [operand(ev, v) for v in ins]
  (a,) = ins
  if is_const(a):
    return expr("neg", a)
  if is_tensor(a):
    return _scale(_as_affine(a), _ir.Known(np.asarray(-1.0, np.float32)), op)
  raise Unsupported(f"negates a {type(a).__name__}")


@handles("Rsqrt", "Sqrt")
def rsqrt(ev, op, ins):
  (a,) = ins
  if is_const(a):
    return expr(op.type.lower(), a)
  raise Unsupported(f"{op.type} of a tensor computed from the inputs has no Keras layer")


@handles("Square")
def square(ev, op, ins):
  ins = [operand(ev, v) for v in ins]
  (a,) = ins
  if is_const(a):
    return expr("square", a)
  if is_tensor(a):
    x = ev.sym(a)
    return ev.simple("Multiply", {}, [x, x], op)
  raise Unsupported(f"squares a {type(a).__name__}")


@handles("SquaredDifference")
def squared_difference(ev, op, ins):
  ins = [operand(ev, v) for v in ins]
  a, b = ins
  if is_tensor(a) and is_tensor(b):
    d = ev.call(ev.layer("Subtract", {}, scope=op.name + "/sub", share=False), [a, b], [op],
                [op.outputs[0]])[0]
    return ev.simple("Multiply", {}, [d, d], op)
  raise Unsupported("squared difference of a tensor and a constant")


@handles("Abs")
def abs_(ev, op, ins):
  ins = [operand(ev, v) for v in ins]
  (a,) = ins
  if is_tensor(a):
    return ev.simple("Abs", {}, a, op)
  raise Unsupported(f"Abs of a {type(a).__name__}")


@handles("Maximum")
def maximum(ev, op, ins):
  ins = [operand(ev, v) for v in ins]
  a, b = ins
  for x, other in ((a, b), (b, a)):
    # Leaky ReLU by hand: tf.maximum(alpha * x, x).
    if (isinstance(x, _ir.Sym) and isinstance(other, _ir.Affine) and other.x is x and other.offset is None
        and isinstance(other.scale, _ir.Known) and np.size(other.scale.value) == 1
        and 0 <= float(other.scale.value) < 1):
      alpha = float(other.scale.value)
      return _leaky(ev, op, x, alpha, other.ops)
    if isinstance(x, _ir.Sym) and isinstance(other, _ir.Known) and np.all(other.value == 0):
      layer = ev.layer("Activation", {"activation": "relu"}, scope=op.name, share=False)
      return ev.call(layer, x, [op], [op.outputs[0]])[0]
  if is_tensor(a) and is_tensor(b):
    return ev.simple("Maximum", {}, [a, b], op)
  if is_const(a) and is_const(b):
    return expr("maximum", a, b)
  raise Unsupported("maximum of a tensor and a constant that is not 0 (ReLU) or alpha * x (leaky ReLU)")


def _leaky(ev, op, x, alpha, ops):
  layer = ev.layer("LeakyReLU", {"negative_slope": round(alpha, 7)}, scope=op.name, share=False)
  return ev.call(layer, x, [op] + list(ops), [op.outputs[0]])[0]


def _handwritten_leaky_abs(ev, op, a, b):
  """`0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * abs(x)` -> LeakyReLU(alpha), else None."""
  for lin, ab in ((a, b), (b, a)):
    if not (isinstance(lin, _ir.Affine) and isinstance(ab, _ir.Affine) and lin.offset is None
            and ab.offset is None and isinstance(lin.scale, _ir.Known) and isinstance(ab.scale, _ir.Known)):
      continue
    abs_node = ab.x.node if isinstance(ab.x, _ir.Sym) else None
    if not (abs_node is not None and abs_node.layer is not None and abs_node.layer.cls == "Abs"
            and abs_node.inputs is lin.x or (abs_node is not None and abs_node.layer is not None
                                              and abs_node.layer.cls == "Abs" and abs_node.inputs == lin.x)):
      continue
    c1, c2 = float(np.squeeze(lin.scale.value)), float(np.squeeze(ab.scale.value))
    if abs(c1 + c2 - 1.0) < 1e-6 and 0 <= c1 - c2 < 1:
      return _leaky(ev, op, lin.x, c1 - c2, lin.ops + ab.ops + tuple(abs_node.tf1_nodes))
  return None


@handles("Floor")
def floor(ev, op, ins):
  (a,) = ins
  if isinstance(a, _ir.Random) and a.keep is not None:
    return _ir.Random(keep=a.keep, mask=True, ops=a.ops + (op.name,))
  raise Unsupported("Floor of a tensor computed from the inputs has no Keras layer")


@handles("GreaterEqual", "Greater")
def greater_equal(ev, op, ins):
  a, b = ins
  if isinstance(a, _ir.Random) and isinstance(b, _ir.Known):  # TF 2 dropout: random >= rate
    keep = _ir.Known(np.asarray(1.0 - b.value, np.float32), fed=b.fed, source=b.source)
    return _ir.Random(keep=keep, mask=True, ops=a.ops + (op.name,))
  raise Unsupported("a comparison of tensors computed from the inputs has no Keras layer")


@handles("Cast")
def cast(ev, op, ins):
  (a,) = ins
  if isinstance(a, _ir.Random):
    return a
  if isinstance(a, _ir.Sym):
    src, dst = op.inputs[0].dtype, op.outputs[0].dtype
    if (src.is_integer and dst.is_integer) or (src.is_floating and dst.is_floating and src == dst):
      return a
  raise Unsupported(f"casts {op.inputs[0].dtype.name} to {op.outputs[0].dtype.name}")


@handles("SelectV2", "Select")
def select(ev, op, ins):
  cond, a, b = ins
  if isinstance(cond, _ir.Random) and cond.mask and is_tensor(a) and isinstance(b, _ir.Known) and not np.any(
      b.value):
    from keras_bridge.importer import _dropout  # pylint: disable=import-outside-toplevel
    return _dropout.dropout(ev, op, a, cond)
  if isinstance(cond, _ir.Known):
    return a if bool(np.all(cond.value)) else b
  raise Unsupported("a select on a tensor computed from the inputs has no Keras layer")


@handles("RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt")
def random(ev, op, ins):
  return _ir.Random(ops=(op.name,))
