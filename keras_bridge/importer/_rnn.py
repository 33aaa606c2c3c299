"""Recurrent networks: TF1 RNN cells under `dynamic_rnn`, `static_rnn` and `bidirectional_dynamic_rnn` become
Keras `LSTM`/`GRU` layers (and `Bidirectional`).

`tf.nn.dynamic_rnn` builds a `while_loop` whose body runs the cell once per time step, reading the step's
input from a TensorArray (v1: `TensorArrayReadV3`; v2: `TensorListGetItem`) of the time-major input and
writing the cell's output to another one. The loop's outputs are reached through macros (`_evaluate.MACROS`):
v1 `Exit` / `TensorArrayGatherV3`, v2 `While` / `StatelessWhile` / `TensorListStack`. The macro finds the
loop, both op forms seen as one list of loop variables (initial value, value inside the body, next value,
value after the loop), and matches the body op by op against the cells' own code (`rnn_cell_impl`):

* `BasicLSTMCell` / `LSTMCell` (no peepholes, `num_proj` or `cell_clip`):
  `i, j, f, o = split(bias_add(matmul(concat([x, h]), kernel), bias), 4)`,
  `c' = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)`, `h' = tanh(c') * sigmoid(o)`;
* `GRUCell`: `r, u = split(sigmoid(bias_add(matmul(concat([x, h]), gates/kernel), gates/bias)), 2)`,
  `h' = u * h + (1 - u) * tanh(bias_add(matmul(concat([x, r * h]), candidate/kernel), candidate/bias))`;
* a `MultiRNNCell` of those: each cell's input is the previous cell's output, one Keras layer per cell.
* Keras cells in a TF1 graph (`tf.keras.layers.LSTMCell` / `GRUCell` of TF 1.13-1.15, `tf_keras` today),
  `implementation=2`: LSTM `z = matmul(x, kernel) + matmul(h, recurrent_kernel) (+ bias)`, split in Keras's
  i, f, c, o; GRU `matmul(x, kernel) (+ input bias)` split in z, r, h, and `matmul(h, recurrent_kernel)
  (+ recurrent bias)` (reset_after=True: `hh = tanh(x_h + r * h_h)`) or `matmul(h, recurrent_kernel[:, :2u])`
  and `hh = tanh(x_h + matmul(r * h, recurrent_kernel[:, 2u:]))` (reset_after=False). Their variables have
  Keras 3's layout and become the layer's weights 1:1 (`reset_after` as in the cell, `use_bias=False` where
  the cell has no bias). Refused with the reason: `implementation=1` (one MatMul per gate; also forced by
  `recurrent_dropout`), `dropout` (a mask chosen by the learning phase inside the loop), activations other than
  tanh/sigmoid (tf.keras's `hard_sigmoid`, clip(0.2 x + 0.5), is not Keras 3's clip(x / 6 + 0.5)).

Each cell becomes `layers.LSTM(units, return_sequences=True, return_state=True)` (outputs: sequence, h, c)
or `layers.GRU(units, reset_after=False, return_sequences=True, return_state=True)` (sequence, h), with
the weights assembled by transforms (`keras_bridge._transforms`): the TF1 LSTM gate order i, j, f, o becomes
Keras's i, f, c, o, the kernel's rows split into `kernel` (input) and `recurrent_kernel` (state), and the
forget bias, a constant of the graph, is added to the forget part of `bias` (exact on load, within float32
rounding on write-back). The GRU's update gate `u` is Keras's `z`, its `r` Keras's `r`.
`outputs[:, -1, :]` of such a sequence (a `StridedSlice`) is the layer's final `h` output.

`static_rnn` (no loop: `tf.unstack` of the input along time, `Unpack`, then the cell's ops once per step with
the same variables) is recognised from the ops by the `Unpack` handler: for each step, the Mul/Add tensors
that depend on that step (and no later one) are tried with the same matchers, the step's "loop states" being
the tensors it reads that depend on no step from it on. Every step must run the same cells with the same
weights, step 0 from the zero state, each later step from the previous step's new states. The last step's
new states (and `outputs[-1]`) are the layers' final states; `tf.stack(outputs, axis=1)` (or `axis=0` then
transposed to batch-major) is the last layer's sequence. Both op forms differ only in their variables.

`bidirectional_dynamic_rnn` runs two loops over the same input, the backward one over `reverse(x, [1])`
(`go_backwards=True`), and reverses its outputs back (`ReverseV2`). When each direction is one cell and both
have the same class and units, the two loops become one `layers.Bidirectional(fw, backward_layer=bw,
merge_mode=None)`: outputs fw sequence, bw sequence reversed back (Keras flips the backward layer's outputs
along time, exactly TF1's `ReverseV2`), fw states, bw states; `tf.concat([out_fw, out_bw], 2)` is then an
ordinary `Concatenate`. Otherwise the directions stay separate layers and only their final states and the
forward sequence are imported.

What would change the results, or has no Keras layer, is refused, never approximated: `sequence_length`
(TF1 zeros the outputs past each sequence's length and keeps the state, Keras does neither), a given
`initial_state`, peepholes, `num_proj`, `cell_clip`, activations other than tanh, `state_is_tuple=False`, a
loop body that is anything else; `static_rnn`'s `outputs[t]` for a step before the last (or any tensor inside
a step: Keras has no layer that selects one time step), `static_rnn` over per-step inputs that no `tf.unstack`
of a batch-major sequence made, `time_major` inputs; the reversed-back backward sequence of a
`bidirectional_dynamic_rnn` whose directions are `MultiRNNCell`s or differ in class or units (Keras has no
layer that reverses a sequence), and `tf.reverse` of anything else.
"""

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import tensor_util

from keras_bridge.importer import _ir
from keras_bridge.importer._evaluate import function_graph
from keras_bridge.importer._evaluate import handles
from keras_bridge.importer._evaluate import macro
from keras_bridge.importer._evaluate import Bad
from keras_bridge.importer._evaluate import Unsupported

_ADD = ("Add", "AddV2")


class _Var:
  """One loop variable: `init` and `exit` are tensors of the graph, `inner` and `next` of the body."""

  __slots__ = ("init", "inner", "next", "exit")

  def __init__(self, init, inner, nxt, exit_):
    self.init, self.inner, self.next, self.exit = init, inner, nxt, exit_


class _Loop:
  """A while loop in either op form: its loop variables and its loop invariants (body tensor -> outer)."""

  def __init__(self, form, name, variables, invariants, ops):
    self.form = form
    self.name = name
    self.vars = variables
    self.invariants = invariants  # inner tensor name -> outer tensor
    self.ops = ops                # outer op names that are the loop (for the report)
    self.by_inner = {v.inner.name: v for v in variables}

  def var(self, t):
    return self.by_inner.get(t.name)

  def outer(self, t):
    return self.invariants.get(t.name)


# -- finding the loop ------------------------------------------------------------------------------------

def _v1_loop(ev, exit_op) -> _Loop:
  """The v1 loop (Enter/Merge/Switch/Exit/NextIteration frame) that `exit_op` leaves."""
  switch = exit_op.inputs[0].op
  merge = switch.inputs[0].op
  enter = next((t.op for t in merge.inputs if t.op.type == "Enter"), None)
  if switch.type != "Switch" or merge.type != "Merge" or enter is None:
    raise Unsupported("an Exit that does not leave a recognisable v1 while loop")
  frame = enter.get_attr("frame_name")
  enters = [op for op in ev.graph.get_operations()
            if op.type == "Enter" and op.get_attr("frame_name") == frame]
  variables, invariants, ops = [], {}, set()
  for e in enters:
    if e.get_attr("is_constant"):
      invariants[e.outputs[0].name] = e.inputs[0]
      continue
    merges = [c for c in e.outputs[0].consumers() if c.type == "Merge"]
    if len(merges) != 1:
      raise Unsupported(f"loop variable {e.name!r} of v1 loop {frame.decode()!r} has no single Merge")
    m = merges[0]
    nxt = next((t.op for t in m.inputs if t.op.type == "NextIteration"), None)
    sw = next((c for c in m.outputs[0].consumers() if c.type == "Switch"), None)
    if nxt is None or sw is None:
      raise Unsupported(f"loop variable {e.name!r} of v1 loop {frame.decode()!r} is incomplete")
    ident = [c for c in sw.outputs[1].consumers() if c.type == "Identity"]
    exits = [c for c in sw.outputs[0].consumers() if c.type == "Exit"]
    inner = ident[0].outputs[0] if len(ident) == 1 else sw.outputs[1]  # the gradient's counter: no Identity
    variables.append(_Var(e.inputs[0], inner, nxt.inputs[0],
                          exits[0].outputs[0] if exits else None))
  prefix = enter.name.rsplit("/", 1)[0] + "/"
  ops = [op.name for op in ev.graph.get_operations() if op.name.startswith(prefix)]
  return _Loop("v1", prefix[:-1], variables, invariants, ops)


def _v2_loop(ev, op) -> _Loop:
  """The v2 loop of a `While`/`StatelessWhile` op, its body a function of the graph's library."""
  body_name = op.get_attr("body").name
  try:
    body = function_graph(ev, body_name, [t.shape for t in op.inputs])
  except (ValueError, TypeError):
    body = function_graph(ev, body_name)
  if len(body.inputs) != len(op.inputs) or len(body.outputs) != len(op.inputs):
    raise Unsupported(f"the body {body_name!r} of while loop {op.name!r} does not match the loop's inputs")
  variables, invariants = [], {}
  for k, (init, inner, nxt) in enumerate(zip(op.inputs, body.inputs, body.outputs)):
    if nxt.name == inner.name:
      invariants[inner.name] = init
    else:
      variables.append(_Var(init, inner, nxt, op.outputs[k]))
  return _Loop("v2", op.name, variables, invariants, [op.name])


def _skip(loop, t):
  """`t` through Identity ops, stopping at a loop variable."""
  while t.op.type in ("Identity", "Snapshot") and loop.var(t) is None:
    t = t.op.inputs[0]
  return t


def _const(ev, loop, t):
  """The value of a body tensor that is a constant or a loop invariant known at import time, else None."""
  t = _skip(loop, t)
  if t.op.type == "Const":
    return np.asarray(tensor_util.MakeNdarray(t.op.get_attr("value")))
  outer = loop.outer(t)
  if outer is not None:
    value = ev.evaluate([outer])[0]
    if isinstance(value, _ir.Known):
      return np.asarray(value.value)
  return None


def _weight(ev, loop, t, what, *, through=None, cell="RNN cell") -> _ir.Weight:
  """The checkpoint variable that body tensor `t` reads (through Identity ops, or `through`)."""
  outer = loop.outer((through or _skip)(loop, t))
  value = ev.evaluate([outer])[0] if outer is not None else None
  if not isinstance(value, _ir.Weight) or value.leaf is None:
    raise Unsupported(f"the {what} of the {cell} in loop {loop.name!r} is not one checkpoint variable")
  return value


# -- matching the body -----------------------------------------------------------------------------------

class _Mismatch(Exception):
  pass


def _op(loop, t, *types):
  t = _skip(loop, t)
  if t.op.type not in types:
    raise _Mismatch(f"{t.op.name!r} is a {t.op.type}, where the cell has a {'/'.join(types)}")
  return t.op


def _pair(loop, op, test_a, test_b):
  """The two inputs of a commutative op as (a, b) with test_a(a) and test_b(b), in either order."""
  x, y = op.inputs[0], op.inputs[1]
  for a, b in ((x, y), (y, x)):
    if test_a(a) and test_b(b):
      return a, b
  raise _Mismatch(f"the inputs of {op.name!r} are not those of the cell")


def _is(loop, *types):
  return lambda t: _skip(loop, t).op.type in types


def _same(loop, a, b) -> bool:
  return _skip(loop, a).name == _skip(loop, b).name


def _axis(ev, loop, t, what):
  value = _const(ev, loop, t)
  if value is None or int(value) not in (1, -1):
    raise _Mismatch(f"the {what} is not along the feature axis")


def _affine(ev, loop, t, matched, what):
  """`bias_add(matmul(concat([x, s]), kernel), bias)` -> (x, s, kernel, bias, ops)."""
  bias_add = _op(loop, t, "BiasAdd")
  matmul = _op(loop, bias_add.inputs[0], "MatMul")
  if matmul.get_attr("transpose_a") or matmul.get_attr("transpose_b"):
    raise _Mismatch(f"{matmul.name!r} transposes an operand")
  concat = _op(loop, matmul.inputs[0], "ConcatV2")
  if len(concat.inputs) != 3:
    raise _Mismatch(f"{concat.name!r} does not concatenate the input and the state")
  _axis(ev, loop, concat.inputs[2], "concatenation")
  matched += [bias_add.name, matmul.name, concat.name]
  return (concat.inputs[0], concat.inputs[1], _weight(ev, loop, matmul.inputs[1], f"{what} kernel"),
          _weight(ev, loop, bias_add.inputs[1], f"{what} bias"))


def _state(loop, t, what):
  v = loop.var(_skip(loop, t))
  if v is None:
    src = _skip(loop, t).op
    if src.type in ("Split", "Slice", "SplitV", "StridedSlice"):
      raise Unsupported(f"an LSTM whose state is one concatenated tensor (state_is_tuple=False, "
                        f"{src.name!r}); only state tuples are imported")
    raise _Mismatch(f"the {what} {t.name!r} is not a state of the loop")
  return v


def _lstm(ev, loop, out):
  """Matches `h' = tanh(c') * sigmoid(o)` and what it depends on; `out` is h'."""
  matched = []
  out_op = _skip(loop, out).op
  if out_op.type == "MatMul":
    raise Unsupported("an LSTMCell with num_proj (a projection of the output); Keras LSTM has none")
  if out_op.type in ("ClipByValue", "Minimum", "Maximum"):
    raise Unsupported("an LSTMCell with proj_clip; Keras LSTM has none")
  mul = _op(loop, out, "Mul")
  tanh_c, sig_o = _pair(loop, mul, _is(loop, "Tanh"), _is(loop, "Sigmoid"))
  c_new = _skip(loop, tanh_c).op.inputs[0]
  o_in = _skip(loop, sig_o).op.inputs[0]
  matched += [mul.name, _skip(loop, tanh_c).op.name, _skip(loop, sig_o).op.name]
  if _skip(loop, c_new).op.type in ("ClipByValue", "Minimum", "Maximum"):
    raise Unsupported("an LSTMCell with cell_clip (the cell state clipped); Keras LSTM has no clipping")
  if _skip(loop, o_in).op.type in _ADD and any(_skip(loop, i).op.type == "Mul" for i in _skip(loop, o_in).op.inputs):
    raise Unsupported("an LSTMCell with peepholes (use_peepholes=True: w_i_diag, w_f_diag, w_o_diag); Keras "
                      "LSTM has no peephole connections")
  add = _op(loop, c_new, *_ADD)
  state_var = lambda t: _skip(loop, t).op.type == "Mul" and any(  # noqa: E731
      loop.var(_skip(loop, i)) is not None for i in _skip(loop, t).op.inputs)
  forget, write = _pair(loop, add, state_var, _is(loop, "Mul"))
  forget, write = _skip(loop, forget).op, _skip(loop, write).op
  c_prev, sig_f = _pair(loop, forget, lambda t: loop.var(_skip(loop, t)) is not None, _is(loop, "Sigmoid"))
  sig_i, tanh_j = _pair(loop, write, _is(loop, "Sigmoid"), _is(loop, "Tanh", "Relu", "Elu", "Selu"))
  if _skip(loop, tanh_j).op.type != "Tanh" or _skip(loop, tanh_c).op.type != "Tanh":
    raise Unsupported("an LSTM cell whose activation is not tanh")
  matched += [add.name, forget.name, write.name, _skip(loop, sig_f).op.name, _skip(loop, sig_i).op.name,
              _skip(loop, tanh_j).op.name]
  f_in = _skip(loop, _skip(loop, sig_f).op.inputs[0])
  forget_bias = 0.0
  if f_in.op.type in _ADD:
    ins = list(f_in.op.inputs)
    if any(_skip(loop, t).op.type == "Mul" or _skip(loop, t).op.type in _ADD for t in ins):
      raise Unsupported("an LSTMCell with peepholes (use_peepholes=True: w_i_diag, w_f_diag, w_o_diag); "
                        "Keras LSTM has no peephole connections")
    values = [_const(ev, loop, t) for t in ins]
    known = [i for i, v in enumerate(values) if v is not None]
    if len(known) != 1 or np.asarray(values[known[0]]).size != 1:
      raise _Mismatch(f"{f_in.op.name!r} does not add a constant forget bias")
    forget_bias = float(np.asarray(values[known[0]]).reshape(()))
    matched.append(f_in.op.name)
    f_in = _skip(loop, ins[1 - known[0]])
  i_in = _skip(loop, _skip(loop, sig_i).op.inputs[0])
  j_in = _skip(loop, _skip(loop, tanh_j).op.inputs[0])
  o_in = _skip(loop, o_in)
  split = i_in.op
  if split.type != "Split" or any(t.op is not split for t in (j_in, f_in, o_in)) or [
      t.value_index for t in (i_in, j_in, f_in, o_in)] != [0, 1, 2, 3] or split.get_attr("num_split") != 4:
    raise _Mismatch("the gates are not the four parts i, j, f, o of one Split")
  _axis(ev, loop, split.inputs[0], "gate split")
  matched.append(split.name)
  x, h_prev, kernel, bias = _affine(ev, loop, split.inputs[1], matched, "LSTM")
  c_var, h_var = _state(loop, c_prev, "cell state"), _state(loop, h_prev, "hidden state")
  units = int(kernel.shape[1]) // 4
  if len(kernel.shape) != 2 or kernel.shape[1] != 4 * units or tuple(bias.shape) != (4 * units,) or \
      kernel.shape[0] <= units:
    raise _Mismatch(f"LSTM kernel {kernel.shape} and bias {bias.shape} do not fit 4 gates")
  return {"cls": "LSTM", "x": x, "units": units, "n_in": int(kernel.shape[0]) - units, "kernel": kernel,
          "bias": bias, "forget_bias": forget_bias, "states": [h_var, c_var], "new": [out, c_new],
          "ops": matched}


def _gru(ev, loop, out):
  """Matches `h' = u * h + (1 - u) * tanh(candidate)`; `out` is h'."""
  matched = []
  add = _op(loop, out, *_ADD)
  keep_mul = lambda t: _skip(loop, t).op.type == "Mul" and any(  # noqa: E731
      loop.var(_skip(loop, i)) is not None for i in _skip(loop, t).op.inputs)
  keep, new = _pair(loop, add, keep_mul, _is(loop, "Mul"))
  keep, new = _skip(loop, keep).op, _skip(loop, new).op
  h_prev, u = _pair(loop, keep, lambda t: loop.var(_skip(loop, t)) is not None, lambda t: True)
  one_minus_u, tanh = _pair(loop, new, _is(loop, "Sub"), _is(loop, "Tanh", "Relu"))
  if _skip(loop, tanh).op.type != "Tanh":
    raise Unsupported("a GRU cell whose activation is not tanh")
  sub = _skip(loop, one_minus_u).op
  one = _const(ev, loop, sub.inputs[0])
  if one is None or np.asarray(one).size != 1 or float(np.asarray(one).reshape(())) != 1.0 or not _same(
      loop, sub.inputs[1], u):
    raise _Mismatch(f"{sub.name!r} is not 1 - u")
  matched += [add.name, keep.name, new.name, sub.name, _skip(loop, tanh).op.name]
  u = _skip(loop, u)
  split = u.op
  if split.type != "Split" or split.get_attr("num_split") != 2 or u.value_index != 1:
    raise _Mismatch("the update gate is not the second part of a Split in two")
  _axis(ev, loop, split.inputs[0], "gate split")
  sigmoid = _op(loop, split.inputs[1], "Sigmoid")
  matched += [split.name, sigmoid.name]
  x, h_gates, gates_kernel, gates_bias = _affine(ev, loop, sigmoid.inputs[0], matched, "GRU gates")
  x2, r_h, cand_kernel, cand_bias = _affine(ev, loop, _skip(loop, tanh).op.inputs[0], matched,
                                            "GRU candidate")
  r_mul = _op(loop, r_h, "Mul")
  r, h2 = _pair(loop, r_mul, lambda t: _skip(loop, t).op is split and _skip(loop, t).value_index == 0,
                lambda t: loop.var(_skip(loop, t)) is not None)
  matched.append(r_mul.name)
  h_var = _state(loop, h_prev, "hidden state")
  if not (_same(loop, x, x2) and _same(loop, h_prev, h_gates) and _same(loop, h_prev, h2)):
    raise _Mismatch("the gates and the candidate do not read the same input and state")
  units = int(cand_kernel.shape[1])
  n_in = int(cand_kernel.shape[0]) - units
  if tuple(gates_kernel.shape) != (n_in + units, 2 * units) or tuple(gates_bias.shape) != (2 * units,) or \
      tuple(cand_bias.shape) != (units,) or n_in <= 0:
    raise _Mismatch("the GRU kernels and biases do not fit together")
  return {"cls": "GRU", "x": x, "units": units, "n_in": n_in, "gates_kernel": gates_kernel,
          "gates_bias": gates_bias, "cand_kernel": cand_kernel, "cand_bias": cand_bias, "states": [h_var],
          "new": [out], "ops": matched}


# -- Keras cells (tf.keras.layers.LSTMCell / GRUCell under dynamic_rnn, TF 1.13-1.15; tf_keras today) ------

_CLIPPED = ("a clipped activation such as hard_sigmoid (tf.keras 1.x and tf_keras compute clip(0.2 * x + 0.5, 0, 1), "
            "Keras 3's hard_sigmoid clip(x / 6 + 0.5, 0, 1), so no Keras 3 activation reproduces it)")
_GATE_ACTS = {"ClipByValue": _CLIPPED, "Minimum": _CLIPPED, "Maximum": _CLIPPED,
              "Relu": "relu", "Relu6": "relu6", "Elu": "elu", "Selu": "selu", "Softplus": "softplus",
              "Softsign": "softsign", "Tanh": "tanh", "Sigmoid": "sigmoid", "Identity": "linear"}


def _read(loop, t):
  """`t` through Identity and ReadVariableOp ops (a variable read inside the body), stopping at a loop variable."""
  while t.op.type in ("Identity", "Snapshot", "ReadVariableOp") and loop.var(t) is None:
    t = t.op.inputs[0]
  return t


def _kweight(ev, loop, t, what) -> _ir.Weight:
  """The checkpoint variable that body tensor `t` reads (a Keras cell reads its resource variables in the body)."""
  return _weight(ev, loop, t, what, through=_read, cell="Keras RNN cell")


def _act(loop, t, want, what):
  """The input of activation `t` when it is a `want` op; Unsupported for another activation, else _Mismatch."""
  op = _skip(loop, t).op
  if op.type == want:
    return op
  if op.type in _GATE_ACTS:
    raise Unsupported(f"a Keras {what} of {_GATE_ACTS[op.type]} ({op.name!r}, a {op.type}): only the defaults "
                      f"({'sigmoid' if want == 'Sigmoid' else 'tanh'}) are imported")
  raise _Mismatch(f"{op.name!r} is a {op.type}, where the Keras cell has a {want}")


def _part(loop, t, split, index):
  t = _skip(loop, t)
  return t.op is split and t.value_index == index


def _is_loop_var(loop):
  return lambda t: loop.var(_skip(loop, t)) is not None


def _per_gate_matmuls(loop, t):
  """Unsupported when `t` is a Keras cell's gate computed with one MatMul per gate (implementation=1)."""
  op = _skip(loop, t).op
  for _ in range(3):
    if op.type not in _ADD + ("BiasAdd",):
      return
    mm = next((_skip(loop, i).op for i in op.inputs if _skip(loop, i).op.type == "MatMul"), None)
    if mm is not None and _read(loop, mm.inputs[1]).op.type in ("Split", "StridedSlice"):
      raise Unsupported(f"a Keras RNN cell with implementation=1 (one MatMul per gate, {mm.name!r}; tf.keras "
                        f"also uses it whenever recurrent_dropout is set); only implementation=2 (the default: "
                        f"one MatMul of the input and one of the state) is imported")
    op = _skip(loop, op.inputs[0]).op


def _keras_split(loop, t, num, what):
  """The Split in `num` along the feature axis whose part `t` is -> the Split op."""
  t = _skip(loop, t)
  if t.op.type != "Split":
    _per_gate_matmuls(loop, t)
    raise _Mismatch(f"the {what} {t.name!r} is not part of one Split")
  if t.op.get_attr("num_split") != num:
    raise _Mismatch(f"{t.op.name!r} splits in {t.op.get_attr('num_split')}, the Keras cell in {num}")
  return t.op


def _dropout_check(loop, t, what):
  """Unsupported when the Keras cell's `what` is `t * mask` with a dropout mask chosen by the learning phase."""
  op = _skip(loop, t).op
  if op.type != "Mul":
    return
  for i in op.inputs:
    src = _skip(loop, i).op
    if src.type in ("If", "StatelessIf", "Merge", "Switch"):
      raise Unsupported(f"a Keras RNN cell with dropout: its {what} is multiplied ({op.name!r}) by a dropout mask "
                        f"that a cond on the Keras learning phase ({src.name!r}) chooses inside the loop; a Keras "
                        f"3 LSTM/GRU draws its own masks, so the cell is not imported (build the graph with "
                        f"dropout=0 for export)")


def _matmul(loop, t, what):
  mm = _op(loop, t, "MatMul")
  if mm.get_attr("transpose_a") or mm.get_attr("transpose_b"):
    raise _Mismatch(f"{mm.name!r} transposes an operand")
  return mm


def _keras_lstm(ev, loop, out):
  """`tf.keras.layers.LSTMCell` (implementation=2): `z = x @ kernel + h @ recurrent_kernel (+ bias)`, split in
  i, f, c, o; `c' = sigmoid(f) * c + sigmoid(i) * tanh(c)`, `h' = sigmoid(o) * tanh(c')`."""
  matched = []
  mul = _op(loop, out, "Mul")
  state_mul = lambda t: _skip(loop, t).op.type == "Mul" and any(  # noqa: E731
      loop.var(_skip(loop, i)) is not None for i in _skip(loop, t).op.inputs)

  def of_carry(t):  # act(c'), c' = f * c + i * act(..): an Add of a product with the loop's cell state
    op = _skip(loop, t).op
    if len(op.inputs) != 1 or _skip(loop, op.inputs[0]).op.type not in _ADD:
      return False
    return any(state_mul(i) for i in _skip(loop, op.inputs[0]).op.inputs)

  act_c, gate_o = _pair(loop, mul, of_carry, lambda t: True)
  c_new = _skip(loop, act_c).op.inputs[0]
  add = _op(loop, c_new, *_ADD)
  forget, write = _pair(loop, add, state_mul, _is(loop, "Mul"))
  forget, write = _skip(loop, forget).op, _skip(loop, write).op
  c_prev, gate_f = _pair(loop, forget, _is_loop_var(loop), lambda t: True)
  o = _act(loop, gate_o, "Sigmoid", "LSTMCell recurrent_activation")
  f = _act(loop, gate_f, "Sigmoid", "LSTMCell recurrent_activation")
  split = _keras_split(loop, f.inputs[0], 4, "forget gate")
  gate_i, act_j = _pair(loop, write, lambda t: True, lambda t: _skip(loop, t).op.inputs and _part(
      loop, _skip(loop, t).op.inputs[0], split, 2))
  i = _act(loop, gate_i, "Sigmoid", "LSTMCell recurrent_activation")
  j = _act(loop, act_j, "Tanh", "LSTMCell activation")
  tanh_c = _act(loop, act_c, "Tanh", "LSTMCell activation")
  if not (_part(loop, i.inputs[0], split, 0) and _part(loop, f.inputs[0], split, 1) and _part(
      loop, o.inputs[0], split, 3)):
    raise _Mismatch("the gates are not the four parts i, f, c, o of one Split (Keras's order)")
  _axis(ev, loop, split.inputs[0], "gate split")
  matched += [mul.name, tanh_c.name, add.name, forget.name, write.name, o.name, f.name, i.name, j.name,
              split.name]
  z = split.inputs[1]
  bias = None
  if _skip(loop, z).op.type == "BiasAdd":
    bias_add = _skip(loop, z).op
    bias = _kweight(ev, loop, bias_add.inputs[1], "LSTM bias")
    matched.append(bias_add.name)
    z = bias_add.inputs[0]
  s = _op(loop, z, *_ADD)
  mm_h, mm_x = _pair(loop, s, lambda t: _skip(loop, t).op.type == "MatMul" and loop.var(
      _skip(loop, _skip(loop, t).op.inputs[0])) is not None, _is(loop, "MatMul"))
  mm_h, mm_x = _matmul(loop, mm_h, "state"), _matmul(loop, mm_x, "input")
  _dropout_check(loop, mm_x.inputs[0], "input")
  matched += [s.name, mm_h.name, mm_x.name]
  kernel = _kweight(ev, loop, mm_x.inputs[1], "LSTM kernel")
  recurrent = _kweight(ev, loop, mm_h.inputs[1], "LSTM recurrent kernel")
  h_var, c_var = _state(loop, mm_h.inputs[0], "hidden state"), _state(loop, c_prev, "cell state")
  units = int(recurrent.shape[0])
  if len(kernel.shape) != 2 or tuple(recurrent.shape) != (units, 4 * units) or kernel.shape[1] != 4 * units \
      or (bias is not None and tuple(bias.shape) != (4 * units,)):
    raise _Mismatch(f"Keras LSTM kernel {kernel.shape}, recurrent kernel {recurrent.shape} and bias "
                    f"{None if bias is None else bias.shape} do not fit 4 gates")
  weights = {"lstm_cell/kernel": kernel.leaf.key, "lstm_cell/recurrent_kernel": recurrent.leaf.key}
  if bias is not None:
    weights["lstm_cell/bias"] = bias.leaf.key
  return {"cls": "LSTM", "keras": True, "x": mm_x.inputs[0], "units": units, "n_in": int(kernel.shape[0]),
          "kernel": kernel, "use_bias": bias is not None, "weights": weights, "forget_bias": 0.0,
          "states": [h_var, c_var], "new": [out, c_new], "ops": matched}


def _keras_gru(ev, loop, out):
  """`tf.keras.layers.GRUCell` (implementation=2): `x @ kernel (+ input bias)` split in z, r, h;
  reset_after=True: `h @ recurrent_kernel (+ recurrent bias)` split in z, r, h and `hh = tanh(x_h + r * h_h)`;
  reset_after=False: `h @ recurrent_kernel[:, :2u]` split in z, r and `hh = tanh(x_h + (r * h) @
  recurrent_kernel[:, 2u:])`; `h' = z * h + (1 - z) * hh`."""
  matched = []
  add = _op(loop, out, *_ADD)
  keep_mul = lambda t: _skip(loop, t).op.type == "Mul" and any(  # noqa: E731
      loop.var(_skip(loop, i)) is not None for i in _skip(loop, t).op.inputs)
  keep, new = _pair(loop, add, keep_mul, _is(loop, "Mul"))
  keep, new = _skip(loop, keep).op, _skip(loop, new).op
  h_prev, gate_z = _pair(loop, keep, _is_loop_var(loop), lambda t: True)
  one_minus_z, act_hh = _pair(loop, new, _is(loop, "Sub"), lambda t: True)
  sub = _skip(loop, one_minus_z).op
  one = _const(ev, loop, sub.inputs[0])
  if one is None or np.asarray(one).size != 1 or float(np.asarray(one).reshape(())) != 1.0 or not _same(
      loop, sub.inputs[1], gate_z):
    raise _Mismatch(f"{sub.name!r} is not 1 - z")
  z = _act(loop, gate_z, "Sigmoid", "GRUCell recurrent_activation")
  hh = _act(loop, act_hh, "Tanh", "GRUCell activation")
  matched += [add.name, keep.name, new.name, sub.name, z.name, hh.name]
  z_add = _op(loop, z.inputs[0], *_ADD)
  for t in z_add.inputs:
    _per_gate_matmuls(loop, t)
  sx_t, sh_t = _pair(loop, z_add, lambda t: _skip(loop, t).op.type == "Split",
                     lambda t: _skip(loop, t).op.type in ("SplitV", "Split"))
  split_x, split_h = _keras_split(loop, sx_t, 3, "input part of the update gate"), _skip(loop, sh_t).op
  if not (_part(loop, sx_t, split_x, 0) and _part(loop, sh_t, split_h, 0)):
    raise _Mismatch("the update gate is not the first part of the input's and the state's splits")
  _axis(ev, loop, split_x.inputs[0], "gate split")
  sizes = _const(ev, loop, split_h.inputs[1]) if split_h.type == "SplitV" else None
  if split_h.type != "SplitV" or sizes is None or len(np.asarray(sizes).reshape(-1)) != 3:
    raise _Mismatch(f"{split_h.name!r} is not the Keras GRU's split of the state in z, r, h")
  _axis(ev, loop, split_h.inputs[2], "state split")
  hh_add = _op(loop, hh.inputs[0], *_ADD)
  x_h, rec_h = _pair(loop, hh_add, lambda t: _part(loop, t, split_x, 2), lambda t: True)
  rec_h = _skip(loop, rec_h).op
  matched += [z_add.name, split_x.name, split_h.name, hh_add.name, rec_h.name]
  reset_after = rec_h.type == "Mul"
  if reset_after:  # r * (h @ recurrent_kernel[:, 2u:] + recurrent bias)
    gate_r, _ = _pair(loop, rec_h, lambda t: True, lambda t: _part(loop, t, split_h, 2))
  else:            # (r * h) @ recurrent_kernel[:, 2u:]
    rec_h = _matmul(loop, rec_h.outputs[0], "candidate")
    r_mul = _op(loop, rec_h.inputs[0], "Mul")
    gate_r, h_r = _pair(loop, r_mul, lambda t: not _is_loop_var(loop)(t), _is_loop_var(loop))
    if not _same(loop, h_r, h_prev):
      raise _Mismatch(f"{r_mul.name!r} does not reset the previous state")
    matched.append(r_mul.name)
  r = _act(loop, gate_r, "Sigmoid", "GRUCell recurrent_activation")
  r_add = _op(loop, r.inputs[0], *_ADD)
  _pair(loop, r_add, lambda t: _part(loop, t, split_x, 1), lambda t: _part(loop, t, split_h, 1))
  matched += [r.name, r_add.name]
  # The input side: x @ kernel (+ input bias).
  zx, input_bias = split_x.inputs[1], None
  if _skip(loop, zx).op.type == "BiasAdd":
    input_bias = _skip(loop, zx).op.inputs[1]
    matched.append(_skip(loop, zx).op.name)
    zx = _skip(loop, zx).op.inputs[0]
  mm_x = _matmul(loop, zx, "input")
  _dropout_check(loop, mm_x.inputs[0], "input")
  kernel = _kweight(ev, loop, mm_x.inputs[1], "GRU kernel")
  # The state side: h @ recurrent_kernel (+ recurrent bias), or h @ recurrent_kernel[:, :2u].
  zh, recurrent_bias = split_h.inputs[0], None
  if _skip(loop, zh).op.type == "BiasAdd":
    recurrent_bias = _skip(loop, zh).op.inputs[1]
    matched.append(_skip(loop, zh).op.name)
    zh = _skip(loop, zh).op.inputs[0]
  mm_h = _matmul(loop, zh, "state")
  matched += [mm_x.name, mm_h.name]
  if not _same(loop, mm_h.inputs[0], h_prev):
    raise _Mismatch(f"{mm_h.name!r} does not read the previous state")
  units = int(np.asarray(sizes).reshape(-1)[0])
  if reset_after:
    recurrent = _kweight(ev, loop, mm_h.inputs[1], "GRU recurrent kernel")
  else:
    recurrent = _kweight_slice(ev, loop, mm_h.inputs[1], units, (0, 2 * units), "GRU recurrent kernel")
    if _kweight_slice(ev, loop, rec_h.inputs[1], units, (2 * units, 3 * units), "GRU recurrent kernel").leaf \
        != recurrent.leaf:
      raise _Mismatch("the GRU's candidate reads another recurrent kernel than its gates")
  bias = None
  if reset_after and (input_bias is None) != (recurrent_bias is None):
    raise _Mismatch("the Keras GRU has an input bias but no recurrent bias, or the reverse")
  if reset_after and input_bias is not None:  # bias [2, 3u]: unstack -> input bias, recurrent bias
    unstack = _skip(loop, input_bias).op
    if unstack.type != "Unpack" or not _part(loop, input_bias, unstack, 0) or not _part(
        loop, recurrent_bias, unstack, 1) or unstack.get_attr("axis") != 0:
      raise _Mismatch("the GRU's input and recurrent biases are not the two rows of one bias")
    bias = _kweight(ev, loop, unstack.inputs[0], "GRU bias")
    matched.append(unstack.name)
  elif not reset_after and input_bias is not None:
    if recurrent_bias is not None:
      raise _Mismatch("a GRU with reset_after=False has no recurrent bias")
    bias = _kweight(ev, loop, input_bias, "GRU bias")
  h_var = _state(loop, h_prev, "hidden state")
  if not (np.asarray(sizes).reshape(-1)[1] == units and len(kernel.shape) == 2 and kernel.shape[1] == 3 * units
          and tuple(recurrent.shape) == (units, 3 * units)
          and (bias is None or tuple(bias.shape) == ((2, 3 * units) if reset_after else (3 * units,)))):
    raise _Mismatch(f"Keras GRU kernel {kernel.shape}, recurrent kernel {recurrent.shape} and bias "
                    f"{None if bias is None else bias.shape} do not fit 3 gates")
  weights = {"gru_cell/kernel": kernel.leaf.key, "gru_cell/recurrent_kernel": recurrent.leaf.key}
  if bias is not None:
    weights["gru_cell/bias"] = bias.leaf.key
  return {"cls": "GRU", "keras": True, "x": mm_x.inputs[0], "units": units, "n_in": int(kernel.shape[0]),
          "kernel": kernel, "use_bias": bias is not None, "reset_after": reset_after, "weights": weights,
          "states": [h_var], "new": [out], "ops": matched}


def _kweight_slice(ev, loop, t, units, cols, what) -> _ir.Weight:
  """The recurrent kernel that `t` slices as `kernel[:, cols[0]:cols[1]]` (a Keras GRU with reset_after=False)."""
  ss = _skip(loop, t).op
  if ss.type != "StridedSlice":
    raise _Mismatch(f"{ss.name!r} is not a slice of the recurrent kernel")
  w = _kweight(ev, loop, ss.inputs[0], what)
  bounds = [_const(ev, loop, i) for i in ss.inputs[1:]]
  if any(b is None for b in bounds) or len(w.shape) != 2:
    raise _Mismatch(f"{ss.name!r} slices the recurrent kernel with bounds unknown at import time")
  probe = np.arange(int(np.prod(w.shape))).reshape(w.shape)
  attrs = {k: ss.get_attr(k) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                       "shrink_axis_mask")}
  got = tf.strided_slice(probe, *bounds, **attrs).numpy()
  if not np.array_equal(got, probe[:, cols[0]:cols[1]]):
    raise _Mismatch(f"{ss.name!r} is not recurrent_kernel[:, {cols[0]}:{cols[1]}]")
  return w


def _match(ev, loop, out, check_next=True):
  """The cell whose new hidden state is `out`, or (None, [why not, per cell type])."""
  errors = []
  for fn in (_lstm, _gru, _keras_lstm, _keras_gru):
    try:
      cell = fn(ev, loop, out)
      if check_next and not all(_same(loop, v.next, n) for v, n in zip(cell["states"], cell["new"])):
        raise _Mismatch("the new states are not the next values of the loop's states")
      return cell, errors
    except _Mismatch as e:
      errors.append(f"not {fn.__name__[1:].upper()}: {e}")
  return None, errors


def _cell(ev, loop, out):
  cell, errors = _match(ev, loop, out)
  if cell is not None:
    return cell
  raise Unsupported(f"the body of while loop {loop.name!r} is not a BasicLSTMCell, LSTMCell, GRUCell, a Keras "
                    f"LSTMCell or GRUCell, or a MultiRNNCell of those ({'; '.join(errors)})")


# -- the loop's structure ----------------------------------------------------------------------------------

_WRITES = ("TensorArrayWriteV3", "TensorListSetItem")
_READS = ("TensorArrayReadV3", "TensorListGetItem")
_SELECTS = ("Select", "SelectV2")


def _is_zero_fill(ev, loop, t) -> bool:
  t = _skip(loop, t)
  while t.op.type in ("Identity",):
    t = t.op.inputs[0]
  if t.op.type == "Fill":
    value = ev.evaluate([t.op.inputs[1]])[0]
    return isinstance(value, _ir.Known) and not np.any(value.value)
  if t.op.type == "Const":
    return not np.any(tensor_util.MakeNdarray(t.op.get_attr("value")))
  return False


def _time_input(ev, loop, read):
  """The batch-major Keras tensor that `dynamic_rnn` scattered (time-major) into the read TensorArray."""
  if loop.form == "v1":
    source = loop.outer(_skip(loop, read.inputs[2]))
    if source is None or source.op.type != "TensorArrayScatterV3":
      raise Unsupported(f"loop {loop.name!r} reads its input from something other than a TensorArray "
                        f"scattered before the loop")
    seq = source.op.inputs[2]
  else:
    source = loop.outer(_skip(loop, read.inputs[0]))
    if source is None or source.op.type != "TensorListFromTensor":
      raise Unsupported(f"loop {loop.name!r} reads its input from something other than a tensor list made "
                        f"before the loop")
    seq = source.op.inputs[0]
  time = loop.var(_skip(loop, read.inputs[1]))
  if time is None:
    raise Unsupported(f"loop {loop.name!r} reads its input at an index that is not a loop variable")
  start = ev.evaluate([time.init])[0]
  step = _skip(loop, time.next).op
  if not (isinstance(start, _ir.Known) and int(start.value) == 0 and step.type in _ADD
          and any(_same(loop, i, time.inner) for i in step.inputs)
          and any(_const(ev, loop, i) is not None and int(_const(ev, loop, i)) == 1 for i in step.inputs)):
    raise Unsupported(f"loop {loop.name!r} does not step through time from 0 by 1")
  if seq.op.type == "Transpose":
    perm = ev.evaluate([seq.op.inputs[1]])[0]
    if not isinstance(perm, _ir.Known) or list(np.asarray(perm.value))[:2] != [1, 0] or \
        list(np.asarray(perm.value))[2:] != list(range(2, len(np.asarray(perm.value)))):
      raise Unsupported(f"the input of loop {loop.name!r} is transposed by {seq.op.name!r} other than "
                        f"batch <-> time")
    inp, ops = seq.op.inputs[0], [seq.op.name, source.op.name]
    while inp.op.type == "Identity":
      inp = inp.op.inputs[0]
    backwards = False
    if inp.op.type == "ReverseV2":
      # bidirectional_dynamic_rnn's backward direction: the loop runs over the time-reversed input, which is
      # what go_backwards=True does (the Keras layer's outputs, like the loop's, are in processing order).
      axis = ev.evaluate([inp.op.inputs[1]])[0]
      rank = inp.shape.rank
      if not isinstance(axis, _ir.Known) or rank is None or sorted(
          int(a) % rank for a in np.asarray(axis.value).reshape(-1)) != [1]:
        raise Unsupported(f"the input of loop {loop.name!r} is reversed ({inp.op.name!r}) along other axes than "
                          f"time")
      ops.append(inp.op.name)
      inp, backwards = inp.op.inputs[0], True
      while inp.op.type == "Identity":
        inp = inp.op.inputs[0]
    value = ev.evaluate([inp])[0]
    return ev.sym(value), ops, time, backwards, inp
  value = ev.evaluate([seq])[0]
  if isinstance(value, _ir.TimeMajor):
    return value.sym, [source.op.name], time, False, None
  raise Unsupported(f"the input of loop {loop.name!r} is time-major (time_major=True) from the inputs; "
                    f"a Keras RNN reads batch-major sequences")


def _transforms_lstm(cell):
  u, n = cell["units"], cell["n_in"]
  k, b = cell["kernel"].leaf.key, cell["bias"].leaf.key
  blocks = [(0, u), (2 * u, 3 * u), (u, 2 * u), (3 * u, 4 * u)]  # TF1 i, j, f, o -> Keras i, f, c, o
  kernel = {"parts": [{"key": k, "rows": [0, n], "cols": list(c)} for c in blocks], "axis": -1}
  recurrent = {"parts": [{"key": k, "rows": [n, n + u], "cols": list(c)} for c in blocks], "axis": -1}
  parts = [{"key": b, "cols": list(c)} for c in blocks]
  if cell["forget_bias"]:
    parts[1]["add"] = cell["forget_bias"]
  return {"lstm_cell/kernel": kernel, "lstm_cell/recurrent_kernel": recurrent,
          "lstm_cell/bias": {"parts": parts, "axis": -1}}


def _transforms_gru(cell):
  u, n = cell["units"], cell["n_in"]
  g, c = cell["gates_kernel"].leaf.key, cell["cand_kernel"].leaf.key
  gb, cb = cell["gates_bias"].leaf.key, cell["cand_bias"].leaf.key

  def kernel(rows):  # TF1 gates (r, u) + candidate -> Keras z (= u), r, h
    return {"parts": [{"key": g, "rows": rows, "cols": [u, 2 * u]}, {"key": g, "rows": rows, "cols": [0, u]},
                      {"key": c, "rows": rows}], "axis": -1}

  return {"gru_cell/kernel": kernel([0, n]), "gru_cell/recurrent_kernel": kernel([n, n + u]),
          "gru_cell/bias": {"parts": [{"key": gb, "cols": [u, 2 * u]}, {"key": gb, "cols": [0, u]},
                                      {"key": cb}], "axis": -1}}


def _scope(cell) -> str:
  key = (cell["kernel"] if cell["cls"] == "LSTM" or cell.get("keras") else cell["gates_kernel"]).leaf.key
  parts = key.split("/")
  parts = parts[:-2] if cell["cls"] == "LSTM" or cell.get("keras") else parts[:-3]
  if cell.get("keras") and parts and parts[-1] == "while":  # v1 control flow: <scope>/while/lstm_cell/kernel
    parts = parts[:-1]  # <scope>/<cell>/kernel, <scope>/gru_cell/gates/kernel
  return "/".join(parts) or ("lstm" if cell["cls"] == "LSTM" else "gru")


class _Recognised:
  """One `dynamic_rnn` loop recognised: its cells (input side first), its input, direction, output TensorArray."""

  def __init__(self, loop, cells, x_sym, input_ops, backwards, source, out_var, out):
    self.loop, self.cells, self.x_sym, self.input_ops = loop, cells, x_sym, input_ops
    self.backwards, self.source, self.out_var, self.out = backwards, source, out_var, out

  def ops(self, k):
    """The TF1 nodes that cell `k`'s Keras layer stands for."""
    return (list(self.loop.ops) + self.input_ops if k == 0 else []) + (
        self.cells[k]["ops"] if self.loop.form == "v1" else [])


def _recognise(ev, loop) -> _Recognised:
  """Matches one `dynamic_rnn` loop without creating layers."""
  writes = [v for v in loop.vars if _skip(loop, v.next).op.type in _WRITES]
  if len(writes) != 1:
    raise Unsupported(f"while loop {loop.name!r} writes {len(writes)} TensorArrays; dynamic_rnn writes one")
  out_var = writes[0]
  write = _skip(loop, out_var.next).op
  out = write.inputs[2]
  if _skip(loop, out).op.type in _SELECTS or any(_skip(loop, v.next).op.type in _SELECTS for v in loop.vars):
    raise Unsupported(f"dynamic_rnn with sequence_length (loop {loop.name!r}): TF1 zeros the outputs past each "
                      f"sequence's length and keeps its last state, which a Keras LSTM/GRU does not reproduce")
  cells = []
  t = out
  while True:
    cell = _cell(ev, loop, t)
    cells.insert(0, cell)
    x = _skip(loop, cell["x"])
    if x.op.type in _READS:
      read = x.op
      break
    if len(cells) > 16:
      raise Unsupported(f"while loop {loop.name!r}: the cell input chain does not reach the loop's input")
    t = x
  if not _same(loop, write.inputs[1], read.inputs[1]):
    raise Unsupported(f"loop {loop.name!r} writes its outputs at another index than it reads its inputs")
  x_sym, input_ops, time_var, backwards, source = _time_input(ev, loop, read)
  used = {id(time_var), id(out_var)} | {id(v) for cell in cells for v in cell["states"]}
  for v in loop.vars:
    if id(v) in used:
      continue
    if loop.form == "v1" and _is_counter(ev, loop, v):
      continue
    if loop.form == "v2" and (_is_counter(ev, loop, v) or _skip(loop, v.next).op.type == "TensorListPushBack"):
      continue  # the loop counter; the accumulators that the gradient's loop reads
    raise Unsupported(f"while loop {loop.name!r} carries a loop variable ({v.inner.name!r}) that is not "
                      f"part of a dynamic_rnn of the recognised cells")
  for cell in cells:
    for v in cell["states"]:
      if not _is_zero_fill(ev, loop, v.init):
        raise Unsupported(f"dynamic_rnn with an initial_state (loop {loop.name!r}, {v.init.name!r}) that is not "
                          f"zeros; only the zero state is imported")
  return _Recognised(loop, cells, x_sym, input_ops, backwards, source, out_var, out)


def _rnn_config(cell, go_backwards=False):
  """(constructor arguments, weights, notes) of the Keras LSTM/GRU layer of one recognised cell."""
  if cell.get("keras"):  # the Keras cell's own variables: the same layout as Keras 3's, read 1:1
    weights = dict(cell["weights"])
    config = {"units": cell["units"]}
    if cell["cls"] == "GRU":
      config["reset_after"] = cell["reset_after"]
    if not cell["use_bias"]:
      config["use_bias"] = False
    config.update(return_sequences=True, return_state=True)
  elif cell["cls"] == "LSTM":
    weights = _transforms_lstm(cell)
    config = {"units": cell["units"], "return_sequences": True, "return_state": True}
  else:
    weights = _transforms_gru(cell)
    config = {"units": cell["units"], "reset_after": False, "return_sequences": True, "return_state": True}
  if go_backwards:
    config["go_backwards"] = True
  notes = []
  if cell["cls"] == "LSTM" and cell["forget_bias"]:
    notes.append(f"TF1 forget_bias {cell['forget_bias']:g} folded into the forget part of the bias "
                 f"(exact on load; write-back within float32 rounding)")
  return config, weights, notes


def _check_input(x_sym, cell):
  if x_sym.shape[-1] is not None and x_sym.shape[-1] != cell["n_in"]:
    raise Unsupported(f"the RNN input has {x_sym.shape[-1]} features, its kernel expects {cell['n_in']}")


def _set_shapes(syms, steps, units, n_seq=1):
  for i, s in enumerate(syms):
    s.shape = (None, steps, units[i]) if i < n_seq else (None, units[i])
    s.dtype = "float32"


def _stack(ev, cells, x_sym, cell_ops, out, backwards=False):
  """One Keras layer per cell (a MultiRNNCell's in order) called on `x_sym`; per cell its [seq, h(, c)]."""
  steps = x_sym.shape[1] if x_sym.shape and len(x_sym.shape) > 1 else None
  _check_input(x_sym, cells[0])
  seq, results = x_sym, []
  for k, cell in enumerate(cells):
    config, weights, notes = _rnn_config(cell, backwards and k == 0)
    layer = ev.layer(cell["cls"], config, weights=weights, scope=_scope(cell))
    layer.notes.extend(n for n in notes if n not in layer.notes)
    n_out = 3 if cell["cls"] == "LSTM" else 2
    syms = ev.call(layer, seq, cell_ops[k], [out] * n_out)
    _set_shapes(syms, steps, [cell["units"]] * n_out)
    seq = syms[0]
    results.append(syms)
  return results


def _loop_values(rec, state_syms, seq_value):
  """{tensor.ref(): value}: the loop's final states (per cell, in `cell["states"]` order) and stacked outputs."""
  values = {}
  for cell, syms in zip(rec.cells, state_syms):
    for v, sym in zip(cell["states"], syms):
      if v.exit is not None:
        values[v.exit.ref()] = sym
  for t in _gathers(rec.loop, rec.out_var):
    values[t.ref()] = _ir.TimeMajor(seq_value)
  return values


def _analyse(ev, loop):
  """The Keras layers of one dynamic_rnn loop: {tensor.ref(): value} for the loop's outputs."""
  cache = ev.__dict__.setdefault("_rnn_loops", {})
  if loop.name in cache:
    return cache[loop.name]
  rec = _recognise(ev, loop)
  partner = _partner(ev, rec, cache)
  if partner is not None:
    fw, bw = (partner, rec) if rec.backwards else (rec, partner)
    values = _bidirectional(ev, fw, bw)
    cache[fw.loop.name] = cache[bw.loop.name] = values
    return values
  results = _stack(ev, rec.cells, rec.x_sym, [rec.ops(k) for k in range(len(rec.cells))], rec.out,
                   rec.backwards)
  values = _loop_values(rec, [r[1:] for r in results], results[-1][0])
  cache[loop.name] = values
  return values


# -- bidirectional_dynamic_rnn ------------------------------------------------------------------------------

class BackwardOrderSequence:
  """The outputs of `bidirectional_dynamic_rnn`'s backward loop in processing order (last time step first),
  before TF1 reverses them back. `layers.Bidirectional` gives only the reversed-back sequence (`seq`), which is
  what `ReverseV2` of this along time is."""

  def __init__(self, seq):
    self.seq = seq


class _Source:
  """A layer given to another layer's constructor, written as source: `repr` is `layers.GRU(...)`."""

  def __init__(self, cls, config, name):
    self.cls, self.config, self.name = cls, dict(config), name

  def __repr__(self):
    lit = lambda v: f'"{v}"' if isinstance(v, str) else repr(v)  # noqa: E731
    items = list(self.config.items())
    args = [lit(items[0][1])] + [f"{k}={lit(v)}" for k, v in items[1:]] + [f'name="{self.name}"']
    one = f"layers.{self.cls}({', '.join(args)})"
    if len(one) <= 70:
      return one
    return f"layers.{self.cls}(\n" + "".join(f"            {a},\n" for a in args) + "        )"

  def __eq__(self, other):
    return isinstance(other, _Source) and repr(self) == repr(other)

  def __hash__(self):
    return hash(repr(self))


def _frame_of_exit(op):
  try:
    merge = op.inputs[0].op.inputs[0].op
    enter = next(t.op for t in merge.inputs if t.op.type == "Enter")
    return enter.get_attr("frame_name")
  except (StopIteration, IndexError, ValueError):
    return None


def _with_identities(t):
  found, stack = [], [t]
  while stack:
    t = stack.pop()
    found.append(t)
    stack += [c.outputs[0] for c in t.consumers() if c.type == "Identity"]
  return found


def _loops_over(ev, source, reversed_):
  """The while loops that `dynamic_rnn` runs over `source` (batch-major), time-reversed first or not."""
  starts = _with_identities(source)
  if reversed_:
    starts = [r for t in starts for c in t.consumers() if c.type == "ReverseV2" for r in _with_identities(
        c.outputs[0])]
  loops = []
  for t in starts:
    for tr in t.consumers():
      if tr.type != "Transpose":
        continue
      for lst in tr.outputs[0].consumers():
        for c in [c for t2 in _with_identities(lst.outputs[0]) for c in t2.consumers()]:
          if lst.type == "TensorListFromTensor" and c.type in ("While", "StatelessWhile"):
            loops.append(_v2_loop(ev, c))
          elif lst.type == "TensorArrayScatterV3" and c.type == "Enter":
            frame = c.get_attr("frame_name")
            exit_ = next((op for op in ev.graph.get_operations()
                          if op.type == "Exit" and _frame_of_exit(op) == frame), None)
            if exit_ is not None:
              loops.append(_v1_loop(ev, exit_))
  unique = {loop.name: loop for loop in loops}
  return list(unique.values())


def _partner(ev, rec, cache):
  """The other direction of a `bidirectional_dynamic_rnn`: the one other loop of one cell of the same class and
  units over the same input, time-reversed where `rec` is not (or the reverse); None when there is not exactly
  one. (Keras's `Bidirectional` computes the backward output shapes from the forward layer, so directions of
  other sizes stay two layers.)"""
  if len(rec.cells) != 1 or rec.source is None:
    return None
  found = []
  for loop in _loops_over(ev, rec.source, not rec.backwards):
    if loop.name == rec.loop.name or loop.name in cache:
      continue
    try:
      other = _recognise(ev, loop)
    except Unsupported:
      continue
    same = (other.cells[0]["cls"], other.cells[0]["units"]) == (rec.cells[0]["cls"], rec.cells[0]["units"])
    if len(other.cells) == 1 and same and other.backwards != rec.backwards and other.source is not None and \
        other.source.name == rec.source.name:
      found.append(other)
  return found[0] if len(found) == 1 else None


def _bidirectional(ev, fw, bw):
  """One `layers.Bidirectional(fw, backward_layer=bw, merge_mode=None)` for both loops: its outputs are the
  forward sequence, the backward sequence reversed back to input order (what TF1's `ReverseV2` of the backward
  outputs is), then the forward layer's states and the backward layer's."""
  cf, cb = fw.cells[0], bw.cells[0]
  _check_input(fw.x_sym, cf)
  _check_input(bw.x_sym, cb)
  fw_name, bw_name = ev.unique(_scope(cf)), ev.unique(_scope(cb))
  fw_config, fw_weights, fw_notes = _rnn_config(cf)
  bw_config, bw_weights, bw_notes = _rnn_config(cb, go_backwards=True)
  weights = {f"forward_{fw_name}/{k}": v for k, v in fw_weights.items()}
  weights.update({f"{bw_name}/{k}": v for k, v in bw_weights.items()})
  parts = [p for p in zip(_scope(cf).split("/"), _scope(cb).split("/")) if p[0] == p[1]]
  scope = "/".join(p[0] for p in parts) or "bidirectional"
  config = {"layer": _Source(cf["cls"], fw_config, fw_name),
            "backward_layer": _Source(cb["cls"], bw_config, bw_name), "merge_mode": None}
  layer = ev.layer("Bidirectional", config, weights=weights, scope=scope)
  layer.notes.extend(n for n in [f"forward: {n}" for n in fw_notes] + [f"backward: {n}" for n in bw_notes]
                     if n not in layer.notes)
  ops = [o for k in (0,) for rec in (fw, bw) for o in rec.ops(k)]
  nf, nb = len(cf["states"]), len(cb["states"])
  syms = ev.call(layer, fw.x_sym, ops, [fw.out] * (2 + nf + nb))
  steps = fw.x_sym.shape[1] if fw.x_sym.shape and len(fw.x_sym.shape) > 1 else None
  _set_shapes(syms, steps, [cf["units"], cb["units"]] + [cf["units"]] * nf + [cb["units"]] * nb, n_seq=2)
  values = _loop_values(fw, [syms[2:2 + nf]], syms[0])
  values.update(_loop_values(bw, [syms[2 + nf:]], BackwardOrderSequence(syms[1])))
  return values


@handles("ReverseV2")
def reverse(ev, op, ins):
  """The backward outputs of a `bidirectional_dynamic_rnn` reversed back: the `layers.Bidirectional`'s."""
  x, axis = ins
  rank = op.outputs[0].shape.rank
  along_time = isinstance(axis, _ir.Known) and rank is not None and sorted(
      int(a) % rank for a in np.asarray(axis.value).reshape(-1)) == [1]
  if isinstance(x, BackwardOrderSequence) and along_time:
    ev.op_notes[op.name] = f"{x.seq.node.layer.name} (the backward sequence, in input order)"
    return x.seq
  if isinstance(x, _ir.Sym) and x.node.layer is not None and x.node.layer.config.get("go_backwards"):
    raise Unsupported("the backward outputs of a bidirectional_dynamic_rnn reversed back, where a direction is a "
                      "MultiRNNCell (or has no forward partner over the same input): only one cell per direction "
                      "becomes a layers.Bidirectional, and Keras has no layer that reverses a sequence")
  raise Unsupported(f"tf.reverse of a {type(x).__name__} along axes other than time, or of a tensor that is not "
                    f"the backward outputs of a bidirectional_dynamic_rnn: Keras has no layer that reverses a "
                    f"sequence")

def _is_counter(ev, loop, v) -> bool:
  step = _skip(loop, v.next).op
  start = ev.evaluate([v.init])[0]
  return isinstance(start, _ir.Known) and step.type in _ADD and any(
      _same(loop, i, v.inner) for i in step.inputs)


def _gathers(loop, out_var):
  """The tensors that stack the output TensorArray after the loop (all its time steps, in order)."""
  found = []
  if out_var.exit is None:
    return found
  stack = [out_var.exit]
  while stack:
    t = stack.pop()
    for c in t.consumers():
      if c.type == "Identity":
        stack.append(c.outputs[0])
      elif c.type in ("TensorArrayGatherV3", "TensorListStack"):
        found.append(c.outputs[0])
  return found


def _full_range(ev, t) -> bool:
  if t.op.type != "Range":
    return False
  start, delta = ev.evaluate([t.op.inputs[0], t.op.inputs[2]])
  return isinstance(start, _ir.Known) and int(start.value) == 0 and isinstance(delta, _ir.Known) and int(
      delta.value) == 1


# -- the macros ---------------------------------------------------------------------------------------------

def _loop_of(ev, op) -> _Loop:
  if op.type == "Exit":
    return _v1_loop(ev, op)
  if op.type == "TensorArrayGatherV3":
    flow = op.inputs[2]
    if flow.op.type != "Exit":
      raise Unsupported("a TensorArrayGather of a TensorArray that no while loop wrote")
    if not _full_range(ev, op.inputs[1]):
      raise Unsupported("a TensorArrayGather of other indices than all time steps in order")
    return _v1_loop(ev, flow.op)
  if op.type in ("While", "StatelessWhile"):
    return _v2_loop(ev, op)
  if op.type == "TensorListStack":
    t = op.inputs[0]
    while t.op.type == "Identity":
      t = t.op.inputs[0]
    if t.op.type not in ("While", "StatelessWhile"):
      raise Unsupported("a TensorListStack of a tensor list that no while loop wrote")
    return _v2_loop(ev, t.op)
  raise Unsupported(f"no RNN loop reached through {op.type}")


@macro("Exit", "TensorArrayGatherV3", "While", "StatelessWhile", "TensorListStack")
def rnn_loop(ev, op):
  """A `dynamic_rnn` loop's outputs: the stacked outputs (time-major) and the final states."""
  loop = _loop_of(ev, op)
  values = _analyse(ev, loop)
  missing = [t.name for t in op.outputs if t.ref() not in values]
  if op.type in ("While", "StatelessWhile"):
    return values  # outputs other than the states (the counter, the TensorArray) are not tensors of the model
  if missing:
    raise Unsupported(f"{missing} of while loop {loop.name!r} is neither a final state nor the stacked outputs "
                      f"of the RNN")
  return values


@handles("StridedSlice")
def strided_slice(ev, op, ins):
  """`outputs[:, -1, :]` of a Keras LSTM/GRU sequence output is that layer's final `h` output."""
  x = ins[0]
  if not (isinstance(x, _ir.Sym) and x.node.layer is not None and x.node.layer.cls in ("LSTM", "GRU")
          and x.index == 0 and x.node.layer.config.get("return_sequences")):
    raise Unsupported(f"a StridedSlice of a {type(x).__name__} computed from the inputs; only the last step "
                      f"of an RNN's outputs (outputs[:, -1, :]) is imported")
  if not all(isinstance(v, _ir.Known) for v in ins[1:]):
    raise Unsupported("a StridedSlice with bounds computed from the inputs")
  steps = x.shape[1] if x.shape[1] is not None else 4
  probe = np.arange(2 * steps * 3, dtype=np.float32).reshape(2, steps, 3)
  attrs = {k: op.get_attr(k) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                       "shrink_axis_mask")}
  try:
    got = tf.strided_slice(probe, *[np.asarray(v.value) for v in ins[1:]], **attrs).numpy()
  except (tf.errors.OpError, ValueError) as e:
    raise Unsupported(f"a StridedSlice of an RNN's outputs that does not apply: {e}") from e
  if got.shape != (2, 3) or not np.array_equal(got, probe[:, -1, :]):
    if got.shape == probe.shape and np.array_equal(got, probe):
      return x
    raise Unsupported("a StridedSlice of an RNN's outputs other than the last step (outputs[:, -1, :])")
  ev.op_notes[op.name] = f"{x.node.layer.name} (final h: the last step of its outputs)"
  return _ir.Sym(x.node, 1, (x.shape[0], x.shape[-1]), x.dtype)


# -- static_rnn ---------------------------------------------------------------------------------------------

_SHAPE_OPS = ("Shape", "ShapeN", "Size", "Rank")
_VARIABLES = ("VariableV2", "VarHandleOp", "Variable", "VariableV1", "Const")


def _base(t):
  while t.op.type in ("Identity", "Snapshot"):
    t = t.op.inputs[0]
  return t


def _step_of(unpack):
  """`step(t)`: the last time step (output index of `unpack`) whose value `t` depends on, -1 for none.
  Shapes carry no values: `tf.shape(steps[0])` (the batch size of the zero state) depends on no step."""
  memo = {}

  def step(t):
    if t.op is unpack:
      return t.value_index
    stack, active = [t.op], set()
    while stack:
      o = stack[-1]
      if o.name in memo:
        stack.pop()
        continue
      if o.type in _SHAPE_OPS or not o.inputs:
        memo[o.name] = -1
        stack.pop()
        continue
      pending = [i.op for i in o.inputs if i.op is not unpack and i.op.name not in memo and i.op.name not in active]
      if pending and o.name not in active:
        active.add(o.name)
        stack.extend(pending)
        continue
      active.discard(o.name)
      memo[o.name] = max([-1] + [i.value_index if i.op is unpack else memo.get(i.op.name, -1) for i in o.inputs])
      stack.pop()
    return memo[t.op.name]

  return step


class _StepLoop:
  """Time step `s` of a `static_rnn`, seen as a loop body by the cell matchers: its states are the tensors the
  step reads that depend on no time step from `s` on (the previous step's new states, or the zero state);
  its invariants are the variables and constants."""

  form = "static"

  def __init__(self, name, step, s):
    self.name, self.step, self.s = name, step, s

  def var(self, t):
    if t.op.type in ("Identity", "Snapshot") or self.outer(t) is not None or self.step(t) >= self.s:
      return None
    return _Var(t, t, None, None)

  def outer(self, t):
    base = t
    while base.op.type in ("Identity", "Snapshot", "ReadVariableOp"):
      base = base.op.inputs[0]
    return t if base.op.type in _VARIABLES else None


def _candidates(step, s, start, depth=16, limit=2000):
  """The Mul/Add tensors reachable from `start` through ops that depend on time step `s` and no later one."""
  seen, found, frontier = set(), [], [start]
  for _ in range(depth):
    nxt = []
    for t in frontier:
      for c in t.consumers():
        if c.name in seen or not c.outputs or len(seen) > limit or step(c.outputs[0]) != s:
          continue
        seen.add(c.name)
        if c.type == "Mul" or c.type in _ADD:
          found.append(c.outputs[0])
        nxt.extend(c.outputs)
    frontier = nxt
  return found


def _step_cells(ev, unpack, step, s):
  """The cells of time step `s` (a MultiRNNCell's in order): each reads the previous one's new h as input."""
  loop = _StepLoop(unpack.name, step, s)
  cells, xin = [], unpack.outputs[s]
  while True:
    found, reasons = [], []
    for cand in _candidates(step, s, xin):
      try:
        cell, _ = _match(ev, loop, cand, check_next=False)
      except Unsupported as e:
        reasons.append(str(e))
        continue
      if cell is not None and _base(cell["x"]).name == _base(xin).name and all(
          c["new"][0].name != cell["new"][0].name for c in found):
        found.append(cell)
    if not found:
      if not cells:
        raise Unsupported(f"tf.unstack {unpack.name!r} of a tensor computed from the inputs, whose time step {s} "
                          f"feeds no BasicLSTMCell, LSTMCell or GRUCell of the recognised form (static_rnn)"
                          + (f": {'; '.join(sorted(set(reasons)))}" if reasons else ""))
      return cells
    if len(found) > 1:
      raise Unsupported(f"time step {s} of tf.unstack {unpack.name!r} feeds {len(found)} RNN cells; static_rnn "
                        f"runs one (or a MultiRNNCell)")
    cells.append(found[0])
    xin = found[0]["new"][0]
    if len(cells) > 16:
      raise Unsupported(f"time step {s} of tf.unstack {unpack.name!r} feeds more than 16 stacked cells")


def _keys(cell):
  if cell.get("keras"):
    return (cell["cls"], cell["units"], cell.get("reset_after")) + tuple(sorted(cell["weights"].values()))
  names = ("kernel", "bias") if cell["cls"] == "LSTM" else ("gates_kernel", "gates_bias", "cand_kernel",
                                                            "cand_bias")
  return (cell["cls"], cell["units"], cell.get("forget_bias")) + tuple(cell[n].leaf.key for n in names)


def _check_steps(ev, unpack, step, by_step):
  """Every step runs the same cells with the same weights; the first from the zero state, each from the last."""
  for s, cells in enumerate(by_step):
    if len(cells) != len(by_step[0]):
      raise Unsupported(f"static_rnn over {unpack.name!r}: time step {s} runs {len(cells)} cell(s), time step 0 "
                        f"{len(by_step[0])}")
    for k, cell in enumerate(cells):
      if _keys(cell) != _keys(by_step[0][k]):
        raise Unsupported(f"static_rnn over {unpack.name!r}: cell {k} of time step {s} is not the cell of time "
                          f"step 0 with the same weights ({_keys(cell)} != {_keys(by_step[0][k])})")
      for i, v in enumerate(cell["states"]):
        state = _base(v.inner)
        if s == 0:
          if not _is_zero_fill(ev, _StepLoop(unpack.name, step, 0), state):
            raise Unsupported(f"static_rnn with an initial_state ({state.name!r}) that is not zeros; only the zero "
                              f"state is imported")
          continue
        if state.op.type in _SELECTS:
          raise Unsupported(f"static_rnn with sequence_length ({state.op.name!r}): TF1 zeros the outputs past "
                            f"each sequence's length and keeps its last state, which a Keras LSTM/GRU does not "
                            f"reproduce")
        if state.name != _base(by_step[s - 1][k]["new"][i]).name:
          raise Unsupported(f"static_rnn over {unpack.name!r}: time step {s} of cell {k} reads {state.name!r} as "
                            f"its state, not the new state of time step {s - 1}")


@handles("Unpack")
def unpack(ev, op, ins):
  """`static_rnn`: `tf.unstack` of the input along time, then the cell unrolled once per step.

  The handler matches every step from the ops (the loop-body matchers, with the step's states being what it
  reads from earlier steps), creates one Keras LSTM/GRU layer per cell on the whole sequence, and gives the
  unrolled tensors their values directly: the last step's new states are the layers' final states,
  `tf.stack(outputs)` (axis 1, or axis 0 then transposed) the last layer's sequence; everything else (a step
  before the last, a gate) is refused where an output needs it.
  """
  x = ins[0]
  axis = op.get_attr("axis")
  num = op.get_attr("num")
  if ev.shadow:
    raise Unsupported("static_rnn inside a tf.cond branch")
  if isinstance(x, _ir.TimeMajor) and axis == 0:
    x_sym = x.sym
  elif isinstance(x, (_ir.Sym, _ir.Affine)):
    x_sym = ev.sym(x)
    if x_sym.shape is None or len(x_sym.shape) != 3 or axis % 3 != 1:
      raise Unsupported(f"tf.unstack (axis {axis}) of a rank-{len(x_sym.shape or ())} tensor computed from the "
                        f"inputs; only the time axis of a batch-major sequence [batch, time, features] feeds a "
                        f"static_rnn that is imported")
  else:
    raise Unsupported(f"tf.unstack of a {type(x).__name__}")
  step = _step_of(op)
  by_step = [_step_cells(ev, op, step, s) for s in range(num)]
  _check_steps(ev, op, step, by_step)
  cells = by_step[0]
  last = by_step[-1]
  ops = [[op.name] * (k == 0) + [n for cs in by_step for n in cs[k]["ops"]] for k in range(len(cells))]
  results = _stack(ev, cells, x_sym, ops, last[-1]["new"][0])
  layer_names = ", ".join(r[0].node.layer.name for r in results)
  for s, cs in enumerate(by_step):
    for k, cell in enumerate(cs):
      for name in cell["ops"]:
        o = ev.graph.get_operation_by_name(name)
        why = (f"a tensor inside time step {s} of the static_rnn cell (now Keras layer(s) {layer_names}), which "
               f"the Keras layer does not expose")
        for t in o.outputs:
          ev.memo.setdefault(t.ref(), Bad([(o.name, o.type, why)]))
      for i, t in enumerate(cell["new"]):
        if s == num - 1:
          ev.memo[t.ref()] = results[k][1 + i]
        else:
          what = f"outputs[{s}]" if (k == len(cs) - 1 and i == 0) else f"the state of cell {k} after time step {s}"
          ev.memo[t.ref()] = Bad([(t.op.name, t.op.type,
                                   f"{what} of the static_rnn over {op.name!r} ({num} steps), a time step before "
                                   f"the last: the Keras layer ({layer_names}) gives its whole sequence and its "
                                   f"final state, and Keras has no layer that selects one time step; only "
                                   f"outputs[-1], the final state and tf.stack(outputs, axis=1) are imported")])
  outputs = [_base(cs[-1]["new"][0]).name for cs in by_step]
  for t in _with_identities(last[-1]["new"][0]):
    for c in t.consumers():
      if c.type != "Pack" or [_base(i).name for i in c.inputs] != outputs:
        continue
      pack_axis = c.get_attr("axis") % 3
      if pack_axis == 1:
        ev.memo[c.outputs[0].ref()] = results[-1][0]
        ev.op_notes[c.name] = f"{results[-1][0].node.layer.name} (the sequence of outputs)"
      elif pack_axis == 0:
        ev.memo[c.outputs[0].ref()] = _ir.TimeMajor(results[-1][0])
        ev.op_notes[c.name] = f"{results[-1][0].node.layer.name} (the sequence of outputs, time-major)"
  why = (f"a time step of the input of the static_rnn over {op.name!r}: the Keras layer reads the whole "
         f"sequence, so only the cell's use of the step is imported")
  return [Bad([(op.name, op.type, why)])] * num
