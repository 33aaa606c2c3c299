"""What a new user sees (issue 12): the main job and the scripts print only their own output.

The README's main job itself runs in tests/test_docs.py (`test_documented_commands_run_as_written`), which
asserts the same of it.

TensorFlow's start-up lines, its Python logging and the TFLite converter's chatter stay off the terminal on a CPU
machine whatever the environment says; tables fit 100 columns; progress bars say what they count; a closed pipe
ends quietly; absl's `-v 0` brings TensorFlow's logging back.
"""

import io
import os
import re
import subprocess
import sys

import pytest

from keras_bridge import _tables
from keras_bridge.twins import progress
from tests.scripts.conftest import REPO
from tests.scripts.conftest import run_script

#: What must not reach the terminal (issue 12, "Tests and evidence").
NOISE = re.compile(r"I0000|W0000|E0000|WARNING:tensorflow|INFO:tensorflow|cuInit|Traceback|Warning:")


def _noise(text):
  return [line for line in text.splitlines() if NOISE.search(line)]


@pytest.mark.slow
def test_verbosity_brings_tensorflow_logging_back(tiny_checkpoint):
  _, directory = tiny_checkpoint
  quiet = run_script("inspect_checkpoint", f"--checkpoint={directory}")
  loud = run_script("inspect_checkpoint", f"--checkpoint={directory}", "-v", "0")
  assert quiet.returncode == loud.returncode == 0, loud.stderr
  assert quiet.stderr == "" and quiet.stdout == loud.stdout
  assert _noise(loud.stderr), "absl's -v 0 should show TensorFlow's start-up lines"


@pytest.mark.slow
def test_broken_pipe_ends_quietly(tiny_checkpoint):
  """`inspect_checkpoint ... | head -1`: one line out, no BrokenPipeError traceback."""
  _, directory = tiny_checkpoint
  env = dict(os.environ, PYTHONPATH=REPO, CI="true")
  proc = subprocess.run(f"'{sys.executable}' -m scripts.inspect_checkpoint --checkpoint='{directory}' --json=- "
                        "| head -1", shell=True, cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                        check=False)
  assert proc.stdout == "{\n"
  assert proc.stderr == ""


def test_tables_fit_100_columns_by_wrapping_or_cutting_the_last_column():
  rows = [("a", "word " * 40), ("b", "/a/path/that/is/long/" * 6)]
  wrapped = _tables.format_table(rows, ("what", "value"), max_width=40)
  lines = wrapped.splitlines()
  assert lines[0] == "what  value"
  assert all(len(line) <= 40 for line in lines if "/a/path" not in line)
  assert "/a/path/that/is/long/" * 6 in wrapped  # A path is never broken.
  cut = _tables.format_table(rows, ("what", "value"), max_width=40, overflow="truncate")
  assert cut.splitlines()[2] == "a     " + ("word " * 7)[:31] + "..."
  assert _tables.format_table(rows[:1], ("k", "v")) == "k  v\n-  " + "-" * 200 + "\na  " + ("word " * 40).rstrip()


def test_progress_bar_names_what_it_counts():
  out = io.StringIO()
  bar = progress.Progress(3, True, unit_name="tensor", label="tensors converted", out=out)
  bar.update(1)
  bar.update(3, [("loss", 0.123456)])
  assert re.fullmatch(r"tensors converted: 3/3 tensors, \d+\.\d s - loss: 0\.1235\n", out.getvalue())
  out = io.StringIO()
  progress.Progress(2, True, unit_name="epoch", out=out).update(2)
  assert out.getvalue().startswith("epochs: 2/2, ")
  out = io.StringIO()
  progress.Progress(2, False, out=out).update(2)
  assert out.getvalue() == ""
