"""`import_tf1_graph` on Keras cells inside TF1 graphs: `tf.nn.dynamic_rnn(tf.keras.layers.LSTMCell(8), x)` and
`tf.keras.layers.GRUCell` (TF 1.13-1.15 code). Under TF 2.21 `tf.keras` is Keras 3, which does not run in a TF1
graph; the legacy Keras 2 cells that wrote such checkpoints ship in `tf_keras`.

What TF 2.21 + tf_keras build (pinned here): the cells always create resource variables (`VarHandleOp`), also
under `use_resource=False` and v1 control flow; their keys are `rnn/while/<cell>/kernel|recurrent_kernel|bias`
in the v1 op form (the cell builds inside the loop's name scope) and `<cell>/kernel|...` in the v2 form (the
variables are lifted out of the loop function). The layouts are Keras 3's (LSTM i, f, c, o; GRU z, r, h; a
reset_after GRU's bias `[2, 3 * units]`), so the Keras layers read the keys 1:1.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from keras_bridge.importer import UnsupportedGraphError
from keras_bridge.importer import import_tf1_graph
from tests.keras_bridge.importer import corpus as corpus_lib
from tf1_reference import _compat

tf_keras = pytest.importorskip("tf_keras")

v1 = tf.compat.v1

_CELL_KEYS = {"LSTMCell": "lstm_cell", "GRUCell": "gru_cell"}


def _save(directory, op_form, cls, units=6, embedding=False, head="last", steps=2, **cell_kwargs):
  """ids or a float sequence -> `dynamic_rnn(tf_keras.layers.<cls>(units))` -> last output (or final state) ->
  dense; `steps` Adam steps; saved with a TF1 Saver. Returns (prefix, inputs, outputs, {cell key: op type})."""
  with corpus_lib.op_form_scope(op_form) as use_resource:
    graph = tf.Graph()
    with graph.as_default():
      v1.set_random_seed(1)
      v1.get_variable_scope().set_use_resource(use_resource)
      labels = v1.placeholder(tf.int32, [None], name="labels")
      if embedding:
        x_in = v1.placeholder(tf.int32, [None, 5], name="ids")
        table = v1.get_variable("embeddings", [20, 4],
                                initializer=v1.random_uniform_initializer(-1.0, 1.0, seed=1))
        seq = tf.nn.embedding_lookup(table, x_in)
      else:
        x_in = v1.placeholder(tf.float32, [None, 5, 3], name="x")
        seq = x_in
      cell = getattr(tf_keras.layers, cls)(units, **cell_kwargs)
      outputs, state = _compat.dynamic_rnn(cell, seq, dtype=tf.float32)
      extra = []
      if head == "last":  # outputs[:, -1, :], and an LSTM's final c as an output of its own
        features = outputs[:, -1, :]
        extra = [] if cls == "GRUCell" else [tf.identity(state[1], name="c").name]
      else:  # the final state h
        features = state if cls == "GRUCell" else state[0]
      logits = _compat.dense(features, 3, name="logits")
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
      train = v1.train.AdamOptimizer(0.05).minimize(loss) if steps else tf.no_op()
      init = v1.global_variables_initializer()
      saver = v1.train.Saver()
      var_ops = {v.op.name: v.op.type for v in v1.global_variables() if _CELL_KEYS[cls] + "/" in v.op.name
                 and "Adam" not in v.op.name}
  rng = np.random.RandomState(0)
  feed = {labels: rng.randint(0, 3, (8,)),
          x_in: rng.randint(0, 20, (8, 5)) if embedding else rng.randn(8, 5, 3).astype(np.float32)}
  os.makedirs(directory, exist_ok=True)
  with v1.Session(graph=graph, config=corpus_lib.session_config()) as sess:
    sess.run(init)
    for _ in range(steps):
      sess.run(train, feed)
    prefix = saver.save(sess, os.path.join(str(directory), "model.ckpt"))
  return prefix, [x_in.name], [logits.name] + extra, var_ops


CASES = {
    "lstm": ("LSTMCell", {"embedding": True, "units": 8}),
    "gru_reset_after": ("GRUCell", {"head": "state"}),
    "gru_reset_before": ("GRUCell", {"head": "state", "reset_after": False}),
}


@pytest.mark.parametrize("op_form", corpus_lib.OP_FORMS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_keras_cell_becomes_keras_rnn(tmp_path, case, op_form):
  cls, kwargs = CASES[case]
  prefix, inputs, outputs, var_ops = _save(tmp_path / "tf1", op_form, cls, **kwargs)
  # The Keras cell's variables: always resource variables; v1 keys under the loop's name scope.
  scope = "rnn/while/" if op_form == "v1" else ""
  expected = {f"{scope}{_CELL_KEYS[cls]}/{n}" for n in ("kernel", "recurrent_kernel", "bias")}
  assert var_ops == {k: "VarHandleOp" for k in expected}

  result = import_tf1_graph(prefix, inputs=inputs, outputs=outputs)
  verification = result.verify()
  assert verification.ok, str(verification)
  layer = "layers.LSTM(" if cls == "LSTMCell" else "layers.GRU("
  assert result.source.count(layer) == 1, result.source
  assert "Lambda" not in result.source
  if cls == "GRUCell":
    reset_after = kwargs.get("reset_after", True)
    assert f"reset_after={reset_after}" in result.source
  # 1:1: the Keras weights take the TF1 keys, no transform.
  for name in ("kernel", "recurrent_kernel", "bias"):
    assert f"{scope}{_CELL_KEYS[cls]}/{name}" in result.names.values(), result.names

  back = keras_bridge.save_tf1_checkpoint(result.model, str(tmp_path / "back" / "model.ckpt"), names=result.names)
  written, reader = tf.train.load_checkpoint(back), tf.train.load_checkpoint(prefix)
  assert expected <= set(written.get_variable_to_shape_map())
  for key in sorted(written.get_variable_to_shape_map()):
    np.testing.assert_array_equal(written.get_tensor(key), reader.get_tensor(key), err_msg=key)


REFUSED = {
    "implementation=1": ("v1", "LSTMCell", {"implementation": 1}, "implementation=1"),
    "recurrent_dropout": ("v2", "GRUCell", {"recurrent_dropout": 0.2}, "recurrent_dropout"),
    "dropout": ("v1", "LSTMCell", {"dropout": 0.2}, "dropout mask"),
    "hard_sigmoid": ("v2", "GRUCell", {"recurrent_activation": "hard_sigmoid"}, "hard_sigmoid"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_keras_cell_refused(tmp_path, case):
  """What a Keras 3 LSTM/GRU would compute differently is refused, with the reason."""
  op_form, cls, kwargs, reason = REFUSED[case]
  prefix, inputs, outputs, _ = _save(tmp_path, op_form, cls, units=4, steps=0, **kwargs)
  with pytest.raises(UnsupportedGraphError, match=reason):
    import_tf1_graph(prefix, inputs=inputs, outputs=outputs)
