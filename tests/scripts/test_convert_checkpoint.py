"""scripts/convert_checkpoint.py: name-based <-> object-based <-> .weights.h5, with --rules and --dry_run."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge.twins import checkpoints
from scripts import _cli
from tests.scripts.conftest import run_script


@pytest.mark.parametrize("spec, expected", [
    ("/kernel$=/weights,/bias$=/biases", [("/kernel$", "/weights"), ("/bias$", "/biases")]),
    (r"a\=b=c", [("a=b", "c")]),
], ids=["inline_list", "escaped_equals"])
def test_parse_inline_rules(spec, expected):
  assert _cli.parse_rules(spec) == (expected, [])


def test_parse_rules_file_and_every_problem(tmp_path):
  path = tmp_path / "rules.txt"
  path.write_text("# TF-slim names\n^dnn/=\nnot a rule\n([=x\n", encoding="utf-8")
  rules, problems = _cli.parse_rules(str(path))
  assert rules == [("^dnn/", "")]
  assert problems == [f"--rules {path}:3: 'not a rule' is not 'regex=replacement'.",
                      f"--rules {path}:4: '([' is not a valid regex (unterminated character set at position 1)."]


@pytest.mark.parametrize("src_suffix, dst_format", [("", "object-based"), (".weights.h5", "keras-h5")],
                         ids=["to_object_based", "to_weights_h5"])
def test_sizes_are_read_from_the_source(tiny_checkpoint, tmp_path, src_suffix, dst_format):
  """No --n_inputs/--hidden_sizes needed: the model's sizes come from the TF1 checkpoint's shapes."""
  trained, directory = tiny_checkpoint
  dst = str(tmp_path / ("out" + src_suffix))
  report, sizes = checkpoints.convert(directory, dst)
  assert sizes == "n_inputs=64, hidden_sizes=16,12,10,8, n_outputs=10"
  assert report.dst_format == dst_format and len(report.tensors) >= 10
  # And back from the converted file, whose sizes are read again (h5 layer names / object-graph order).
  back = str(tmp_path / "back" / "model")
  _, sizes_again = checkpoints.convert(dst, back, dst_format="name-based")
  assert sizes_again == sizes
  original, again = tf.train.load_checkpoint(trained.checkpoint), tf.train.load_checkpoint(back)
  np.testing.assert_array_equal(again.get_tensor("hidden3/kernel"), original.get_tensor("hidden3/kernel"))


def test_dry_run_writes_nothing_and_overwrite_is_explicit(tiny_checkpoint, tmp_path):
  _, directory = tiny_checkpoint
  dst = str(tmp_path / "dnn.weights.h5")
  report, _ = checkpoints.convert(directory, dst, dry_run=True)
  assert report.dry_run and report.mapping.ok and not os.path.exists(dst)
  checkpoints.convert(directory, dst)
  with pytest.raises(_errors.OutputExistsError):
    checkpoints.convert(directory, dst)
  checkpoints.convert(directory, dst, overwrite=True)


@pytest.mark.slow
def test_command_line_dry_run_same_format_refusal_and_hardlinks(tiny_checkpoint, tmp_path):
  """A bad request is one message and exit status 2; --dry_run shows what would be written; --data=hardlink
  links the source's data file into the output (shared bytes: no CRC-32C read unless --verify)."""
  _, directory = tiny_checkpoint
  dst = str(tmp_path / "slim" / "model")
  proc = run_script("convert_checkpoint", f"--src={directory}", f"--dst={dst}", "--dst_format=name-based",
                    "--src_format=name-based", "--rules=/kernel$=/weights,/bias$=/biases", "--dry_run")
  assert proc.returncode == 2  # name-based to name-based is not a conversion
  assert "is already name-based" in proc.stderr and "Traceback" not in proc.stderr
  h5 = str(tmp_path / "dnn.weights.h5")
  proc = run_script("convert_checkpoint", f"--src={directory}", f"--dst={h5}", "--dry_run")
  assert proc.returncode == 0, proc.stderr
  assert "model: dnn (n_inputs=64, hidden_sizes=16,12,10,8, n_outputs=10)" in proc.stdout
  assert "would write" in proc.stdout and not os.path.exists(h5)
  trained, _ = tiny_checkpoint
  linked = str(tmp_path / "linked" / "ckpt")
  proc = run_script("convert_checkpoint", f"--src={directory}", f"--dst={linked}", "--data=hardlink")
  assert proc.returncode == 0, proc.stderr
  assert "(copy, data files: hardlink)" in proc.stdout  # No CRC-32C check of shared bytes by default.
  assert os.stat(trained.checkpoint + ".data-00000-of-00001").st_ino == os.stat(linked + ".data-00000-of-00002").st_ino


def test_progress_bar_callback_sees_every_tensor(tiny_checkpoint, tmp_path):
  """Issue 5: conversion of many tensors reports progress; the script's callback gets (done, total) per tensor."""
  trained, _ = tiny_checkpoint
  calls = []
  report, _ = checkpoints.convert(trained.checkpoint, str(tmp_path / "out.weights.h5"),
                                         progress=lambda done, total, key, nbytes: calls.append((done, total)))
  total = len(report.tensors)
  assert calls == [(i, total) for i in range(1, total + 1)]
  assert _cli.progress_bar(False) is False
  assert callable(_cli.progress_bar(True))
