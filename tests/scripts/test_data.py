"""keras_bridge.twins.datasets: the offline digits default and the tfds MNIST path, with tfds's real builder.

No network here: MNIST is prepared locally by tfds's own writer (`store_as_tfds_dataset`, tiny random images
under the real builder's name, version and features), so `load_dataset("mnist")` goes through the same
`tfds.builder("mnist")` a user's prepared copy does.
"""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_bridge import _errors
from keras_bridge.twins import datasets
from tests.scripts.conftest import run_script
from tests.scripts.test_output import NOISE


def prepare_fake_mnist(data_dir, n_train=24, n_test=12):
  """Writes a prepared MNIST dataset directory (as `download_and_prepare` leaves it), from random images."""
  builder = tfds.builder("mnist", data_dir=data_dir)

  def split(n, seed):
    rng = np.random.default_rng(seed)
    return tf.data.Dataset.from_tensor_slices({"image": rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8),
                                               "label": rng.integers(0, 10, n)})

  tfds.dataset_builders.store_as_tfds_dataset(
      name="mnist", version=str(builder.version), features=builder.info.features,
      split_datasets={"train": split(n_train, 0), "test": split(n_test, 1)}, data_dir=data_dir)
  assert tfds.builder("mnist", data_dir=data_dir).is_prepared()
  return data_dir


def test_digits_is_offline_flat_and_scaled(digits):
  """scikit-learn's bundled 8x8 digits: 64 features in [0, 1], int64 labels 0-9, a fixed 1437/360 split."""
  assert digits.name == "digits"
  assert digits.x_train.shape == (1437, 64) and digits.x_test.shape == (360, 64)
  assert digits.x_train.dtype == np.float32 and digits.y_train.dtype == np.int64
  assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0
  assert (digits.n_inputs, digits.n_classes) == (64, 10)


def test_digits_split_is_fixed(digits):
  """Every run and every test sees the same split."""
  again = datasets.load_dataset("digits")
  np.testing.assert_array_equal(again.x_test, digits.x_test)
  np.testing.assert_array_equal(again.y_train, digits.y_train)


def test_tfds_builder_imports_what_it_needs_from_a_fresh_interpreter():
  """Issue 12: tfds imports `importlib_resources` lazily when it loads a builder; pyproject.toml declares it.
  No mocks: the real MNIST builder, in a fresh interpreter (this one may have imported it already)."""
  code = ("import tensorflow_datasets as tfds\n"
          "from tensorflow_datasets.core import dataset_builder\n"
          "dataset_builder.importlib_resources.abc.Traversable\n"
          "print(type(tfds.builder('mnist', data_dir='unused')).__name__)\n")
  proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.strip().splitlines()[-1] == "MNIST"


def test_mnist_from_a_prepared_data_dir_takes_its_size_from_the_data(tmp_path):
  """--dataset=mnist --data_dir=DIR reads a prepared copy; 784 inputs come from the images' shape."""
  data_dir = prepare_fake_mnist(str(tmp_path))
  data = datasets.load_dataset("mnist", data_dir=data_dir)
  assert data.name == "mnist"
  assert data.x_train.shape == (24, 784) and data.x_test.shape == (12, 784)
  assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
  assert data.y_train.dtype == np.int64 and data.n_inputs == 784


def test_mnist_without_data_or_network_fails_in_one_line_that_says_how_to_prepare(tmp_path, monkeypatch):
  monkeypatch.setattr(datasets, "_reachable", lambda address: False)
  with pytest.raises(_errors.ArgumentError) as e:
    datasets.load_dataset("mnist", data_dir=str(tmp_path / "empty"))
  message = str(e.value)
  assert "\n" not in message
  assert message.startswith(f"MNIST is not prepared in '{tmp_path / 'empty'}' and storage.googleapis.com cannot be "
                            "reached to download it. Prepare it once on a machine with network")
  assert "download_and_prepare()" in message and "--dataset=digits" in message


@pytest.mark.slow
def test_train_tf1_on_a_prepared_mnist_from_the_command_line(tmp_path):
  data_dir = prepare_fake_mnist(str(tmp_path / "tfds"))
  proc = run_script("train_tf1", "--dataset=mnist", f"--data_dir={data_dir}", "--epochs=1", "--hidden_sizes=8",
                    f"--checkpoint_dir={tmp_path / 'ckpt'}")
  assert proc.returncode == 0, proc.stderr
  assert [line for line in proc.stderr.splitlines() if NOISE.search(line)] == []
  assert "mnist" in proc.stdout


def test_unknown_dataset_names_the_choices():
  with pytest.raises(ValueError, match=r"Unknown dataset 'cifar'; expected one of digits, mnist"):
    datasets.load_dataset("cifar")


def test_batches_cover_one_epoch_once():
  x = np.arange(10, dtype=np.float32)[:, None]
  y = np.arange(10)
  seen = np.concatenate([yb for _, yb in datasets.batches(x, y, 4, np.random.default_rng(0))])
  assert sorted(seen.tolist()) == list(range(10))
