"""Claim: a writer SIGKILLed at any moment leaves its output absent or complete, and the next writer removes
what it left (issue 11). Also: two writers of one output, and an output that is its own source.

Each child rewrites the same output in a loop (`overwrite=True`), so a seeded kill lands anywhere in a write,
including between the removal of an old index and the rename of a new one.
"""

import glob
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from keras_bridge import _bundle
from keras_bridge import _durable
from keras_bridge.twins import models
from tests.reliability import _faults

_CHILD = """
import sys
import numpy as np
import keras_bridge
from keras_bridge.twins import models
mode, src, out = sys.argv[1:4]
model = models.dnn(64, 10, (32, 16))
for i, w in enumerate(model.weights):
  w.assign(np.arange(np.prod(w.shape), dtype="float32").reshape(w.shape) * 0.001 + i)
print("START", flush=True)
while True:
  if mode == "save":
    keras_bridge.save_tf1_checkpoint(model, out, overwrite=True)
  elif mode == "state":
    import keras
    opt = keras.optimizers.Adam()
    keras_bridge.save_tf1_training_state(model, opt, out, overwrite=True)
  else:
    keras_bridge.convert_checkpoint(src, out, model, overwrite=True)
"""

_MODES = {"save": "out/model.ckpt", "state": "out/state.ckpt", "copy": "out/ckpt", "h5": "out/model.weights.h5"}


def _model():
  model = models.dnn(64, 10, (32, 16))
  for i, w in enumerate(model.weights):
    w.assign(np.arange(np.prod(w.shape), dtype="float32").reshape(w.shape) * 0.001 + i)
  return model


def _contents(path):
  if path.endswith(".h5"):
    model = _model()
    for w in model.weights:
      w.assign(np.zeros(w.shape, "float32"))
    model.load_weights(path)
    return {w.path: w.numpy() for w in model.weights}
  reader = tf.train.load_checkpoint(path)
  return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


def _present(path):
  return os.path.exists(path if path.endswith(".h5") else path + ".index")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
  directory = tmp_path_factory.mktemp("src")
  return keras_bridge.save_tf1_checkpoint(_model(), str(directory / "model.ckpt"))


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(_MODES))
def test_killed_writer_leaves_output_absent_or_complete(tmp_path, source, mode):
  if not _faults.FULL and mode in ("state", "h5"):
    pytest.skip("TF1KB_FAULTS=full runs every writer; CI runs save and copy")
  reference = str(tmp_path / "ref" / os.path.basename(_MODES[mode]))
  out = str(tmp_path / _MODES[mode])
  if mode == "save":
    keras_bridge.save_tf1_checkpoint(_model(), reference)
  elif mode == "state":
    keras_bridge.save_tf1_training_state(_model(), keras.optimizers.Adam(), reference)
  else:
    keras_bridge.convert_checkpoint(source, reference, _model())
  want = _contents(reference)
  rand = _faults.rng(f"writer-{mode}")
  tried = clean = failed = leaked = 0
  for kill in range(8 if _faults.FULL else 1):
    delay = rand.uniform(0.05, 1.5)
    _faults.kill_after(_faults.start(_CHILD, mode, source, out), delay)
    tried += 1
    ok = True
    if _present(out):
      got = _contents(out)
      ok = sorted(got) == sorted(want) and all(np.array_equal(got[k], want[k]) for k in want)
    latest = tf.train.latest_checkpoint(os.path.dirname(out))
    if latest is not None:
      ok = ok and _contents(latest).keys() == want.keys()
    _bundle.recover(os.path.dirname(out))  # What the next writer does first.
    left = _faults.leftovers(os.path.dirname(out))
    leaked += sum(b for _, b in left)
    ok = ok and not left
    clean, failed = clean + ok, failed + (not ok)
    print(f"writer {mode}: kill {kill} at {delay:.3f} s: present={_present(out)} ok={ok} left={left}")
  _faults.record(f"kill_writer_{mode}", tried, clean, failed, leaked)
  assert failed == 0 and leaked == 0


def test_second_writer_of_a_prefix_fails_and_a_stale_lock_is_cleaned(tmp_path):
  prefix = str(tmp_path / "model.ckpt")
  lock = _durable.lock_path(prefix)
  holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time\n"
                             "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
                             "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('START', flush=True)\ntime.sleep(60)", lock],
                            stdout=subprocess.PIPE, text=True)
  assert holder.stdout.readline().strip() == "START"
  try:
    with pytest.raises(keras_bridge.OutputBusyError, match=r"being written by another process.*Nothing was written"):
      keras_bridge.save_tf1_checkpoint(_model(), prefix)
    assert not os.path.exists(prefix + ".index")
  finally:
    holder.kill()
    holder.wait()
  assert os.path.exists(lock)  # Left by the dead holder: stale, no live lock.
  keras_bridge.save_tf1_checkpoint(_model(), prefix)
  assert not os.path.exists(lock) and not _faults.leftovers(str(tmp_path))
  _faults.record("two_writers", 2, 2, 0, 0)


def test_conversion_onto_its_own_source_is_refused(tmp_path):
  prefix = keras_bridge.save_tf1_checkpoint(_model(), str(tmp_path / "model.ckpt"))
  os.symlink(prefix + ".index", str(tmp_path / "alias.index"))
  with pytest.raises(keras_bridge.ArgumentError, match="is the source .* itself"):
    keras_bridge.convert_checkpoint(prefix, str(tmp_path / "alias"), _model(), dst_format="name-based",
                                    overwrite=True)


def _killed_after_commit(tmp_path):
  """A save killed after its COMMIT record, with the old index already removed: `(prefix, its values)`."""
  prefix = keras_bridge.save_tf1_checkpoint(_model(), str(tmp_path / "model.ckpt"))
  want = _contents(prefix)
  tmp = os.path.join(str(tmp_path), ".model.ckpt.tmp-killed")
  os.makedirs(tmp)
  for name in os.listdir(str(tmp_path)):
    if name.startswith("model.ckpt."):
      os.link(os.path.join(str(tmp_path), name), os.path.join(tmp, "merged" + name[len("model.ckpt"):]))
  with open(os.path.join(tmp, _bundle.COMMIT_FILE), "w", encoding="utf-8") as f:
    f.write('{"prefix": "model.ckpt", "stale": [], "record_state": true}')
  os.remove(prefix + ".index")
  return prefix, want


def test_reader_rolls_a_committed_write_forward(tmp_path):
  """A reader (load_tf1_checkpoint of the directory) finishes the committed write and reads the new values."""
  prefix, want = _killed_after_commit(tmp_path)
  model = _model()
  for w in model.weights:
    w.assign(np.zeros(w.shape, w.dtype))
  report = keras_bridge.load_tf1_checkpoint(model, str(tmp_path))
  assert report.ok and not glob.glob(str(tmp_path / ".model.ckpt.tmp-*"))
  got = _contents(prefix)
  assert all(np.array_equal(got[k], want[k]) for k in want)


def test_interrupted_overwrite_is_rolled_forward(tmp_path):
  """A write killed after its COMMIT record, with the old index removed and one data file moved, is finished."""
  prefix, want = _killed_after_commit(tmp_path)  # The state file names a prefix without an index.
  tmp = os.path.join(str(tmp_path), ".model.ckpt.tmp-killed")
  assert _bundle.recover(str(tmp_path)) == 0
  assert not os.path.exists(tmp) and tf.train.latest_checkpoint(str(tmp_path)) == prefix
  got = _contents(prefix)
  assert all(np.array_equal(got[k], want[k]) for k in want)
