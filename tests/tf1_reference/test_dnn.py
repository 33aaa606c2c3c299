"""002_9773991e7c1a2830.txt (复用 TensorFlow 模型): the MNIST DNN, restore-and-continue, and transfer."""

import numpy as np
import pytest
import tensorflow as tf

from tf1_reference import _compat
from tf1_reference import dnn

v1 = tf.compat.v1

DOCUMENTED_DNN = [
    ("hidden1/kernel", [784, 300]), ("hidden1/bias", [300]),
    ("hidden2/kernel", [300, 50]), ("hidden2/bias", [50]),
    ("hidden3/kernel", [50, 50]), ("hidden3/bias", [50]),
    ("hidden4/kernel", [50, 50]), ("hidden4/bias", [50]),
    ("hidden5/kernel", [50, 50]), ("hidden5/bias", [50]),
    ("outputs/kernel", [50, 10]), ("outputs/bias", [10]),
]
DOCUMENTED_TRANSFER = DOCUMENTED_DNN[:6] + [
    ("hidden4/kernel", [50, 20]), ("hidden4/bias", [20]),
    ("outputs/kernel", [20, 10]), ("outputs/bias", [10]),
]
REUSED = ["hidden1/kernel", "hidden1/bias", "hidden2/kernel", "hidden2/bias", "hidden3/kernel", "hidden3/bias"]
TINY_TRANSFER = {"n_inputs": 4, "n_outputs": 2, "hidden_sizes": (3, 3, 3, 2)}


def _meta(graph):
  return [(v.op.name, v.shape.as_list()) for v in graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)]


@pytest.fixture(name="tiny_checkpoint")
def fixture_tiny_checkpoint(tmp_path):
  """A trained tiny DNN (4 inputs, hidden1..5 of 3 units, 2 outputs) saved as my_model_final.ckpt."""
  X, y = dnn.random_data(64, 4, 2)
  saved = dnn.save_trained(str(tmp_path / "my_model_final.ckpt"), dnn.build_dnn(seed=0, **dnn.TINY), X, y)
  return saved


def test_listing_never_defines_n_hidden5():
  """002 完整代码 (erratum E-DNN-N-HIDDEN5): the listing uses n_hidden5 without defining it."""
  with pytest.raises(NameError, match=r"^name 'n_hidden5' is not defined$"):
    dnn.run_literal(dnn.DNN_LISTING)


def test_transfer_listing_never_defines_learning_rate():
  """002 transfer listing (erratum E-DNN-LEARNING-RATE): learning_rate is used but not defined."""
  with pytest.raises(NameError, match=r"^name 'learning_rate' is not defined$"):
    dnn.run_literal(dnn.TRANSFER_MODEL_LISTING)


def test_documented_dnn_names_and_shapes():
  """002 完整代码: tf.layers.dense in name_scope("dnn") gives hidden1..5/outputs kernel/bias, not dnn/..."""
  net = dnn.build_dnn()
  assert _meta(net.graph) == DOCUMENTED_DNN
  assert [h.op.name for h in net.hidden] == [f"dnn/hidden{i}/Relu" for i in range(1, 6)]
  assert net.logits.op.name == "dnn/outputs/BiasAdd"
  assert net.loss.name == "loss/loss:0"
  assert net.accuracy.name == "eval/accuracy:0"
  assert net.X.name == "X:0" and net.y.name == "y:0"


def test_literal_listing_with_n_hidden5_matches_build_dnn():
  """002 完整代码: with n_hidden5 = 50 the literal listing builds exactly build_dnn()'s variables."""
  run = dnn.run_literal(dnn.DNN_LISTING, n_hidden5=50)
  assert _meta(run.graph) == DOCUMENTED_DNN
  ops = {op.type for op in run.graph.get_operations()}
  assert {"InTopKV2", "SparseSoftmaxCrossEntropyWithLogits"} <= ops
  # clip_by_value is Minimum then Maximum; one clip per (grad, var) pair.
  clips = [op.name for op in run.graph.get_operations() if op.type == "Maximum" and "clip_by_value" in op.name]
  assert clips[:2] == ["clip_by_value", "clip_by_value_1"] and len(clips) == 12


def test_gradient_clipping_bounds_each_update():
  """002 完整代码: clip_by_value(grad, -threshold, threshold) bounds every step to lr * threshold."""
  net = dnn.build_dnn(learning_rate=1.0, threshold=1e-3, seed=0, **dnn.TINY)
  X, y = dnn.random_data(32, 4, 2)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    before = sess.run(net.model_variables())
    sess.run(net.training_op, {net.X: X * 100.0, net.y: y})
    after = sess.run(net.model_variables())
  assert max(np.abs(a - b).max() for a, b in zip(after, before)) <= 1e-3 + 1e-7


def test_literal_restore_and_continue(tmp_path):
  """002 "saver.restore(sess, ./my_model_final.ckpt)" then train: the listing runs and prints accuracy."""
  original = dnn.run_literal(dnn.DNN_LISTING, n_hidden5=50)
  with original.graph.as_default(), v1.Session() as sess:
    original.namespace["init"].run()
    original.namespace["saver"].save(sess, str(tmp_path / "my_model_final.ckpt"))
  run = dnn.run_literal(dnn.CONTINUE_LISTING, previous=original, checkpoint_dir=str(tmp_path), n_epochs=1,
                        batch_size=50, mnist=dnn.RandomMNIST())
  assert len(run.printed) == 1 and run.printed[0].startswith("0 Test accuracy: ")
  assert run.namespace["save_path"] == str(tmp_path / "my_new_model_final.ckpt")
  assert sorted(n for n, _ in tf.train.list_variables(run.namespace["save_path"])) == sorted(
      n for n, _ in DOCUMENTED_DNN)


def test_restore_and_continue(tiny_checkpoint, tmp_path):
  """002 复用: the rebuilt graph restored without init reproduces the saved loss, then keeps training."""
  X, y = dnn.random_data(64, 4, 2)
  cont = dnn.restore_and_continue(tiny_checkpoint["save_path"], str(tmp_path / "new.ckpt"), X, y, epochs=2,
                                  **dnn.TINY)
  assert cont["restored_loss"] == pytest.approx(tiny_checkpoint["loss"], abs=1e-6)
  assert cont["loss"] != cont["restored_loss"]


def test_transfer_restores_hidden123_only(tiny_checkpoint, tmp_path):
  """002 transfer: restore_saver restores hidden1-3; hidden4/outputs (new shapes) keep fresh values."""
  X, y = dnn.random_data(64, 4, 2)
  out = dnn.transfer(tiny_checkpoint["save_path"], str(tmp_path / "my_new_model_final.ckpt"), X, y, seed=1,
                     **TINY_TRANSFER)
  reader = tf.train.load_checkpoint(tiny_checkpoint["save_path"])
  assert [v.op.name for v in out["net"].reuse_vars] == REUSED
  for name in REUSED:
    np.testing.assert_array_equal(out["restored"][name], reader.get_tensor(name), err_msg=name)
  assert out["restored"]["hidden4/kernel"].shape == (3, 2)
  np.testing.assert_array_equal(out["restored"]["outputs/bias"], [0.0, 0.0])
  assert [n for n, _ in tf.train.list_variables(out["save_path"])] == [
      "hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel", "hidden3/bias", "hidden3/kernel",
      "hidden4/bias", "hidden4/kernel", "outputs/bias", "outputs/kernel"]


def test_init_after_restore_overwrites_restored_values(tiny_checkpoint, tmp_path):
  """002 transfer "初始化所有变量,然后...恢复": the order matters; init after restore discards the restore."""
  X, y = dnn.random_data(16, 4, 2)
  out = dnn.transfer(tiny_checkpoint["save_path"], str(tmp_path / "new.ckpt"), X, y, epochs=0, seed=1,
                     init_first=False, **TINY_TRANSFER)
  reader = tf.train.load_checkpoint(tiny_checkpoint["save_path"])
  assert not np.array_equal(out["restored"]["hidden1/kernel"], reader.get_tensor("hidden1/kernel"))
  np.testing.assert_array_equal(out["restored"]["hidden1/bias"], [0.0, 0.0, 0.0])


def test_literal_transfer_listings_documented_sizes(tmp_path):
  """002 transfer listings (learning_rate given, n_epochs=0): keys restored and saved, at documented sizes."""
  original = dnn.build_dnn(seed=0)
  with v1.Session(graph=original.graph) as sess:
    sess.run(original.init)
    hidden1 = sess.run(original.model_variables()[0])
    original.saver.save(sess, str(tmp_path / "my_model_final.ckpt"), write_meta_graph=False)
  model = dnn.run_literal(dnn.TRANSFER_MODEL_LISTING, learning_rate=0.01)
  assert _meta(model.graph) == DOCUMENTED_TRANSFER
  run = dnn.run_literal(dnn.TRANSFER_RESTORE_LISTING, previous=model, checkpoint_dir=str(tmp_path), n_epochs=0)
  assert sorted(run.namespace["reuse_vars_dict"]) == sorted(REUSED)
  reader = tf.train.load_checkpoint(run.namespace["save_path"])
  np.testing.assert_array_equal(reader.get_tensor("hidden1/kernel"), hidden1)
  assert sorted(reader.get_variable_to_shape_map().items()) == sorted(
      (name, shape) for name, shape in DOCUMENTED_TRANSFER)


def test_scope_regex_is_a_prefix_match(tiny_checkpoint):
  """002 scope="hidden[123]" (erratum E-HIDDEN-REGEX-PREFIX): re.match also selects hidden10 and hidden2_1."""
  net = dnn.build_transfer_dnn(n_inputs=4, n_outputs=2, hidden_sizes=(3,) * 10, exact_scope=False)
  assert [v.op.name for v in net.reuse_vars] == REUSED + ["hidden10/kernel", "hidden10/bias"]
  with net.graph.as_default():
    _compat.dense(net.hidden[1], 2, name="hidden2_1")
  assert [v.op.name for v in dnn.reuse_vars_by_scope(net.graph)][-2:] == ["hidden2_1/kernel", "hidden2_1/bias"]
  assert [v.op.name for v in dnn.reuse_vars_exact(net.graph)] == REUSED
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    with pytest.raises(tf.errors.NotFoundError, match=r"Key hidden10/bias not found in checkpoint"):
      net.restore_saver.restore(sess, tiny_checkpoint["save_path"])


def test_exact_scope_restores_ten_layer_model(tiny_checkpoint):
  """002 transfer (fix): exact layer names restore hidden1-3 into a model that also has hidden10."""
  net = dnn.build_transfer_dnn(n_inputs=4, n_outputs=2, hidden_sizes=(3,) * 10, exact_scope=True)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    net.restore_saver.restore(sess, tiny_checkpoint["save_path"])


def test_global_variables_include_optimizer_slots(tiny_checkpoint):
  """002 "trainable=True variables" (erratum E-DNN-GLOBAL-VS-TRAINABLE): GLOBAL_VARIABLES adds slots."""
  momentum = lambda lr: v1.train.MomentumOptimizer(lr, 0.9)
  net = dnn.build_transfer_dnn(exact_scope=False, optimizer=momentum, **TINY_TRANSFER)
  assert [v.op.name for v in net.reuse_vars] == REUSED + [name + "/Momentum" for name in REUSED]
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    with pytest.raises(tf.errors.NotFoundError, match=r"Key hidden\d/(kernel|bias)/Momentum not found"):
      net.restore_saver.restore(sess, tiny_checkpoint["save_path"])
  fixed = dnn.build_transfer_dnn(exact_scope=True, optimizer=momentum, **TINY_TRANSFER)
  assert [v.op.name for v in fixed.reuse_vars] == REUSED
  with v1.Session(graph=fixed.graph) as sess:
    sess.run(fixed.init)
    fixed.restore_saver.restore(sess, tiny_checkpoint["save_path"])


def test_demos_run():
  """002: every registered DNN demo runs and matches the document (documented-size ones excluded here)."""
  for demo in (dnn.demo_literal_n_hidden5, dnn.demo_literal_learning_rate, dnn.demo_restore_and_continue,
               dnn.demo_transfer, dnn.demo_scope_prefix, dnn.demo_global_vs_trainable):
    assert demo()
