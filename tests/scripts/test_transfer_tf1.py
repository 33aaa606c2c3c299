"""scripts/transfer_tf1.py: 002_9773991e7c1a2830.txt's transfer listing (restore hidden1-3, new hidden4/outputs)."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge.twins import training
from tests.scripts.conftest import run_script


@pytest.fixture(scope="module")
def transferred(digits, tiny_checkpoint, tmp_path_factory):
  trained, directory = tiny_checkpoint
  out = str(tmp_path_factory.mktemp("transfer"))
  return trained, training.train_transfer(digits, directory, out, n_hidden4=5, epochs=1, batch_size=64,
                                           learning_rate=0.1, seed=3), out


def test_restores_exactly_hidden1_to_3(transferred):
  """restore_saver holds hidden1-3 only; their values are the source's, hidden4/outputs are new."""
  trained, result, _ = transferred
  assert result.restored == ["hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel",
                             "hidden3/bias", "hidden3/kernel"]
  assert result.hidden_sizes == (16, 12, 10, 5)  # hidden1-3 sizes read from the source checkpoint
  assert result.source == trained.checkpoint


def test_saves_the_whole_new_model_on_the_continued_step_axis(transferred):
  trained, result, out = transferred
  assert result.first_step == trained.global_step == 46
  assert result.global_step == 46 + 23
  assert result.checkpoint.endswith("model-69")
  shapes = tf.train.load_checkpoint(result.checkpoint).get_variable_to_shape_map()
  assert sorted(shapes) == ["hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel", "hidden3/bias",
                            "hidden3/kernel", "hidden4/bias", "hidden4/kernel", "outputs/bias", "outputs/kernel"]
  assert shapes["hidden4/kernel"] == [10, 5] and shapes["outputs/kernel"] == [5, 10]
  # Restored before training: the first evaluation already uses the source's hidden1-3.
  assert result.history[0][0] == 46 and result.history[-1][0] == 69


def test_restored_values_are_the_sources_before_training(digits, tiny_checkpoint, tmp_path):
  trained, directory = tiny_checkpoint
  result = training.train_transfer(digits, directory, str(tmp_path), epochs=0)
  source, saved = tf.train.load_checkpoint(trained.checkpoint), tf.train.load_checkpoint(result.checkpoint)
  for key in ("hidden1/kernel", "hidden2/bias", "hidden3/kernel"):
    np.testing.assert_array_equal(saved.get_tensor(key), source.get_tensor(key))


def test_refuses_a_non_empty_output_directory(digits, transferred):
  _, _, out = transferred
  with pytest.raises(_errors.OutputExistsError, match=r"is not empty .*Pass --overwrite"):
    training.train_transfer(digits, out, out)


def test_source_with_other_inputs_is_rejected(digits, tiny_checkpoint, tmp_path):
  _, directory = tiny_checkpoint
  narrow = dataclasses.replace(digits, x_train=digits.x_train[:, :10], x_test=digits.x_test[:, :10])
  with pytest.raises(_errors.MappingError, match=r"hidden1/kernel takes 64 inputs but the dataset has 10"):
    training.train_transfer(narrow, directory, str(tmp_path))


@pytest.mark.slow
def test_missing_source_exits_2_with_one_message(tmp_path):
  proc = run_script("transfer_tf1", f"--source_checkpoint={tmp_path / 'nothing'}",
                    f"--checkpoint_dir={tmp_path / 'out'}")
  assert proc.returncode == 2
  assert f"python -m scripts.transfer_tf1: error: No checkpoint at '{tmp_path / 'nothing'}'" in proc.stderr
  assert "Traceback" not in proc.stderr
