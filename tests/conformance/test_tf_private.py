"""Every private TensorFlow API of keras_bridge._tf_private behaves as the bridge assumes.

One test per fenced name (per TF1 optimizer class for the hyperparameters), so a TensorFlow release that moves
one fails here by name. See BUILD.md, "Checking a new TF/Keras version".
"""

import keras
import pytest
import tensorflow as tf

from keras_bridge import _sstable
from keras_bridge import _tf_private as tp

v1 = tf.compat.v1


@pytest.mark.parametrize("kind, make, expected", [
    pytest.param("GradientDescent", lambda: v1.train.GradientDescentOptimizer(0.5), {"learning_rate": 0.5},
                 id="GradientDescent"),
    pytest.param("Momentum", lambda: v1.train.MomentumOptimizer(0.5, 0.9, use_nesterov=True),
                 {"learning_rate": 0.5, "momentum": 0.9, "use_nesterov": True}, id="Momentum"),
    pytest.param("Adam", lambda: v1.train.AdamOptimizer(0.5, 0.8, 0.7, 1e-3),
                 {"learning_rate": 0.5, "beta1": 0.8, "beta2": 0.7, "epsilon": 1e-3}, id="Adam"),
    pytest.param("RMSProp", lambda: v1.train.RMSPropOptimizer(0.5, 0.8, 0.7, 1e-3, centered=True),
                 {"learning_rate": 0.5, "decay": 0.8, "momentum": 0.7, "epsilon": 1e-3, "centered": True},
                 id="RMSProp"),
    pytest.param("Adagrad", lambda: v1.train.AdagradOptimizer(0.5, 0.3),
                 {"learning_rate": 0.5, "initial_accumulator_value": 0.3}, id="Adagrad"),
])
def test_tf1_optimizer_hparams(kind, make, expected):
  assert tp.tf1_optimizer_hparams(make(), kind) == expected


def test_gather_serialized_tensors_and_object_graph():
  model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
  checkpoint = tf.train.Checkpoint(model=model)
  serialized, registered, graph = tp.gather_serialized_tensors(checkpoint)
  assert registered == []
  keys = {key for d in serialized.values() if d for key in d if key is not None}
  assert any(k.endswith("/.ATTRIBUTES/VARIABLE_VALUE") for k in keys)
  values = [tp.saved_value(v) for d in serialized.values() if d for k, v in d.items() if k is not None]
  assert all(isinstance(v, tf.Tensor) or callable(v) for v in values)
  proto = tp.parse_object_graph(graph.SerializeToString())
  assert "model" in [c.local_name for c in proto.nodes[0].children]


def test_escape_local_name():
  assert tp.escape_local_name("a/b.c") == "a.Sb..c"


def test_bundle_protos(tmp_path):
  prefix = str(tmp_path / "ckpt")
  tf.raw_ops.SaveV2(prefix=prefix, tensor_names=["x"], shape_and_slices=[""], tensors=[tf.ones((2, 3))])
  records = dict(_sstable.read_table(prefix + ".index"))
  assert tp.parse_bundle_header(records[b""]).num_shards == 1
  entry = tp.parse_bundle_entry(records[b"x"])
  assert [d.size for d in entry.shape.dim] == [2, 3] and entry.size == 24


def test_variable_strategy():
  strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
  with strategy.scope():
    mirrored = keras.Variable(1.0)
  assert tp.variable_strategy(mirrored) is strategy
  assert tp.variable_strategy(mirrored.value) is strategy
  assert tp.variable_strategy(keras.Variable(1.0)) is None


def test_is_resource_variable():
  """An ordinary tf.Variable (a Keras variable's `.value`) is; the Keras wrapper and a distributed variable
  are not."""
  layer = keras.layers.Dense(2)
  layer.build((None, 3))
  assert tp.is_resource_variable(tf.Variable(1.0))
  assert tp.is_resource_variable(layer.kernel.value)
  assert not tp.is_resource_variable(layer.kernel)
  with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
    mirrored = tf.Variable(1.0)
  assert not tp.is_resource_variable(mirrored)
