"""Claim (issue 13, goal 1): name-based -> object-based conversion shares the data bytes where it can, and the
direct `.weights.h5` writer gives what Keras's own `load_weights` reads.

* `data="auto"` reflinks the source's `.data` files on a filesystem that has reflinks (an XFS image made with
  `reflink=1`, mounted inside `unshare -m` by a helper process that lives as long as the fixture, so a killed
  test leaves no mount): the output is a separate file (another inode, copy-on-write) that restores bit-exactly.
* `data="hardlink"` links the source's files: one inode. `data="auto"` copies where reflinks are impossible;
  `data="reflink"` there is one clear error.
* Every copied tensor's CRC-32C is checked in the output, so a flipped source byte fails the conversion;
  `verify=False` skips that check. Shared bytes (reflinks, hard links) are the source's own and are checked only
  with `verify=True`.
* A checkpoint -> `.weights.h5` conversion copies tensor bytes into the HDF5 datasets directly; the file has the
  datasets `model.save_weights` writes and loads with `model.load_weights` to identical values (Dense, Conv2D and
  BatchNormalization's non-trainable moving statistics).

The TF1 checkpoints come from the 002_9773991e7c1a2830.txt DNN (`tf1_reference.dnn.build_dnn`); its Keras twin
is `keras_bridge.models.dnn`.
"""

import fcntl
import glob
import os
import shutil
import subprocess

from absl import flags
import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _bundle
from keras_bridge import _convert
from keras_bridge import _errors
from keras_bridge import models
from scripts import convert_checkpoint as convert_script
from tf1_reference import dnn

v1 = tf.compat.v1
N_INPUTS, N_OUTPUTS, HIDDEN = 8, 3, (6, 5)
_FICLONE = 0x40049409


def _twin():
  return models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)


def _tf1_checkpoint(directory):
  os.makedirs(os.path.join(str(directory), "tf1"), exist_ok=True)
  net = dnn.build_dnn(N_INPUTS, N_OUTPUTS, HIDDEN, seed=3, global_step=True)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    return net.saver.save(sess, os.path.join(str(directory), "tf1", "model.ckpt"), global_step=7)


def _tensors(prefix):
  reader = tf.train.load_checkpoint(prefix)
  return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


def _restored(prefix):
  twin = _twin()
  tf.train.Checkpoint(model=twin).restore(prefix).assert_consumed()
  return twin


def _assert_weights_equal_tf1(twin, tf1_prefix):
  values = _tensors(tf1_prefix)
  for layer in ("hidden1", "hidden2", "outputs"):
    np.testing.assert_array_equal(twin.get_layer(layer).kernel.numpy(), values[f"{layer}/kernel"], layer)
    np.testing.assert_array_equal(twin.get_layer(layer).bias.numpy(), values[f"{layer}/bias"], layer)


def _data(prefix):
  return sorted(glob.glob(prefix + ".data-*"))


def _flip_a_weight_byte(prefix, key="hidden1/kernel"):
  """Flips one byte inside `key`'s bytes in the checkpoint's data file."""
  entry = _bundle.extents(_bundle.open_bundle(prefix), [key])[key]
  with open(entry.path, "r+b") as f:
    f.seek(entry.offset + 5)
    byte = f.read(1)
    f.seek(entry.offset + 5)
    f.write(bytes([byte[0] ^ 0x40]))


def _has_reflinks(directory) -> bool:
  a, b = os.path.join(directory, ".probe-a"), os.path.join(directory, ".probe-b")
  try:
    with open(a, "wb") as f:
      f.write(b"x" * 4096)
    with open(a, "rb") as f, open(b, "wb") as g:
      fcntl.ioctl(g.fileno(), _FICLONE, f.fileno())
    return True
  except OSError:
    return False
  finally:
    for p in (a, b):
      if os.path.exists(p):
        os.remove(p)


@pytest.fixture(scope="module")
def xfs(tmp_path_factory):
  """A directory on a fresh XFS filesystem with reflinks, seen through the mount namespace of its helper."""
  if os.geteuid() != 0:
    pytest.skip("mounting an XFS image needs root")
  if shutil.which("mkfs.xfs") is None or shutil.which("unshare") is None:
    pytest.skip("mkfs.xfs (Debian package xfsprogs) or unshare is not installed")
  base = tmp_path_factory.mktemp("xfs")
  image, mountpoint = str(base / "xfs.img"), str(base / "mnt")
  os.makedirs(mountpoint)
  with open(image, "wb") as f:
    f.truncate(320 << 20)  # Sparse; XFS needs at least 300 MiB.
  made = subprocess.run(["mkfs.xfs", "-q", "-m", "reflink=1", image], capture_output=True, text=True, check=False)
  if made.returncode:
    pytest.skip(f"mkfs.xfs -m reflink=1 failed: {made.stderr.strip()}")
  # The mount lives in the helper's own mount namespace; it goes when the helper's stdin closes (or it dies).
  helper = subprocess.Popen(  # pylint: disable=consider-using-with
      ["unshare", "-m", "--propagation", "private", "sh", "-c",
       f"mount -o loop {image} {mountpoint} && echo READY && read _"],
      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  try:
    if helper.stdout.readline().strip() != "READY":
      helper.wait(timeout=30)
      pytest.skip(f"cannot loop-mount an XFS image in a new mount namespace: {helper.stderr.read().strip()}")
    yield f"/proc/{helper.pid}/root{mountpoint}"
  finally:
    if helper.poll() is None:
      helper.stdin.close()
      helper.wait(timeout=30)
    os.remove(image)


def test_reflink_output_is_a_separate_file_that_restores(xfs):
  """XFS with reflink=1: the default reflinks, the output has its own inodes (a write to it leaves the source
  unchanged) and restores into the Keras twin bit-exactly."""
  tf1_prefix = _tf1_checkpoint(os.path.join(xfs, "a"))
  out = os.path.join(xfs, "a", "obj", "ckpt")
  report = _convert.convert_checkpoint(tf1_prefix, out, _twin())
  assert (report.method, report.data, report.verified) == ("copy", "reflink", False)
  assert "(copy, data files: reflink)" in str(report)
  _assert_weights_equal_tf1(_restored(out), tf1_prefix)
  (source,) = _data(tf1_prefix)
  assert os.stat(source).st_ino not in {os.stat(p).st_ino for p in _data(out)}
  before = open(source, "rb").read()
  with open(_data(out)[0], "r+b") as f:
    f.write(b"\xff" * 16)
  assert open(source, "rb").read() == before
  explicit = _convert.convert_checkpoint(tf1_prefix, os.path.join(xfs, "a", "obj2", "ckpt"), _twin(), data="reflink")
  assert explicit.data == "reflink"


def test_reflinked_bytes_are_verified_with_verify_true(xfs):
  """A flipped byte in the source fails the CRC-32C check of the reflinked output with `verify=True`, and nothing
  is left; by default the shared bytes are not read: the output is written, and its first load names the
  corrupt tensor as the source's would."""
  tf1_prefix = _tf1_checkpoint(os.path.join(xfs, "b"))
  _flip_a_weight_byte(tf1_prefix)
  out = os.path.join(xfs, "b", "obj", "ckpt")
  with pytest.raises(_errors.CheckpointFormatError, match="does not match the CRC-32C"):
    _convert.convert_checkpoint(tf1_prefix, out, _twin(), data="reflink", verify=True)
  assert os.listdir(os.path.dirname(out)) == []
  report = _convert.convert_checkpoint(tf1_prefix, out, _twin(), data="reflink")
  assert report.data == "reflink" and not report.verified and "CRC-32C" not in str(report)
  with pytest.raises(tf.errors.DataLossError, match="Checksum does not match"):
    tf.train.Checkpoint(model=_twin()).read(out).assert_existing_objects_matched()


def test_hardlink_shares_the_inode_and_restores(tmp_path):
  """`data="hardlink"`: the output's data file is the source's (same inode); it restores bit-exactly."""
  tf1_prefix = _tf1_checkpoint(tmp_path)
  out = str(tmp_path / "obj" / "ckpt")
  report = _convert.convert_checkpoint(tf1_prefix, out, _twin(), data="hardlink")
  assert report.data == "hardlink" and not report.verified  # Shared bytes: checked only with verify=True.
  (source,) = _data(tf1_prefix)
  assert os.stat(source).st_ino == os.stat(_data(out)[0]).st_ino and os.stat(source).st_nlink == 2
  _assert_weights_equal_tf1(_restored(out), tf1_prefix)


def test_without_reflinks_auto_copies_and_reflink_is_one_clear_error(tmp_path):
  """Where the filesystem has no reflinks (ext4, tmpfs), the default copies (own inodes) and an explicit
  `data="reflink"` fails naming the source, the output and the fix, leaving nothing behind."""
  if _has_reflinks(str(tmp_path)):
    pytest.skip(f"{tmp_path} is on a filesystem with reflinks")
  tf1_prefix = _tf1_checkpoint(tmp_path)
  out = str(tmp_path / "obj" / "ckpt")
  report = _convert.convert_checkpoint(tf1_prefix, out, _twin())
  assert report.data == "copy" and report.verified
  assert not {os.stat(p).st_ino for p in _data(tf1_prefix)} & {os.stat(p).st_ino for p in _data(out)}
  other = str(tmp_path / "refl" / "ckpt")
  with pytest.raises(_errors.ArgumentError) as raised:
    _convert.convert_checkpoint(tf1_prefix, other, _twin(), data="reflink")
  message = str(raised.value)
  assert "\n" not in message and "data='reflink'" in message and repr(other) in message
  assert "XFS" in message and "data='auto'" in message and "Nothing was written" in message
  assert os.listdir(os.path.dirname(other)) == []


def test_verify_false_skips_the_crc_check_of_copied_bytes(tmp_path):
  """A flipped source byte fails the default conversion and passes with `verify=False` (its bytes carried as
  they are)."""
  tf1_prefix = _tf1_checkpoint(tmp_path)
  _flip_a_weight_byte(tf1_prefix)
  out = str(tmp_path / "obj" / "ckpt")
  with pytest.raises(_errors.CheckpointFormatError, match="does not match the CRC-32C"):
    _convert.convert_checkpoint(tf1_prefix, out, _twin(), data="copy")
  report = _convert.convert_checkpoint(tf1_prefix, out, _twin(), data="copy", verify=False)
  assert report.data == "copy" and not report.verified


@pytest.mark.parametrize("dst, data", [("out.weights.h5", "hardlink"), ("obj/ckpt", "sideways")],
                         ids=["hardlink_to_h5", "unknown_mode"])
def test_sharing_where_it_cannot_happen_is_refused(tmp_path, dst, data):
  tf1_prefix = _tf1_checkpoint(tmp_path)
  with pytest.raises(_errors.ArgumentError, match=f"data={data!r}.*data='auto'|Unknown data={data!r}"):
    _convert.convert_checkpoint(tf1_prefix, str(tmp_path / dst), _twin(), data=data)


def test_script_data_choices_are_the_library_modes():
  assert tuple(flags.FLAGS[convert_script._DATA.name].parser.enum_values) == _bundle.DATA_MODES  # pylint: disable=protected-access


def _cnn():
  inputs = keras.Input((6, 6, 2))
  x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
  x = keras.layers.BatchNormalization(name="bn")(x)
  x = keras.layers.Flatten()(x)
  return keras.Model(inputs, keras.layers.Dense(4, name="dense")(x))


def test_direct_weights_h5_loads_with_identical_values(tmp_path):
  """Checkpoint -> `.weights.h5` (Dense, Conv2D, BatchNormalization with its moving statistics, filled 0, 1, 2,
  ...): the file holds the datasets `save_weights` writes, with the CRC-32C of each checked, and
  `load_weights` gives back every value exactly; a flipped source byte fails the check."""
  model = _cnn()
  start = 0.0
  for weight in model.weights:
    size = int(np.prod(weight.shape))
    weight.assign(np.arange(start, start + size, dtype=np.float32).reshape(weight.shape))
    start += size
  prefix = tf.train.Checkpoint(model=model).write(str(tmp_path / "obj" / "ckpt"))
  out = str(tmp_path / "cnn.weights.h5")
  report = _convert.convert_checkpoint(prefix, out, _cnn())
  assert report.verified and len(report.tensors) == len(model.weights) == 8
  reference = str(tmp_path / "reference.weights.h5")
  model.save_weights(reference)

  def datasets(path):
    found = {}
    with h5py.File(path, "r") as f:
      f.visititems(lambda name, obj: found.update({name: (obj.shape, obj.dtype)})
                   if isinstance(obj, h5py.Dataset) else None)
    return found

  assert datasets(out) == datasets(reference)
  twin = _cnn()
  twin.load_weights(out)
  for expected, loaded in zip(model.weights, twin.weights):
    np.testing.assert_array_equal(loaded.numpy(), expected.numpy(), expected.path)
  assert [w.path for w in twin.non_trainable_weights] == ["bn/moving_mean", "bn/moving_variance"]

  _flip_a_weight_byte(prefix, "model/_operations/4/_kernel/.ATTRIBUTES/VARIABLE_VALUE")
  with pytest.raises(_errors.CheckpointFormatError, match="does not match the CRC-32C"):
    _convert.convert_checkpoint(prefix, str(tmp_path / "bad.weights.h5"), _cnn())
  assert not os.path.exists(tmp_path / "bad.weights.h5")
