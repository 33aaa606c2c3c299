"""Convolutions and pooling: `Conv2D`, `DepthwiseConv2dNative`, `Conv2DBackpropInput` (a transposed
convolution), `MaxPool`, `AvgPool`. Padding, strides, dilations and the data format are read from the op;
NCHW becomes `data_format="channels_first"`. TF1 filters are (h, w, in, out), as Keras kernels are, and a
transposed convolution's (h, w, out, in) is also `Conv2DTranspose`'s layout, so the weights load as they are.
"""

import numpy as np

from keras_bridge.importer import _ir
from keras_bridge.importer._evaluate import handles
from keras_bridge.importer._evaluate import Unsupported


def _format(op):
  fmt = op.get_attr("data_format").decode()
  if fmt not in ("NHWC", "NCHW"):
    raise Unsupported(f"data_format {fmt!r}")
  return fmt


def _spatial(values, fmt):
  values = list(values)
  return (values[1], values[2]) if fmt == "NHWC" else (values[2], values[3])


def _common(op, fmt):
  padding = op.get_attr("padding").decode()
  if padding not in ("SAME", "VALID"):
    raise Unsupported(f"padding {padding!r} (explicit paddings)")
  config = {"strides": _spatial(op.get_attr("strides"), fmt), "padding": padding.lower()}
  try:
    config["dilation_rate"] = _spatial(op.get_attr("dilations"), fmt)
  except ValueError:
    pass
  if fmt == "NCHW":
    config["data_format"] = "channels_first"
  return config


def _tidy(config):
  """Drops arguments equal to the Keras defaults, so the source reads as if written by hand."""
  return {k: v for k, v in config.items() if not (
      (k in ("strides", "dilation_rate") and tuple(v) == (1, 1)) or (k == "padding" and v == "valid"))}


def _filter(w, op, rank=4):
  if not (isinstance(w, _ir.Weight) and w.leaf is not None and len(w.shape) == rank):
    raise Unsupported(f"the filter of {op.type} is not one variable of rank {rank}")
  return w


@handles("Conv2D")
def conv2d(ev, op, ins):
  x, w = ins
  w = _filter(w, op)
  fmt = _format(op)
  config = {"filters": int(w.shape[3]), "kernel_size": tuple(int(d) for d in w.shape[:2])}
  config.update(_tidy(_common(op, fmt)))
  config["use_bias"] = False
  if isinstance(x, _ir.SpaceToBatch):
    return _dilated(ev, op, x, "Conv2D", config, {"kernel": w.leaf.key})
  layer = ev.layer("Conv2D", config, weights={"kernel": w.leaf.key}, op=op)
  return ev.call(layer, x, [op], [op.outputs[0]])[0]


@handles("DepthwiseConv2dNative")
def depthwise(ev, op, ins):
  x, w = ins
  w = _filter(w, op)
  fmt = _format(op)
  config = {"kernel_size": tuple(int(d) for d in w.shape[:2]), "depth_multiplier": int(w.shape[3])}
  config.update(_tidy(_common(op, fmt)))
  config["use_bias"] = False
  if isinstance(x, _ir.SpaceToBatch):
    return _dilated(ev, op, x, "DepthwiseConv2D", config, {"kernel": w.leaf.key})
  layer = ev.layer("DepthwiseConv2D", config, weights={"kernel": w.leaf.key}, op=op)
  return ev.call(layer, x, [op], [op.outputs[0]])[0]


@handles("Conv2DBackpropInput")
def conv2d_transpose(ev, op, ins):
  sizes, w, x = ins
  w = _filter(w, op)
  fmt = _format(op)
  if not isinstance(sizes, _ir.Known):
    raise Unsupported("the output shape of a transposed convolution is computed from the inputs' values")
  config = {"filters": int(w.shape[2]), "kernel_size": tuple(int(d) for d in w.shape[:2])}
  common = _common(op, fmt)
  config.update(_tidy(common))
  target = _spatial(np.asarray(sizes.value).tolist(), fmt)
  x_shape = (x.x if isinstance(x, _ir.Affine) else x).shape
  size_in = _spatial(x_shape, fmt)
  padding = []
  for t, n, k, s, d in zip(target, size_in, w.shape[:2], common["strides"], common.get("dilation_rate", (1, 1))):
    if t is None or t < 0 or n is None:
      raise Unsupported("the spatial output size of a transposed convolution is not known")
    k = (k - 1) * d + 1
    default = n * s if common["padding"] == "same" else n * s + max(k - s, 0)
    padding.append(t - default)
  if any(p < 0 or p >= s for p, s in zip(padding, common["strides"])):
    raise Unsupported(f"output size {target} cannot be produced by Conv2DTranspose from {size_in}")
  if any(padding):
    config["output_padding"] = tuple(padding)
  config["use_bias"] = False
  layer = ev.layer("Conv2DTranspose", config, weights={"kernel": w.leaf.key}, op=op)
  return ev.call(layer, x, [op], [op.outputs[0]])[0]


@handles("MaxPool", "AvgPool")
def pool(ev, op, ins):
  (x,) = ins[:1]
  fmt = _format(op)
  ksize = _spatial(op.get_attr("ksize"), fmt)
  config = {"pool_size": ksize}
  common = _common(op, fmt)
  common.pop("dilation_rate", None)
  if tuple(common["strides"]) == tuple(ksize):
    common.pop("strides")
  config.update(_tidy(common))
  cls = "MaxPooling2D" if op.type == "MaxPool" else "AveragePooling2D"
  return ev.simple(cls, config, x, op)


@handles("SpaceToBatchND")
def space_to_batch(ev, op, ins):
  """The first op of `tf.nn.atrous_conv2d` / `tf.nn.convolution(dilations=...)` on old graphs."""
  x, block, paddings = ins
  if not (isinstance(x, (_ir.Sym, _ir.Affine)) and isinstance(block, _ir.Known) and isinstance(
      paddings, _ir.Known)):
    raise Unsupported("SpaceToBatchND that is not the start of a dilated convolution")
  return _ir.SpaceToBatch(ev.sym(x), tuple(int(b) for b in np.asarray(block.value)),
                          np.asarray(paddings.value).tolist(), op.name)


@handles("BatchToSpaceND")
def batch_to_space(ev, op, ins):
  y = ins[0]
  if not isinstance(y, _ir.SpaceToBatch) or not y.done:
    raise Unsupported("BatchToSpaceND that is not the end of a dilated convolution")
  ev.op_notes[op.name] = y.layer.name
  y.layer.tf1_nodes.append(op.name)
  y.done.shape = tuple(op.outputs[0].shape.as_list())
  return y.done


def _dilated(ev, op, x: "_ir.SpaceToBatch", cls, config, weights):
  """A VALID convolution between SpaceToBatchND and BatchToSpaceND: a dilated one, SAME or VALID."""
  if config.get("strides", (1, 1)) != (1, 1) or config.get("padding", "valid") != "valid":
    raise Unsupported("a convolution inside SpaceToBatchND/BatchToSpaceND that is not VALID with stride 1")
  in_h, in_w = x.x.shape[1:3]
  out = op.graph.get_operation_by_name(op.name).outputs[0]
  config = dict(config)
  config["dilation_rate"] = x.block
  # TF pads for SAME (output = input size); VALID pads only up to a multiple of the block.
  kernel = weights_shape = ev.key_specs[weights["kernel"]][0][:2]
  same = all(p[0] + p[1] >= (k - 1) * b for p, k, b in zip(x.paddings, kernel, x.block))
  config["padding"] = "same" if same else "valid"
  if config["padding"] == "valid":
    config.pop("padding")
  del weights_shape, in_h, in_w, out
  layer = ev.layer(cls, config, weights=weights, op=op)
  sym = ev.call(layer, x.x, [x.op, op], [])[0]
  return _ir.SpaceToBatch(x.x, x.block, x.paddings, x.op, done=sym, layer=layer)
