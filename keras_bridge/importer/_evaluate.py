"""The symbolic evaluation of a TF1 inference subgraph into Keras layers.

`Evaluator.evaluate(outputs)` walks the ops the outputs depend on, inputs first, and gives every tensor a
value (`keras_bridge.importer._ir`). Each op type has a handler in one of the op-family modules
(`_dense`, `_conv`, `_structure`, `_activations`, `_dropout`, `_norm`, `_control`, `_rnn`), registered with
`@handles("MatMul")`. A handler receives the op and its input values and returns the values of its outputs,
creating `Node`s (layer calls) through `Evaluator.call`. What the feeds decide is folded away as it goes:
an op whose inputs are all `Known` is run once, at import time; a `tf.cond` on a fed flag keeps only the
branch taken (the other is evaluated as a "shadow", so a dropout that lives only in the training branch is
still seen).

Nothing is guessed: an op without a handler, or one whose inputs a handler cannot take, is recorded in
`unsupported` with its name, type, scope and the reason, the evaluation goes on so that every such op is
listed, and `import_tf1_graph` raises one error naming them all.
"""

import collections
import re
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import tensor_util

from keras_bridge.importer import _ir

HANDLERS: Dict[str, Callable] = {}
#: Op types whose handler analyses a whole subgraph (a loop) instead of receiving input values:
#: `fn(evaluator, op) -> {tensor.ref(): value}` for the tensors it stands for.
MACROS: Dict[str, Callable] = {}

#: Ops that only forward their first input.
PASS_THROUGH = ("Identity", "RefIdentity", "StopGradient", "Snapshot", "PreventGradient", "ReadVariableOp",
                "CheckNumerics",
                "EnsureShape", "PlaceholderWithDefault")
#: Ops whose outputs are random draws.
RANDOM_OPS = ("RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal",
              "StatelessRandomUniformV2", "StatelessRandomNormalV2", "RandomShuffle")
#: Never folded even when their inputs are known: they draw, read or write state.
STATEFUL = RANDOM_OPS + ("Placeholder", "VariableV2", "VarHandleOp", "Assign", "AssignVariableOp")
#: A dimension the evaluator does not know yet (the batch size), while folding shape arithmetic.
SENTINEL = 1_000_003


def handles(*op_types):
  """Registers a handler for one or more op types."""
  def register(fn):
    for op_type in op_types:
      HANDLERS[op_type] = fn
    return fn
  return register


def macro(*op_types):
  """Registers a macro handler (see `MACROS`) for one or more op types."""
  def register(fn):
    for op_type in op_types:
      MACROS[op_type] = fn
    return fn
  return register


class Unsupported(Exception):
  """Raised by a handler: this op, with these inputs, has no Keras equivalent the importer can prove."""


class Shadow:
  """A value computed in a `tf.cond` branch that the feeds do not take."""

  __slots__ = ("value",)

  def __init__(self, value):
    self.value = value


class Bad:
  """The value of an op that could not be imported, carrying why (`errors`: (op name, type, reason)).

  Errors travel with the values instead of being recorded where they happen: a batch statistic computed
  outside a `tf.cond` and used only in its training branch is never reported, while every unsupported op
  that an output really depends on is.
  """

  __slots__ = ("errors",)

  def __init__(self, errors=()):
    self.errors = tuple(errors)


BAD = Bad()
#: Ops that receive Bad, Dead and Shadow inputs as they are (control flow decides what they forward).
RAW = ("Merge", "RefMerge", "Switch", "RefSwitch", "If", "StatelessIf")


def merge_bad(values) -> "Bad":
  errors = []
  for v in values:
    if isinstance(v, Bad):
      errors += [e for e in v.errors if e not in errors]
  return Bad(errors)


def _sanitize(name: str) -> str:
  name = re.sub(r"[^A-Za-z0-9_]", "_", name.replace("/", "_")).strip("_")
  return name if name and not name[0].isdigit() else "l_" + name


def shape_of(tensor) -> tuple:
  shape = tensor.shape
  if shape.rank is None:
    return None
  return tuple(shape.as_list())


def dtype_of(tensor) -> str:
  return tensor.dtype.base_dtype.name


class Evaluator:
  """Evaluates TF1 tensors into `_ir` values, creating Keras layer calls on the way.

  Args:
    graph: the imported `tf.Graph`.
    var_keys: variable op name -> (checkpoint key, slice spec), from `_graph.variable_keys`.
    key_specs: checkpoint key -> (shape, dtype name).
    feeds: tensor name -> value, fixed for inference.
    inputs: tensor names that become `keras.Input`s.
    dropout_rates: dropout scope or fed `keep_prob` tensor name -> the training rate.
    library: function name -> FunctionDef (the graph's function library).
  """

  def __init__(self, graph, var_keys, key_specs, feeds, inputs, dropout_rates, library):
    self.graph = graph
    self.var_keys = var_keys
    self.key_specs = key_specs
    self.feeds = dict(feeds)
    self.input_names = list(inputs)
    self.dropout_rates = dict(dropout_rates or {})
    self.library = library
    self.memo = {}
    self.nodes: List[_ir.Node] = []
    self.layers: Dict[str, _ir.Layer] = {}
    self.inputs: Dict[str, _ir.Node] = {}
    self.unsupported = []
    self.op_notes: Dict[str, str] = {}
    self.shadow = 0
    self.scopes = []  # the ops whose function bodies are being inlined (a v2 tf.cond's If), outermost first
    self.used_feeds = set()
    self._names = collections.Counter()

  # -- walking ---------------------------------------------------------------------------------------

  def evaluate(self, tensors: Sequence[tf.Tensor]) -> list:
    """The values of `tensors`, evaluating every op they depend on (iteratively, inputs first).

    An op type in `MACROS` (a loop's outputs) is handed to its macro handler before its inputs are walked:
    the handler analyses the loop itself and returns the values of the tensors it stands for. A cycle that
    no macro handler took is an unrecognised loop, recorded as unsupported.
    """
    stack = [(t.op, False) for t in tensors]
    visiting = set()
    while stack:
      op, expanded = stack.pop()
      if op.outputs and all(out.ref() in self.memo for out in op.outputs):
        continue
      if not op.outputs:
        continue
      if not expanded and op.type in MACROS and not self._is_source(op):
        self._macro(op)
        continue
      if not expanded and not self._is_source(op):
        deps = [t.op for t in self._dependencies(op) if t.ref() not in self.memo]
        if deps:
          visiting.add(op.name)
          stack.append((op, True))
          for dep in deps:
            if dep.name in visiting:
              self._cycle(dep)
            else:
              stack.append((dep, False))
          continue
      visiting.discard(op.name)
      for out, value in zip(op.outputs, self._compute(op)):
        self.memo[out.ref()] = value
    return [self.memo[t.ref()] for t in tensors]

  def _macro(self, op):
    try:
      values = MACROS[op.type](self, op)
    except Unsupported as e:
      if self.shadow:
        raise
      values = {out.ref(): Bad([(op.name, op.type, str(e))]) for out in op.outputs}
    self.memo.update(values)
    for out in op.outputs:
      self.memo.setdefault(out.ref(), _ir.DEAD)

  def _cycle(self, op):
    if self.shadow:
      raise Unsupported("a loop inside a branch not taken")
    bad = Bad([(op.name, op.type, "part of a loop (tf.while_loop) that the importer does not recognise as an "
                                  "RNN")])
    for out in op.outputs:
      self.memo[out.ref()] = bad

  def _is_source(self, op) -> bool:
    name = op.outputs[0].name if op.outputs and op.graph is self.graph else ""
    return name in self.feeds or name in self.input_names

  def _dependencies(self, op):
    deps = list(op.inputs)
    # The pivots of a v1 tf.cond branch reach its constants only as control inputs.
    for control in op.control_inputs:
      if control.type in ("Identity", "Switch", "RefSwitch") and control.outputs:
        deps.append(control.outputs[0])
    return deps

  def _compute(self, op) -> list:
    n = len(op.outputs)
    name = op.outputs[0].name if op.graph is self.graph else ""
    if name in self.feeds:
      self.used_feeds.add(name)
      self.op_notes[op.name] = "fed"
      return [_ir.Known(np.asarray(self.feeds[name]), fed=True, source=name)] + [_ir.DEAD] * (n - 1)
    if name in self.input_names:
      return [self._input(op.outputs[0])]
    ins = [self.memo[t.ref()] for t in op.inputs]
    controls = [self.memo[c.outputs[0].ref()] for c in op.control_inputs
                if c.type in ("Identity", "Switch", "RefSwitch") and c.outputs and c.outputs[0].ref() in self.memo]
    if op.type in RAW and not any(isinstance(v, Shadow) for v in controls):
      return self.run_handler(op, ins)
    if any(isinstance(v, Bad) for v in ins):
      bad = merge_bad(ins)
      if op.type not in HANDLERS and op.type not in PASS_THROUGH and op.type not in MACROS:
        bad = Bad(bad.errors + ((op.name, op.type, f"no Keras 3 equivalent is known for op type {op.type!r}"),))
      return [bad] * n
    if any(isinstance(v, _ir.Dead) for v in ins + controls):
      return [_ir.DEAD] * n
    if any(isinstance(v, Shadow) for v in ins + controls):
      ins = [v.value if isinstance(v, Shadow) else v for v in ins]
      self.shadow += 1
      try:
        values = self.run_handler(op, ins)
      except Unsupported:
        values = [_ir.DEAD] * n
      finally:
        self.shadow -= 1
      return [v if isinstance(v, (_ir.Dead, Bad)) else Shadow(v) for v in values]
    return self.run_handler(op, ins)

  def run_handler(self, op, ins) -> list:
    n = len(op.outputs)
    try:
      if op.type == "Const":
        self.op_notes[op.name] = "constant"
        return [_ir.Known(tensor_util.MakeNdarray(op.get_attr("value")))]
      if op.type in PASS_THROUGH and ins:
        self.op_notes.setdefault(op.name, "read / identity")
        return [ins[0]] + [_ir.DEAD] * (n - 1)
      if ins and op.type not in STATEFUL and op.type not in RAW and all(
          isinstance(v, _ir.Known) for v in ins) and not op.type.startswith("TensorArray"):
        return self.fold(op, ins)
      handler = HANDLERS.get(op.type)
      if handler is None:
        raise Unsupported(f"no Keras 3 equivalent is known for op type {op.type!r}")
      values = handler(self, op, ins)
      if not isinstance(values, (list, tuple)):
        values = [values]
      return list(values) + [_ir.DEAD] * (n - len(values))
    except Unsupported as e:
      if self.shadow:
        raise
      return [Bad([(op.name, op.type, str(e))])] * n

  # -- values ----------------------------------------------------------------------------------------

  def fold(self, op, ins) -> list:
    """Runs `op` on known inputs at import time. Unknown dimensions (`Partial`) are run as `SENTINEL`."""
    partial = any(getattr(v, "partial", False) for v in ins)
    fed = any(v.fed for v in ins)
    source = next((v.source for v in ins if v.source), "")
    graph = tf.Graph()
    with graph.as_default():
      feeds, placeholders = {}, []
      for t, v in zip(op.inputs, ins):
        p = tf.compat.v1.placeholder(t.dtype, name=f"in{len(placeholders)}")
        placeholders.append(p)
        feeds[p] = v.value
      node = op.node_def
      attrs = {k: op.node_def.attr[k] for k in op.node_def.attr}
      try:
        created = graph.create_op(op.type, placeholders, [t.dtype for t in op.outputs], name="op",
                                  attrs=attrs)
      except (ValueError, TypeError, tf.errors.OpError) as e:
        raise Unsupported(f"cannot fold op {node.name!r} on known inputs: {e}") from e
      with tf.compat.v1.Session(graph=graph) as sess:
        try:
          outs = sess.run(list(created.outputs), feeds)
        except tf.errors.OpError as e:
          raise Unsupported(f"folding it on the fed values fails: {e.message}") from e
    values = []
    for out in outs:
      out = np.asarray(out)
      # Unknown dimensions stay SENTINEL (and its multiples, `batch * time`) through shape arithmetic; the
      # handlers that read a shape (`_structure._target`) treat them as unknown.
      is_partial = partial and out.dtype.kind in "iu" and bool(np.any((out % SENTINEL == 0) & (out != 0)))
      values.append(_ir.Known(out, fed=fed, source=source, partial=bool(is_partial)))
    self.op_notes[op.name] = "folded (feed)" if fed else "folded (constant)"
    return values

  def _input(self, tensor) -> _ir.Sym:
    shape = shape_of(tensor)
    if shape is None or len(shape) == 0:
      raise_unsupported = (f"input {tensor.name!r} has {'an unknown shape' if shape is None else 'a scalar shape'}"
                           f"; a Keras input needs a known rank with the batch first")
      return Bad([(tensor.op.name, tensor.op.type, raise_unsupported)])
    node = _ir.Node(layer=None, inputs=[], input_spec=(shape, dtype_of(tensor), tensor.name),
                    tf1_nodes=[tensor.op.name])
    node.var = self.unique(_sanitize(tensor.op.name))
    self.inputs[tensor.name] = node
    self.nodes.append(node)
    self.op_notes[tensor.op.name] = f"keras.Input {node.var!r}"
    return _ir.Sym(node, 0, shape, dtype_of(tensor))

  def weight(self, op) -> _ir.Weight:
    key, slices = self.var_keys.get(op.name, (op.name, ""))
    if key not in self.key_specs:
      raise Unsupported(f"variable {op.name!r} is saved under key {key!r}, which the checkpoint does not hold")
    shape, dtype = self.key_specs[key]
    leaf = _ir.Leaf(key, tuple(shape), dtype)
    if slices:  # a partition: "full shape  start,length:start,length"
      full, spans = slices.strip().split(" ")[:-1], slices.strip().split(" ")[-1]
      begin = tuple(int(s.split(",")[0]) for s in spans.split(":"))
      size = tuple(int(s.split(",")[1]) if s.split(",")[1] != "-" else int(d) for s, d in
                   zip(spans.split(":"), full))
      self.op_notes[op.name] = f"partition {slices!r} of weight {key!r}"
      return _ir.Weight(_ir.Expr("slice", (leaf,), (("begin", begin), ("size", size))), size, dtype)
    self.op_notes[op.name] = f"weight {key!r}"
    return _ir.Weight(leaf, tuple(shape), dtype)

  def unique(self, name: str) -> str:
    name = _sanitize(name)
    self._names[name] += 1
    return name if self._names[name] == 1 else f"{name}_{self._names[name] - 1}"

  # -- creating layers -------------------------------------------------------------------------------

  def layer(self, cls: str, config: dict, *, weights: Optional[dict] = None, scope: str = "",
            op=None, share: bool = True) -> _ir.Layer:
    """A new layer, or the existing one that holds the same weights (a TF1 variable read twice)."""
    weights = dict(weights or {})
    if weights and share:
      for existing in self.layers.values():
        if existing.cls == cls and existing.weights == weights:
          if existing.config != config:
            raise Unsupported(f"weights {sorted(weights.values(), key=str)!r} are shared by two {cls} layers "
                              f"with different settings ({existing.config} and {config})")
          return existing
        overlap = set(map(str, existing.weights.values())) & set(map(str, weights.values()))
        if overlap:
          raise Unsupported(f"weight(s) {sorted(overlap)!r} are read by layer {existing.name!r} and by this "
                            f"op in another role")
    if not scope:
      keys = [w if isinstance(w, str) else w["parts"][0]["key"] for w in weights.values()]
      scope = keys[0].rsplit("/", 1)[0] if keys and "/" in keys[0] else (op.name if op is not None else cls)
    elif op is not None and op.graph is not self.graph and self.scopes and not weights:
      # An op of an inlined function body: name it inside the scope of the op that called the function.
      scope = self.scopes[-1].rsplit("/", 1)[0] + "/" + scope if "/" in self.scopes[-1] else scope
    layer = _ir.Layer(name=self.unique(scope), cls=cls, config=config, weights=weights, scope=scope)
    self.layers[layer.name] = layer
    return layer

  def call(self, layer: _ir.Layer, inputs, ops, outputs=None, **call_kwargs) -> list:
    """Calls `layer` on `inputs` (a value, or a list); returns one `Sym` per TF1 output tensor in `outputs`."""
    ops = [o.name if hasattr(o, "name") else o for o in (ops if isinstance(ops, (list, tuple)) else [ops])]
    syms = [self.sym(v) for v in inputs] if isinstance(inputs, (list, tuple)) else self.sym(inputs)
    outputs = outputs if outputs is not None else []
    node = _ir.Node(layer=layer, inputs=syms, n_outputs=max(1, len(outputs)), tf1_nodes=list(ops),
                    call_kwargs=call_kwargs)
    layer.calls += 1
    layer.tf1_nodes.extend(ops)
    self.nodes.append(node)
    for name in ops:
      self.op_notes[name] = layer.name
    return [_ir.Sym(node, i, shape_of(t), dtype_of(t)) for i, t in enumerate(outputs)] or [
        _ir.Sym(node, 0, None, "float32")]

  def simple(self, cls, config, x, op, **kw) -> _ir.Sym:
    """One weightless layer named after `op`, called on `x`, for `op`'s first output."""
    layer = self.layer(cls, config, scope=op.name, op=op, share=False, **kw)
    return self.call(layer, x, [op], [op.outputs[0]])[0]

  def sym(self, value) -> _ir.Sym:
    """The value as a Keras tensor: an `Affine` becomes a layer here (bias, batch norm or rescaling)."""
    if isinstance(value, _ir.Sym):
      return value
    if isinstance(value, _ir.Affine):
      from keras_bridge.importer import _norm  # pylint: disable=import-outside-toplevel
      return _norm.materialize(self, value)
    raise Unsupported(f"a {type(value).__name__} value where a tensor computed from the inputs is expected")


def function_graph(evaluator: Evaluator, name: str, input_shapes=None):
  """The FuncGraph of a function of the graph's library (a `tf.cond` branch, a `while_loop` body)."""
  from tensorflow.python.framework import function_def_to_graph  # pylint: disable=import-outside-toplevel
  fdef = evaluator.library.get(name)
  if fdef is None:
    raise Unsupported(f"function {name!r} is not in the graph's function library")
  with evaluator.graph.as_default():
    return function_def_to_graph.function_def_to_graph(fdef, input_shapes=input_shapes)
