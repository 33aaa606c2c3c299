"""`import_tf1_graph` on `dynamic_rnn` loops: TF1 LSTM/GRU cells become Keras `LSTM`/`GRU` layers."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _transforms
from keras_bridge import canonical_weights
from keras_bridge.importer import UnsupportedGraphError
from keras_bridge.importer import import_tf1_graph
from tests.keras_bridge.importer import corpus as corpus_lib
from tf1_reference import _compat

v1 = tf.compat.v1

RNN_MODELS = {"embedding_lstm": "layers.LSTM", "gru_classifier": "layers.GRU", "lstmcell_stacked": "layers.LSTM",
              "bidirectional_gru": "layers.GRU"}


def _import(m):
  return import_tf1_graph(m.prefix, inputs=list(m.inputs), outputs=list(m.outputs), feeds=dict(m.feeds))


@pytest.mark.parametrize("op_form", corpus_lib.OP_FORMS)
@pytest.mark.parametrize("name", sorted(RNN_MODELS))
def test_dynamic_rnn_becomes_keras_rnn(corpus, name, op_form):
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

  # The transforms invert exactly: the Keras weights written back are the checkpoint's tensors.
  weights = canonical_weights(result.model)
  reader = tf.train.load_checkpoint(m.prefix)
  rnn_paths = {p: s for p, s in result.names.items() if _transforms.is_transform(s)}
  assert rnn_paths, result.names
  keys = _transforms.all_keys(rnn_paths.values())
  shapes = {k: tuple(reader.get_variable_to_shape_map()[k]) for k in keys}
  back = _transforms.to_tf1(rnn_paths, {p: np.asarray(weights[p]) for p in rnn_paths}, shapes)
  assert sorted(back) == sorted(keys)
  for key in keys:
    expected = reader.get_tensor(key)
    if key.endswith("/kernel"):
      np.testing.assert_array_equal(back[key], expected, err_msg=key)
    else:
      np.testing.assert_allclose(back[key], expected, rtol=0, atol=1e-6, err_msg=key)


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


def _static_rnn():
  x = v1.placeholder(tf.float32, [None, 3, 2], name="x")
  outputs, _ = _compat.static_rnn(_compat.BasicLSTMCell(4), tf.unstack(x, 3, axis=1), dtype=tf.float32)
  return tf.identity(outputs[-1], name="y").name


@pytest.mark.parametrize("op_form", corpus_lib.OP_FORMS)
@pytest.mark.parametrize("build,inputs,reason", [
    (_peepholes, ["x:0"], "peephole"),
    (_sequence_length, ["x:0", "lengths:0"], "sequence_length"),
    (_static_rnn, ["x:0"], "static_rnn"),
], ids=["peepholes", "sequence_length", "static_rnn"])
def test_refused(tmp_path, build, inputs, reason, op_form):
  prefix, output = _save(tmp_path / op_form, op_form, build)
  with pytest.raises(UnsupportedGraphError, match=reason):
    import_tf1_graph(prefix, inputs=inputs, outputs=[output])
