"""003_edbfd8374a89a122.txt: Saver save/restore, subsets, periodic checkpoints, trainable=False."""

import numpy as np
import pytest
import tensorflow as tf

from tf1_reference import _snippets
from tf1_reference import checkpointing

v1 = tf.compat.v1
SEED = "003_edbfd8374a89a122.txt"


def test_save_writes_v1_plus_one_and_v2_minus_one(tmp_path):
  """003 保存一个检查点: after inc_v1/dec_v2 the checkpoint holds v1 = 1, v2 = -1 under keys "v1", "v2"."""
  path = checkpointing.save_checkpoint(str(tmp_path))
  assert path == str(tmp_path / "model.ckpt")
  assert tf.train.list_variables(path) == [("v1", [3]), ("v2", [5])]
  reader = tf.train.load_checkpoint(path)
  np.testing.assert_array_equal(reader.get_tensor("v1"), [1.0, 1.0, 1.0])
  np.testing.assert_array_equal(reader.get_tensor("v2"), [-1.0] * 5)


def test_restore_without_initializers_prints_documented_lines(tmp_path):
  """003 恢复一个检查点: "We do not need to provide initializer or init_op"; prints v1 : [1. 1. 1.]."""
  lines = checkpointing.restore_checkpoint(checkpointing.save_checkpoint(str(tmp_path)))
  assert lines == ["v1 : [1. 1. 1.]", "v2 : [-1. -1. -1. -1. -1.]"]


def test_literal_save_and_restore_listings(tmp_path):
  """003 保存/恢复: the listings themselves (path moved off /tmp) save and print the same lines."""
  path = str(tmp_path / "model.ckpt")
  saved = _snippets.run(checkpointing.SAVE_LISTING, SEED, replace={"/tmp/model.ckpt": path})
  assert saved.namespace["save_path"] == path
  assert [v.name for v in saved.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)] == ["v1:0", "v2:0"]
  restored = _snippets.run(checkpointing.RESTORE_LISTING, SEED, replace={"/tmp/model.ckpt": path})
  assert restored.printed == ["v1 : [1. 1. 1.]", "v2 : [-1. -1. -1. -1. -1.]"]
  # The listing never runs an initializer: restore alone makes the variables readable.
  assert "init_op" not in restored.namespace


def test_restore_graph_has_no_initializer_argument():
  """003 恢复一个检查点: get_variable("v1", shape=[3]) with no initializer gets the default (glorot)."""
  net = checkpointing.build_restore_graph()
  assert [v.name for v in (net.v1, net.v2)] == ["v1:0", "v2:0"]
  assert net.init_op is None


def test_subset_restore_keeps_v1_from_its_initializer(tmp_path):
  """003 只保存部分变量: Saver({"v2": v2}) restores v2 = -1; v1 = 0 comes from v1.initializer.run()."""
  values = checkpointing.restore_subset(checkpointing.save_checkpoint(str(tmp_path)))
  np.testing.assert_array_equal(values["v1"], [0.0, 0.0, 0.0])
  np.testing.assert_array_equal(values["v2"], [-1.0] * 5)


def test_subset_literal_listing(tmp_path):
  """003 只保存部分变量: the listing runs as written against the full checkpoint."""
  path = checkpointing.save_checkpoint(str(tmp_path))
  run = _snippets.run(checkpointing.SUBSET_LISTING, SEED, replace={"/tmp/model.ckpt": path})
  assert list(run.namespace["saver"]._var_list) == ["v2"]  # pylint: disable=protected-access


def test_subset_without_v1_initializer_fails(tmp_path):
  """003 "Initialize v1 since the saver will not": skipping it leaves v1 unreadable."""
  path = checkpointing.save_checkpoint(str(tmp_path))
  with pytest.raises(tf.errors.FailedPreconditionError, match="Could not find variable v1"):
    checkpointing.restore_subset(path, initialize_v1=False)


def test_subset_saver_writes_only_v2(tmp_path):
  """003 "Save only v2": the subset Saver's checkpoint has the single key "v2"."""
  path = checkpointing.save_subset(str(tmp_path))
  assert tf.train.list_variables(path) == [("v2", [5])]
  np.testing.assert_array_equal(tf.train.load_checkpoint(path).get_tensor("v2"), [-1.0] * 5)


def test_loadmodel_returns_false_without_checkpoint(tmp_path):
  """003 定期加载模型: loadmodel initializes and returns False when the directory has no checkpoint."""
  net = checkpointing.build_training_graph()
  with v1.Session(graph=net.graph) as sess:
    assert checkpointing.loadmodel(sess, net.saver, str(tmp_path)) is False
    assert sess.run(net.global_step) == 0


def test_periodic_literal_documented_numbers_keep_last_five(tmp_path):
  """003 定期保存: range(10000), save at i % 1000 == 0 -> 10 saves; max_to_keep=5 keeps model-5000..9000."""
  run = checkpointing.periodic_literal(str(tmp_path))
  assert run.resumed is False
  assert run.saved == [f"model-{i}" for i in range(0, 10000, 1000)]
  assert run.on_disk == ["model-5000", "model-6000", "model-7000", "model-8000", "model-9000"]
  assert run.state == run.on_disk
  assert run.global_step == 10000


def test_periodic_literal_resume_restarts_loop_at_zero(tmp_path):
  """003 定期保存 (erratum E-PERIODIC-RESUME): on resume `i` restarts at 0, names no longer match steps."""
  checkpointing.periodic_literal(str(tmp_path), iterations=12, save_every=2)
  second = checkpointing.periodic_literal(str(tmp_path), iterations=12, save_every=2)
  assert second.resumed is True
  assert second.loop_indices == [0, 2, 4, 6, 8, 10]
  assert second.saved == ["model-0", "model-2", "model-4", "model-6", "model-8", "model-10"]
  # model-10 of the first run held 11 steps; the resumed run adds 12 more, the first run's last step is lost.
  assert second.global_step == 23
  reader = tf.train.load_checkpoint(str(tmp_path / "model-10"))
  assert reader.get_tensor("global_step") == 22, "model-10 now holds 22 steps"


def test_periodic_resumable_continues_at_global_step(tmp_path):
  """003 定期保存 (fix): resume at the restored global_step; model-N holds exactly N steps."""
  first = checkpointing.periodic_resumable(str(tmp_path), total_steps=6, save_every=1)
  assert first.saved == [f"model-{i}" for i in range(1, 7)]
  second = checkpointing.periodic_resumable(str(tmp_path), total_steps=12, save_every=1)
  assert second.resumed is True
  assert second.loop_indices == [7, 8, 9, 10, 11, 12]
  assert second.global_step == 12
  assert second.on_disk == ["model-8", "model-9", "model-10", "model-11", "model-12"]
  assert second.state == second.on_disk
  assert tf.train.load_checkpoint(str(tmp_path / "model-12")).get_tensor("global_step") == 12


def test_new_saver_forgets_earlier_checkpoints_without_recover(tmp_path):
  """003 定期保存: max_to_keep counts only this Saver's saves unless recover_last_checkpoints is called."""
  checkpointing.periodic_resumable(str(tmp_path), total_steps=6, save_every=1)
  second = checkpointing.periodic_resumable(str(tmp_path), total_steps=12, save_every=1,
                                            recover_last_checkpoints=False)
  assert second.state == ["model-8", "model-9", "model-10", "model-11", "model-12"]
  assert second.on_disk == ["model-2", "model-3", "model-4", "model-5", "model-6",
                            "model-8", "model-9", "model-10", "model-11", "model-12"]


def test_cnn_w_bang_is_an_invalid_name():
  """003 可训练与不可训练参数 (erratum E-CNN-W-NAME): get_variable('CNN_W!', ...) raises ValueError."""
  with pytest.raises(ValueError, match=r"'CNN_W!' is not a valid root scope name"):
    _snippets.run(checkpointing.FROZEN_LISTING, SEED, tf=_snippets.TF1)
  with pytest.raises(ValueError, match=r"'CNN_W!' is not a valid root scope name"):
    checkpointing.build_frozen_graph("CNN_W!")


def test_trainable_false_is_global_but_not_trainable():
  """003 trainable=False: CNN_W [5, 5, 3, 32] is in GLOBAL_VARIABLES, not in TRAINABLE_VARIABLES."""
  net = checkpointing.build_frozen_graph()
  assert net.freezed_W.name == "CNN_W:0"
  assert net.freezed_W.shape.as_list() == [5, 5, 3, 32]
  assert [v.name for v in net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)] == ["CNN_W:0", "head:0"]
  assert [v.name for v in net.graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)] == ["head:0"]


def test_trainable_false_unchanged_by_optimizer_but_saved(tmp_path):
  """003 trainable=False: minimize(loss) leaves CNN_W unchanged, trains head; Saver() still saves CNN_W."""
  net = checkpointing.build_frozen_graph()
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    w0, h0 = sess.run([net.freezed_W, net.head])
    sess.run(net.train_op)
    w1, h1 = sess.run([net.freezed_W, net.head])
    np.testing.assert_array_equal(w0, w1)
    assert not np.array_equal(h0, h1)
    sess.run(net.train_frozen_explicitly)
    assert not np.array_equal(w1, sess.run(net.freezed_W)), "an explicit var_list does train it"
    checkpointing.save(sess, net.saver, str(tmp_path), 0)
  assert tf.train.list_variables(str(tmp_path / "model-0")) == [("CNN_W", [5, 5, 3, 32]), ("head", [32, 1])]


def test_demos_run():
  """003: every registered checkpointing demo runs and matches the document."""
  for demo in (checkpointing.demo_save_restore, checkpointing.demo_save_restore_literal,
               checkpointing.demo_subset, checkpointing.demo_periodic_resumable,
               checkpointing.demo_frozen_name, checkpointing.demo_frozen):
    assert demo()
