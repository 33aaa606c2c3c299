"""Tests of keras_bridge._inspect: listing and diffing name-based, object-based and `.weights.h5` files.

The checkpoints are those of the 002_9773991e7c1a2830.txt DNN at small sizes (issue 3, part 3).
"""

import json

import pytest
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _convert
from keras_bridge import _inspect
from keras_bridge import models
from tf1_reference import dnn

v1 = tf.compat.v1
N_INPUTS, N_OUTPUTS, HIDDEN = 8, 3, (6, 5)


def _twin():
  return models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)


@pytest.fixture
def files(tmp_path):
  """The same DNN weights as a TF1 checkpoint (with `global_step`), an object-based one and a .weights.h5."""
  net = dnn.build_dnn(N_INPUTS, N_OUTPUTS, HIDDEN, seed=5, global_step=True)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    tf1 = net.saver.save(sess, str(tmp_path / "tf1" / "model.ckpt"), global_step=1)
  model = _twin()
  _convert.convert_checkpoint(tf1, tmp_path / "obj" / "ckpt", model)
  _convert.convert_checkpoint(tf1, tmp_path / "dnn.weights.h5", model)
  return {"tf1": tf1, "obj": str(tmp_path / "obj" / "ckpt"), "h5": str(tmp_path / "dnn.weights.h5")}


def test_inspect_name_based_lists_keys_shapes_dtypes_bytes(files):
  info = _inspect.inspect_checkpoint(files["tf1"])
  assert info.format == "name-based" and info.location == files["tf1"]
  assert info.keys() == ["global_step", "hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel",
                         "outputs/bias", "outputs/kernel"]
  assert info["hidden1/kernel"] == _inspect.TensorInfo("hidden1/kernel", (8, 6), "float32", 192)
  assert info["global_step"].dtype == "int64" and info["global_step"].nbytes == 8
  assert info.total_bytes == 8 + 4 * (8 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3)
  assert "hidden1/kernel  (8, 6)  float32  192" in str(info)


def test_inspect_object_based_gives_object_paths(files):
  info = _inspect.inspect_checkpoint(files["obj"])
  assert info.format == "object-based"
  kernel = info["model/_operations/1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"]
  assert kernel.shape == (8, 6) and kernel.object_path == "model/_operations/1/_kernel"
  assert info["save_counter/.ATTRIBUTES/VARIABLE_VALUE"].object_path == "save_counter"
  assert "_CHECKPOINTABLE_OBJECT_GRAPH" not in info.keys()
  assert "object path" in str(info)


def test_inspect_keras_h5_gives_layer_names_and_json(files):
  info = _inspect.inspect_checkpoint(files["h5"])
  assert info.format == "keras-h5"
  assert info["layers/dense/vars/0"] == _inspect.TensorInfo("layers/dense/vars/0", (8, 6), "float32", 192,
                                                            layer="hidden1")
  as_json = json.loads(json.dumps(info.to_dict()))
  assert as_json["format"] == "keras-h5" and as_json["tensors"][0]["shape"] == [8, 6]


def test_inspect_rejects_a_file_that_is_not_a_checkpoint(tmp_path):
  """Issue 3 part 7: a file that is not a checkpoint gets a CheckpointFormatError naming it."""
  bogus = tmp_path / "notes.txt"
  bogus.write_text("hello")
  with pytest.raises(_errors.CheckpointFormatError, match="notes.txt"):
    _inspect.inspect_checkpoint(bogus)
  fake_h5 = tmp_path / "x.weights.h5"
  fake_h5.write_text("not hdf5")
  with pytest.raises(_errors.CheckpointFormatError, match="not an HDF5 file"):
    _inspect.inspect_checkpoint(fake_h5)
  with pytest.raises(_errors.CheckpointNotFoundError, match="missing.weights.h5"):
    _inspect.inspect_checkpoint(tmp_path / "missing.weights.h5")


@pytest.mark.parametrize("a, b", [("tf1", "obj"), ("tf1", "h5"), ("obj", "h5")],
                         ids=["tf1_vs_object", "tf1_vs_h5", "object_vs_h5"])
def test_diff_across_formats_with_a_model_is_identical_for_the_weights(files, a, b):
  """With `model=`, tensors are compared by canonical Keras path; only non-weight state differs."""
  diff = _inspect.diff_checkpoints(files[a], files[b], model=_twin())
  assert diff.compared_by == "canonical Keras paths"
  assert diff.equal == ["hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel", "outputs/bias",
                        "outputs/kernel"]
  assert not diff.shape_changes and not diff.dtype_changes and not diff.value_changes
  extra = {"tf1": ["global_step"], "obj": ["save_counter/.ATTRIBUTES/VARIABLE_VALUE"], "h5": []}
  assert diff.only_in_a == extra[a] and diff.only_in_b == extra[b]


def test_diff_raw_keys_reports_value_shape_and_membership_changes(files, tmp_path):
  """Without a model: raw keys; a changed value gives its max |a - b|, a resized layer a shape change."""
  net = dnn.build_dnn(N_INPUTS, N_OUTPUTS, (6, 4), seed=5)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    with net.graph.as_default():
      kernel = [v for v in net.model_variables() if v.op.name == "hidden1/kernel"][0]
      sess.run(kernel.assign_add(tf.fill(kernel.shape, 0.5)))
    other = net.saver.save(sess, str(tmp_path / "other" / "model.ckpt"))
  diff = _inspect.diff_checkpoints(files["tf1"], other)
  assert diff.compared_by == "raw keys" and not diff.identical
  assert diff.only_in_a == ["global_step"] and diff.only_in_b == []
  assert [c.name for c in diff.shape_changes] == ["hidden2/bias", "hidden2/kernel", "outputs/kernel"]
  assert diff.shape_changes[1] == _inspect.Change("hidden2/kernel", (6, 5), (6, 4))
  changed = {c.name: c.max_abs_diff for c in diff.value_changes}
  assert set(changed) == {"hidden1/kernel"} and changed["hidden1/kernel"] == pytest.approx(0.5, abs=1e-6)
  assert diff.equal == ["hidden1/bias", "outputs/bias"]
  assert "values changed: hidden1/kernel" in str(diff)
  json.dumps(diff.to_dict())


def test_diff_raw_keys_across_formats_says_to_pass_a_model(files):
  diff = _inspect.diff_checkpoints(files["tf1"], files["h5"])
  assert not diff.equal and len(diff.only_in_a) == 7 and len(diff.only_in_b) == 6
  assert "pass model=" in str(diff)


def test_diff_of_a_checkpoint_with_itself_is_identical(files):
  diff = _inspect.diff_checkpoints(files["obj"], files["obj"])
  assert diff.identical and len(diff.equal) == 7
