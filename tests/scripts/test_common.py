"""scripts/_cli.py's progress switch; keras_bridge.twins' size inference from checkpoint keys, tables, the 004
histogram PNG."""

import pytest

import keras_bridge
from keras_bridge import _errors
from keras_bridge.twins import checkpoints
from keras_bridge.twins import plots
from scripts import _cli


@pytest.mark.parametrize("ci, flag, shown", [("", True, True), ("true", True, False), ("", False, False)],
                         ids=["interactive", "ci_true", "noprogress"])
def test_progress_is_quiet_under_ci_or_noprogress(monkeypatch, ci, flag, shown):
  monkeypatch.setenv("CI", ci)
  assert _cli.show_progress(flag) is shown


def test_dnn_sizes_from_tf1_keys():
  variables = {"hidden1/kernel": ((64, 16), "float32"), "hidden2/kernel": ((16, 8), "float32"),
               "outputs/kernel": ((8, 10), "float32"), "global_step": ((), "int64")}
  assert checkpoints.dnn_sizes(variables) == (64, [16, 8], 10)


def test_dnn_sizes_lists_every_problem():
  variables = {"hidden1/kernel": ((64, 16), "float32"), "hidden3/kernel": ((16, 8), "float32")}
  with pytest.raises(_errors.MappingError) as e:
    checkpoints.dnn_sizes(variables, "'x.ckpt'")
  assert "no 'outputs/kernel'" in str(e.value)
  assert "hidden layer kernels ['hidden1/kernel', 'hidden3/kernel']" in str(e.value)


def test_format_table_aligns_columns():
  assert keras_bridge.format_table([("a", 1), ("long", 22)], ("k", "v")) == "k     v\n----  --\na     1\nlong  22"


def test_weight_histogram_png(tmp_path):
  import numpy as np  # pylint: disable=g-import-not-at-top

  path = plots.save_weight_histogram(np.linspace(-1, 1, 100).reshape(10, 10), str(tmp_path / "p" / "h.png"),
                                     "hidden1/kernel")
  with open(path, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
