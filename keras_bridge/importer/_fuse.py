"""After the evaluation: drop what the outputs do not need, then fuse biases and activations into layers.

`tf.nn.relu(tf.matmul(x, W) + b)` arrives as three calls (a bias-free `Dense`, a bias, an `Activation`);
a TF1 layer is one Keras layer, so the bias and the activation are folded into the `Dense` when every call
of it (a shared layer is called several times) is followed by the same bias and the same activation, and
nothing else reads the tensors in between. A bias left over (added to something that is not a layer's
output alone) cannot be imported.
"""

from typing import List

from keras_bridge.importer import _ir

FUSABLE = ("Dense", "Conv2D", "DepthwiseConv2D", "Conv2DTranspose")


def live_nodes(nodes: List[_ir.Node], outputs: List[_ir.Sym]) -> List[_ir.Node]:
  """The nodes the outputs depend on, in creation (topological) order."""
  keep, stack = set(), [s.node for s in outputs]
  while stack:
    node = stack.pop()
    if id(node) in keep:
      continue
    keep.add(id(node))
    stack.extend(s.node for s in _ir.input_syms(node))
  return [n for n in nodes if id(n) in keep]


def _consumers(nodes):
  out = {id(n): [] for n in nodes}
  for n in nodes:
    for s in _ir.input_syms(n):
      out[id(s.node)].append(n)
  return out


def _replace(nodes, outputs, old: _ir.Node, new: _ir.Sym):
  for n in nodes:
    if isinstance(n.inputs, (list, tuple)):
      n.inputs = [new if s.node is old else s for s in n.inputs]
    elif n.inputs is not None and not isinstance(n.inputs, list) and n.inputs.node is old:
      n.inputs = new
  return [new if s.node is old else s for s in outputs]


def fuse(nodes: List[_ir.Node], outputs: List[_ir.Sym]):
  """Fuses biases, then activations. Returns (nodes, outputs, leftover bias nodes)."""
  nodes = live_nodes(nodes, outputs)
  for kind in ("_Bias", "Activation"):
    consumers = _consumers(nodes)
    by_layer = {}
    for n in nodes:
      if n.layer is not None and n.layer.cls in FUSABLE:
        by_layer.setdefault(id(n.layer), []).append(n)
    for calls in by_layer.values():
      layer = calls[0].layer
      if kind == "_Bias" and layer.config.get("use_bias", True):
        continue
      if kind == "Activation" and "activation" in layer.config:
        continue
      nexts = []
      for call in calls:
        users = consumers[id(call)]
        if len(users) != 1 or any(s.node is call for s in outputs) or users[0].layer is None:
          break
        if users[0].layer.cls != kind or users[0].layer.calls != 1:
          break
        nexts.append(users[0])
      else:
        if not nexts or len({_signature(n.layer) for n in nexts}) != 1:
          continue
        _absorb(layer, nexts[0].layer, kind)
        for call, nxt in zip(calls, nexts):
          call.tf1_nodes.extend(nxt.tf1_nodes)
          layer.tf1_nodes.extend(nxt.tf1_nodes)
          outputs = _replace(nodes, outputs, nxt, _ir.Sym(call, 0, None, "float32"))
          nodes = [n for n in nodes if n is not nxt]
        consumers = _consumers(nodes)
  leftover = [n for n in nodes if n.layer is not None and n.layer.cls == "_Bias"]
  return live_nodes(nodes, outputs), outputs, leftover


def _signature(layer):
  return (layer.cls, repr(sorted(layer.config.items())), repr(sorted(layer.weights.items())))


def _absorb(layer: _ir.Layer, other: _ir.Layer, kind: str):
  config = {}
  for i, (k, v) in enumerate(layer.config.items()):
    if kind == "_Bias" and k == "use_bias":
      continue
    config[k] = v
    if kind == "Activation" and i == _first_args(layer.cls) - 1:
      config["activation"] = other.config["activation"]
  if kind == "Activation" and "activation" not in config:
    config["activation"] = other.config["activation"]
  layer.config = config
  if kind == "_Bias":
    layer.weights["bias"] = other.weights["bias"]


def _first_args(cls):
  return {"Dense": 1, "Conv2D": 2, "Conv2DTranspose": 2, "DepthwiseConv2D": 1}.get(cls, 1)
