"""Datasets of the reference models' runs: scikit-learn's bundled digits (offline default) and MNIST through tfds.

Both come back as flat float32 features in [0, 1] and int64 labels, so the 002_9773991e7c1a2830.txt DNN takes
either one; the input size is read from the data (64 for digits, 784 for MNIST), never hard-coded.
"""

import dataclasses
import socket

import numpy as np

from keras_bridge import _errors

#: Names accepted by `load_dataset` (and by the scripts' `--dataset` flag).
DATASETS = ("digits", "mnist")
#: The digits split is fixed so every run (and every test) sees the same train and test sets.
_DIGITS_TEST_FRACTION = 0.2
_DIGITS_SPLIT_SEED = 0


@dataclasses.dataclass(frozen=True)
class Dataset:
  """Train and test arrays of one dataset. Features are float32 in [0, 1], labels int64."""

  name: str
  x_train: np.ndarray
  y_train: np.ndarray
  x_test: np.ndarray
  y_test: np.ndarray

  @property
  def n_inputs(self) -> int:
    return int(self.x_train.shape[1])

  @property
  def n_classes(self) -> int:
    return int(max(self.y_train.max(), self.y_test.max())) + 1


def _digits() -> Dataset:
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  from sklearn import model_selection  # pylint: disable=g-import-not-at-top

  bunch = datasets.load_digits()
  # Pixel values of the 8x8 digits are counts in 0..16.
  x = (bunch.data / 16.0).astype(np.float32)
  y = bunch.target.astype(np.int64)
  x_train, x_test, y_train, y_test = model_selection.train_test_split(
      x, y, test_size=_DIGITS_TEST_FRACTION, random_state=_DIGITS_SPLIT_SEED, stratify=y)
  return Dataset("digits", x_train, y_train, x_test, y_test)


def _flatten_images(images: np.ndarray) -> np.ndarray:
  return (images.reshape(len(images), -1) / 255.0).astype(np.float32)


def _to_arrays(ds):
  # Batched reads stacked in NumPy; tfds's batch_size=-1 aborts the process on mocked (generator) data.
  images, labels = [], []
  for x, y in ds.batch(4096).as_numpy_iterator():
    images.append(x)
    labels.append(y)
  return _flatten_images(np.concatenate(images)), np.concatenate(labels).astype(np.int64)


#: Where tfds downloads MNIST from; checked before a download, so that no network fails at once, not after
#: minutes of retries.
_MNIST_HOST = ("storage.googleapis.com", 443)


def _reachable(address, timeout: float = 5.0) -> bool:
  try:
    socket.create_connection(address, timeout=timeout).close()
    return True
  except OSError:
    return False


def _how_to_prepare(data_dir) -> str:
  where = data_dir or "~/tensorflow_datasets"
  return (f"Prepare it once on a machine with network (python -c \"import tensorflow_datasets as tfds; "
          f"tfds.builder('mnist', data_dir='{where}').download_and_prepare()\"), copy that directory here and pass "
          "--data_dir to it, or use --dataset=digits (offline).")


def _mnist(data_dir) -> Dataset:
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  builder = tfds.builder("mnist", data_dir=data_dir)
  if not builder.is_prepared():
    where = f"in {data_dir!r}" if data_dir else "in tfds's default data directory"
    if not _reachable(_MNIST_HOST):
      raise _errors.ArgumentError(f"MNIST is not prepared {where} and {_MNIST_HOST[0]} cannot be reached to "
                                  f"download it. {_how_to_prepare(data_dir)}")
    try:
      builder.download_and_prepare()
    except Exception as e:  # pylint: disable=broad-except  # Any download failure: one line, how to fix it.
      reason = f"{type(e).__name__}: {e}".splitlines()[0][:200]
      raise _errors.ArgumentError(f"MNIST is not prepared {where} and downloading it failed ({reason}). "
                                  f"{_how_to_prepare(data_dir)}") from None
  train, test = builder.as_dataset(split=["train", "test"], as_supervised=True, shuffle_files=False)
  return Dataset("mnist", *_to_arrays(train), *_to_arrays(test))


def load_dataset(name: str = "digits", data_dir=None) -> Dataset:
  """Loads a dataset as flat float32 features in [0, 1] and int64 labels.

  Args:
    name: "digits" (scikit-learn's bundled 8x8 handwritten digits, 64 features, 1437 train / 360 test
      examples; needs no network) or "mnist" (through `tensorflow_datasets`, 784 features).
    data_dir: where tfds keeps (or downloads) MNIST; None means tfds's default. Ignored for digits.

  Returns:
    A `Dataset`.

  Raises:
    keras_bridge.ArgumentError: `name` is not one of `DATASETS`, or MNIST is neither prepared in `data_dir`
      nor downloadable (the message says how to prepare it).
  """
  if name == "digits":
    return _digits()
  if name == "mnist":
    return _mnist(data_dir)
  raise _errors.ArgumentError(f"Unknown dataset {name!r}; expected one of {', '.join(DATASETS)}.")


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator):
  """Yields shuffled `(x_batch, y_batch)` minibatches covering one epoch."""
  order = rng.permutation(len(x))
  for start in range(0, len(order), batch_size):
    idx = order[start:start + batch_size]
    yield x[idx], y[idx]
