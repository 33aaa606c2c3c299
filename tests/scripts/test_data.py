"""keras_bridge.twins.datasets: the offline digits default and the tfds MNIST path (mocked: no network here)."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_bridge.twins import datasets


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


def test_mnist_through_tfds_takes_its_size_from_the_data(tmp_path):
  """--dataset=mnist goes through tfds.load(data_dir=...); 784 inputs come from the images' shape."""
  with tfds.testing.mock_data(num_examples=12, data_dir=str(tmp_path)):
    data = datasets.load_dataset("mnist", data_dir=str(tmp_path))
  assert data.name == "mnist"
  assert data.x_train.shape == (12, 784) and data.x_test.shape == (12, 784)
  assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
  assert data.y_train.dtype == np.int64 and data.n_inputs == 784


def test_unknown_dataset_names_the_choices():
  with pytest.raises(ValueError, match=r"Unknown dataset 'cifar'; expected one of digits, mnist"):
    datasets.load_dataset("cifar")


def test_batches_cover_one_epoch_once():
  x = np.arange(10, dtype=np.float32)[:, None]
  y = np.arange(10)
  seen = np.concatenate([yb for _, yb in datasets.batches(x, y, 4, np.random.default_rng(0))])
  assert sorted(seen.tolist()) == list(range(10))
