"""Shared pytest configuration."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from keras_bridge.twins import quiet  # noqa: E402  (imports no TensorFlow)

# TensorFlow writes its start-up lines (`cudart_stub`, `failed call to cuInit` on a machine without a GPU) before
# its C++ logging reads TF_CPP_MIN_LOG_LEVEL; hold them back as the scripts do (shown if the import fails).
with quiet._held_back(stdout=False):  # pylint: disable=protected-access
  import tensorflow as tf  # noqa: E402

  tf.config.list_physical_devices()

# The importer's corpus of TF1 models (built once per session), for every test directory.
from tests.keras_bridge.importer.conftest import corpus  # noqa: E402,F401  pylint: disable=unused-import
from tests.keras_bridge.importer.conftest import corpus_dir  # noqa: E402,F401  pylint: disable=unused-import


@pytest.fixture(autouse=True)
def _fresh_keras_state():
  """Keras auto-names layers with a global counter; reset it so literal names are stable per test."""
  import keras

  keras.backend.clear_session(free_memory=False)  # gc.collect() would cost ~0.4 s per test
  yield


def has_gpu():
  return bool(tf.config.list_physical_devices("GPU"))


def pytest_collection_modifyitems(config, items):
  if has_gpu():
    return
  skip_gpu = pytest.mark.skip(reason="no GPU visible to TensorFlow")
  for item in items:
    if "gpu" in item.keywords:
      item.add_marker(skip_gpu)
