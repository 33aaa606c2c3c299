"""keras_bridge._loading (issue 13, goal 2): a load checks every tensor's CRC-32C first (pass 1, streamed), then
restores and assigns one tensor at a time (pass 2). Claims: the values equal the checkpoint's; a corrupt tensor
found in pass 1 leaves the model (and the optimizer) untouched; a failure in pass 2 names the weights already
assigned; partitioned variables and TF1 Momentum's converted slots load as before.
"""

import errno
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from keras_bridge import _bundle
from keras_bridge import _errors
from keras_bridge import _keras_private
from keras_bridge import _loading
from keras_bridge import _naming
from keras_bridge import _optimizers
from keras_bridge import models
from tf1_reference import dnn

v1 = tf.compat.v1
# The tiny DNN's Momentum checkpoint as the Saver writes it, keys sorted: (offset, size) in the data file.
EXTENTS = {"hidden1/bias": (0, 16), "hidden1/bias/Momentum": (16, 16), "hidden1/kernel": (32, 80),
           "hidden1/kernel/Momentum": (112, 80), "outputs/bias": (192, 12), "outputs/bias/Momentum": (204, 12),
           "outputs/kernel": (216, 48), "outputs/kernel/Momentum": (264, 48)}


def _snapshot(model):
  return {path: var.numpy().copy() for path, var in _naming.canonical_weights(model).items()}


@pytest.fixture(name="trained")
def fixture_trained(tmp_path):
  """Two TF1 Momentum steps of the tiny DNN (5 inputs, 4 hidden, 3 outputs): (prefix, net, {key: value})."""
  net = dnn.build_dnn(5, 3, (4,), learning_rate=0.01, threshold=None,
                      optimizer=lambda lr: v1.train.MomentumOptimizer(lr, 0.9), seed=1)
  rng = np.random.default_rng(0)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    for _ in range(2):
      sess.run(net.training_op, {net.X: rng.normal(size=(8, 5)), net.y: rng.integers(0, 3, 8)})
    prefix = net.saver.save(sess, str(tmp_path / "model.ckpt"), write_meta_graph=False)
  reader = tf.train.load_checkpoint(prefix)
  return prefix, net, {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


def _flip(path, position):
  with open(path, "r+b") as f:
    f.seek(position)
    byte = f.read(1)
    f.seek(position)
    f.write(bytes([byte[0] ^ 0xFF]))


def test_extents_of_the_fixture(trained):
  """The offsets the other tests corrupt are those of the Saver's data file."""
  prefix, _, _ = trained
  extents = _bundle.open_bundle(prefix)._extents[1]  # pylint: disable=protected-access
  assert {k: (v[0][1].offset, v[0][1].size) for k, v in extents.items()} == EXTENTS


def test_values_equal_the_checkpoint(trained):
  prefix, _, values = trained
  model = models.dnn(5, 3, (4,))
  keras_bridge.load_tf1_checkpoint(model, prefix)
  for path, var in _naming.canonical_weights(model).items():
    np.testing.assert_array_equal(var.numpy(), values[path], err_msg=path)


def test_crc_failure_in_pass_1_assigns_nothing(trained):
  """One flipped byte in the middle of outputs/kernel: named with its bytes and file, nothing assigned."""
  prefix, _, _ = trained
  data = prefix + ".data-00000-of-00001"
  _flip(data, 240)
  model = models.dnn(5, 3, (4,))
  before = _snapshot(model)
  with pytest.raises(_errors.CheckpointFormatError) as info:
    keras_bridge.load_tf1_checkpoint(model, prefix)
  assert not isinstance(info.value, _errors.PartialLoadError)
  assert f"'outputs/kernel' (bytes 216..264 of {data!r}: CRC-32C mismatch)" in str(info.value)
  assert "Cannot read 1 tensor(s)" in str(info.value) and "Nothing was assigned." in str(info.value)
  assert "\n" not in str(info.value)
  after = _snapshot(model)
  assert all(np.array_equal(before[k], after[k]) for k in before)


def test_crc_failure_of_a_slot_assigns_nothing_to_the_model_or_optimizer(trained):
  """A corrupt Momentum accumulator is found before any weight is assigned or the optimizer is built."""
  prefix, net, _ = trained
  _flip(prefix + ".data-00000-of-00001", EXTENTS["hidden1/kernel/Momentum"][0] + 3)
  model, optimizer = models.dnn(5, 3, (4,)), keras.optimizers.SGD(0.01, momentum=0.9)
  before = _snapshot(model)
  with pytest.raises(_errors.CheckpointFormatError, match=r"'hidden1/kernel/Momentum' \(bytes .* CRC-32C mismatch"):
    _optimizers.load_tf1_training_state(model, optimizer, prefix, tf1_optimizer=net.optimizer)
  assert not optimizer.built
  after = _snapshot(model)
  assert all(np.array_equal(before[k], after[k]) for k in before)


def _truncate_after_pass_1(monkeypatch, data, size):
  """Pass 1 runs on the intact file, then the data file is cut to `size` bytes before pass 2."""
  verify = _bundle.Bundle.verify

  def verify_then_truncate(self, keys):
    verify(self, keys)
    with open(data, "r+b") as f:
      f.truncate(size)

  monkeypatch.setattr(_bundle.Bundle, "verify", verify_then_truncate)


def test_failure_in_pass_2_names_the_assigned_weights(trained, monkeypatch):
  """The data file cut after hidden1's tensors (between the passes): the error names hidden1/bias and
  hidden1/kernel as assigned, the outputs layer as not assigned, and the model holds exactly that."""
  prefix, _, values = trained
  _truncate_after_pass_1(monkeypatch, prefix + ".data-00000-of-00001", EXTENTS["outputs/bias"][0])
  model = models.dnn(5, 3, (4,))
  before = _snapshot(model)
  with pytest.raises(_errors.PartialLoadError) as info:
    keras_bridge.load_tf1_checkpoint(model, prefix)
  message = str(info.value)
  assert info.value.assigned == ["weight 'hidden1/bias'", "weight 'hidden1/kernel'"]
  assert "Assigned already (2): weight 'hidden1/bias', weight 'hidden1/kernel';" in message
  assert "not assigned (2): weight 'outputs/bias', weight 'outputs/kernel'." in message
  assert f"Loading checkpoint {prefix!r} failed at weight 'outputs/bias'" in message
  assert "\n" not in message
  assert isinstance(info.value, keras_bridge.CheckpointFormatError)
  after = _snapshot(model)
  for path in ("hidden1/bias", "hidden1/kernel"):
    np.testing.assert_array_equal(after[path], values[path])
  for path in ("outputs/bias", "outputs/kernel"):
    np.testing.assert_array_equal(after[path], before[path])


def test_failure_in_pass_2_of_a_training_state_names_weights_and_slots(trained, monkeypatch):
  """The data file removed between the passes: nothing could be assigned, and the error says so."""
  prefix, net, _ = trained
  _truncate_after_pass_1(monkeypatch, prefix + ".data-00000-of-00001", 0)
  with pytest.raises(_errors.PartialLoadError, match=r"Assigned already \(0\): none; not assigned \(8\): weight "
                     r"'hidden1/bias', .*, SGD momentums of 'outputs/bias'\. Copy the checkpoint again"):
    _optimizers.load_tf1_training_state(models.dnn(5, 3, (4,)), None, prefix, tf1_optimizer=net.optimizer)


def test_momentum_slots_are_converted_in_place(trained):
  """Keras SGD's momentum = -learning_rate * TF1's accumulation, computed after the assignment in float32."""
  prefix, net, values = trained
  model = models.dnn(5, 3, (4,))
  optimizer = _optimizers.load_tf1_training_state(model, None, prefix, tf1_optimizer=net.optimizer).optimizer
  for path, var in _naming.canonical_weights(model).items():
    slot = optimizer.momentums[_keras_private.variable_index(optimizer, var)]
    np.testing.assert_array_equal(slot.numpy(), np.float32(-0.01) * values[path + "/Momentum"], err_msg=path)


def test_partitioned_variable_loads_and_a_corrupt_slice_is_named(tmp_path):
  """A TF1 kernel in 3 slices (`fixed_size_partitioner`) loads whole; a flipped byte in its second slice is
  named `dense/kernel[slice 1]` in pass 1 and nothing is assigned."""
  kernel = np.arange(24, dtype=np.float32).reshape(6, 4)
  graph = tf.Graph()
  with graph.as_default():
    v1.get_variable("dense/kernel", initializer=tf.constant(kernel), partitioner=v1.fixed_size_partitioner(3))
    v1.get_variable("dense/bias", initializer=tf.constant(np.ones(4, np.float32)))
    saver, init = v1.train.Saver(), v1.global_variables_initializer()
  with v1.Session(graph=graph) as sess:
    sess.run(init)
    prefix = saver.save(sess, str(tmp_path / "model.ckpt"), write_meta_graph=False)
  model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, name="dense")])
  keras_bridge.load_tf1_checkpoint(model, prefix)
  np.testing.assert_array_equal(model.get_layer("dense").kernel.numpy(), kernel)
  assert _bundle.open_bundle(prefix).sliced_keys == ["dense/kernel"]

  offsets = [e.offset for _, e in _bundle.open_bundle(prefix)._extents[1]["dense/kernel"]]  # pylint: disable=protected-access
  _flip(prefix + ".data-00000-of-00001", offsets[1] + 1)
  fresh = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, name="dense")])
  before = fresh.get_layer("dense").kernel.numpy().copy()
  with pytest.raises(_errors.CheckpointFormatError, match=r"'dense/kernel\[slice 1\]' \(bytes .*CRC-32C mismatch"):
    keras_bridge.load_tf1_checkpoint(fresh, prefix)
  np.testing.assert_array_equal(fresh.get_layer("dense").kernel.numpy(), before)


def test_pass_2_holds_one_tensor_at_a_time(trained, monkeypatch):
  """Each tensor is read by itself and assigned before the next is read (no read of all tensors)."""
  prefix, _, _ = trained
  events = []
  read, copy_into = _loading._Direct.read, _loading._Direct.copy_into  # pylint: disable=protected-access
  monkeypatch.setattr(_bundle.Bundle, "read_all", lambda *a: pytest.fail("read_all reads every tensor at once"))
  monkeypatch.setattr(_loading._Direct, "read",  # pylint: disable=protected-access
                      lambda self, key: events.append(key) or read(self, key))
  monkeypatch.setattr(_loading._Direct, "copy_into",  # pylint: disable=protected-access
                      staticmethod(lambda variable, array: events.append("assign") or copy_into(variable, array)))
  keras_bridge.load_tf1_checkpoint(models.dnn(5, 3, (4,)), prefix)
  assert events == ["hidden1/bias", "assign", "hidden1/kernel", "assign", "outputs/bias", "assign",
                    "outputs/kernel", "assign"]


@pytest.fixture(name="wide")
def fixture_wide(tmp_path):
  """A TF1 checkpoint of three dense layers whose kernels are 80, 48 and 144 KiB (two above the size from which
  pass 2 copies straight from its buffer): (prefix, {key: value}, Keras model factory)."""
  sizes = {"a": (200, 100), "b": (100, 120), "c": (120, 300)}
  rng = np.random.default_rng(3)
  values = {}
  graph = tf.Graph()
  with graph.as_default():
    for name, (n_in, n_out) in sizes.items():
      values[f"{name}/kernel"] = rng.normal(size=(n_in, n_out)).astype(np.float32)
      values[f"{name}/bias"] = rng.normal(size=(n_out,)).astype(np.float32)
      for key in (f"{name}/kernel", f"{name}/bias"):
        v1.get_variable(key, initializer=tf.constant(values[key]))
    saver, init = v1.train.Saver(), v1.global_variables_initializer()
  with v1.Session(graph=graph) as sess:
    sess.run(init)
    prefix = saver.save(sess, str(tmp_path / "wide.ckpt"), write_meta_graph=False)

  def make():
    return keras.Sequential([keras.Input((200,))] + [keras.layers.Dense(n_out, name=name)
                                                     for name, (_, n_out) in sizes.items()])
  return prefix, values, make


def test_large_tensors_are_copied_out_of_the_reused_buffer(wide, monkeypatch):
  """Every value equals the checkpoint's after all tensors went through the one buffer: no variable kept a
  reference to it (a later read would have overwritten an earlier layer). The two large kernels went through
  the strided-slice copy."""
  prefix, values, make = wide
  copied = []
  copy_into = _loading._Direct.copy_into  # pylint: disable=protected-access
  monkeypatch.setattr(_loading._Direct, "copy_into",  # pylint: disable=protected-access
                      staticmethod(lambda variable, array: copied.append(array.nbytes) or copy_into(variable, array)))
  model = make()
  keras_bridge.load_tf1_checkpoint(model, prefix)
  for path, var in _naming.canonical_weights(model).items():
    np.testing.assert_array_equal(var.numpy(), values[path], err_msg=path)
  assert sorted(n for n in copied if n >= _loading._SLICE_ASSIGN_BYTES) == [80000, 144000]  # pylint: disable=protected-access
  assert len(copied) == 6


def test_shard_rewritten_between_the_passes_stops_before_any_assignment(wide, monkeypatch):
  """The data file rewritten in place after pass 1 (same bytes, new modification time): pass 2 sees that it is
  not the file checked, names it, and assigns nothing."""
  prefix, _, make = wide
  data = prefix + ".data-00000-of-00001"
  verify = _bundle.Bundle.verify

  def verify_then_rewrite(self, keys):
    verify(self, keys)
    with open(data, "r+b") as f:
      byte = f.read(1)
      f.seek(0)
      f.write(byte)

  monkeypatch.setattr(_bundle.Bundle, "verify", verify_then_rewrite)
  model = make()
  before = _snapshot(model)
  with pytest.raises(_errors.CheckpointFormatError, match=r"data file .*wide.ckpt.data-00000-of-00001' changed "
                     r"after its CRC-32C check .* Nothing was assigned\. Let the writer finish") as info:
    keras_bridge.load_tf1_checkpoint(model, prefix)
  assert not isinstance(info.value, _errors.PartialLoadError)
  after = _snapshot(model)
  assert all(np.array_equal(before[k], after[k]) for k in before)


def test_shard_removed_between_the_passes_is_one_error_and_assigns_nothing(wide, monkeypatch):
  """The data file deleted after pass 1: a `CheckpointFormatError` (no bare OSError) saying nothing was assigned."""
  prefix, _, make = wide
  verify = _bundle.Bundle.verify
  monkeypatch.setattr(_bundle.Bundle, "verify",
                      lambda self, keys: verify(self, keys) or os.remove(prefix + ".data-00000-of-00001"))
  model = make()
  before = _snapshot(model)
  with pytest.raises(_errors.CheckpointFormatError, match=r"Assigned already \(0\): none"):
    keras_bridge.load_tf1_checkpoint(model, prefix)
  after = _snapshot(model)
  assert all(np.array_equal(before[k], after[k]) for k in before)


def test_io_error_in_pass_2_names_the_assigned_weights(wide, monkeypatch):
  """EIO on the third read of pass 2: a/bias and a/kernel hold the checkpoint's values and are named."""
  prefix, values, make = wide
  pread_into, calls = _bundle.pread_into, []

  def failing(*args):
    calls.append(1)
    if len(calls) == 3:
      raise OSError(errno.EIO, "Input/output error")
    return pread_into(*args)

  monkeypatch.setattr(_bundle, "pread_into", failing)
  model = make()
  with pytest.raises(_errors.PartialLoadError, match=r"failed at weight 'b/bias' .*OSError: \[Errno 5\] "
                     r"Input/output error\) after its CRC check had passed.* Assigned already \(2\): weight "
                     r"'a/bias', weight 'a/kernel'; not assigned \(4\)") as info:
    keras_bridge.load_tf1_checkpoint(model, prefix)
  assert info.value.assigned == ["weight 'a/bias'", "weight 'a/kernel'"]
  np.testing.assert_array_equal(model.get_layer("a").kernel.numpy(), values["a/kernel"])


def test_index_unreadable_here_falls_back_to_tensorflow_reads(trained, monkeypatch):
  """When this package cannot parse the index (TensorFlow can), pass 1 reads each tensor once through
  TensorFlow, which checks the CRC-32C: the corrupt tensor is still named and nothing is assigned."""
  prefix, _, _ = trained
  monkeypatch.setattr(_bundle._sstable, "read_table", lambda path: [][0])  # pylint: disable=protected-access
  _flip(prefix + ".data-00000-of-00001", 240)
  model = models.dnn(5, 3, (4,))
  before = _snapshot(model)
  with pytest.raises(_errors.CheckpointFormatError,
                     match=r"Cannot read 1 tensor\(s\) .*'outputs/kernel' \(DataLossError"):
    keras_bridge.load_tf1_checkpoint(model, prefix)
  after = _snapshot(model)
  assert all(np.array_equal(before[k], after[k]) for k in before)

