"""Tests of keras_bridge._tf1_checkpoint: finding, reading, loading and writing name-based checkpoints.

Every bad input of issue 3 part 7 has a test that checks the message names the file or key and the fix, and
that the model's weights are unchanged (or, for saving, that nothing was written). The checkpoints are
written by a real `tf.compat.v1.train.Saver`; values are filled predictably (0, 1, 2, ... per variable).
"""

import doctest
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from keras_bridge import _errors
from keras_bridge import _naming
from keras_bridge import _tf1_checkpoint as ckpt
from keras_bridge import models
import tf1_reference
from tf1_reference import dnn

v1 = tf.compat.v1

SHAPES = {"hidden1/kernel": (8, 6), "hidden1/bias": (6,), "hidden2/kernel": (6, 5), "hidden2/bias": (5,),
          "outputs/kernel": (5, 3), "outputs/bias": (3,)}


def _values(shapes=None, dtype=np.float32):
  return {name: (np.arange(np.prod(shape)).reshape(shape) + 100 * i).astype(dtype)
          for i, (name, shape) in enumerate(sorted((shapes or SHAPES).items()))}


def _tf1_save(prefix, values, sharded=False, global_step=None):
  """Saves `values` with a TF1 Saver; `sharded` puts alternate variables on two CPU devices (two shards)."""
  g = tf.Graph()
  with g.as_default():
    variables = []
    for i, (name, value) in enumerate(sorted(values.items())):
      with tf.device(f"/cpu:{i % 2 if sharded else 0}"):
        variables.append(v1.get_variable(name, initializer=tf.constant(value)))
    saver = v1.train.Saver(variables, sharded=sharded)
    init = v1.global_variables_initializer()
  with v1.Session(graph=g, config=v1.ConfigProto(device_count={"CPU": 2})) as sess:
    sess.run(init)
    return saver.save(sess, str(prefix), global_step=global_step, write_meta_graph=False)


def _model():
  return models.dnn(8, 3, (6, 5))


def _snapshot(model):
  return {path: var.numpy().copy() for path, var in _naming.canonical_weights(model).items()}


def _assert_unchanged(model, before):
  after = _snapshot(model)
  assert all(np.array_equal(before[k], after[k]) for k in before)


def _assert_loaded(model, values):
  weights = _naming.canonical_weights(model)
  for name, value in values.items():
    assert np.array_equal(weights[name].numpy(), value), name


@pytest.fixture
def saved(tmp_path):
  """A TF1 checkpoint of the small DNN: (prefix, values)."""
  values = _values()
  return _tf1_save(tmp_path / "model.ckpt", values, global_step=100), values


# Resolving what the user passes.


def test_saver_writes_the_expected_files(saved, tmp_path):
  prefix, _ = saved
  assert prefix == str(tmp_path / "model.ckpt-100")
  assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model.ckpt-100.data-00000-of-00001",
                                          "model.ckpt-100.index"]


@pytest.mark.parametrize("suffix", ["", ".index", ".data-00000-of-00001", ".meta"],
                         ids=["prefix", "index_file", "data_file", "meta_file"])
def test_resolve_accepts_the_prefix_and_any_of_its_files(saved, suffix):
  prefix, _ = saved
  assert ckpt.resolve_checkpoint(prefix + suffix) == prefix


def test_resolve_directory_means_latest(tmp_path):
  _tf1_save(tmp_path / "model.ckpt", _values(), global_step=1)
  _tf1_save(tmp_path / "model.ckpt", _values(), global_step=2)
  assert ckpt.resolve_checkpoint(tmp_path) == str(tmp_path / "model.ckpt-2")


def test_resolve_directory_copied_elsewhere_uses_the_local_copy(saved, tmp_path):
  """The Saver writes absolute paths into the state file; a moved directory still resolves."""
  prefix, _ = saved
  moved = tmp_path.parent / (tmp_path.name + "_moved")
  os.rename(tmp_path, moved)
  assert ckpt.resolve_checkpoint(moved) == str(moved / "model.ckpt-100")


def test_sharded_checkpoint_loads(tmp_path):
  values = _values()
  prefix = _tf1_save(tmp_path / "model.ckpt", values, sharded=True)
  assert sorted(f for f in os.listdir(tmp_path) if ".data-" in f) == [
      "model.ckpt.data-00000-of-00002", "model.ckpt.data-00001-of-00002"]
  assert ckpt.resolve_checkpoint(prefix + ".data-00001-of-00002") == prefix
  model = _model()
  report = ckpt.load_tf1_checkpoint(model, prefix)
  assert report.ok and report.assigned
  _assert_loaded(model, values)


def test_read_variables_and_format(saved):
  prefix, _ = saved
  assert ckpt.read_variables(prefix) == {
      "hidden1/bias": ((6,), "float32"), "hidden1/kernel": ((8, 6), "float32"),
      "hidden2/bias": ((5,), "float32"), "hidden2/kernel": ((6, 5), "float32"),
      "outputs/bias": ((3,), "float32"), "outputs/kernel": ((5, 3), "float32")}
  assert ckpt.checkpoint_format(prefix) == "name-based"


def test_object_based_format_is_detected(tmp_path):
  prefix = tf.train.Checkpoint(model=_model()).write(str(tmp_path / "obj"))
  assert ckpt.checkpoint_format(prefix) == "object-based"
  assert "_CHECKPOINTABLE_OBJECT_GRAPH" not in ckpt.read_variables(prefix)


# Loading.


def test_load_assigns_every_weight(saved):
  prefix, values = saved
  model = _model()
  report = ckpt.load_tf1_checkpoint(model, prefix)
  assert report.ok and report.assigned and report.checkpoint == prefix
  assert len(report.matched) == 6
  _assert_loaded(model, values)


def test_dry_run_assigns_nothing(saved):
  prefix, _ = saved
  model = _model()
  before = _snapshot(model)
  report = ckpt.load_tf1_checkpoint(model, prefix, dry_run=True)
  assert report.ok and not report.assigned and len(report.matched) == 6
  _assert_unchanged(model, before)


def test_strict_error_lists_all_problems_and_assigns_nothing(tmp_path):
  values = _values()
  values["hidden1/kernel"] = np.zeros((8, 7), np.float32)  # shape mismatch
  values["hidden2/bias"] = values["hidden2/bias"].astype(np.float64)  # dtype mismatch
  values["hidden9/kernel"] = np.zeros((2, 2), np.float32)  # unused
  del values["outputs/bias"]  # unfilled
  prefix = _tf1_save(tmp_path / "model.ckpt", values)
  model = _model()
  before = _snapshot(model)
  with pytest.raises(_errors.MappingError) as info:
    ckpt.load_tf1_checkpoint(model, prefix)
  message = str(info.value)
  assert "4 problem(s)" in message and "nothing was assigned" in message
  assert "checkpoint key 'hidden1/kernel' has shape (8, 7), Keras weight 'hidden1/kernel' has shape (8, 6)" in message
  assert "checkpoint key 'hidden2/bias' is float64, Keras weight 'hidden2/bias' is float32" in message
  assert "checkpoint key 'hidden9/kernel' fills no Keras weight" in message
  assert "Keras weight 'outputs/bias' is filled by no checkpoint key" in message
  assert "strict=False" in message
  assert info.value.report is not None and not info.value.report.ok
  _assert_unchanged(model, before)


def test_non_strict_assigns_what_matches(tmp_path):
  values = _values()
  values["hidden1/kernel"] = np.zeros((8, 7), np.float32)
  del values["outputs/bias"]
  prefix = _tf1_save(tmp_path / "model.ckpt", values)
  model = _model()
  before = _snapshot(model)
  report = ckpt.load_tf1_checkpoint(model, prefix, strict=False)
  assert report.assigned and not report.ok
  assert report.unfilled_keras == ["outputs/bias"]
  weights = _naming.canonical_weights(model)
  assert np.array_equal(weights["hidden2/kernel"].numpy(), values["hidden2/kernel"])
  assert np.array_equal(weights["hidden1/kernel"].numpy(), before["hidden1/kernel"])
  assert np.array_equal(weights["outputs/bias"].numpy(), before["outputs/bias"])


def test_load_with_include_loads_only_selected_layers(saved):
  """002_9773991e7c1a2830.txt's partial restore of hidden1..3, here hidden1 only, non-strict."""
  prefix, values = saved
  model = _model()
  before = _snapshot(model)
  report = ckpt.load_tf1_checkpoint(model, prefix, include=["hidden1"], strict=False)
  assert [m.tf1_key for m in report.matched] == ["hidden1/bias", "hidden1/kernel"]
  _assert_loaded(model, {k: values[k] for k in ("hidden1/kernel", "hidden1/bias")})
  _assert_unchanged(model, {k: before[k] for k in ("hidden2/kernel", "outputs/bias")})


# Bad input: each error names the file or key and the fix, and leaves the model untouched.


def _load_fails(path, error, *fragments):
  model = _model()
  before = _snapshot(model)
  with pytest.raises(error) as info:
    ckpt.load_tf1_checkpoint(model, path)
  for fragment in fragments:
    assert fragment in str(info.value)
  _assert_unchanged(model, before)
  return str(info.value)


def test_missing_path(tmp_path):
  _load_fails(tmp_path / "nope.ckpt", _errors.CheckpointNotFoundError,
              f"No checkpoint at {str(tmp_path / 'nope.ckpt')!r}", "holds no checkpoint", "Pass a checkpoint prefix")


def test_missing_path_suggests_existing_prefixes(saved, tmp_path):
  """The classic slip: `model.ckpt` where the Saver wrote `model.ckpt-100`."""
  _load_fails(tmp_path / "model.ckpt", _errors.CheckpointNotFoundError,
              f"Checkpoint prefixes in {str(tmp_path)!r}: {str(tmp_path / 'model.ckpt-100')!r}")


def test_missing_directory(tmp_path):
  _load_fails(tmp_path / "no_dir" / "model.ckpt", _errors.CheckpointNotFoundError,
              f"The directory {str(tmp_path / 'no_dir')!r} does not exist")


def test_directory_without_state_file_lists_its_files(saved, tmp_path):
  os.remove(tmp_path / "checkpoint")
  _load_fails(tmp_path, _errors.CheckpointNotFoundError,
              f"Directory {str(tmp_path)!r} has no 'checkpoint' state file",
              "contains: model.ckpt-100.data-00000-of-00001, model.ckpt-100.index",
              f"pass one of these prefixes instead: {str(tmp_path / 'model.ckpt-100')!r}")


def test_empty_directory(tmp_path):
  _load_fails(tmp_path, _errors.CheckpointNotFoundError, "the directory is empty")


def test_state_file_pointing_at_missing_checkpoint(saved, tmp_path):
  for name in os.listdir(tmp_path):
    if name.startswith("model.ckpt-100"):
      os.remove(tmp_path / name)
  _load_fails(tmp_path, _errors.CheckpointNotFoundError,
              f"State file {str(tmp_path / 'checkpoint')!r} points at a missing checkpoint",
              str(tmp_path / "model.ckpt-100.index"))


@pytest.mark.parametrize("suffix", [".index", ".data-00000-of-00001"], ids=["index", "data"])
def test_truncated_file(saved, suffix):
  prefix, _ = saved
  path = prefix + suffix
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)
  message = _load_fails(prefix, _errors.CheckpointFormatError, repr(path), "truncated", "again")
  if suffix != ".index":
    # hidden1/bias, first in the data file, still reads; the model gets none of it all the same.
    assert "Cannot read 5 tensor(s)" in message
    assert f"'hidden1/kernel' (bytes 24..216 of {path!r}: the file ends 2 bytes early)" in message
    assert "Nothing was assigned" in message


def test_missing_shard(tmp_path):
  prefix = _tf1_save(tmp_path / "model.ckpt", _values(), sharded=True)
  os.remove(prefix + ".data-00001-of-00002")
  _load_fails(prefix, _errors.CheckpointNotFoundError,
              f"missing data shard(s): {prefix + '.data-00001-of-00002'!r}",
              f"found {prefix + '.data-00000-of-00002'!r}", "Copy every '.data-*-of-*' file")


def test_missing_data_file(saved):
  prefix, _ = saved
  os.remove(prefix + ".data-00000-of-00001")
  _load_fails(prefix, _errors.CheckpointNotFoundError, "has an index but no data file",
              repr(prefix + ".data-00000-of-00001"))


def test_file_that_is_not_a_checkpoint(tmp_path):
  path = tmp_path / "notes.txt"
  path.write_text("hello")
  _load_fails(path, _errors.CheckpointFormatError, f"{str(path)!r} is not a name-based checkpoint",
              "file of 5 bytes", "Pass the checkpoint prefix")


def test_garbage_index_file(tmp_path):
  (tmp_path / "model.ckpt.index").write_bytes(b"not an sstable" * 10)
  (tmp_path / "model.ckpt.data-00000-of-00001").write_bytes(b"")
  _load_fails(tmp_path / "model.ckpt.index", _errors.CheckpointFormatError,
              f"Cannot read the checkpoint index {str(tmp_path / 'model.ckpt.index')!r}", "not a TensorFlow checkpoint")


def test_object_based_checkpoint_is_refused(tmp_path):
  prefix = tf.train.Checkpoint(model=models.dnn(8, 3, (6, 5), name="other")).write(str(tmp_path / "obj"))
  _load_fails(prefix, _errors.CheckpointFormatError, f"{prefix!r} is an object-based (TF2) checkpoint",
              "tf.train.Checkpoint(model=model).read(prefix)")


def test_shape_mismatch_message(tmp_path):
  prefix = _tf1_save(tmp_path / "model.ckpt", _values(dict(SHAPES, **{"outputs/kernel": (5, 4),
                                                                        "outputs/bias": (4,)})))
  _load_fails(prefix, _errors.MappingError,
              "checkpoint key 'outputs/kernel' has shape (5, 4), Keras weight 'outputs/kernel' has shape (5, 3)",
              "checkpoint key 'outputs/bias' has shape (4,), Keras weight 'outputs/bias' has shape (3,)")


def test_dtype_mismatch_message(tmp_path):
  prefix = _tf1_save(tmp_path / "model.ckpt", _values(dtype=np.float64))
  message = _load_fails(prefix, _errors.MappingError,
                        "checkpoint key 'hidden1/kernel' is float64, Keras weight 'hidden1/kernel' is float32",
                        "dtype='float64'")
  assert "6 problem(s)" in message


# Saving.


def test_save_writes_a_checkpoint_the_tf1_saver_restores(tmp_path):
  model = _model()
  prefix = ckpt.save_tf1_checkpoint(model, tmp_path / "out" / "model.ckpt", global_step=5)
  assert prefix == str(tmp_path / "out" / "model.ckpt-5")
  assert sorted(os.listdir(tmp_path / "out")) == ["checkpoint", "model.ckpt-5.data-00000-of-00001",
                                                  "model.ckpt-5.index"]
  assert tf.train.latest_checkpoint(str(tmp_path / "out")) == prefix
  assert ckpt.checkpoint_format(prefix) == "name-based"
  expected = _snapshot(model)
  g = tf.Graph()
  with g.as_default():
    variables = {name: v1.get_variable(name, shape=shape) for name, shape in SHAPES.items()}
    saver = v1.train.Saver(list(variables.values()))
  with v1.Session(graph=g) as sess:
    saver.restore(sess, prefix)
    for name, var in variables.items():
      assert np.array_equal(sess.run(var), expected[name]), name


def test_save_keeps_earlier_checkpoints_in_state_file(tmp_path):
  model = _model()
  ckpt.save_tf1_checkpoint(model, tmp_path / "model.ckpt", global_step=1)
  ckpt.save_tf1_checkpoint(model, tmp_path / "model.ckpt", global_step=2)
  state = tf.train.get_checkpoint_state(str(tmp_path))
  assert state.model_checkpoint_path == str(tmp_path / "model.ckpt-2")
  assert list(state.all_model_checkpoint_paths) == [str(tmp_path / "model.ckpt-1"), str(tmp_path / "model.ckpt-2")]


def test_save_rules_give_slim_names_and_extra_is_written(tmp_path):
  model = _model()
  prefix = ckpt.save_tf1_checkpoint(model, tmp_path / "model.ckpt",
                                    rules=[(r"/kernel$", "/weights"), (r"/bias$", "/biases")],
                                    extra={"global_step": np.int64(7), "beta1_power": np.float32(0.9)})
  names = ckpt.read_variables(prefix)
  assert names["hidden1/weights"] == ((8, 6), "float32")
  assert names["global_step"] == ((), "int64")
  assert "hidden1/kernel" not in names
  assert tf.train.load_checkpoint(prefix).get_tensor("beta1_power") == np.float32(0.9)
  # And the default rules read the slim names straight back.
  other = _model()
  assert ckpt.load_tf1_checkpoint(other, prefix).ok
  _assert_loaded(other, _snapshot(model))


def _listing(directory):
  return {name: (directory / name).read_bytes() for name in sorted(os.listdir(directory))}


def test_save_refuses_to_overwrite(tmp_path):
  ckpt.save_tf1_checkpoint(_model(), tmp_path / "model.ckpt")
  before = _listing(tmp_path)
  with pytest.raises(_errors.OutputExistsError) as info:
    ckpt.save_tf1_checkpoint(models.dnn(8, 3, (6, 5), name="other"), tmp_path / "model.ckpt")
  message = str(info.value)
  assert repr(str(tmp_path / "model.ckpt.index")) in message and "overwrite=True" in message
  assert "Nothing was written" in message
  assert _listing(tmp_path) == before


def test_save_overwrite_replaces_the_checkpoint(tmp_path):
  ckpt.save_tf1_checkpoint(_model(), tmp_path / "model.ckpt")
  keras_model = models.dnn(8, 3, (6, 5), name="other")
  prefix = ckpt.save_tf1_checkpoint(keras_model, tmp_path / "model.ckpt", overwrite=True)
  reader = tf.train.load_checkpoint(prefix)
  assert np.array_equal(reader.get_tensor("hidden1/kernel"), keras_model.get_layer("hidden1").kernel.numpy())
  assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp")]


def test_save_key_clash_writes_nothing(tmp_path):
  with pytest.raises(_errors.MappingError) as info:
    ckpt.save_tf1_checkpoint(_model(), tmp_path / "model.ckpt", rules=[(r"^hidden\d", "layer")])
  message = str(info.value)
  assert "'layer/kernel' from Keras weight 'hidden1/kernel', Keras weight 'hidden2/kernel'" in message
  assert "Nothing was written" in message
  assert os.listdir(tmp_path) == []


def test_save_extra_clash_writes_nothing(tmp_path):
  with pytest.raises(_errors.MappingError, match="'hidden1/bias' from Keras weight 'hidden1/bias', extra"):
    ckpt.save_tf1_checkpoint(_model(), tmp_path / "model.ckpt", extra={"hidden1/bias": np.zeros(6)})
  assert os.listdir(tmp_path) == []


def test_save_to_directory_is_refused(tmp_path):
  with pytest.raises(_errors.CheckpointFormatError, match="needs a checkpoint prefix inside it"):
    ckpt.save_tf1_checkpoint(_model(), tmp_path)
  assert os.listdir(tmp_path) == []


def test_report_of_load_is_json_serialisable(saved):
  prefix, _ = saved
  data = ckpt.load_tf1_checkpoint(_model(), prefix).to_dict()
  assert json.loads(json.dumps(data))["assigned"] is True


def test_docstring_examples_run(tmp_path, monkeypatch):
  """The examples in the module's docstrings run, in a directory holding run/model.ckpt-100."""
  monkeypatch.chdir(tmp_path)
  net = dnn.build_dnn(8, 3, (6, 5, 5, 5, 5))
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    net.saver.save(sess, "run/model.ckpt", global_step=100)
  model = models.dnn(8, 3, (6, 5, 5, 5, 5))
  result = doctest.testmod(ckpt, extraglobs={"keras_bridge": keras_bridge, "tf1_reference": tf1_reference,
                                             "model": model, "tf": tf})
  assert result.failed == 0 and result.attempted == 10
  assert sorted(os.listdir(tmp_path / "out")) == ["checkpoint", "model.ckpt-100.data-00000-of-00001",
                                                  "model.ckpt-100.index", "model.ckpt-5.data-00000-of-00001",
                                                  "model.ckpt-5.index"]


def test_save_overwrite_of_a_sharded_checkpoint_removes_stale_shards(tmp_path):
  prefix = _tf1_save(tmp_path / "model.ckpt", _values(), sharded=True)
  model = _model()
  assert ckpt.save_tf1_checkpoint(model, prefix, overwrite=True) == prefix
  assert sorted(f for f in os.listdir(tmp_path) if f.startswith("model.ckpt")) == [
      "model.ckpt.data-00000-of-00001", "model.ckpt.index"]
  other = _model()
  ckpt.load_tf1_checkpoint(other, prefix)
  _assert_loaded(other, _snapshot(model))


def test_save_of_an_unbuilt_model_writes_nothing(tmp_path):
  with pytest.raises(_errors.MappingError, match="Model 'empty' has no weights.*Build the model first"):
    ckpt.save_tf1_checkpoint(keras.Sequential(name="empty"), tmp_path / "model.ckpt")
  assert os.listdir(tmp_path) == []


def test_corrupt_state_file(saved, tmp_path):
  (tmp_path / "checkpoint").write_text("this is { not a CheckpointState")
  _load_fails(tmp_path, _errors.CheckpointFormatError, f"State file {str(tmp_path / 'checkpoint')!r}",
              "pass a checkpoint prefix instead")
