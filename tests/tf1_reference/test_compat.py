"""tf1_reference._compat (the real legacy tf.layers) still matches `tf.compat.v1.layers` under tf_keras."""

import numpy as np
import pytest
import tensorflow as tf

from tf1_reference import _compat

v1 = tf.compat.v1


def _build(dense_fn, conv_fn, seeded):
  """Builds a small graph; `seeded` pins each kernel initializer's op seed so values are comparable."""
  graph = tf.Graph()
  with graph.as_default():
    v1.set_random_seed(7)
    kw = (lambda s: {"kernel_initializer": v1.glorot_uniform_initializer(seed=s)}) if seeded else (lambda s: {})
    x = v1.placeholder(tf.float32, [None, 6], name="x")
    img = v1.placeholder(tf.float32, [None, 8, 8, 3], name="img")
    with tf.name_scope("dnn"):
      h = dense_fn(x, 5, activation=tf.nn.relu, name="hidden1", **kw(1))
      dense_fn(h, 3, name="outputs", **kw(2))
    conv_fn(img, 4, 3, name="conv1", **kw(3))
    variables = v1.global_variables()
    init_ops = sorted((op.name, op.type) for op in graph.get_operations() if "/Initializer/" in op.name)
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      values = sess.run(variables)
  meta = [(v.op.name, tuple(v.shape.as_list()), v.dtype.base_dtype.name) for v in variables]
  return meta, values, init_ops


def test_compat_matches_tf_keras_layers():
  """002_9773991e7c1a2830.txt: tf.layers.dense names, shapes and seeded initial values match tf_keras's."""
  from tf_keras.src.legacy_tf_layers import convolutional as tfk_convolutional  # pylint: disable=g-import-not-at-top
  from tf_keras.src.legacy_tf_layers import core as tfk_core  # pylint: disable=g-import-not-at-top

  ours_meta, ours_default, ours_init_ops = _build(_compat.dense, _compat.conv2d, seeded=False)
  ref_meta, ref_default, _ = _build(tfk_core.dense, tfk_convolutional.conv2d, seeded=False)
  assert ours_meta == ref_meta
  # Both default to glorot_uniform kernels and zero biases. (tf_keras draws with stateless RNG ops, the
  # TF-internal copy with stateful ones, so unseeded draws differ; the distributions are the same.)
  assert ("hidden1/kernel/Initializer/random_uniform/RandomUniform", "RandomUniform") in ours_init_ops
  for (name, shape, _), ours, ref in zip(ours_meta, ours_default, ref_default):
    if name.endswith("/bias"):
      np.testing.assert_array_equal(ours, np.zeros(shape))
      np.testing.assert_array_equal(ref, np.zeros(shape))
    else:
      fan_in, fan_out = np.prod(shape[:-1]), shape[-1] * (np.prod(shape[:-2]) if len(shape) > 2 else 1)
      limit = np.sqrt(6.0 / (fan_in + fan_out))
      assert np.abs(ours).max() <= limit and np.abs(ref).max() <= limit, name
  # With op-level seeds fixed, the initial values are identical.
  _, ours_values, _ = _build(_compat.dense, _compat.conv2d, seeded=True)
  _, ref_values, _ = _build(tfk_core.dense, tfk_convolutional.conv2d, seeded=True)
  assert ours_meta == [
      ("hidden1/kernel", (6, 5), "float32"),
      ("hidden1/bias", (5,), "float32"),
      ("outputs/kernel", (5, 3), "float32"),
      ("outputs/bias", (3,), "float32"),
      ("conv1/kernel", (3, 3, 3, 4), "float32"),
      ("conv1/bias", (4,), "float32"),
  ]
  for a, b in zip(ours_values, ref_values):
    np.testing.assert_array_equal(a, b)


def test_keras3_tf_compat_v1_layers_dense_is_unavailable():
  """DEVELOPERS.md: with Keras 3, tf.compat.v1.layers.dense raises; that is why _compat exists."""
  graph = tf.Graph()
  with graph.as_default():
    x = v1.placeholder(tf.float32, [None, 6])
    with pytest.raises(Exception, match="not available with Keras 3"):
      v1.layers.dense(x, 5)
