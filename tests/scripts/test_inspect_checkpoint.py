"""scripts/inspect_checkpoint.py: keys, shapes, dtypes, bytes, format; --diff and --json."""

import pytest
import json

from keras_bridge.twins import checkpoints
from tests.scripts.conftest import run_script


def test_lists_a_train_tf1_checkpoint(tiny_checkpoint):
  _, directory = tiny_checkpoint
  info = checkpoints.inspect(directory)["info"]
  assert info.format == "name-based"
  assert info["hidden1/kernel"].shape == (64, 16) and info["hidden1/kernel"].dtype == "float32"
  assert info["hidden1/kernel"].nbytes == 64 * 16 * 4
  assert "global_step" in info.keys()


def test_diff_across_formats_by_keras_weight(tiny_checkpoint, tmp_path):
  """A TF1 checkpoint and the .weights.h5 converted from it hold the same weights."""
  trained, directory = tiny_checkpoint
  h5 = str(tmp_path / "dnn.weights.h5")
  checkpoints.convert(directory, h5)
  diff = checkpoints.inspect(directory, diff=h5, kind="dnn")["diff"]
  assert diff.value_changes == [] and len(diff.equal) == 10


@pytest.mark.slow
def test_command_line_json(tiny_checkpoint):
  _, directory = tiny_checkpoint
  proc = run_script("inspect_checkpoint", f"--checkpoint={directory}", "--json=-")
  assert proc.returncode == 0, proc.stderr
  payload = json.loads(proc.stdout)
  assert payload["info"]["format"] == "name-based"
  assert {"key": "outputs/bias", "shape": [10], "dtype": "float32"}.items() <= {
      k: v for t in payload["info"]["tensors"] if t["key"] == "outputs/bias" for k, v in t.items()}.items()
