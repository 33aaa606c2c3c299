"""The importer's test corpus (`corpus.py`): every model saves, restores, runs and has the op form it claims.

Claims checked for each model in each op form:
* the Saver wrote `model.ckpt-2.{meta,index,data-*}`;
* `import_meta_graph` + `restore` in a fresh graph runs the declared outputs with the declared feeds, to
  finite and repeatable values, and the graph's own train op runs one more step;
* the v1 form holds only `VariableV2` and v1 control flow (`Switch`/`Merge`, `Enter`/`Exit`), the v2 form only
  `VarHandleOp` and v2 control flow (`If`/`StatelessIf`, `While`/`StatelessWhile`);
* weights, optimizer slots and batch-norm statistics hold trained, non-trivial values.
"""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2

from tests.keras_bridge.importer import corpus as corpus_lib

v1 = tf.compat.v1

CASES = [pytest.param(name, form, id=f"{name}-{form}") for form in corpus_lib.OP_FORMS for name in corpus_lib.NAMES]

#: Models whose inference path holds a `tf.cond` (explicit, or from a layer given a bool placeholder).
COND_MODELS = ("batchnorm_layers", "dropout_forms", "cond_branches")
#: Models holding a `while_loop` (`dynamic_rnn`).
WHILE_MODELS = ("embedding_lstm", "gru_classifier", "lstmcell_stacked", "bidirectional_gru", "bidirectional_lstm_seq")
#: Batch-norm op types per model and form.
BATCHNORM_OPS = {
    ("batchnorm_layers", "v1"): "FusedBatchNormV3",
    ("batchnorm_layers", "v2"): "FusedBatchNormV3",
    ("batchnorm_nn", "v1"): "FusedBatchNorm",
    ("batchnorm_nn", "v2"): "FusedBatchNormV3",
}
V1_CONTROL_FLOW = {"Switch", "RefSwitch", "Merge", "RefMerge", "Enter", "RefEnter", "Exit", "RefExit",
                   "NextIteration", "RefNextIteration", "LoopCond"}
V2_CONTROL_FLOW = {"If", "StatelessIf", "While", "StatelessWhile"}
SLOT_SUFFIX = {"adam": "/Adam", "momentum": "/Momentum", "rmsprop": "/RMSProp", "adagrad": "/Adagrad"}


def _op_types(model):
  """Op types of the saved MetaGraph: top-level nodes and, separately, nodes inside library functions."""
  meta = meta_graph_pb2.MetaGraphDef()
  with open(model.prefix + ".meta", "rb") as f:
    meta.ParseFromString(f.read())
  top = {node.op for node in meta.graph_def.node}
  functions = {node.op for fn in meta.graph_def.library.function for node in fn.node_def}
  return top, functions


def _train_feed(graph, model, batch=4):
  """Probe inputs plus labels valid for every corpus loss: class 0/1 ints, floats in [0, 1)."""
  feed = corpus_lib.probe_feed(model, seed=1, batch=batch)
  if model.labels:
    labels = graph.get_tensor_by_name(model.labels)
    shape = [batch if d is None else d for d in labels.shape.as_list()]
    rng = np.random.RandomState(2)
    if labels.dtype.is_integer:
      feed[model.labels] = rng.randint(0, 2, size=shape).astype(labels.dtype.as_numpy_dtype)
    else:
      feed[model.labels] = rng.uniform(size=shape).astype(labels.dtype.as_numpy_dtype)
  return feed


def test_corpus_names_and_idioms(corpus):
  """At least 16 models; each names only idioms from IDIOMS, the same in both forms; every idiom is used."""
  assert len(corpus_lib.NAMES) >= 16
  assert len(set(corpus_lib.IDIOMS)) == len(corpus_lib.IDIOMS)
  used = set()
  for name in corpus_lib.NAMES:
    idioms = corpus(name, "v2").idioms
    assert set(idioms) <= set(corpus_lib.IDIOMS), (name, set(idioms) - set(corpus_lib.IDIOMS))
    used.update(idioms)
  assert used == set(corpus_lib.IDIOMS), set(corpus_lib.IDIOMS) - used


def test_build_rejects_unknown_name_and_op_form(tmp_path):
  with pytest.raises(ValueError, match="Unknown corpus model 'nope'"):
    corpus_lib.build("nope", str(tmp_path), "v1")
  with pytest.raises(ValueError, match="op_form must be one of"):
    corpus_lib.build("tflayers_mlp", str(tmp_path), "v3")


@pytest.mark.parametrize("name, op_form", CASES)
def test_restored_model_runs(corpus, name, op_form):
  """Checkpoint files exist; restore, run outputs twice (finite, equal), then one more train step."""
  model = corpus(name, op_form)
  assert model.name == name and model.op_form == op_form
  assert model.prefix.endswith(f"/{op_form}/{name}/model.ckpt-2")
  assert tf.io.gfile.exists(model.prefix + ".meta")
  assert tf.io.gfile.exists(model.prefix + ".index")
  assert tf.io.gfile.glob(model.prefix + ".data-*")
  assert set(model.idioms) <= set(corpus_lib.IDIOMS), set(model.idioms) - set(corpus_lib.IDIOMS)
  assert set(model.input_specs) == set(model.inputs)
  assert model.deterministic
  graph = tf.Graph()
  with graph.as_default():
    saver = v1.train.import_meta_graph(model.prefix + ".meta")
  with v1.Session(graph=graph, config=corpus_lib.session_config()) as sess:
    saver.restore(sess, model.prefix)
    feed = corpus_lib.probe_feed(model)
    first = sess.run(list(model.outputs), feed)
    second = sess.run(list(model.outputs), feed)
    for output, a, b in zip(model.outputs, first, second):
      assert a.shape[0] == 4, output
      assert np.all(np.isfinite(a)), output
      np.testing.assert_array_equal(a, b, err_msg=output)
    train_feed = _train_feed(graph, model)
    before = sess.run(model.loss, train_feed)
    sess.run(model.train_op, train_feed)
    after = sess.run(model.loss, train_feed)
    assert np.isfinite(before) and np.isfinite(after)
    assert before != after


@pytest.mark.parametrize("name, op_form", CASES)
def test_op_types_match_op_form(corpus, name, op_form):
  """v1: VariableV2 and Switch/Merge, Enter/Exit; v2: VarHandleOp and If/StatelessIf, While/StatelessWhile."""
  model = corpus(name, op_form)
  top, functions = _op_types(model)
  everywhere = top | functions
  if op_form == "v1":
    assert "VariableV2" in top and "VarHandleOp" not in everywhere
    assert not functions
    assert not everywhere & V2_CONTROL_FLOW
    if name in COND_MODELS:
      assert {"Switch", "Merge"} <= top
    if name in WHILE_MODELS:
      assert {"Enter", "Exit", "NextIteration", "LoopCond"} <= top
    if name not in COND_MODELS + WHILE_MODELS:
      assert not top & V1_CONTROL_FLOW
  else:
    assert "VarHandleOp" in top and "VariableV2" not in everywhere
    assert not everywhere & V1_CONTROL_FLOW
    if name in COND_MODELS:
      assert top & {"If", "StatelessIf"}
    if name in WHILE_MODELS:
      assert top & {"While", "StatelessWhile"}
    if name not in COND_MODELS + WHILE_MODELS:
      assert not everywhere & V2_CONTROL_FLOW
  assert ("cond" in model.idioms) == (name in COND_MODELS)
  assert ("dynamic_rnn" in model.idioms) == (name in WHILE_MODELS)
  if (name, op_form) in BATCHNORM_OPS:
    assert BATCHNORM_OPS[(name, op_form)] in everywhere
  assert {"FusedBatchNorm", "FusedBatchNormV3"}.isdisjoint(everywhere) == ("batchnorm_fused" not in model.idioms)


@pytest.mark.parametrize("name, op_form", CASES)
def test_checkpoint_values_are_trained(corpus, name, op_form):
  """Biases moved off zero, optimizer slots exist, batch-norm moving statistics moved off 0 and 1."""
  model = corpus(name, op_form)
  reader = tf.train.load_checkpoint(model.prefix)
  shapes = reader.get_variable_to_shape_map()
  for key in [k for k in shapes if k.rsplit("/", 1)[-1] in ("bias", "biases", "beta")]:
    assert np.any(reader.get_tensor(key) != 0), key
  if name == "bare_variable_cnn":
    assert {"Variable", "Variable_1", "Variable_7"} <= set(shapes)
    assert np.any(reader.get_tensor("Variable_7") != 0.1)
  suffix = SLOT_SUFFIX.get(model.optimizer)
  if suffix:
    assert any(k.endswith(suffix) for k in shapes), sorted(shapes)
  if model.optimizer == "adam":
    assert any(k.rsplit("/", 1)[-1] == "beta1_power" for k in shapes), sorted(shapes)
  if name == "gan_two_hidden":
    assert "beta1_power_1" in shapes
  for key in shapes:
    if key.endswith("/moving_mean"):
      assert np.any(reader.get_tensor(key) != 0), key
    if key.endswith("/moving_variance"):
      assert np.any(reader.get_tensor(key) != 1), key


def test_op_form_scope_restores_control_flow_setting():
  """Building a v1 model never leaves control flow v2 switched off, even when the build fails."""
  assert v1.control_flow_v2_enabled()
  with corpus_lib.op_form_scope("v1"):
    assert not v1.control_flow_v2_enabled()
  assert v1.control_flow_v2_enabled()
  with pytest.raises(RuntimeError, match="boom"):
    with corpus_lib.op_form_scope("v1"):
      raise RuntimeError("boom")
  assert v1.control_flow_v2_enabled()
