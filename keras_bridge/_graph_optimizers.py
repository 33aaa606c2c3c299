"""The TF1 optimizers of a graph, read from its update ops: kind, hyperparameters, and the variables each updates.

After `tf.compat.v1.train.import_meta_graph` there is no live optimizer object, but the graph still says
everything: `minimize(name=...)` (by default the optimizer's name, uniquified: `Adam`, `Adam_1`) opens a name
scope holding one `Apply*` op per variable (`train/update_hidden1/kernel/ApplyAdam`), whose inputs are the
variable, its slots, Adam's beta powers and the hyperparameters, usually constants:

| op (also `Resource*`, `Sparse*`, `ResourceSparse*`) | inputs read here                                 |
|------------------------------------------------------|--------------------------------------------------|
| `ApplyGradientDescent`                               | var, alpha                                       |
| `ApplyMomentum` (attr `use_nesterov`)                | var, accum, lr, momentum                         |
| `ApplyAdam`                                          | var, m, v, beta1/2_power, lr, beta1/2, epsilon   |
| `ApplyRMSProp`, `ApplyCenteredRMSProp` (mg first)    | var, ms, mom, lr, rho, momentum, epsilon         |
| `ApplyAdagrad`                                       | var, accum, lr; the slot's initial value         |

Adam updates sparse gradients (an embedding) with `ScatterAdd`s instead of an `Apply` op; those variables are
found by the `update_<variable>` scope inside the optimizer's scope and their `<variable>/<name>` slots. A
learning rate that is not a constant (a placeholder, a decay schedule) is reported in
`TF1OptimizerSpec.learning_rate_source` with `learning_rate` NaN, never guessed.
"""

import dataclasses
import math
import os
import re
from typing import Dict, Mapping, Optional, Tuple

import numpy as np
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _optimizers

#: Apply op (without Resource/Sparse) -> (kind, {field: input index}, index of `grad`).
_OPS = {
    "ApplyGradientDescent": ("GradientDescent", {"lr": 1}, 2),
    "ApplyMomentum": ("Momentum", {"slots": (1,), "lr": 2, "momentum": 4}, 3),
    "ApplyAdam": ("Adam", {"slots": (1, 2), "powers": (3, 4), "lr": 5, "beta1": 6, "beta2": 7, "epsilon": 8}, 9),
    "ApplyRMSProp": ("RMSProp", {"slots": (1, 2), "lr": 3, "decay": 4, "momentum": 5, "epsilon": 6}, 7),
    "ApplyCenteredRMSProp": ("RMSProp", {"slots": (2, 1, 3), "lr": 4, "decay": 5, "momentum": 6, "epsilon": 7}, 8),
    "ApplyAdagrad": ("Adagrad", {"slots": (1,), "lr": 2}, 3),
}
_VARIABLE_OPS = ("VariableV2", "Variable", "VarHandleOp")
_PASS_THROUGH = ("Identity", "Cast", "ReadVariableOp", "Snapshot")


@dataclasses.dataclass(frozen=True)
class GraphOptimizer:
  """One TF1 optimizer found in a graph.

  Attributes:
    scope: the name scope of its update ops (`minimize(name=...)`; `Adam`, `Adam_1`, ... by default).
    spec: its `TF1OptimizerSpec` (kind, learning rate or `learning_rate_source`, hyperparameters, slot name,
      Adam's beta-power keys).
    variables: the checkpoint keys of the variables it updates, in graph order.
    slots: variable key -> its slot keys in TF1's creation order (`("h1/w/Adam", "h1/w/Adam_1")`).
  """

  scope: str
  spec: "_optimizers.TF1OptimizerSpec"
  variables: Tuple[str, ...]
  slots: Mapping[str, Tuple[str, ...]]


def _graph_def(meta_or_graph):
  """A GraphDef from a `.meta` path (or a checkpoint prefix beside one), a MetaGraphDef, a GraphDef or a Graph."""
  if isinstance(meta_or_graph, tf.Graph):
    return meta_or_graph.as_graph_def()
  if isinstance(meta_or_graph, tf.compat.v1.MetaGraphDef):
    return meta_or_graph.graph_def
  if isinstance(meta_or_graph, tf.compat.v1.GraphDef):
    return meta_or_graph
  if isinstance(meta_or_graph, (str, os.PathLike)):
    path = os.fspath(meta_or_graph)
    if not path.endswith(".meta") and os.path.exists(path + ".meta"):
      path += ".meta"
    if not os.path.isfile(path):
      raise _errors.CheckpointNotFoundError(
          f"No MetaGraph at {path!r} (nor {path + '.meta'!r}). Pass the '.meta' file that "
          f"tf.compat.v1.train.Saver.save wrote beside the checkpoint, or a tf.Graph.")
    meta = tf.compat.v1.MetaGraphDef()
    try:
      with open(path, "rb") as f:
        meta.ParseFromString(f.read())
    except Exception as e:  # pylint: disable=broad-except  (protobuf raises its own DecodeError)
      raise _errors.CheckpointFormatError(
          f"{path!r} is not a MetaGraphDef ({type(e).__name__}: {e}). Pass the '.meta' file written by "
          f"tf.compat.v1.train.Saver, or a tf.Graph.") from e
    return meta.graph_def
  raise _errors.CheckpointFormatError(
      f"tf1_optimizers_in_graph takes a '.meta' path, a checkpoint prefix with a '.meta' beside it, a "
      f"MetaGraphDef, a GraphDef or a tf.Graph. Received: {type(meta_or_graph).__name__}.")


def _name(input_name: str) -> str:
  name = input_name.lstrip("^")
  return name.rsplit(":", 1)[0] if re.search(r":\d+$", name) else name


def _source(nodes, input_name):
  """The node a value comes from, looking through Identity/Cast/ReadVariableOp."""
  name = _name(input_name)
  for _ in range(32):
    node = nodes.get(name)
    if node is None or node.op not in _PASS_THROUGH or not node.input:
      return node, name
    name = _name(node.input[0])
  return nodes.get(name), name


def _constant(nodes, input_name):
  """(a float, None) for a scalar constant; (NaN, 'placeholder ...' or 'tensor ...') otherwise."""
  node, name = _source(nodes, input_name)
  if node is not None and node.op == "Const":
    return _scalar(node), None
  if node is not None and node.op in ("Placeholder", "PlaceholderWithDefault"):
    return math.nan, f"placeholder {name + ':0'!r}"
  return math.nan, f"tensor {name + ':0'!r} ({node.op if node is not None else 'unknown op'}: a schedule or a " \
                   f"computed value)"


def _initial_value(nodes, slot_key) -> Optional[float]:
  """The scalar a slot was initialised to (Adagrad's `initial_accumulator_value`), when it is a constant."""
  assign = nodes.get(f"{slot_key}/Assign")
  if assign is None or len(assign.input) < 2:
    return None
  node, _ = _source(nodes, assign.input[1])
  if node is not None and node.op == "Fill" and len(node.input) > 1:
    node, _ = _source(nodes, node.input[1])
  if node is None or node.op != "Const":
    return None
  return _scalar(node)


def _scalar(const_node) -> float:
  """A Const's first element; a float32 as the shortest decimal that rounds to it (1e-08, not 9.99...e-09)."""
  value = np.asarray(tf.make_ndarray(const_node.attr["value"].tensor)).reshape(-1)[0]
  return float(str(value)) if value.dtype == np.float32 else float(value)


def _base_op(op: str) -> Tuple[Optional[str], bool]:
  base = op[len("Resource"):] if op.startswith("Resource") else op
  sparse = base.startswith("Sparse")
  base = base[len("Sparse"):] if sparse else base
  return (base if base in _OPS else None), sparse


def tf1_optimizers_in_graph(meta_or_graph) -> Dict[str, GraphOptimizer]:
  """Every TF1 optimizer in a graph, keyed by the name scope of its update ops, with its hyperparameters.

  Args:
    meta_or_graph: a `.meta` file (or the checkpoint prefix it sits beside), a `MetaGraphDef`, a `GraphDef` or
      a `tf.Graph`.

  Returns:
    `{scope: GraphOptimizer}` in graph order: `"Adam"`, `"Adam_1"` for two `minimize()` calls with default
    names, `"train"` for `minimize(name="train")`.

  Raises:
    CheckpointNotFoundError: no `.meta` file at the path.
    CheckpointFormatError: the file is not a MetaGraphDef, or the argument is of another type.

  Example:

    >>> found = tf1_optimizers_in_graph("run/model.ckpt-100.meta")
    >>> found["Adam"].spec.hparams["epsilon"], found["Adam"].variables[:1]
    (1e-08, ('hidden1/kernel',))
  """
  graph_def = _graph_def(meta_or_graph)
  nodes = {n.name: n for n in graph_def.node}
  variables = [n.name for n in graph_def.node if n.op in _VARIABLE_OPS]
  found: Dict[str, dict] = {}
  for node in graph_def.node:
    base, sparse = _base_op(node.op)
    if base is None or "/update_" not in node.name:
      continue
    kind, fields, grad = _OPS[base]
    if base == "ApplyMomentum" and sparse:
      fields = dict(fields, momentum=fields["momentum"] + 1)  # SparseApplyMomentum: indices before momentum.
    scope = node.name[:node.name.index("/update_")]
    var = _source(nodes, node.input[0])[1]
    slots = tuple(_source(nodes, node.input[i])[1] for i in fields.get("slots", ()))
    entry = found.setdefault(scope, {"kind": kind, "centered": base == "ApplyCenteredRMSProp", "vars": {},
                                     "node": node, "fields": fields, "grad": grad})
    entry["vars"][var] = slots
  out = {}
  for scope, entry in found.items():
    node, fields, kind = entry["node"], entry["fields"], entry["kind"]
    lr, lr_source = _constant(nodes, node.input[fields["lr"]])
    hparams = {k: _constant(nodes, node.input[i])[0] for k, i in fields.items()
               if k in ("momentum", "beta1", "beta2", "epsilon", "decay")}
    if kind == "Momentum":
      hparams["use_nesterov"] = bool(node.attr["use_nesterov"].b)
    if kind == "RMSProp":
      hparams["centered"] = entry["centered"]
    slot_sets = entry["vars"]
    first_slots = next((s for s in slot_sets.values() if s), ())
    name = re.sub(r"_\d+$", "", first_slots[0].rsplit("/", 1)[1]) if first_slots else kind
    if kind == "Adagrad":
      init = _initial_value(nodes, first_slots[0]) if first_slots else None
      hparams["initial_accumulator_value"] = 0.1 if init is None else init
    powers = None
    if kind == "Adam":
      powers = tuple(_source(nodes, node.input[i])[1] for i in fields["powers"])
      _add_sparse_adam(scope, name, nodes, variables, slot_sets)
    spec = _optimizers.tf1_optimizer_spec(kind, 1.0 if lr_source else lr, name=name, beta_power_keys=powers,
                                          **hparams)
    if lr_source:
      spec = dataclasses.replace(spec, learning_rate=math.nan, learning_rate_source=lr_source)
    out[scope] = GraphOptimizer(scope, spec, tuple(slot_sets), dict(slot_sets))
  return out


def _add_sparse_adam(scope, name, nodes, variables, slot_sets):
  """Adds the variables Adam updates with ScatterAdd (sparse gradients): those with an `update_<var>` scope."""
  prefix = f"{scope}/update_"
  candidates = set()
  for node_name in nodes:
    if node_name.startswith(prefix):
      rest = node_name[len(prefix):]
      candidates.update(rest[:i] for i, c in enumerate(rest) if c == "/")
  slot_re = {}
  for var in variables:
    if var in candidates and var not in slot_sets:
      pattern = slot_re.setdefault(var, re.compile(re.escape(f"{var}/{name}") + r"(?:_(\d+))?"))
      slots = sorted((int(m.group(1) or 0), v) for v in variables for m in [pattern.fullmatch(v)] if m)
      if slots:
        slot_sets[var] = tuple(v for _, v in slots)
