"""scripts/training.py: the GAN of 003_edbfd8374a89a122.txt, two optimizers with their own var_lists."""

import os

import pytest

from keras_bridge import _errors
from keras_bridge.twins import training
from tests.scripts.conftest import run_script


def test_trains_each_network_with_its_own_var_list(tmp_path):
  result = training.train_gan(str(tmp_path), steps=400, data_dim=2, seed=0)
  assert result.discriminator_variables == ["discriminator/hidden/kernel", "discriminator/hidden/bias",
                                            "discriminator/output/kernel", "discriminator/output/bias"]
  assert result.generator_variables == ["generator/hidden/kernel", "generator/hidden/bias",
                                        "generator/output/kernel", "generator/output/bias"]
  before, after = result.sample_mean
  # The generator starts near 0 and moves toward the toy data's mean, 3.
  assert abs(after - training.REAL_MEAN) < abs(before - training.REAL_MEAN) / 2
  assert os.path.isfile(result.checkpoint + ".index") and result.checkpoint.endswith("model-400")


def test_refuses_a_non_empty_output_directory(tmp_path):
  (tmp_path / "old").write_text("x")
  with pytest.raises(_errors.OutputExistsError, match="Pass --overwrite"):
    training.train_gan(str(tmp_path), steps=1)


@pytest.mark.slow
def test_command_line_run_and_bad_values(tmp_path):
  proc = run_script("gan_tf1", "--steps=20", "--data_dim=3", f"--checkpoint_dir={tmp_path / 'gan'}",
                    f"--logdir={tmp_path / 'logs'}")
  assert proc.returncode == 0, proc.stderr
  assert "generator var_list      generator/hidden/kernel" in proc.stdout
  assert os.listdir(tmp_path / "logs" / "gan")
  proc = run_script("gan_tf1", "--data_dim=7", "--g_learning_rate=0")
  assert proc.returncode == 2
  assert "--g_learning_rate must be positive. Received: --g_learning_rate=0.0" in proc.stderr
  assert "--data_dim must be between 1 and 4" in proc.stderr  # Both problems in one message.
  assert "Traceback" not in proc.stderr
