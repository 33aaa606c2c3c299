"""scripts/verify_equivalence.py: one checkpoint in the TF1 graph and in its Keras 3 twin, layer by layer."""


import pytest

from keras_bridge import _errors
from keras_bridge.twins import training
from keras_bridge.twins import verification
from tests.scripts.conftest import run_script


def test_every_layer_agrees(digits, tiny_checkpoint):
  result_tf1, directory = tiny_checkpoint
  result = verification.verify_dnn(directory, digits.x_test, digits.y_test, kind="dnn")
  assert list(result.outputs.diffs) == ["hidden1", "hidden2", "hidden3", "hidden4", "outputs"]
  assert result.max_abs_diff <= 1e-6
  assert result.tf1_accuracy == result.keras_accuracy
  assert abs(result.tf1_accuracy - result_tf1.test_accuracy) < 1e-6
  assert len(result.report.matched) == 10 and result.report.step_keys == ["global_step"]
  assert "accuracy  TF1" in result.table()


def test_data_of_another_width_is_rejected(digits, tiny_checkpoint):
  _, directory = tiny_checkpoint
  with pytest.raises(_errors.MappingError, match=r"takes 64 inputs \(hidden1/kernel\) but the data has 10"):
    verification.verify_dnn(directory, digits.x_test[:, :10])


@pytest.mark.slow
def test_command_line_run(tiny_checkpoint):
  _, directory = tiny_checkpoint
  proc = run_script("verify_equivalence", f"--checkpoint={directory}", "--model=dnn")
  assert proc.returncode == 0, proc.stderr
  assert "EQUIVALENT: max output difference 0 <= tolerance 1e-05" in proc.stdout
  assert "hidden4" in proc.stdout


def test_gan_samples_and_logits_agree(tmp_path):
  """003 GAN: a gan_tf1 checkpoint (gradient descent) gives the same samples and logits in TF1 and in models.GAN."""
  directory = str(tmp_path / "gan")
  training.train_gan(directory, steps=5, batch_size=8, data_dim=3, noise_dim=2, hidden_units=4)
  result = verification.verify_gan(directory, n_samples=32)
  assert list(result.outputs.diffs) == ["g_sample", "d_real_logits", "d_fake_logits"]
  assert result.max_abs_diff <= 1e-6
  assert len(result.report.matched) == 8 and result.tf1_accuracy is None
  assert result.keras_model.generator.get_layer("output").kernel.shape == (4, 3)
