"""The 002_9773991e7c1a2830.txt DNN between TF1 checkpoints and its Keras 3 twin, in both directions.

The TF1 side is `tf1_reference.dnn.build_dnn` (the real `tf.layers.dense` and `tf.compat.v1.train.Saver`),
the Keras side `keras_bridge.models.dnn`, with small sizes (8 inputs, hidden (6, 5, 5, 5, 5), 3 outputs).
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _naming
from keras_bridge import _tf1_checkpoint as ckpt
from keras_bridge import models
from tf1_reference import dnn

v1 = tf.compat.v1

N_INPUTS, N_OUTPUTS, HIDDEN = 8, 3, (6, 5, 5, 5, 5)
WEIGHT_KEYS = ["hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel", "hidden3/bias",
               "hidden3/kernel", "hidden4/bias", "hidden4/kernel", "hidden5/bias", "hidden5/kernel",
               "outputs/bias", "outputs/kernel"]


def _inputs():
  return np.random.default_rng(0).normal(size=(16, N_INPUTS)).astype(np.float32)


def _tf1_train_and_save(directory, **kwargs):
  """Initialises (and trains one step) the TF1 DNN, saves it; returns (prefix, logits on `_inputs()`)."""
  net = dnn.build_dnn(N_INPUTS, N_OUTPUTS, HIDDEN, seed=3, **kwargs)
  x = _inputs()
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    sess.run(net.training_op, feed_dict={net.X: x, net.y: np.arange(16) % N_OUTPUTS})
    prefix = net.saver.save(sess, os.path.join(directory, "model.ckpt"), global_step=1)
    logits = sess.run(net.logits, feed_dict={net.X: x})
  return prefix, logits


def test_tf1_saver_checkpoint_loads_with_zero_misses(tmp_path):
  """Issue 3 "done when": a tf1_reference Saver checkpoint loads with default rules and zero misses."""
  prefix, tf1_logits = _tf1_train_and_save(str(tmp_path))
  model = models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)
  report = ckpt.load_tf1_checkpoint(model, str(tmp_path))
  assert report.checkpoint == prefix
  assert [(m.tf1_key, m.keras_path) for m in report.matched] == [(k, k) for k in WEIGHT_KEYS]
  assert report.unused_tf1_keys == [] and report.unfilled_keras == [] and report.candidates == {}
  assert report.shape_mismatches == [] and report.dtype_mismatches == [] and report.conflicts == []
  np.testing.assert_allclose(model(_inputs()).numpy(), tf1_logits, rtol=0, atol=1e-6)


def test_keras_checkpoint_restores_with_the_tf1_saver(tmp_path):
  """save_tf1_checkpoint writes what `Saver.restore` in the reference graph reads; logits agree."""
  model = models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)
  prefix = ckpt.save_tf1_checkpoint(model, tmp_path / "model.ckpt", global_step=9)
  net = dnn.build_dnn(N_INPUTS, N_OUTPUTS, HIDDEN)
  with v1.Session(graph=net.graph) as sess:
    net.saver.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
    tf1_logits = sess.run(net.logits, feed_dict={net.X: _inputs()})
  assert prefix == str(tmp_path / "model.ckpt-9")
  np.testing.assert_allclose(tf1_logits, model(_inputs()).numpy(), rtol=0, atol=1e-6)


def test_round_trip_tf1_keras_tf1_is_bit_exact(tmp_path):
  prefix, _ = _tf1_train_and_save(str(tmp_path / "tf1"))
  model = models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)
  ckpt.load_tf1_checkpoint(model, prefix)
  back = ckpt.save_tf1_checkpoint(model, tmp_path / "back" / "model.ckpt")
  original, written = tf.train.load_checkpoint(prefix), tf.train.load_checkpoint(back)
  assert sorted(written.get_variable_to_shape_map()) == WEIGHT_KEYS
  for key in WEIGHT_KEYS:
    assert np.array_equal(original.get_tensor(key), written.get_tensor(key)), key
    assert original.get_tensor(key).dtype == written.get_tensor(key).dtype


def test_adam_slots_and_steps_are_recognised_not_loaded(tmp_path):
  """The DNN trained with AdamOptimizer and a global_step: slots and step keys are reported, not errors."""
  prefix, tf1_logits = _tf1_train_and_save(str(tmp_path), optimizer=lambda lr: v1.train.AdamOptimizer(lr),
                                           global_step=True)
  model = models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)
  report = ckpt.load_tf1_checkpoint(model, prefix)
  assert report.ok and report.assigned and len(report.matched) == 12
  assert report.step_keys == ["beta1_power", "beta2_power", "global_step"]
  assert len(report.optimizer_slots) == 24
  assert report.optimizer_slots[:4] == ["hidden1/bias/Adam", "hidden1/bias/Adam_1", "hidden1/kernel/Adam",
                                        "hidden1/kernel/Adam_1"]
  assert "Optimizer slots (recognised, not loaded): hidden1/bias/Adam, " in str(report)
  np.testing.assert_allclose(model(_inputs()).numpy(), tf1_logits, rtol=0, atol=1e-6)


def test_gradient_descent_checkpoint_has_no_slots(tmp_path):
  prefix, _ = _tf1_train_and_save(str(tmp_path))
  report = ckpt.load_tf1_checkpoint(models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN), prefix, dry_run=True)
  assert report.optimizer_slots == [] and report.step_keys == []


def test_user_rules_map_a_custom_scope(tmp_path):
  """Hand-named TF1 variables (`custom/fc1/fc_weights`) load with rules, and the outputs agree."""
  sizes = [N_INPUTS, 6, 5, N_OUTPUTS]
  g = tf.Graph()
  with g.as_default():
    v1.set_random_seed(1)
    x = v1.placeholder(tf.float32, (None, N_INPUTS))
    out = x
    with v1.variable_scope("custom"):
      for i in range(3):
        with v1.variable_scope(f"fc{i + 1}"):
          w = v1.get_variable("fc_weights", (sizes[i], sizes[i + 1]))
          b = v1.get_variable("fc_biases", (sizes[i + 1],), initializer=v1.random_normal_initializer())
          out = tf.matmul(out, w) + b
          out = tf.nn.relu(out) if i < 2 else out
    saver = v1.train.Saver()
    init = v1.global_variables_initializer()
  with v1.Session(graph=g) as sess:
    sess.run(init)
    prefix = saver.save(sess, str(tmp_path / "custom.ckpt"))
    tf1_logits = sess.run(out, feed_dict={x: _inputs()})
  model = models.dnn(N_INPUTS, N_OUTPUTS, (6, 5))
  strict_report = ckpt.load_tf1_checkpoint(model, prefix, dry_run=True)
  assert not strict_report.ok
  assert strict_report.candidates["hidden1/kernel"] == ["custom/fc1/fc_weights"]
  rules = [(r"^custom/fc([12])/fc_", r"hidden\1/"), (r"^custom/fc3/fc_", "outputs/")]
  report = ckpt.load_tf1_checkpoint(model, prefix, rules=rules)
  assert ("custom/fc1/fc_weights", "hidden1/kernel") in [(m.tf1_key, m.keras_path) for m in report.matched]
  np.testing.assert_allclose(model(_inputs()).numpy(), tf1_logits, rtol=0, atol=1e-6)
  # The reverse rules write names the custom graph's Saver restores.
  back = ckpt.save_tf1_checkpoint(model, tmp_path / "back.ckpt",
                                  rules=[(r"^hidden(\d)/", r"custom/fc\1/fc_"), (r"^outputs/", "custom/fc3/fc_"),
                                         (r"kernel$", "weights"), (r"bias$", "biases")])
  with v1.Session(graph=g) as sess:
    saver.restore(sess, back)
    np.testing.assert_array_equal(sess.run(out, feed_dict={x: _inputs()}), tf1_logits)


def test_transfer_loads_hidden1_to_3_only(tmp_path):
  """002_9773991e7c1a2830.txt transfer: reuse hidden1..3 from the DNN checkpoint, new hidden4 and outputs."""
  prefix, _ = _tf1_train_and_save(str(tmp_path))
  model = models.transfer_dnn(N_INPUTS, N_OUTPUTS, (6, 5, 5, 4))
  fresh = {p: v.numpy().copy() for p, v in _naming.canonical_weights(model).items()}
  report = ckpt.load_tf1_checkpoint(model, prefix, include=["hidden[123]"], strict=False)
  assert [m.tf1_key for m in report.matched] == WEIGHT_KEYS[:6]
  assert report.excluded == WEIGHT_KEYS[6:]
  assert report.unfilled_keras == ["hidden4/kernel", "hidden4/bias", "outputs/kernel", "outputs/bias"]
  reader = tf.train.load_checkpoint(prefix)
  weights = _naming.canonical_weights(model)
  for key in WEIGHT_KEYS[:6]:
    assert np.array_equal(weights[key].numpy(), reader.get_tensor(key))
  for key in ["hidden4/kernel", "outputs/bias"]:
    assert np.array_equal(weights[key].numpy(), fresh[key])


@pytest.mark.parametrize("hidden", [(6, 5, 5, 5), (6, 5, 5, 5, 4)], ids=["fewer_layers", "other_width"])
def test_wrong_architecture_is_refused_and_model_untouched(tmp_path, hidden):
  prefix, _ = _tf1_train_and_save(str(tmp_path))
  model = models.dnn(N_INPUTS, N_OUTPUTS, hidden)
  before = {p: v.numpy().copy() for p, v in _naming.canonical_weights(model).items()}
  with pytest.raises(_errors.MappingError) as info:
    ckpt.load_tf1_checkpoint(model, prefix)
  message = str(info.value)
  if len(hidden) == 4:
    assert "checkpoint key 'hidden5/kernel' fills no Keras weight" in message
    assert "checkpoint key 'hidden5/bias' fills no Keras weight" in message
  else:
    assert "checkpoint key 'hidden5/kernel' has shape (5, 5), Keras weight 'hidden5/kernel' has shape (5, 4)" in message
    assert "checkpoint key 'outputs/kernel' has shape (5, 3), Keras weight 'outputs/kernel' has shape (4, 3)" in message
  after = _naming.canonical_weights(model)
  assert all(np.array_equal(before[p], after[p].numpy()) for p in before)
