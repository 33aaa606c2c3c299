"""`tf.cond` on a fed flag is folded away: only the branch the feeds select is imported.

Both op forms: TF 1.x's `Switch`/`Merge` (what `tf.compat.v1.disable_control_flow_v2()` and every TF 1.x
checkpoint carry) and TF 2's `If`/`StatelessIf`, whose branches are functions of the graph's library. The
branch not taken is still evaluated, as a shadow that creates nothing the model keeps, for one reason:
`tf.layers.dropout(x, rate, training=flag)` and `tf.layers.batch_normalization(..., training=flag)` put the
dropout in the training branch only, and the model should still have its `Dropout` layer (the identity at
inference). A predicate computed from the inputs' values is refused: a Keras model has no such branch.
"""

import numpy as np

from keras_bridge.importer import _ir
from keras_bridge.importer._evaluate import Bad
from keras_bridge.importer._evaluate import function_graph
from keras_bridge.importer._evaluate import handles
from keras_bridge.importer._evaluate import Shadow
from keras_bridge.importer._evaluate import Unsupported


def _predicate(op, pred) -> bool:
  if not isinstance(pred, _ir.Known):
    raise Unsupported(f"the predicate of {op.type} depends on the inputs' values; only a tf.cond on a fed "
                      f"flag or a constant can be imported (feed the flag in feeds=)")
  return bool(np.all(pred.value))


@handles("Switch", "RefSwitch")
def switch(ev, op, ins):
  data, pred = ins
  if isinstance(pred, (Bad, _ir.Dead, Shadow)):
    return [pred, pred]
  if isinstance(data, Shadow):
    return [data, data]
  taken = _predicate(op, pred)
  other = _ir.DEAD if isinstance(data, (_ir.Dead, Bad)) else Shadow(data)
  return [data, other] if not taken else [other, data]


@handles("Merge", "RefMerge")
def merge(ev, op, ins):
  live = [(i, v) for i, v in enumerate(ins) if not isinstance(v, (_ir.Dead, Shadow))]
  shadows = [v.value for v in ins if isinstance(v, Shadow)]
  if not live:
    return [Shadow(shadows[0]), _ir.DEAD] if shadows else [_ir.DEAD, _ir.DEAD]
  if len(live) > 1:
    raise Unsupported("a Merge with several live inputs (a while loop, or a cond the feeds do not decide)")
  index, value = live[0]
  if isinstance(value, Bad):
    return [value, value]
  ev.op_notes[op.name] = "cond folded by the feeds"
  return [_prefer_dropout(value, shadows), _ir.Known(np.asarray(index, np.int32))]


def _prefer_dropout(value, shadows):
  """The training branch's Dropout of the same tensor, when the taken branch is the identity."""
  if isinstance(value, _ir.Sym):
    for s in shadows:
      if (isinstance(s, _ir.Sym) and s.node.layer is not None and s.node.layer.cls == "Dropout"
          and s.node.inputs is value):
        return s
  return value


@handles("If", "StatelessIf")
def if_(ev, op, ins):
  if isinstance(ins[0], (Bad, _ir.Dead)):
    return [ins[0]] * len(op.outputs)
  if any(isinstance(v, Shadow) for v in ins):
    return [_ir.DEAD] * len(op.outputs)
  taken = _predicate(op, ins[0])
  args = ins[1:]
  names = (op.get_attr("then_branch").name, op.get_attr("else_branch").name)
  shapes = [t.shape for t in op.inputs[1:]]
  ev.scopes.append(op.name)
  try:
    values = _inline(ev, names[0] if taken else names[1], args, shapes)
  finally:
    ev.scopes.pop()
  ev.op_notes[op.name] = "cond folded by the feeds"
  ev.shadow += 1
  ev.scopes.append(op.name)
  try:
    others = _inline(ev, names[1] if taken else names[0], args, shapes, shadow=True)
  finally:
    ev.shadow -= 1
    ev.scopes.pop()
  return [_prefer_dropout(v, [o]) for v, o in zip(values, others)]


def _inline(ev, name, args, shapes, shadow=False):
  """The values of a branch function's outputs. A shadow branch evaluates each output on its own: a
  gradient-rewritten branch also returns intermediates (`OptionalFromValue`) that nothing imports."""
  graph = function_graph(ev, name, input_shapes=shapes)
  for placeholder, value in zip(graph.inputs, args):
    ev.memo[placeholder.ref()] = value
  if not shadow:
    return ev.evaluate(graph.outputs)
  values = []
  for out in graph.outputs:
    try:
      values.append(ev.evaluate([out])[0])
    except Unsupported:
      values.append(_ir.DEAD)
  return values
