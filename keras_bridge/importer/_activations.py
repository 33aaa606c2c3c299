"""Activation ops become the `activation=` of the layer before them, or an activation layer of their own."""

from keras_bridge.importer import _ir
from keras_bridge.importer._evaluate import handles
from keras_bridge.importer._evaluate import Unsupported

#: TF op -> the Keras activation name (the same function, also for `activation=` strings).
ACTIVATIONS = {"Relu": "relu", "Relu6": "relu6", "Elu": "elu", "Selu": "selu", "Tanh": "tanh",
               "Sigmoid": "sigmoid", "Softplus": "softplus", "Softsign": "softsign"}


@handles(*ACTIVATIONS)
def activation(ev, op, ins):
  (x,) = ins
  if not isinstance(x, (_ir.Sym, _ir.Affine)):
    raise Unsupported(f"{op.type} of a {type(x).__name__}")
  layer = ev.layer("Activation", {"activation": ACTIVATIONS[op.type]}, scope=op.name, op=op, share=False)
  return ev.call(layer, x, [op], [op.outputs[0]])[0]


@handles("Softmax")
def softmax(ev, op, ins):
  (x,) = ins
  if not isinstance(x, (_ir.Sym, _ir.Affine)):
    raise Unsupported(f"Softmax of a {type(x).__name__}")
  layer = ev.layer("Activation", {"activation": "softmax"}, scope=op.name, op=op, share=False)
  return ev.call(layer, x, [op], [op.outputs[0]])[0]


@handles("LeakyRelu")
def leaky_relu(ev, op, ins):
  (x,) = ins
  if not isinstance(x, (_ir.Sym, _ir.Affine)):
    raise Unsupported(f"LeakyRelu of a {type(x).__name__}")
  alpha = float(op.get_attr("alpha"))
  layer = ev.layer("LeakyReLU", {"negative_slope": round(alpha, 7)}, scope=op.name, op=op, share=False)
  return ev.call(layer, x, [op], [op.outputs[0]])[0]
