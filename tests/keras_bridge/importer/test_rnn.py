"""`import_tf1_graph` on TF1 RNNs: `dynamic_rnn` loops and `static_rnn`'s unrolled cells become Keras `LSTM`/`GRU`
layers, `bidirectional_dynamic_rnn` a `layers.Bidirectional`."""

import os

import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from keras_bridge import _transforms
from keras_bridge.importer import UnsupportedGraphError
from keras_bridge.importer import import_tf1_graph
from tests.keras_bridge.importer import corpus as corpus_lib
from tf1_reference import _compat

v1 = tf.compat.v1

RNN_MODELS = {"embedding_lstm": "layers.LSTM", "gru_classifier": "layers.GRU", "lstmcell_stacked": "layers.LSTM",
              "bidirectional_gru": "layers.Bidirectional", "static_rnn_lstm": "layers.LSTM",
              "static_rnn_stacked": "layers.GRU", "bidirectional_lstm_seq": "layers.Bidirectional"}


def _import(m):
  return import_tf1_graph(m.prefix, inputs=list(m.inputs), outputs=list(m.outputs), feeds=dict(m.feeds))


@pytest.mark.parametrize("op_form", corpus_lib.OP_FORMS)
@pytest.mark.parametrize("name", sorted(RNN_MODELS))
def test_rnn_becomes_keras_rnn(corpus, tmp_path, name, op_form):
  m = corpus(name, op_form)
  result = _import(m)
  verification = result.verify()
  assert verification.ok, str(verification)
  assert RNN_MODELS[name] + "(" in result.source
  assert "Lambda" not in result.source
  if name == "lstmcell_stacked":
    assert result.source.count("layers.LSTM(") == 2
  if name == "bidirectional_gru":  # the backward direction runs over the reversed input
    assert result.source.count("layers.GRU(") == 2 and result.source.count("go_backwards=True") == 1

  if name == "static_rnn_stacked":  # MultiRNNCell([GRUCell, LSTMCell]) unrolled: two layers, no Unpack left
    assert result.source.count("layers.GRU(") == 1 and result.source.count("layers.LSTM(") == 1
  if name.startswith("bidirectional"):
    assert result.source.count("layers.Bidirectional(") == 1 and result.source.count("go_backwards=True") == 1

  # Written back through TF1_NAMES, the Keras weights are the checkpoint's tensors.
  prefix = keras_bridge.save_tf1_checkpoint(result.model, str(tmp_path / "back" / "model.ckpt"), names=result.names)
  back, reader = tf.train.load_checkpoint(prefix), tf.train.load_checkpoint(m.prefix)
  rnn_keys = _transforms.all_keys([s for s in result.names.values() if _transforms.is_transform(s)])
  assert rnn_keys, result.names
  for key in sorted(back.get_variable_to_shape_map()):
    expected = reader.get_tensor(key)
    if key.endswith("/kernel"):
      np.testing.assert_array_equal(back.get_tensor(key), expected, err_msg=key)
    else:
      np.testing.assert_allclose(back.get_tensor(key), expected, rtol=0, atol=1e-6, err_msg=key)
  assert set(rnn_keys) <= set(back.get_variable_to_shape_map())


def _save(directory, op_form, build):
  """Builds `build()` -> (inputs, outputs) under `op_form`, initialises and saves it; returns the prefix."""
  with corpus_lib.op_form_scope(op_form) as use_resource:
    graph = tf.Graph()
    with graph.as_default():
      v1.set_random_seed(1)
      v1.get_variable_scope().set_use_resource(use_resource)
      outputs = build()
      init = v1.global_variables_initializer()
      saver = v1.train.Saver()
  os.makedirs(directory, exist_ok=True)
  with v1.Session(graph=graph) as sess:
    sess.run(init)
    return saver.save(sess, os.path.join(str(directory), "model.ckpt")), outputs


def _peepholes():
  x = v1.placeholder(tf.float32, [None, 5, 3], name="x")
  outputs, _ = _compat.dynamic_rnn(_compat.LSTMCell(4, use_peepholes=True), x, dtype=tf.float32)
  return tf.identity(outputs[:, -1, :], name="y").name


def _sequence_length():
  x = v1.placeholder(tf.float32, [None, 5, 3], name="x")
  lengths = v1.placeholder(tf.int32, [None], name="lengths")
  _, state = _compat.dynamic_rnn(_compat.GRUCell(4), x, sequence_length=lengths, dtype=tf.float32)
  return tf.identity(state, name="y").name


def _static_rnn_step():
  x = v1.placeholder(tf.float32, [None, 3, 2], name="x")
  outputs, _ = _compat.static_rnn(_compat.BasicLSTMCell(4), tf.unstack(x, 3, axis=1), dtype=tf.float32)
  return tf.identity(outputs[0], name="y").name


def _static_rnn_initial_state():
  x = v1.placeholder(tf.float32, [None, 3, 2], name="x")
  h0 = v1.placeholder(tf.float32, [None, 4], name="h0")
  _, state = _compat.static_rnn(_compat.GRUCell(4), tf.unstack(x, 3, axis=1), initial_state=h0)
  return tf.identity(state, name="y").name


def _bidirectional_sizes():
  x = v1.placeholder(tf.float32, [None, 5, 3], name="x")
  (fw, bw), _ = _compat.bidirectional_dynamic_rnn(_compat.GRUCell(4), _compat.GRUCell(3), x, dtype=tf.float32)
  return tf.identity(tf.concat([fw, bw], 2), name="y").name


@pytest.mark.parametrize("op_form", corpus_lib.OP_FORMS)
@pytest.mark.parametrize("build,inputs,reason", [
    (_peepholes, ["x:0"], "peephole"),
    (_sequence_length, ["x:0", "lengths:0"], "sequence_length"),
    (_static_rnn_step, ["x:0"], r"outputs\[0\] of the static_rnn .* a time step before the last"),
    (_static_rnn_initial_state, ["x:0", "h0:0"], "static_rnn with an initial_state"),
    (_bidirectional_sizes, ["x:0"], "Keras has no layer that reverses a sequence"),
], ids=["peepholes", "sequence_length", "static_rnn_step", "static_rnn_initial_state", "bidirectional_sizes"])
def test_refused(tmp_path, build, inputs, reason, op_form):
  prefix, output = _save(tmp_path / op_form, op_form, build)
  with pytest.raises(UnsupportedGraphError, match=reason):
    import_tf1_graph(prefix, inputs=inputs, outputs=[output])


def _static_rnn_time_major():
  x = v1.placeholder(tf.float32, [None, 4, 3], name="x")
  outputs, state = _compat.static_rnn(_compat.GRUCell(5), tf.unstack(x, 4, axis=1), dtype=tf.float32)
  seq = tf.transpose(tf.stack(outputs), [1, 0, 2])  # tf.stack along time first, then batch-major
  return [tf.identity(seq, name="seq").name, tf.identity(state, name="state").name]


@pytest.mark.parametrize("op_form", corpus_lib.OP_FORMS)
def test_static_rnn_stack_then_transpose(tmp_path, op_form):
  prefix, outputs = _save(tmp_path / op_form, op_form, _static_rnn_time_major)
  result = import_tf1_graph(prefix, inputs=["x:0"], outputs=outputs)
  assert result.verify().ok
  assert result.source.count("layers.GRU(") == 1 and "Lambda" not in result.source
