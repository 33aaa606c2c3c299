"""The one place that reaches into TensorFlow's private legacy `tf.layers` code.

With Keras 3 as `tf.keras`, `tf.compat.v1.layers.dense` raises "`tf.compat.v1.layers.dense` is not available
with Keras 3". The real legacy implementation still ships inside TensorFlow as
`tensorflow.python.layers.core` / `tensorflow.python.layers.convolutional` and works in graph mode in the same
process as Keras 3. Everything in this project that needs `tf.layers` imports it from here, so a future
TensorFlow that moves or drops those modules breaks exactly one file, and
`tests/tf1_reference/test_compat.py` checks that it still matches `tf_keras`'s `tf.compat.v1.layers`.

`tf.layers.batch_normalization` is the exception: TensorFlow's own `tensorflow.python.layers.normalization`
forwards to `tf_keras.legacy_tf_layers`, a module `tf_keras` 2.21 no longer has, so `batch_normalization`
imports `tf_keras.src.legacy_tf_layers.normalization` (the same legacy layer) when first called.

The legacy RNN cells and drivers (`tf.nn.rnn_cell.*`, `tf.nn.dynamic_rnn`, ...) are re-exported here too:
`tf.compat.v1.nn.rnn_cell` raises under Keras 3, while `tensorflow.python.ops.rnn_cell_impl` and
`tensorflow.python.ops.rnn` still hold the TF 1.x implementations.
"""

import warnings

from tensorflow.python.layers import convolutional as _convolutional
from tensorflow.python.layers import core as _core
from tensorflow.python.layers import pooling as _pooling
from tensorflow.python.ops import rnn as _rnn
from tensorflow.python.ops import rnn_cell_impl as _rnn_cell_impl

#: `tf.nn.rnn_cell.BasicLSTMCell` (TF 1.x): variables `<scope>/basic_lstm_cell/kernel|bias`.
BasicLSTMCell = _rnn_cell_impl.BasicLSTMCell
#: `tf.nn.rnn_cell.LSTMCell` (TF 1.x): variables `<scope>/lstm_cell/kernel|bias`.
LSTMCell = _rnn_cell_impl.LSTMCell
#: `tf.nn.rnn_cell.GRUCell` (TF 1.x): variables `<scope>/gru_cell/gates/kernel|bias`,
#: `<scope>/gru_cell/candidate/kernel|bias`.
GRUCell = _rnn_cell_impl.GRUCell
#: `tf.nn.rnn_cell.MultiRNNCell` (TF 1.x): cell `i` lives under `<scope>/multi_rnn_cell/cell_<i>/`.
MultiRNNCell = _rnn_cell_impl.MultiRNNCell
#: `tf.nn.dynamic_rnn` (TF 1.x): a `while_loop` under `rnn/` (v1 or v2 control flow, as the process has it).
dynamic_rnn = _rnn.dynamic_rnn
#: `tf.nn.static_rnn` (TF 1.x): the cell unrolled in Python, one set of variables under `rnn/`.
static_rnn = _rnn.static_rnn
#: `tf.nn.bidirectional_dynamic_rnn` (TF 1.x): `bidirectional_rnn/fw/...` and `bidirectional_rnn/bw/...`.
bidirectional_dynamic_rnn = _rnn.bidirectional_dynamic_rnn


def _quiet(fn, *args, **kwargs):
  """Calls a legacy layer function without its "is deprecated" UserWarning."""
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    return fn(*args, **kwargs)


def dense(inputs, units, **kwargs):
  """`tf.layers.dense` (TF 1.x), the real legacy implementation.

  Args:
    inputs: a graph-mode tensor.
    units: number of output units.
    **kwargs: as for TF1 `tf.layers.dense` (`activation`, `name`, `kernel_initializer`, `reuse`, ...).

  Returns:
    The output tensor. Its variables are `<scope>/<name>/kernel` and `<scope>/<name>/bias`.
  """
  return _quiet(_core.dense, inputs, units, **kwargs)


def conv2d(inputs, filters, kernel_size, **kwargs):
  """`tf.layers.conv2d` (TF 1.x), the real legacy implementation."""
  return _quiet(_convolutional.conv2d, inputs, filters, kernel_size, **kwargs)


def conv2d_transpose(inputs, filters, kernel_size, **kwargs):
  """`tf.layers.conv2d_transpose` (TF 1.x): kernel `[kh, kw, filters, in_channels]`, then bias."""
  return _quiet(_convolutional.conv2d_transpose, inputs, filters, kernel_size, **kwargs)


def dropout(inputs, rate=0.5, **kwargs):
  """`tf.layers.dropout` (TF 1.x): no variables; `training` may be a bool tensor (then a `cond`)."""
  return _quiet(_core.dropout, inputs, rate=rate, **kwargs)


def flatten(inputs, **kwargs):
  """`tf.layers.flatten` (TF 1.x): a `Reshape` to `[batch, -1]`, no variables."""
  return _quiet(_core.flatten, inputs, **kwargs)


def max_pooling2d(inputs, pool_size, strides, **kwargs):
  """`tf.layers.max_pooling2d` (TF 1.x): a `MaxPool` op, no variables."""
  return _quiet(_pooling.max_pooling2d, inputs, pool_size, strides, **kwargs)


def average_pooling2d(inputs, pool_size, strides, **kwargs):
  """`tf.layers.average_pooling2d` (TF 1.x): an `AvgPool` op, no variables."""
  return _quiet(_pooling.average_pooling2d, inputs, pool_size, strides, **kwargs)


def batch_normalization(inputs, **kwargs):
  """`tf.layers.batch_normalization` (TF 1.x), the legacy layer kept in `tf_keras`.

  Args:
    inputs: a graph-mode tensor.
    **kwargs: as for TF1 `tf.layers.batch_normalization` (`training`, `momentum`, `fused`, `name`, ...).

  Returns:
    The output tensor. Its variables are `<name>/gamma`, `<name>/beta` and the non-trainable
    `<name>/moving_mean`, `<name>/moving_variance`; the moving-average updates go to `UPDATE_OPS`.

  Raises:
    ImportError: `tf_keras` is not installed (`pip install tf_keras`); TensorFlow itself no longer ships
      this layer.
  """
  try:
    from tf_keras.src.legacy_tf_layers import normalization  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError("tf1_reference._compat.batch_normalization needs tf_keras (`pip install tf_keras`): "
                      "TensorFlow 2.21 no longer ships the legacy tf.layers.batch_normalization.") from e
  return _quiet(normalization.batch_normalization, inputs, **kwargs)
