"""The one place that reaches into TensorFlow's private legacy `tf.layers` code.

With Keras 3 as `tf.keras`, `tf.compat.v1.layers.dense` raises "`tf.compat.v1.layers.dense` is not available
with Keras 3". The real legacy implementation still ships inside TensorFlow as
`tensorflow.python.layers.core` / `tensorflow.python.layers.convolutional` and works in graph mode in the same
process as Keras 3. Everything in this project that needs `tf.layers` imports it from here, so a future
TensorFlow that moves or drops those modules breaks exactly one file, and
`tests/tf1_reference/test_compat.py` checks that it still matches `tf_keras`'s `tf.compat.v1.layers`.
"""

import warnings

from tensorflow.python.layers import convolutional as _convolutional
from tensorflow.python.layers import core as _core


def dense(inputs, units, **kwargs):
  """`tf.layers.dense` (TF 1.x), the real legacy implementation.

  Args:
    inputs: a graph-mode tensor.
    units: number of output units.
    **kwargs: as for TF1 `tf.layers.dense` (`activation`, `name`, `kernel_initializer`, `reuse`, ...).

  Returns:
    The output tensor. Its variables are `<scope>/<name>/kernel` and `<scope>/<name>/bias`.
  """
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    return _core.dense(inputs, units, **kwargs)


def conv2d(inputs, filters, kernel_size, **kwargs):
  """`tf.layers.conv2d` (TF 1.x), the real legacy implementation."""
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    return _convolutional.conv2d(inputs, filters, kernel_size, **kwargs)
