"""Tensor specs: one spelling of a tensor's shape and dtype for every format and report.

A spec is `(shape, dtype name)`, e.g. `((8, 6), "float32")`: a tuple of Python ints and TensorFlow's dtype name,
whatever the shape or dtype came as (a `TensorShape`, a NumPy dtype, an HDF5 dataset, a Keras variable).
"""

from typing import Tuple

import numpy as np
import tensorflow as tf

Spec = Tuple[Tuple[int, ...], str]


def shape_tuple(shape) -> Tuple[int, ...]:
  """`shape` as a tuple of Python ints."""
  return tuple(int(d) for d in shape)


def dtype_name(dtype) -> str:
  """TensorFlow's name of `dtype` ("float32", "bfloat16", ...)."""
  return tf.as_dtype(dtype).name


def nbytes(shape, dtype) -> int:
  """The bytes of a dense tensor of this shape and (fixed-size) dtype."""
  return int(np.prod(shape, dtype=np.int64)) * tf.as_dtype(dtype).size
