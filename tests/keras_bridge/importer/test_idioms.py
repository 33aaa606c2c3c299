"""Idioms beyond the corpus, each in a small graph of its own, in both variable forms.

- `tf.layers.dense` on a rank-3 input: TF1 builds `tf.tensordot` (reshape to 2-D, MatMul, reshape back with
  shapes computed at run time); it becomes one `Dense` on the last axis.
- A partitioned variable (`fixed_size_partitioner`): several `part_N` variables, concatenated when read,
  saved under one key with slice specs; it becomes one Keras weight filled from that key.
- `tf.matmul(x, w, transpose_b=True)`: the kernel is a transform (`"transpose": True`), written back exactly.
- Scalar arithmetic on a tensor (`2 * x - 1`): `Rescaling`.
"""

import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from tf1_reference import _compat

v1 = tf.compat.v1


def _save(graph, path):
  with graph.as_default():
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      return v1.train.Saver().save(sess, path)


def _round_trip(result, prefix, tmp_path):
  back = keras_bridge.save_tf1_checkpoint(result.model, str(tmp_path / "back" / "model.ckpt"), names=result.names)
  want, got = tf.train.load_checkpoint(prefix), tf.train.load_checkpoint(back)
  for key in got.get_variable_to_shape_map():
    np.testing.assert_array_equal(got.get_tensor(key), want.get_tensor(key), err_msg=key)


@pytest.mark.parametrize("use_resource", [False, True], ids=["VariableV2", "VarHandleOp"])
def test_tensordot_dense_and_partitioned_variable(tmp_path, use_resource):
  graph = tf.Graph()
  with graph.as_default():
    v1.set_random_seed(0)
    x = v1.placeholder(tf.float32, [None, 5, 4], name="x")
    with v1.variable_scope("td", use_resource=use_resource):
      h = _compat.dense(x, 3, activation=tf.nn.relu, name="dense3d")
    flat = tf.reshape(h, [-1, 15])
    with v1.variable_scope("part", partitioner=v1.fixed_size_partitioner(3), use_resource=use_resource):
      w = v1.get_variable("weights", [15, 6])
      b = v1.get_variable("biases", [6], initializer=v1.constant_initializer(0.2))
    y = tf.add(tf.matmul(flat, w), b, name="y")
  prefix = _save(graph, str(tmp_path / "model.ckpt"))
  assert "part/weights/part_2" in [op.name for op in graph.get_operations()]
  result = keras_bridge.import_tf1_graph(prefix, outputs=[y.name])
  assert result.verify().ok
  assert 'layers.Dense(3, activation="relu", name="td_dense3d")(x)' in result.source
  assert result.names["part/kernel"] == "part/weights"
  _round_trip(result, prefix, tmp_path)


def test_transpose_b_and_rescaling(tmp_path):
  graph = tf.Graph()
  with graph.as_default():
    x = v1.placeholder(tf.float32, [None, 4], name="x")
    w = v1.get_variable("proj/w", [6, 4])
    y = tf.identity(2.0 * tf.matmul(x, w, transpose_b=True) - 1.0, name="y")
  prefix = _save(graph, str(tmp_path / "model.ckpt"))
  result = keras_bridge.import_tf1_graph(prefix, outputs=[y.name])
  assert result.verify().ok
  assert result.names["proj/kernel"] == {"parts": [{"key": "proj/w", "transpose": True}]}
  assert "layers.Rescaling(2.0, offset=-1.0" in result.source
  _round_trip(result, prefix, tmp_path)
