"""000_4e63901589b71580.txt (second half, 迁移学习): fine-tuning through a Saver dict."""

import numpy as np
import pytest
import tensorflow as tf

from tf1_reference import _snippets
from tf1_reference import finetune

v1 = tf.compat.v1

SMALL = {"n_inputs": 6, "n_hidden": 4}


def test_literal_listing_is_a_syntax_error():
  """000 fine_tune_model (erratum E-FINETUNE-SYNTAX): `def create_model(x):` has only a comment body."""
  with pytest.raises(SyntaxError, match=r"expected an indented block after function definition on line 3") as e:
    finetune.run_literal("unused")
  assert e.value.lineno == 6


def test_literal_get_variable_without_shape_raises():
  """000 (erratum E-FINETUNE-SHAPE): get_variable("fully_connected/fc_weights") has no shape/initializer."""
  with pytest.raises(ValueError, match=r"^Variable pretrained_model/fully_connected/fc_weights did not get an "
                                       r"initializer, so its `shape` argument must be specified\.$"):
    finetune.run_literal("unused", finetune.SYNTAX_REPAIRS)


def test_literal_restore_lacks_the_session():
  """000 (erratum E-FINETUNE-RESTORE): saver.restore(pretrained_model) misses an argument."""
  with pytest.raises(TypeError, match=r"^Saver\.restore\(\) missing 1 required positional argument: 'save_path'$"):
    finetune.run_literal("unused", {**finetune.SYNTAX_REPAIRS, **finetune.SHAPE_REPAIRS})


def test_literal_restored_variables_are_not_the_new_models():
  """000: the listing's restore targets live under pretrained_model/, which the new model never reads."""
  run = _snippets.run(finetune.FINETUNE_LISTING, finetune.SEED,
                      replace={**finetune.SYNTAX_REPAIRS, **finetune.SHAPE_REPAIRS})
  with run.graph.as_default(), pytest.raises(TypeError):
    run.namespace["fine_tune_model"](run.namespace["create_model"], "unused")
  names = [v.op.name for v in run.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)]
  assert names == ["new_model/logits/kernel", "new_model/logits/bias",
                   "pretrained_model/fully_connected/fc_weights", "pretrained_model/fully_connected/fc_biases"]
  logits_inputs = {t.op.name for t in run.graph.get_operation_by_name("new_model/logits/MatMul").inputs}
  assert logits_inputs == {"new_model/input", "new_model/logits/MatMul/ReadVariableOp"}


def test_pretrained_checkpoint_keys():
  """000: the assumed pretrained model stores fully_connected/fc_weights, fc_biases (plus its old head)."""
  net = finetune.build_pretrained(**SMALL)
  assert [v.op.name for v in net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)] == [
      "fully_connected/fc_weights", "fully_connected/fc_biases", "classifier/weights", "classifier/biases"]
  root = finetune.build_pretrained(scope=None, **SMALL)
  assert [v.op.name for v in root.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)][:2] == [
      "fc_weights", "fc_biases"]


def test_fine_tune_graph_names():
  """000 (corrected): the new model's variables live under new_model/; the Saver dict maps checkpoint keys."""
  net = finetune.build_fine_tune(**SMALL, n_classes=3)
  assert [(v.op.name, v.shape.as_list()) for v in net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)] == [
      ("new_model/fully_connected/fc_weights", [6, 4]),
      ("new_model/fully_connected/fc_biases", [4]),
      ("new_model/new_head/weights", [4, 3]),
      ("new_model/new_head/biases", [3]),
  ]
  assert sorted(net.restore_saver._var_list) == ["fully_connected/fc_biases",  # pylint: disable=protected-access
                                                 "fully_connected/fc_weights"]


def test_fine_tune_restores_selected_variables(tmp_path):
  """000 (corrected): the Saver dict restores fc_weights/fc_biases into new_model/fully_connected/*."""
  path = finetune.save_pretrained(str(tmp_path), seed=0, **SMALL)
  reader = tf.train.load_checkpoint(path)
  out = finetune.fine_tune(path, steps=3, n_classes=3, **SMALL)
  np.testing.assert_array_equal(out["restored_w"], reader.get_tensor("fully_connected/fc_weights"))
  np.testing.assert_array_equal(out["restored_b"], reader.get_tensor("fully_connected/fc_biases"))
  assert not np.array_equal(out["final_w"], out["restored_w"]), "fine-tuning trains the restored layer"
  frozen = finetune.fine_tune(path, steps=3, n_classes=3, train_pretrained=False, **SMALL)
  np.testing.assert_array_equal(frozen["final_w"], frozen["restored_w"])


def test_fine_tune_root_keys_as_in_the_listing(tmp_path):
  """000: the listing's own dict keys "fc_weights"/"fc_biases" work when the checkpoint stores them at root."""
  path = finetune.save_pretrained(str(tmp_path), scope=None, seed=0, **SMALL)
  out = finetune.fine_tune(path, steps=1, n_classes=3, checkpoint_keys=("fc_weights", "fc_biases"), **SMALL)
  np.testing.assert_array_equal(out["restored_w"], tf.train.load_checkpoint(path).get_tensor("fc_weights"))


def test_fine_tune_wrong_key_fails_loudly(tmp_path):
  """000: with the layer scoped, the listing's bare key "fc_weights" is not in the checkpoint."""
  path = finetune.save_pretrained(str(tmp_path), seed=0, **SMALL)
  with pytest.raises(tf.errors.NotFoundError, match=r"Key fc_biases not found in checkpoint"):
    finetune.fine_tune(path, steps=0, n_classes=3, checkpoint_keys=("fc_weights", "fc_biases"), **SMALL)


def test_fine_tune_second_saver_saves_whole_new_model(tmp_path):
  """000 (corrected): the whole new model, head included, is saved under its new_model/ names."""
  out = finetune.fine_tune(finetune.save_pretrained(str(tmp_path), seed=0, **SMALL), steps=1, n_classes=3,
                           **SMALL)
  net = out["net"]
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    path = net.saver.save(sess, str(tmp_path / "new.ckpt"), write_meta_graph=False)
  assert [name for name, _ in tf.train.list_variables(path)] == [
      "new_model/fully_connected/fc_biases", "new_model/fully_connected/fc_weights",
      "new_model/new_head/biases", "new_model/new_head/weights"]


def test_demos_run():
  """000: every registered fine-tuning demo runs and matches the document."""
  for demo in (finetune.demo_literal_syntax, finetune.demo_literal_shape, finetune.demo_literal_restore,
               finetune.demo_fine_tune):
    assert demo()
