"""scripts/train_tf1.py: the 002_9773991e7c1a2830.txt DNN trained in TF1 with 003's periodic save and loadmodel."""

import os

from absl import app
import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge.twins import training
from scripts import train_tf1
from tests.scripts.conftest import TINY_HIDDEN
from tests.scripts.conftest import run_script


def _checkpoint_names(directory):
  state = tf.train.get_checkpoint_state(directory)
  return [os.path.basename(p) for p in state.all_model_checkpoint_paths]


def test_periodic_checkpoints_carry_global_step(tiny_checkpoint):
  """003 save(): saver.save(..., global_step=step) every save_every steps, plus the last step."""
  result, directory = tiny_checkpoint
  assert result.global_step == 46  # 2 epochs x ceil(1437 / 64) steps
  assert _checkpoint_names(directory) == ["model-10", "model-20", "model-30", "model-40", "model-46"]
  assert result.checkpoint == os.path.join(directory, "model-46")
  assert int(tf.train.load_checkpoint(result.checkpoint).get_tensor("global_step")) == 46
  assert result.resumed_from is None and result.epochs_run == 2
  assert [step for step, _, _ in result.history] == [23, 46]


def test_resume_continues_exactly_where_it_stopped(digits, tiny_checkpoint, tmp_path):
  """003 loadmodel(): initialize, restore the latest; 1 epoch + resume to 2 equals 2 uninterrupted epochs."""
  uninterrupted, _ = tiny_checkpoint
  kwargs = dict(batch_size=64, learning_rate=0.1, save_every=10, hidden_sizes=TINY_HIDDEN, seed=1)
  first = training.train_dnn(digits, str(tmp_path), epochs=1, **kwargs)
  resumed = training.train_dnn(digits, str(tmp_path), epochs=2, **kwargs)
  assert first.global_step == 23
  assert resumed.resumed_from == os.path.join(str(tmp_path), "model-23")
  assert (resumed.global_step, resumed.epochs_run) == (46, 1)
  a, b = tf.train.load_checkpoint(uninterrupted.checkpoint), tf.train.load_checkpoint(resumed.checkpoint)
  for key in ("hidden1/kernel", "outputs/bias"):
    np.testing.assert_allclose(b.get_tensor(key), a.get_tensor(key), atol=1e-6)


def test_resuming_another_model_is_one_clear_error(digits, tiny_checkpoint):
  _, directory = tiny_checkpoint
  with pytest.raises(_errors.CheckpointFormatError, match=r"Cannot resume from .*model-46.*--hidden_sizes"):
    training.train_dnn(digits, directory, epochs=3, hidden_sizes=(7,))


def test_main_rejects_stray_arguments_and_bad_sizes(parsed_flags):
  with pytest.raises(app.UsageError, match="Unexpected arguments: extra") as e:
    train_tf1.main(["train_tf1", "extra"])
  assert e.value.exitcode == 2
  parsed_flags.hidden_sizes = ["16", "x", "-3"]
  parsed_flags.learning_rate = 0.0
  with pytest.raises(app.UsageError) as e:
    train_tf1.main(["train_tf1"])
  message = str(e.value)  # Every problem at once.
  assert "'x' is not a positive integer" in message and "'-3' is not a positive integer" in message
  assert "--learning_rate must be positive. Received: --learning_rate=0.0" in message


@pytest.mark.slow
def test_command_line_run(tmp_path):
  proc = run_script("train_tf1", "--epochs=1", "--hidden_sizes=16,8", "--batch_size=100",
                    f"--checkpoint_dir={tmp_path / 'ckpt'}", f"--logdir={tmp_path / 'logs'}")
  assert proc.returncode == 0, proc.stderr
  assert "global step      15" in proc.stdout  # ceil(1437 / 100)
  assert os.path.isfile(tmp_path / "ckpt" / "model-15.index")
  assert os.listdir(tmp_path / "logs" / "tf1")


@pytest.mark.slow
def test_bad_flag_exits_2_without_traceback():
  proc = run_script("train_tf1", "--epochs=many")
  assert proc.returncode == 2
  assert "python -m scripts.train_tf1: error: flag --epochs=many: invalid literal for int()" in proc.stderr
  assert "Traceback" not in proc.stderr
