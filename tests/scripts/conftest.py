"""Fixtures of the script tests: the digits data, a tiny trained TF1 checkpoint, and a subprocess runner."""

import os
import subprocess
import sys

from absl import flags
import pytest

from keras_bridge.twins import datasets
from keras_bridge.twins import training

#: Small enough to train in a fraction of a second, deep enough for transfer (hidden1-3 reused).
TINY_HIDDEN = (16, 12, 10, 8)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def digits():
  return datasets.load_dataset("digits")


@pytest.fixture(scope="session")
def tiny_checkpoint(digits, tmp_path_factory):
  """A train_tf1 run of the tiny DNN: (TrainResult, its checkpoint directory)."""
  directory = str(tmp_path_factory.mktemp("tiny_tf1"))
  result = training.train_dnn(digits, directory, epochs=2, batch_size=64, learning_rate=0.1, save_every=10,
                              hidden_sizes=TINY_HIDDEN, seed=1)
  return result, directory


@pytest.fixture
def parsed_flags():
  """Flag defaults, parsed, restored after the test (for calling `main` directly)."""
  from absl.testing import flagsaver  # pylint: disable=g-import-not-at-top

  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
  with flagsaver.flagsaver():
    yield flags.FLAGS


def run_script(name, *args, cwd=None, timeout=240):
  """Runs `python -m scripts.<name> args...` quietly (CI=true); returns the CompletedProcess."""
  env = dict(os.environ, CI="true", TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO)
  return subprocess.run([sys.executable, "-m", f"scripts.{name}", *args], cwd=cwd or REPO, env=env,
                        capture_output=True, text=True, timeout=timeout, check=False)
