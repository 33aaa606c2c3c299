"""Fixtures for the importer tests: the corpus of TF1 models, built once per test session.

Under pytest-xdist every worker sees the same corpus directory (the parent of the workers' base temp
directories); a file lock per model makes exactly one worker build each `(name, op_form)`, and the others
load the pickled `CorpusModel` it left beside the checkpoint.
"""

import fcntl
import os
import pickle

import pytest

from tests.keras_bridge.importer import corpus as corpus_lib


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
  """The directory holding `<op_form>/<name>/model.ckpt-2*`, shared by all xdist workers."""
  root = tmp_path_factory.getbasetemp()
  if os.environ.get("PYTEST_XDIST_WORKER"):
    root = root.parent
  path = root / "importer_corpus"
  path.mkdir(exist_ok=True)
  return path


@pytest.fixture(scope="session")
def corpus(corpus_dir):
  """A function `(name, op_form) -> CorpusModel` that builds each model at most once per session.

  Example: `model = corpus("tflayers_mlp", "v1")`, then `model.prefix + ".meta"`.
  """
  cache = {}

  def get(name, op_form):
    if (name, op_form) not in cache:
      record = corpus_dir / op_form / name / "corpus_model.pkl"
      with open(corpus_dir / f"{op_form}-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if record.exists():
          model = pickle.loads(record.read_bytes())
        else:
          model = corpus_lib.build(name, str(corpus_dir / op_form), op_form)
          record.write_bytes(pickle.dumps(model))
      cache[(name, op_form)] = model
    return cache[(name, op_form)]

  return get
