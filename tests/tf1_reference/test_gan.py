"""003_edbfd8374a89a122.txt GAN: two scopes, scope_variables, two optimizers each with its own var_list."""

import numpy as np
import pytest
import tensorflow as tf

from tf1_reference import _snippets
from tf1_reference import gan

v1 = tf.compat.v1
SEED = "003_edbfd8374a89a122.txt"

GAN_VARIABLES = [
    ("generator/hidden/kernel", (2, 8)),
    ("generator/hidden/bias", (8,)),
    ("generator/output/kernel", (8, 4)),
    ("generator/output/bias", (4,)),
    ("discriminator/hidden/kernel", (4, 8)),
    ("discriminator/hidden/bias", (8,)),
    ("discriminator/output/kernel", (8, 1)),
    ("discriminator/output/bias", (1,)),
]


def _names(variables):
  return [v.op.name for v in variables]


def test_literal_listing_leaves_optimizers_and_losses_undefined():
  """003 GAN (erratum E-GAN-UNDEFINED): run as printed, the listing raises NameError."""
  with pytest.raises(NameError, match=r"^name 'discriminator_optimizer' is not defined$"):
    _snippets.run(gan.GAN_LISTING, SEED)


def test_literal_scope_variables_select_each_network():
  """003 GAN: scope_variables("discriminator") -> [discriminator/v1], ("generator") -> [generator/v2]."""
  net = gan.build_literal_gan()
  assert [v.name for v in net.discriminator_variables] == ["discriminator/v1:0"]
  assert [v.name for v in net.generator_variables] == ["generator/v2:0"]


def test_literal_each_optimizer_moves_only_its_var_list():
  """003 GAN "2 optimizers each for different networks": each train op changes only its own variables."""
  net = gan.build_literal_gan()
  with v1.Session(graph=net.graph) as sess:
    sess.run(v1.global_variables_initializer())
    sess.run(net.train_discriminator)
    d1, g1 = sess.run([net.v1, net.v2])
    np.testing.assert_allclose(d1, [0.2, 0.2, 0.2])  # zeros - 0.1 * 2 * (0 - 1)
    np.testing.assert_array_equal(g1, [0.0, 0.0])
    sess.run(net.train_generator)
    d2, g2 = sess.run([net.v1, net.v2])
    np.testing.assert_array_equal(d2, d1)
    np.testing.assert_allclose(g2, [-0.2, -0.2])


def test_scope_variables_is_a_prefix_match():
  """003 scope_variables (erratum E-SCOPE-VARIABLES): scope "generator" also matches "generator_1/..."."""
  net = gan.build_literal_gan()
  with net.graph.as_default():
    with v1.variable_scope("generator_1"):
      v1.get_variable("w", [1])
    assert _names(gan.scope_variables("generator")) == ["generator/v2", "generator_1/w"]
    assert _names(gan.trainable_scope_variables("generator")) == ["generator/v2"]
    assert _names(net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES, scope="generator/")) == [
        "generator/v2"]


def test_scope_variables_picks_up_optimizer_slots():
  """003 scope_variables (E-SCOPE-VARIABLES): GLOBAL_VARIABLES include Adam slots, "trainable" does not."""
  net = gan.build_literal_gan(optimizer=v1.train.AdamOptimizer)
  with net.graph.as_default():
    assert _names(gan.scope_variables("discriminator")) == [
        "discriminator/v1", "discriminator/v1/Adam", "discriminator/v1/Adam_1"]
    assert _names(gan.trainable_scope_variables("discriminator")) == ["discriminator/v1"]


def test_build_gan_variable_names_and_shapes():
  """003 GAN (working version): tf.layers.dense names under generator/ and discriminator/, literal."""
  net = gan.build_gan()
  variables = net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)
  assert [(v.op.name, tuple(v.shape.as_list())) for v in variables] == GAN_VARIABLES
  assert _names(net.generator_variables) == [name for name, _ in GAN_VARIABLES[:4]]
  assert _names(net.discriminator_variables) == [name for name, _ in GAN_VARIABLES[4:]]
  assert net.z.name == "z:0" and net.x_real.name == "x_real:0"
  assert net.d_loss.name == "d_loss:0" and net.g_loss.name == "g_loss:0"
  assert net.g_sample.shape.as_list() == [None, 4]
  assert net.d_real_logits.shape.as_list() == [None, 1]


def test_build_gan_discriminator_shared_by_reuse():
  """003 GAN: the discriminator on x_real and on g_sample shares one set of variables (reuse=True)."""
  net = gan.build_gan()
  assert net.d_real_logits.op.name.startswith("discriminator/output/")
  assert net.d_fake_logits.op.name.startswith("discriminator_1/output/")
  assert len(net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES, scope="discriminator")) == 4
  matmul = net.graph.get_operation_by_name("discriminator_1/hidden/MatMul")
  kernel_read = matmul.inputs[1].op
  assert kernel_read.type == "ReadVariableOp"
  assert kernel_read.inputs[0].name == "discriminator/hidden/kernel:0"


def test_build_gan_train_ops_respect_var_lists():
  """003 GAN: train_discriminator changes only discriminator/*, train_generator only generator/*."""
  net = gan.build_gan(seed=0)
  rng = np.random.default_rng(0)
  x, z = gan.sample_batch(rng, 16)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    g0, d0 = sess.run([net.generator_variables, net.discriminator_variables])
    sess.run(net.train_discriminator, {net.x_real: x, net.z: z})
    g1, d1 = sess.run([net.generator_variables, net.discriminator_variables])
    assert all(np.array_equal(a, b) for a, b in zip(g0, g1))
    assert any(not np.array_equal(a, b) for a, b in zip(d0, d1))
    sess.run(net.train_generator, {net.x_real: x, net.z: z})
    g2, d2 = sess.run([net.generator_variables, net.discriminator_variables])
    assert all(np.array_equal(a, b) for a, b in zip(d1, d2))
    assert any(not np.array_equal(a, b) for a, b in zip(g1, g2))


def test_build_gan_losses_match_definition():
  """003 GAN: d_loss = xent(real, 1) + xent(fake, 0); g_loss = xent(fake, 1), means over the batch."""
  net = gan.build_gan(seed=0)
  x, z = gan.sample_batch(np.random.default_rng(1), 8)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    real, fake, d_loss, g_loss = sess.run([net.d_real_logits, net.d_fake_logits, net.d_loss, net.g_loss],
                                          {net.x_real: x, net.z: z})
  softplus = lambda t: np.log1p(np.exp(t))
  np.testing.assert_allclose(d_loss, softplus(-real).mean() + softplus(fake).mean(), rtol=1e-5)
  np.testing.assert_allclose(g_loss, softplus(-fake).mean(), rtol=1e-5)


def test_build_gan_optimizer_factories_and_slots(tmp_path):
  """003 GAN: optimizer factories get their learning rates; Adam slots are saved but not in the var_lists."""
  made = []

  def adam(lr):
    made.append(lr)
    return v1.train.AdamOptimizer(lr)

  net = gan.build_gan(d_learning_rate=0.001, g_learning_rate=0.002, d_optimizer=adam, g_optimizer=adam)
  assert made == [0.001, 0.002]
  assert isinstance(net.d_optimizer, v1.train.AdamOptimizer)
  assert _names(net.discriminator_variables) == [name for name, _ in GAN_VARIABLES[4:]]
  slots = [name for name in _names(net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)) if "Adam" in name]
  assert "generator/hidden/kernel/Adam" in slots and "discriminator/output/bias/Adam_1" in slots
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    path = net.saver.save(sess, str(tmp_path / "gan.ckpt"), write_meta_graph=False)
  keys = [name for name, _ in tf.train.list_variables(path)]
  assert "generator/hidden/kernel/Adam" in keys and "beta1_power" in keys


def test_build_gan_saver_round_trip(tmp_path):
  """003 GAN: Saver() writes the 8 documented keys (gradient descent has no slots) and restores them."""
  net = gan.build_gan(seed=0)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    gan.train_steps(sess, net, steps=2)
    values = sess.run(net.generator_variables)
    path = net.saver.save(sess, str(tmp_path / "gan.ckpt"))
  assert sorted(name for name, _ in tf.train.list_variables(path)) == sorted(n for n, _ in GAN_VARIABLES)
  other = gan.build_gan(seed=1)
  with v1.Session(graph=other.graph) as sess:
    other.saver.restore(sess, path)
    for a, b in zip(values, sess.run(other.generator_variables)):
      np.testing.assert_array_equal(a, b)


def test_demos_run():
  """003 GAN: every registered GAN demo runs and matches the document."""
  for demo in (gan.demo_literal_listing, gan.demo_literal_gan, gan.demo_scope_variables_pitfalls,
               gan.demo_build_gan):
    assert demo()
