"""keras_bridge.twins.continuation: migrate's Keras phase, a custom step with exact resume (issues 11, 13, 14).

Claims: a run interrupted at any step and started again on its checkpoint directory ends bit-equal to the run
that was never interrupted, whatever `save_every` is; several steps per call change nothing; `max_to_keep` holds
across restarts; another run's directory is refused; a model under a `MirroredStrategy` trains to the
single-device weights; transfer_tf1 resumes exactly too.
"""

import dataclasses
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge.twins import continuation
from keras_bridge.twins import models
from keras_bridge.twins import training

HIDDEN = (12, 10, 8, 6)
FIRST_STEP = 40
ARGS = dict(first_step=FIRST_STEP, epochs=2, batch_size=32, learning_rate=0.05, seed=5)


@pytest.fixture(scope="module")
def small(digits):
  """400 training examples: 13 steps per epoch, the last batch smaller (16)."""
  return dataclasses.replace(digits, x_train=digits.x_train[:400], y_train=digits.y_train[:400])


def _model(data):
  keras.utils.set_random_seed(7)
  return models.transfer_dnn(data.n_inputs, data.n_classes, HIDDEN)


def _weights(model):
  return [w.numpy() for w in model.weights]


class _Crash(Exception):
  pass


def _crash_at_call(monkeypatch, n):
  """Makes the n-th compiled call of the training loop raise, as a kill between two checkpoints would."""
  calls = {"n": 0}
  init = continuation._Steps.__init__

  def patched(self, *args, **kwargs):
    init(self, *args, **kwargs)

    def counted(run):
      def call(*call_args):
        calls["n"] += 1
        if calls["n"] == n:
          raise _Crash()
        return run(*call_args)
      return call

    self.run, self.run_in_memory = counted(self.run), counted(self.run_in_memory)

  monkeypatch.setattr(continuation._Steps, "__init__", patched)


@pytest.fixture(scope="module")
def reference(small):
  model = _model(small)
  result = continuation.continue_training(model, small, **ARGS, jit_compile=False, steps_per_call=1)
  return result, _weights(model)


def test_uninterrupted_run_counts_steps_on_the_tf1_axis(reference):
  result, _ = reference
  assert result.global_step == FIRST_STEP + 2 * 13 and result.steps == 26
  assert [step for step, _, _ in result.history] == [40, 53, 66]
  assert result.resumed_from is None and result.checkpoint is None


def test_several_steps_per_call_are_the_same_steps(small, reference):
  model = _model(small)
  continuation.continue_training(model, small, **ARGS, jit_compile=False, steps_per_call=5)
  assert all(np.array_equal(a, b) for a, b in zip(_weights(model), reference[1]))


@pytest.mark.parametrize("save_every,crash_call", [(5, 4), (7, 3), (13, 2)])
def test_interrupted_and_resumed_is_bit_equal(small, reference, tmp_path, monkeypatch, save_every, crash_call):
  directory = str(tmp_path / "ckpt")
  with monkeypatch.context() as patch:
    _crash_at_call(patch, crash_call)
    with pytest.raises(_Crash):
      continuation.continue_training(_model(small), small, **ARGS, checkpoint_dir=directory,
                                     save_every=save_every, jit_compile=False, max_to_keep=2)
  saved = tf.train.latest_checkpoint(directory)
  assert saved and int(saved.rsplit("-", 1)[1]) < FIRST_STEP + 26
  model = _model(small)  # fresh weights: everything must come from the checkpoint
  result = continuation.continue_training(model, small, **ARGS, checkpoint_dir=directory, save_every=save_every,
                                          jit_compile=False, max_to_keep=2)
  assert result.resumed_from == saved and result.global_step == FIRST_STEP + 26
  assert result.steps == FIRST_STEP + 26 - int(saved.rsplit("-", 1)[1])
  assert result.checkpoint.endswith(f"ckpt-{FIRST_STEP + 26}")
  failed = [w.path for w, want in zip(model.weights, reference[1]) if not np.array_equal(w.numpy(), want)]
  assert not failed, f"weights differ after resuming from {saved}: {failed}"
  assert len([n for n in os.listdir(directory) if n.endswith(".index")]) <= 2  # max_to_keep across restarts


def test_another_runs_directory_is_refused(small, tmp_path):
  directory = str(tmp_path / "ckpt")
  continuation.continue_training(_model(small), small, **dict(ARGS, epochs=1), checkpoint_dir=directory,
                                 jit_compile=False)
  with pytest.raises(_errors.OutputExistsError, match=r"seed=5.*seed=6.*Pass --overwrite"):
    continuation.continue_training(_model(small), small, **dict(ARGS, seed=6), checkpoint_dir=directory,
                                   jit_compile=False)
  result = continuation.continue_training(_model(small), small, **dict(ARGS, seed=6), checkpoint_dir=directory,
                                          jit_compile=False, overwrite=True)
  assert result.resumed_from is None and result.global_step == FIRST_STEP + 26


def test_mirrored_strategy_trains_to_the_single_device_weights(small, reference):
  strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
  with strategy.scope():
    model = _model(small)
  continuation.continue_training(model, small, **ARGS)
  diff = max(float(np.max(np.abs(a - b))) for a, b in zip(_weights(model), reference[1]))
  assert diff <= 1e-6, diff


def test_model_from_another_strategy_is_refused(small):
  with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
    model = _model(small)
  with pytest.raises(_errors.ArgumentError, match="strategy.scope"):
    continuation.continue_training(model, small, **ARGS, strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))


def test_transfer_interrupted_and_resumed_is_bit_equal(small, tiny_checkpoint, tmp_path, monkeypatch):
  _, source = tiny_checkpoint
  args = dict(n_hidden4=5, epochs=2, batch_size=32, learning_rate=0.1, seed=3, save_every=6)
  reference = training.train_transfer(small, source, str(tmp_path / "ref"), **args)
  run = str(tmp_path / "run")
  calls = {"n": 0}
  real_batches = training.datasets.batches

  def crashing(*a, **k):
    for batch in real_batches(*a, **k):
      calls["n"] += 1
      if calls["n"] == 18:  # mid-epoch 2, after the checkpoint of step 46 + 12
        raise _Crash()
      yield batch

  with monkeypatch.context() as patch:
    patch.setattr(training.datasets, "batches", crashing)
    with pytest.raises(_Crash):
      training.train_transfer(small, source, run, **args)
  resumed = training.train_transfer(small, source, run, **args)
  assert resumed.checkpoint.endswith(os.path.basename(reference.checkpoint))
  want, got = tf.train.load_checkpoint(reference.checkpoint), tf.train.load_checkpoint(resumed.checkpoint)
  for key in want.get_variable_to_shape_map():
    np.testing.assert_array_equal(got.get_tensor(key), want.get_tensor(key), err_msg=key)
  with pytest.raises(_errors.OutputExistsError, match=r"seed=3.*seed=4"):
    training.train_transfer(small, source, run, **dict(args, seed=4))
