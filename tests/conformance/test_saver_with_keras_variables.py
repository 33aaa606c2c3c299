"""A TF1 `Saver` over Keras 3 variables: what it writes, and why `save_tf1_checkpoint` exists (DEVELOPERS.md).

Eager `tf.compat.v1.train.Saver.save(None, ...)` accepts Keras 3 variables, but the keys it writes are not the
TF1 names a graph's Saver looks up.
"""

import keras
import tensorflow as tf

from keras_bridge import save_tf1_checkpoint

v1 = tf.compat.v1


def _keys(prefix):
  return [name for name, _ in tf.train.list_variables(prefix)]


def _model():
  return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="hidden1")], name="seq")


def test_keras_variable_in_a_saver_var_list_writes_a_wrong_key(tmp_path):
  """A Keras 3 Variable in a Saver var_list is saved under 'VARIABLE_VALUE', not 'hidden1/kernel'."""
  kernel = _model().get_layer("hidden1").kernel
  prefix = v1.train.Saver([kernel]).save(None, str(tmp_path / "keras_var"))
  assert _keys(prefix) == ["VARIABLE_VALUE"]


def test_underlying_tf_variable_keeps_the_model_prefix(tmp_path):
  """Its `.value` (the tf.Variable) is saved under the Keras path, model name included: 'seq/hidden1/kernel'."""
  kernel = _model().get_layer("hidden1").kernel
  prefix = v1.train.Saver([kernel.value]).save(None, str(tmp_path / "value"))
  assert _keys(prefix) == ["seq/hidden1/kernel"]


def test_a_name_dict_or_the_bridge_writes_tf1_keys(tmp_path):
  """`Saver({"hidden1/kernel": kernel.value})` or `save_tf1_checkpoint` give the TF1 keys."""
  model = _model()
  kernel = model.get_layer("hidden1").kernel
  prefix = v1.train.Saver({"hidden1/kernel": kernel.value}).save(None, str(tmp_path / "dict"))
  assert _keys(prefix) == ["hidden1/kernel"]
  assert _keys(save_tf1_checkpoint(model, str(tmp_path / "bridge" / "model.ckpt"))) == [
      "hidden1/bias", "hidden1/kernel"]
