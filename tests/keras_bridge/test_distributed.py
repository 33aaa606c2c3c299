"""Claims of keras_bridge._distributed (issue 14): a TF1 checkpoint loaded under `MirroredStrategy` (2 logical CPU
devices) or `MultiWorkerMirroredStrategy` (2 worker processes on 127.0.0.1) continues training to the weights of
one device (<= 1e-6 after 4 steps of the same global batch), only the chief writes the TF1 checkpoint, and the
original TF1 graph restores it.

Strategies that need devices configured before TensorFlow initialises run in subprocesses
(tests/keras_bridge/distributed_worker.py); the single-device reference runs here, on this process's one device.
"""

import glob
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from keras_bridge import _distributed
from keras_bridge import _tf_private
import tf1_reference
from tests.keras_bridge import distributed_common as common

v1 = tf.compat.v1

STEPS = 4
TOL = 1e-6
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def tf1_run(tmp_path_factory):
  """A TF1 DNN trained 2 steps with Adam (checkpoint at step 2), its data, and the single-device continuation."""
  d = tmp_path_factory.mktemp("tf1")
  net = tf1_reference.dnn.build_dnn(common.N_INPUTS, common.N_OUTPUTS, common.HIDDEN, threshold=None, seed=1,
                                    optimizer=lambda lr: v1.train.AdamOptimizer(lr), global_step=True)
  rng = np.random.default_rng(0)
  x, y = rng.normal(size=(64, common.N_INPUTS)).astype("float32"), rng.integers(0, common.N_OUTPUTS, 64)
  np.savez(d / "data.npz", x=x, y=y)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    for _ in range(2):
      sess.run(net.training_op, {net.X: x[:8], net.y: y[:8]})
    prefix = net.saver.save(sess, str(d / "tf1" / "model.ckpt"), global_step=2)
  single = common.continue_training(tf.distribute.get_strategy(), prefix, str(d / "data.npz"),
                                    str(d / "single" / "model.ckpt-6"), STEPS)
  return {"dir": d, "net": net, "checkpoint": prefix, "data": str(d / "data.npz"), "single": single}


def _args(run, kind, out, **extra):
  return dict(kind=kind, checkpoint=run["checkpoint"], data=run["data"], output=str(out / "model.ckpt-6"),
              steps=STEPS, **extra)


def _worker(args, work_dir):
  os.makedirs(work_dir, exist_ok=True)
  log = open(os.path.join(work_dir, "log"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
  return subprocess.Popen([sys.executable, "-m", "tests.keras_bridge.distributed_worker",
                           json.dumps(dict(args, work_dir=str(work_dir)))], cwd=REPO, stdout=log, stderr=log)


def _result(work_dir):
  with open(os.path.join(work_dir, "result.json"), encoding="utf-8") as f:
    result = json.load(f)
  result["weights"] = dict(np.load(os.path.join(work_dir, "weights.npz")))
  return result


def _log(work_dir):
  with open(os.path.join(work_dir, "log"), encoding="utf-8") as f:
    return f.read()[-3000:]


def _free_ports(n):
  """Ports the OS just handed out on 127.0.0.1; another process may take one before the workers bind it,
  so the caller retries on a bind failure."""
  sockets = [socket.socket() for _ in range(n)]
  try:
    for s in sockets:
      s.bind(("127.0.0.1", 0))
    return [s.getsockname()[1] for s in sockets]
  finally:
    for s in sockets:
      s.close()


@pytest.fixture(scope="module")
def single_continued(tmp_path_factory):
  """migrate's Keras phase on one device (`common.continue_migrated`)."""
  return common.continue_migrated(tf.distribute.get_strategy(), str(tmp_path_factory.mktemp("cont") / "ckpt"))


def _check_continued(single, work_dir, checkpoint_dir):
  """The distributed Keras phase of migrate: the single device's weights; the chief alone left checkpoints."""
  with open(os.path.join(work_dir, "result.json"), encoding="utf-8") as f:
    continued = json.load(f)["continued"]
  weights = dict(np.load(os.path.join(work_dir, "continued.npz")))
  assert continued["global_step"] == single["global_step"] == 66
  assert not continued["jit"] and continued["steps_per_call"] == 1
  diffs = {path: float(np.max(np.abs(weights[path] - value))) for path, value in single["weights"].items()}
  print(f"continuation: max |distributed - single device| per weight after 26 steps: {diffs}")
  assert max(diffs.values()) <= TOL, diffs
  assert continued["checkpoint"] == os.path.join(checkpoint_dir, "ckpt-66")
  assert not glob.glob(os.path.join(checkpoint_dir, ".workertemp_*"))
  return weights


def _check_against_single(run, result, out):
  single = run["single"]
  assert result["iterations"] == single["iterations"] == 6
  assert result["replicas"] == 2
  np.testing.assert_allclose(result["losses"], single["losses"], rtol=0, atol=TOL)
  diffs = {path: float(np.max(np.abs(result["weights"][path] - value))) for path, value in single["weights"].items()}
  print(f"max |distributed - single device| per weight after {STEPS} steps: {diffs}")
  assert max(diffs.values()) <= TOL, diffs
  # The chief's TF1 checkpoint is the single device's, and the original graph's Saver restores it.
  written, reference = tf.train.load_checkpoint(str(out / "model.ckpt-6")), tf.train.load_checkpoint(
      single["checkpoint"])
  keys = sorted(reference.get_variable_to_shape_map())
  assert keys == sorted(written.get_variable_to_shape_map())
  for key in keys:
    np.testing.assert_allclose(written.get_tensor(key), reference.get_tensor(key), rtol=0, atol=TOL, err_msg=key)
  net = run["net"]
  with v1.Session(graph=net.graph) as sess:
    net.saver.restore(sess, str(out / "model.ckpt-6"))
    assert sess.run(net.global_step) == 6
  assert not glob.glob(str(out / ".workertemp_*"))


def test_mirrored_two_devices_equals_single_device(tf1_run, single_continued, tmp_path):
  """Claim: under MirroredStrategy on 2 logical CPUs, load_tf1_training_state gives both replicas the TF1
  values, the custom step continues to the single-device weights, and the write-back restores in TF1; migrate's
  Keras phase (uneven last batches included) trains to the single-device weights too."""
  out, continued = tmp_path / "out", str(tmp_path / "continued")
  proc = _worker(_args(tf1_run, "mirrored", out, continuation_dir=continued), tmp_path / "w")
  assert proc.wait(timeout=180) == 0, _log(tmp_path / "w")
  _check_against_single(tf1_run, _result(tmp_path / "w"), out)
  _check_continued(single_continued, tmp_path / "w", continued)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("TF1KB_MULTI_WORKER") != "1",
                    reason="two worker processes take ~50 s on 2 cores; run with TF1KB_MULTI_WORKER=1 (BUILD.md)")
def test_multi_worker_two_processes_equals_single_device(tf1_run, single_continued, tmp_path):
  """Claim: two MultiWorkerMirroredStrategy workers on 127.0.0.1 continue to the single-device weights; only
  the chief (task 0) leaves a checkpoint, worker 1 writes its temporary copy and removes it."""
  started = time.monotonic()
  for attempt in range(3):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    out, dirs = tmp_path / f"try{attempt}" / "out", [tmp_path / f"try{attempt}" / f"w{i}" for i in range(2)]
    continued = [str(tmp_path / f"try{attempt}" / f"continued{i}") for i in range(2)]
    procs = [_worker(_args(tf1_run, "multi_worker", out, workers=workers, task_index=i,
                           continuation_dir=continued[i]), dirs[i]) for i in range(2)]
    try:
      codes = [p.wait(timeout=240) for p in procs]
    finally:
      for p in procs:
        if p.poll() is None:
          p.kill()
    if codes == [0, 0]:
      break
    logs = "\n".join(_log(d) for d in dirs)
    if "Address already in use" not in logs and "bind" not in logs.lower():
      pytest.fail(f"workers exited with {codes}:\n{logs}")
  else:
    pytest.fail(f"workers could not bind free ports in 3 attempts:\n{logs}")
  print(f"multi-worker wall time: {time.monotonic() - started:.1f} s")
  chief, other = _result(dirs[0]), _result(dirs[1])
  assert chief["checkpoint"] == other["checkpoint"] == str(out / "model.ckpt-6")
  for path, value in chief["weights"].items():
    np.testing.assert_array_equal(other["weights"][path], value, err_msg=path)  # Every replica: the same.
  _check_against_single(tf1_run, chief, out)
  assert sorted(os.listdir(out)) == ["checkpoint", "model.ckpt-6.data-00000-of-00001", "model.ckpt-6.index"]
  chief_weights = _check_continued(single_continued, dirs[0], continued[0])
  other_weights = dict(np.load(os.path.join(dirs[1], "continued.npz")))
  for path, value in chief_weights.items():
    np.testing.assert_array_equal(other_weights[path], value, err_msg=path)
  # The other worker saved into .workertemp_1 (the save is collective) and removed it.
  assert not glob.glob(os.path.join(continued[1], "**", "*.index"), recursive=True)


def test_strategy_from_flags_errors():
  with pytest.raises(keras_bridge.ArgumentError, match=r"Received: kind='tpu'"):
    _distributed.strategy_from_flags("tpu")
  with pytest.raises(keras_bridge.ArgumentError, match=r"workers=\[\]"):
    _distributed.strategy_from_flags("multi_worker")
  with pytest.raises(keras_bridge.ArgumentError, match=r"task_index=2"):
    _distributed.strategy_from_flags("multi_worker", ["a:1", "b:2"], 2)
  assert _distributed.strategy_from_flags("default") is tf.distribute.get_strategy()


def test_optimizer_outside_the_model_strategy_is_refused(tf1_run):
  """Claim: an optimizer created outside the model's strategy scope is refused, naming the fix, before any
  assignment (a MirroredStrategy over this process's one device)."""
  strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
  with strategy.scope():
    model = keras_bridge.models.dnn(common.N_INPUTS, common.N_OUTPUTS, common.HIDDEN)
  before = [w.numpy() for w in model.weights]
  optimizer = keras_bridge.keras_optimizer_from_tf1(v1.train.AdamOptimizer(0.01))
  with pytest.raises(keras_bridge.OptimizerStateError, match=r"outside the scope of the MirroredStrategy"):
    keras_bridge.load_tf1_training_state(model, optimizer, tf1_run["checkpoint"])
  for b, w in zip(before, model.weights):
    np.testing.assert_array_equal(b, w.numpy())
  # Created by the load itself (optimizer=None), it lands in the model's strategy, even outside its scope.
  state = keras_bridge.load_tf1_training_state(model, None, tf1_run["checkpoint"])
  assert _tf_private.variable_strategy(state.optimizer.iterations) is strategy


def test_trainer_refuses_uneven_batch():
  strategy = tf.distribute.get_strategy()
  model = keras_bridge.models.dnn(common.N_INPUTS, common.N_OUTPUTS, common.HIDDEN)
  with pytest.raises(keras_bridge.ArgumentError, match=r"global_batch_size=0"):
    _distributed.DistributedTrainer(model, None, common.loss, strategy=strategy, global_batch_size=0)
