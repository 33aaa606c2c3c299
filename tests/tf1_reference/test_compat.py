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


def _build_more(layers, cells, use_resource):
  """A graph with every other `_compat` wrapper (or tf_keras's twin); returns variable and output metadata."""
  graph = tf.Graph()
  with graph.as_default():
    v1.set_random_seed(7)
    v1.get_variable_scope().set_use_resource(use_resource)
    img = v1.placeholder(tf.float32, [None, 8, 8, 3], name="img")
    seq = v1.placeholder(tf.float32, [None, 5, 3], name="seq")
    training = v1.placeholder(tf.bool, [], name="training")
    outputs = [
        layers.conv2d_transpose(img, 4, 3, strides=2, padding="same", name="deconv"),
        layers.batch_normalization(img, training=training, name="bn"),
        layers.max_pooling2d(img, 2, 2, name="max_pool"),
        layers.average_pooling2d(img, 2, 2, padding="same", name="avg_pool"),
        layers.dropout(img, rate=0.3, training=training, name="dropout"),
        layers.flatten(img, name="flatten"),
    ]
    with v1.variable_scope("basic"):
      outputs.append(_compat.dynamic_rnn(cells.BasicLSTMCell(4), seq, dtype=tf.float32)[0])
    with v1.variable_scope("stacked"):
      cell = cells.MultiRNNCell([cells.LSTMCell(4), cells.GRUCell(3)])
      outputs.append(_compat.dynamic_rnn(cell, seq, dtype=tf.float32)[0])
    with v1.variable_scope("static"):
      outputs.append(_compat.static_rnn(cells.GRUCell(2), tf.unstack(seq, axis=1), dtype=tf.float32)[0][-1])
    outputs.append(tf.concat(_compat.bidirectional_dynamic_rnn(
        cells.GRUCell(2), cells.GRUCell(2), seq, dtype=tf.float32)[0], axis=2))
    variables = [(v.op.name, tuple(v.shape.as_list()), v.op.type, v.trainable) for v in v1.global_variables()]
    shapes = [tuple(o.shape.as_list()) for o in outputs]
    updates = sorted(op.name for op in v1.get_collection(v1.GraphKeys.UPDATE_OPS))
  return variables, shapes, updates


class _TfKerasLayers:
  """tf_keras's `tf.compat.v1.layers` functions, under the `_compat` names."""

  def __init__(self):
    from tf_keras.src.legacy_tf_layers import convolutional, core, normalization, pooling  # pylint: disable=g-import-not-at-top
    self.conv2d_transpose = convolutional.conv2d_transpose
    self.batch_normalization = normalization.batch_normalization
    self.max_pooling2d = pooling.max_pooling2d
    self.average_pooling2d = pooling.average_pooling2d
    self.dropout = core.dropout
    self.flatten = core.flatten


@pytest.mark.parametrize("use_resource", [False, True], ids=["ref_variables", "resource_variables"])
def test_compat_layers_and_rnn_cells_match_tf_keras(use_resource):
  """Importer corpus: the pooling, dropout, flatten, conv2d_transpose, batch-norm and RNN-cell wrappers
  create the variables (names, shapes, kinds) and outputs of tf_keras's `tf.compat.v1.layers` and
  `tf.compat.v1.nn.rnn_cell`.

  Ref variables are built with v1 control flow, as TF 1.x did: under control flow v2 the cells that
  `dynamic_rnn` builds inside its `while_loop` body get resource variables whatever the scope says.
  """
  from tf_keras.src.layers.rnn import legacy_cells  # pylint: disable=g-import-not-at-top

  was_v2 = v1.control_flow_v2_enabled()
  try:
    if not use_resource:
      v1.disable_control_flow_v2()
    ours = _build_more(_compat, _compat, use_resource)
    ref = _build_more(_TfKerasLayers(), legacy_cells, use_resource)
  finally:
    if was_v2:
      v1.enable_control_flow_v2()
  assert ours == ref
  variables, shapes, updates = ours
  kind = "VarHandleOp" if use_resource else "VariableV2"
  assert variables == [
      ("deconv/kernel", (3, 3, 4, 3), kind, True),
      ("deconv/bias", (4,), kind, True),
      ("bn/gamma", (3,), kind, True),
      ("bn/beta", (3,), kind, True),
      ("bn/moving_mean", (3,), kind, False),
      ("bn/moving_variance", (3,), kind, False),
      ("basic/rnn/basic_lstm_cell/kernel", (7, 16), kind, True),
      ("basic/rnn/basic_lstm_cell/bias", (16,), kind, True),
      ("stacked/rnn/multi_rnn_cell/cell_0/lstm_cell/kernel", (7, 16), kind, True),
      ("stacked/rnn/multi_rnn_cell/cell_0/lstm_cell/bias", (16,), kind, True),
      ("stacked/rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel", (7, 6), kind, True),
      ("stacked/rnn/multi_rnn_cell/cell_1/gru_cell/gates/bias", (6,), kind, True),
      ("stacked/rnn/multi_rnn_cell/cell_1/gru_cell/candidate/kernel", (7, 3), kind, True),
      ("stacked/rnn/multi_rnn_cell/cell_1/gru_cell/candidate/bias", (3,), kind, True),
      ("static/rnn/gru_cell/gates/kernel", (5, 4), kind, True),
      ("static/rnn/gru_cell/gates/bias", (4,), kind, True),
      ("static/rnn/gru_cell/candidate/kernel", (5, 2), kind, True),
      ("static/rnn/gru_cell/candidate/bias", (2,), kind, True),
      ("bidirectional_rnn/fw/gru_cell/gates/kernel", (5, 4), kind, True),
      ("bidirectional_rnn/fw/gru_cell/gates/bias", (4,), kind, True),
      ("bidirectional_rnn/fw/gru_cell/candidate/kernel", (5, 2), kind, True),
      ("bidirectional_rnn/fw/gru_cell/candidate/bias", (2,), kind, True),
      ("bidirectional_rnn/bw/gru_cell/gates/kernel", (5, 4), kind, True),
      ("bidirectional_rnn/bw/gru_cell/gates/bias", (4,), kind, True),
      ("bidirectional_rnn/bw/gru_cell/candidate/kernel", (5, 2), kind, True),
      ("bidirectional_rnn/bw/gru_cell/candidate/bias", (2,), kind, True),
  ]
  assert shapes == [(None, 16, 16, 4), (None, 8, 8, 3), (None, 4, 4, 3), (None, 4, 4, 3), (None, 8, 8, 3),
                    (None, 192), (None, 5, 4), (None, 5, 3), (None, 2), (None, 5, 4)]
  if use_resource:
    assert updates == ["bn/AssignMovingAvg/AssignSubVariableOp", "bn/AssignMovingAvg_1/AssignSubVariableOp"]
  else:
    assert updates == ["bn/AssignMovingAvg", "bn/AssignMovingAvg_1"]


def test_dynamic_rnn_under_control_flow_v2_makes_resource_variables():
  """Why the corpus's v1 form switches control flow v2 off: a ref-variable scope is not enough."""
  graph = tf.Graph()
  with graph.as_default():
    v1.get_variable_scope().set_use_resource(False)
    seq = v1.placeholder(tf.float32, [None, 5, 3])
    _compat.dynamic_rnn(_compat.GRUCell(2), seq, dtype=tf.float32)
    assert {v.op.type for v in v1.global_variables()} == {"VarHandleOp"}
