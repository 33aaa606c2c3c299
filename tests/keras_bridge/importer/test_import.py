"""`import_tf1_graph` on the corpus: every model, in both op forms, imported with no hand-written twin.

For each model: the Keras model equals the TF1 graph on the same probes (<= 1e-5 * max(1, max|y|)), the
generated source rebuilds the same model standalone, `.keras` save/load keeps it, and the weights go back
to the very TF1 keys bit-exactly. The recurrent models are in `test_rnn.py`.
"""

import os
import re
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from keras_bridge import _transforms
from keras_bridge.importer import GraphImportError
from keras_bridge.importer import import_tf1_graph
from keras_bridge.importer import UnsupportedGraphError
from tests.keras_bridge.importer import corpus as corpus_lib

RNN = ("embedding_lstm", "gru_classifier", "lstmcell_stacked", "static_rnn_lstm", "bidirectional_gru",
       "static_rnn_stacked", "bidirectional_lstm_seq")
FEEDFORWARD = tuple(n for n in corpus_lib.NAMES if n not in RNN)
GOLDEN = os.path.join(os.path.dirname(__file__), "golden")

#: What the generated source must contain for each model: the idioms it was built to exercise.
EXPECTED = {
    "tflayers_mlp": ['layers.Dense(16, activation="relu", name="hidden1")', 'layers.Activation("softmax"'],
    "getvar_scopes_mlp": ['activation="tanh"', '"layer1/kernel": "layer1/weights"'],
    "bare_variable_cnn": ["layers.Conv2D(", "layers.MaxPooling2D(", "layers.Flatten(", "layers.Dropout("],
    "two_tower": ["# shared", "abs_layer("],
    "gan_two_hidden": ["negative_slope=0.2"],
    "batchnorm_layers": ["layers.BatchNormalization("],
    "batchnorm_nn": ["layers.BatchNormalization("],
    "leaky_handwritten": ['activation="relu6"', 'activation="elu"', 'activation="selu"',
                          "negative_slope=0.2"],
    "dropout_forms": ["layers.Dropout(0.3"],  # tf.layers.dropout lives in the training branch only
    "residual_cnn": ["layers.Add(", "layers.Concatenate(", "layers.AveragePooling2D(",
                     "layers.GlobalAveragePooling2D("],
    "depthwise_cnn": ["layers.DepthwiseConv2D(", "dilation_rate=(2, 2)"],
    "deconv_decoder": ["layers.Conv2DTranspose(", "layers.Reshape("],
    "cond_branches": ["layers.Dense("],
}


def _import(model):
  return import_tf1_graph(model.prefix, inputs=list(model.inputs), outputs=list(model.outputs),
                          feeds=dict(model.feeds))


def _outputs(model, feed):
  out = model(feed, training=False)
  return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("op_form", corpus_lib.OP_FORMS)
@pytest.mark.parametrize("name", FEEDFORWARD)
def test_imported_model_equals_tf1_graph(corpus, tmp_path, name, op_form):
  """No twin: MetaGraph + checkpoint -> Keras 3 model of ordinary layers, equal to the TF1 graph."""
  model = corpus(name, op_form)
  result = _import(model)
  verification = result.verify()
  assert verification.ok, str(verification)
  source = result.source
  assert "Lambda" not in source
  assert max(len(line) for line in source.splitlines()) <= 100
  assert re.findall(r"^(?:import|from) .*$", source, re.M) == ["import keras", "from keras import layers"]
  for needle in EXPECTED[name]:
    assert needle in source, needle

  # The source rebuilds the model standalone; TF1_NAMES loads the checkpoint into it.
  namespace = {}
  exec(compile(source, "model.py", "exec"), namespace)  # pylint: disable=exec-used
  rebuilt = namespace["build_model"]()
  report = keras_bridge.load_tf1_checkpoint(rebuilt, namespace["PREFIX"], names=namespace["TF1_NAMES"])
  assert report.ok and report.assigned
  probes = [np.random.default_rng(1).standard_normal((3,) + tuple(i.shape[1:])).astype(i.dtype)
            if "float" in str(i.dtype) else np.zeros((3,) + tuple(i.shape[1:]), i.dtype)
            for i in result.model.inputs]
  want = _outputs(result.model, probes)
  for a, b in zip(want, _outputs(rebuilt, probes)):
    np.testing.assert_array_equal(a, b)

  # .keras save and load.
  path = str(tmp_path / "model.keras")
  result.model.save(path)
  for a, b in zip(want, _outputs(keras.models.load_model(path), probes)):
    np.testing.assert_array_equal(a, b)

  # Back to the TF1 keys, bit-exactly, through save_tf1_checkpoint(names=TF1_NAMES).
  out = keras_bridge.save_tf1_checkpoint(result.model, str(tmp_path / "back" / "model.ckpt"), names=result.names)
  reader, back = tf.train.load_checkpoint(model.prefix), tf.train.load_checkpoint(out)
  keys = _transforms.all_keys(result.names.values())
  assert sorted(back.get_variable_to_shape_map()) == sorted(keys)
  for key in keys:
    np.testing.assert_array_equal(back.get_tensor(key), reader.get_tensor(key), err_msg=key)


def test_default_inputs_and_outputs_follow_the_loss(corpus):
  """With no inputs/outputs: the loss's prediction input and the softmax on it; the labels are not inputs."""
  model = corpus("tflayers_mlp", "v1")
  result = import_tf1_graph(model.prefix)
  assert result.inputs == ["input/X:0"]
  assert result.outputs == list(model.outputs)
  assert result.verify().ok


def test_report_names_every_node(corpus):
  model = corpus("bare_variable_cnn", "v1")
  result = _import(model)
  text = str(result.report)
  assert "Variable" in text and "keep_prob" in text
  layers_of = {row[0]: row[2] for row in result.report.rows}
  assert layers_of["Variable"].startswith("weight ")
  assert any("training rate unknown" in n for n in result.report.notes)


@pytest.mark.parametrize("name", ["tflayers_mlp", "two_tower", "dropout_forms"])
def test_golden_source(corpus, name):
  """The generated module of three small models, pinned (regenerate with UPDATE_GOLDEN=1)."""
  model = corpus(name, "v1")
  result = _import(model)
  directory = os.path.dirname(model.prefix)
  source = result.source.replace(directory, "<corpus>/" + name)
  source = re.sub(r"'[^']*<corpus>", "'<corpus>", source)
  path = os.path.join(GOLDEN, f"{name}.py.txt")
  if os.environ.get("UPDATE_GOLDEN"):
    os.makedirs(GOLDEN, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
      f.write(source)
  with open(path, encoding="utf-8") as f:
    assert source == f.read()


# -- bad input: one clear error each, nothing written ----------------------------------------------------


def test_meta_without_checkpoint(corpus, tmp_path):
  model = corpus("tflayers_mlp", "v1")
  shutil.copy(model.prefix + ".meta", tmp_path / "model.ckpt-2.meta")
  before = sorted(os.listdir(tmp_path))
  with pytest.raises(keras_bridge.CheckpointNotFoundError, match="model.ckpt-2.index"):
    import_tf1_graph(str(tmp_path / "model.ckpt-2"))
  assert sorted(os.listdir(tmp_path)) == before


def test_checkpoint_without_meta(corpus, tmp_path):
  model = corpus("tflayers_mlp", "v1")
  for f in os.listdir(os.path.dirname(model.prefix)):
    if f.startswith("model.ckpt-2.") and not f.endswith(".meta"):
      shutil.copy(os.path.join(os.path.dirname(model.prefix), f), tmp_path / f)
  shutil.copy(model.prefix + ".meta", tmp_path / "other.meta")
  with pytest.raises(GraphImportError, match=r"No MetaGraph .*other\.meta"):
    import_tf1_graph(str(tmp_path / "model.ckpt-2"))


def _save(graph, sess, path):
  with graph.as_default():
    return tf.compat.v1.train.Saver().save(sess, path)


def test_unsupported_ops_are_all_listed(tmp_path):
  graph = tf.Graph()
  with graph.as_default():
    x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
    w = tf.compat.v1.get_variable("fc/weights", [4, 4])
    h = tf.math.cumsum(tf.matmul(x, w), axis=1, name="running")
    out = tf.math.erf(h, name="erf")
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      prefix = _save(graph, sess, str(tmp_path / "model.ckpt"))
  del out
  with pytest.raises(UnsupportedGraphError) as e:
    import_tf1_graph(prefix, outputs=["erf:0"])
  assert "running (Cumsum)" in str(e.value) and "erf (Erf)" in str(e.value)
  assert {u[0] for u in e.value.unsupported} == {"running", "erf"}


def test_ambiguous_outputs_list_the_candidates(tmp_path):
  graph = tf.Graph()
  with graph.as_default():
    x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
    w = tf.compat.v1.get_variable("fc/weights", [4, 4])
    h = tf.matmul(x, w)
    tf.nn.relu(h, name="a")
    tf.nn.tanh(h, name="b")
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      prefix = _save(graph, sess, str(tmp_path / "model.ckpt"))
  with pytest.raises(GraphImportError, match=r"2 end tensor\(s\): \['a:0', 'b:0'\].*outputs="):
    import_tf1_graph(prefix)
  result = import_tf1_graph(prefix, outputs=["b:0"])
  assert result.verify().ok


def test_wrong_feed_name(corpus):
  model = corpus("bare_variable_cnn", "v1")
  with pytest.raises(GraphImportError, match=r"feeds name tensor\(s\) \['keep_prop:0'\].*keep_prob:0"):
    import_tf1_graph(model.prefix, feeds={"keep_prop:0": 1.0})


def test_unfed_training_control_is_named(corpus):
  model = corpus("bare_variable_cnn", "v1")
  with pytest.raises(GraphImportError, match=r"keep_prob.*feeds="):
    import_tf1_graph(model.prefix)


def test_dropout_rates_argument(corpus):
  model = corpus("bare_variable_cnn", "v1")
  result = import_tf1_graph(model.prefix, feeds=dict(model.feeds),
                            dropout_rates={next(iter(model.feeds)): 0.5})
  assert "layers.Dropout(0.5" in result.source
  assert result.verify().ok


def test_ops_tf2_does_not_register_are_listed_before_the_import(corpus, tmp_path):
  """A tf.contrib op in the MetaGraph: one error naming each such node, nothing imported."""
  from tensorflow.core.protobuf import meta_graph_pb2  # pylint: disable=import-outside-toplevel
  model = corpus("tflayers_mlp", "v1")
  meta = meta_graph_pb2.MetaGraphDef()
  with open(model.prefix + ".meta", "rb") as f:
    meta.ParseFromString(f.read())
  for node in meta.graph_def.node:
    if node.name == "hidden1/Relu":
      node.op = "LayerNormBasicLSTMCellContrib"
  path = tmp_path / "contrib.meta"
  path.write_bytes(meta.SerializeToString())
  with pytest.raises(UnsupportedGraphError, match=r"(?s)tf.contrib.*hidden1/Relu \(LayerNormBasicLSTMCellContrib\)"):
    import_tf1_graph(model.prefix, meta=str(path))


def test_batch_norm_with_batch_statistics_at_inference_is_refused(tmp_path):
  graph = tf.Graph()
  with graph.as_default():
    x = tf.compat.v1.placeholder(tf.float32, [None, 4, 4, 2], name="x")
    gamma = tf.compat.v1.get_variable("bn/gamma", [2], initializer=tf.compat.v1.ones_initializer())
    beta = tf.compat.v1.get_variable("bn/beta", [2], initializer=tf.compat.v1.zeros_initializer())
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, is_training=True, name="bn/fused")
    tf.identity(y, name="y")
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      prefix = _save(graph, sess, str(tmp_path / "model.ckpt"))
  with pytest.raises(UnsupportedGraphError, match=r"batch statistics at inference"):
    import_tf1_graph(prefix, outputs=["y:0"])


def test_the_general_bridge_imports_nothing_from_the_importer():
  """The importer is a capability of its own: no core module imports it (only the twins' main job does)."""
  core = os.path.join(os.path.dirname(keras_bridge.__file__))
  offenders = []
  for name in sorted(os.listdir(core)):
    if name.endswith(".py") and name != "__init__.py":
      with open(os.path.join(core, name), encoding="utf-8") as f:
        if re.search(r"^\s*(from keras_bridge(\.importer| import importer)|import keras_bridge\.importer)",
                     f.read(), re.M):
          offenders.append(name)
  assert offenders == []
