"""Proof by continuation: optimizer state moved between TF1 and Keras 3 continues training exactly.

TF1 -> Keras: train N steps in a TF1 graph, save with its `Saver`, `load_tf1_training_state` into the Keras twin,
continue M steps in Keras (`tf.GradientTape` + `optimizer.apply_gradients`); the reference is the same TF1
session continuing the M steps itself, from the same start and batches. Keras -> TF1 is the mirror image with
`save_tf1_training_state` and `Saver.restore`. Weights agree to 1e-6 and every continued step's loss agrees.

Models: the DNN of 002_9773991e7c1a2830.txt ("完整代码", small sizes, no clipping) and the two-optimizer GAN of
003_edbfd8374a89a122.txt. N = M = 3, float32, CPU.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _naming
from keras_bridge import _optimizers
from keras_bridge import models
from tf1_reference import dnn
from tf1_reference import gan

v1 = tf.compat.v1
N, M = 3, 3
N_INPUTS, N_OUTPUTS, HIDDEN = 5, 3, (4, 4)
LEARNING_RATE = 0.01
WEIGHT_ATOL = 1e-6
LOSS_RTOL = 1e-6

#: The five TF1 optimizers (and the variants with different slot layouts), as TF1 constructors.
OPTIMIZERS = [
    pytest.param(lambda lr: v1.train.GradientDescentOptimizer(lr), id="gradient_descent"),
    pytest.param(lambda lr: v1.train.MomentumOptimizer(lr, 0.9), id="momentum"),
    pytest.param(lambda lr: v1.train.MomentumOptimizer(lr, 0.9, use_nesterov=True), id="momentum_nesterov"),
    pytest.param(lambda lr: v1.train.AdamOptimizer(lr), id="adam"),
    pytest.param(lambda lr: v1.train.RMSPropOptimizer(lr), id="rmsprop"),
    pytest.param(lambda lr: v1.train.RMSPropOptimizer(lr, momentum=0.5, centered=True),
                 id="rmsprop_centered_momentum"),
    pytest.param(lambda lr: v1.train.AdagradOptimizer(lr), id="adagrad"),
]
#: The same optimizers as Keras 3 optimizers, for the Keras -> TF1 direction.
KERAS_OPTIMIZERS = [
    pytest.param(lambda: keras.optimizers.SGD(LEARNING_RATE), id="gradient_descent"),
    pytest.param(lambda: keras.optimizers.SGD(LEARNING_RATE, momentum=0.9), id="momentum"),
    pytest.param(lambda: keras.optimizers.SGD(LEARNING_RATE, momentum=0.9, nesterov=True),
                 id="momentum_nesterov"),
    pytest.param(lambda: keras.optimizers.Adam(LEARNING_RATE), id="adam"),
    pytest.param(lambda: keras.optimizers.RMSprop(LEARNING_RATE), id="rmsprop"),
    pytest.param(lambda: keras.optimizers.RMSprop(LEARNING_RATE, momentum=0.5, centered=True),
                 id="rmsprop_centered_momentum"),
    pytest.param(lambda: keras.optimizers.Adagrad(LEARNING_RATE, epsilon=0.0), id="adagrad"),
]


def _batches(n, seed=0):
  rng = np.random.default_rng(seed)
  return [(rng.normal(size=(8, N_INPUTS)).astype(np.float32), rng.integers(0, N_OUTPUTS, 8)) for _ in range(n)]


def _keras_dnn_step(model, optimizer, x, y):
  with tf.GradientTape() as tape:
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x)))
  grads = tape.gradient(loss, model.trainable_variables)
  optimizer.apply_gradients(zip(grads, model.trainable_variables))
  return float(loss)


def _max_diff(keras_model, tf1_values):
  weights = _naming.canonical_weights(keras_model)
  assert sorted(weights) == sorted(tf1_values)
  return max(float(np.abs(weights[k].numpy() - v).max()) for k, v in tf1_values.items())


@pytest.mark.parametrize("factory", OPTIMIZERS)
def test_dnn_tf1_to_keras_continues_exactly(factory, tmp_path):
  """002_9773991e7c1a2830.txt DNN: N TF1 steps, load weights + optimizer state into Keras, M Keras steps ==
  N+M TF1 steps (weights to 1e-6, each continued step's loss)."""
  batches = _batches(N + M)
  net = dnn.build_dnn(N_INPUTS, N_OUTPUTS, HIDDEN, learning_rate=LEARNING_RATE, threshold=None,
                      optimizer=factory, global_step=True, seed=1)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    tf1_losses = []
    for i, (x, y) in enumerate(batches):
      if i == N:
        prefix = net.saver.save(sess, str(tmp_path / "model.ckpt"))
      tf1_losses.append(sess.run([net.training_op, net.loss], {net.X: x, net.y: y})[1])
    tf1_final = {v.op.name: sess.run(v) for v in net.model_variables()}

  model = models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)
  report = _optimizers.load_tf1_training_state(model, None, prefix, tf1_optimizer=net.optimizer)
  optimizer = report.optimizer
  assert int(optimizer.iterations.numpy()) == N
  keras_losses = [_keras_dnn_step(model, optimizer, x, y) for x, y in batches[N:]]

  np.testing.assert_allclose(keras_losses, tf1_losses[N:], rtol=LOSS_RTOL)
  assert _max_diff(model, tf1_final) <= WEIGHT_ATOL


@pytest.mark.parametrize("make_optimizer", KERAS_OPTIMIZERS)
def test_dnn_keras_to_tf1_continues_exactly(make_optimizer, tmp_path):
  """002_9773991e7c1a2830.txt DNN: N Keras steps, save_tf1_training_state, the TF1 graph restores it with its
  Saver and runs M steps == N+M Keras steps (weights to 1e-6, each continued step's loss)."""
  batches = _batches(N + M, seed=1)
  keras.utils.set_random_seed(2)
  model = models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)
  optimizer = make_optimizer()
  keras_losses = []
  for i, (x, y) in enumerate(batches):
    if i == N:
      report = _optimizers.save_tf1_training_state(model, optimizer, tmp_path / "model.ckpt")
    keras_losses.append(_keras_dnn_step(model, optimizer, x, y))

  spec = report.optimizers[0].tf1
  net = dnn.build_dnn(N_INPUTS, N_OUTPUTS, HIDDEN, learning_rate=spec.learning_rate, threshold=None,
                      optimizer=lambda lr: spec.create(), global_step=True)
  with v1.Session(graph=net.graph) as sess:
    net.saver.restore(sess, report.checkpoint)
    assert sess.run(net.global_step) == N
    tf1_losses = [sess.run([net.training_op, net.loss], {net.X: x, net.y: y})[1] for x, y in batches[N:]]
    tf1_final = {v.op.name: sess.run(v) for v in net.model_variables()}

  np.testing.assert_allclose(tf1_losses, keras_losses[N:], rtol=LOSS_RTOL)
  assert _max_diff(model, tf1_final) <= WEIGHT_ATOL


def _gan_batches(n, seed=0):
  rng = np.random.default_rng(seed)
  return [gan.sample_batch(rng, 8) for _ in range(n)]


def _tf1_gan_step(sess, net, x, z):
  _, d_loss = sess.run([net.train_discriminator, net.d_loss], {net.x_real: x, net.z: z})
  _, g_loss = sess.run([net.train_generator, net.g_loss], {net.x_real: x, net.z: z})
  return d_loss, g_loss


def _keras_gan_step(model, x, z):
  losses = model.train_step((tf.constant(x), tf.constant(z)))
  return float(losses["d_loss"]), float(losses["g_loss"])


def _adam(lr):
  return v1.train.AdamOptimizer(lr)


def test_gan_two_adams_tf1_to_keras_continues_exactly(tmp_path):
  """003_edbfd8374a89a122.txt GAN, an Adam per network: the second optimizer's powers are `beta1_power_1` /
  `beta2_power_1`; both optimizers' state moves to Keras and M steps continue N TF1 steps exactly."""
  batches = _gan_batches(N + M)
  net = gan.build_gan(d_learning_rate=LEARNING_RATE, g_learning_rate=LEARNING_RATE, d_optimizer=_adam,
                      g_optimizer=_adam, seed=3)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    tf1_losses = []
    for i, (x, z) in enumerate(batches):
      if i == N:
        prefix = net.saver.save(sess, str(tmp_path / "gan.ckpt"))
      tf1_losses.append(_tf1_gan_step(sess, net, x, z))
    tf1_final = {v.op.name: sess.run(v) for v in net.discriminator_variables + net.generator_variables}
  keys = {key for key, _ in tf.train.list_variables(prefix)}
  assert {"beta1_power", "beta2_power", "beta1_power_1", "beta2_power_1",
          "discriminator/hidden/kernel/Adam", "discriminator/hidden/kernel/Adam_1",
          "generator/hidden/kernel/Adam", "generator/hidden/kernel/Adam_1"} <= keys

  model = models.GAN(seed=0)
  report = _optimizers.load_tf1_training_state(
      model, {"discriminator": None, "generator": None}, prefix,
      tf1_optimizer={"discriminator": net.d_optimizer, "generator": net.g_optimizer})
  d_opt, g_opt = (o.keras_optimizer for o in report.optimizers)
  assert [int(d_opt.iterations.numpy()), int(g_opt.iterations.numpy())] == [N, N]
  model.compile(d_optimizer=d_opt, g_optimizer=g_opt)
  keras_losses = [_keras_gan_step(model, x, z) for x, z in batches[N:]]

  np.testing.assert_allclose(keras_losses, tf1_losses[N:], rtol=LOSS_RTOL)
  assert _max_diff(model, tf1_final) <= WEIGHT_ATOL


def test_gan_two_adams_keras_to_tf1_continues_exactly(tmp_path):
  """003_edbfd8374a89a122.txt GAN: N Keras steps with two Adams, saved as TF1 (discriminator's powers
  `beta1_power`, generator's `beta1_power_1`, the order `build_gan` creates them); TF1 restores and continues."""
  batches = _gan_batches(N + M, seed=1)
  keras.utils.set_random_seed(4)
  model = models.GAN(seed=0)
  d_opt, g_opt = keras.optimizers.Adam(LEARNING_RATE), keras.optimizers.Adam(LEARNING_RATE)
  model.compile(d_optimizer=d_opt, g_optimizer=g_opt)
  keras_losses = []
  for i, (x, z) in enumerate(batches):
    if i == N:
      report = _optimizers.save_tf1_training_state(model, {"discriminator": d_opt, "generator": g_opt},
                                                   tmp_path / "gan.ckpt")
    keras_losses.append(_keras_gan_step(model, x, z))
  assert [o.step_sources for o in report.optimizers] == [{"beta1_power": N, "beta2_power": N},
                                                         {"beta1_power_1": N, "beta2_power_1": N}]

  d_spec, g_spec = (o.tf1 for o in report.optimizers)
  net = gan.build_gan(d_learning_rate=LEARNING_RATE, g_learning_rate=LEARNING_RATE,
                      d_optimizer=lambda lr: d_spec.create(), g_optimizer=lambda lr: g_spec.create())
  with v1.Session(graph=net.graph) as sess:
    net.saver.restore(sess, report.checkpoint)
    tf1_losses = [_tf1_gan_step(sess, net, x, z) for x, z in batches[N:]]
    tf1_final = {v.op.name: sess.run(v) for v in net.discriminator_variables + net.generator_variables}

  np.testing.assert_allclose(tf1_losses, keras_losses[N:], rtol=LOSS_RTOL)
  assert _max_diff(model, tf1_final) <= WEIGHT_ATOL
