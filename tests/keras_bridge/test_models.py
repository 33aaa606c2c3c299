"""The Keras 3 twins of keras_bridge.models: canonical paths, sharing, and the GAN's two networks."""

import keras
import numpy as np
import pytest

from keras_bridge import models
from keras_bridge._naming import canonical_weights


def _paths(model):
  return [(path, tuple(var.shape)) for path, var in canonical_weights(model).items()]


@pytest.mark.parametrize("build, expected", [
    pytest.param(lambda: models.dnn(20, 5, (16, 12)), [
        ("hidden1/kernel", (20, 16)), ("hidden1/bias", (16,)), ("hidden2/kernel", (16, 12)),
        ("hidden2/bias", (12,)), ("outputs/kernel", (12, 5)), ("outputs/bias", (5,))], id="dnn_002"),
    pytest.param(lambda: models.transfer_dnn(20, 5, (16, 12, 8, 4)), [
        ("hidden1/kernel", (20, 16)), ("hidden1/bias", (16,)), ("hidden2/kernel", (16, 12)),
        ("hidden2/bias", (12,)), ("hidden3/kernel", (12, 8)), ("hidden3/bias", (8,)),
        ("hidden4/kernel", (8, 4)), ("hidden4/bias", (4,)), ("outputs/kernel", (4, 5)), ("outputs/bias", (5,))],
        id="transfer_dnn_002"),
    pytest.param(lambda: models.image_filter(), [
        ("model/conv1/kernel", (5, 5, 32, 32)), ("model/conv1/bias", (32,)),
        ("model/conv2/kernel", (5, 5, 32, 32)), ("model/conv2/bias", (32,))], id="image_filter_001"),
    pytest.param(lambda: models.shared_fc(), [
        ("fully_connected_1/kernel", (256, 256)), ("fully_connected_1/bias", (256,))], id="shared_fc_000"),
    pytest.param(lambda: models.affine_reuseable(), [
        ("n2/kernel", (784, 500)), ("n2/bias", (500,))], id="affine_reuseable_003"),
    pytest.param(lambda: models.auto_reuse(), [
        ("shared/kernel", (10, 5)), ("shared/bias", (5,))], id="auto_reuse_004"),
    pytest.param(lambda: models.GAN(), [
        ("generator/hidden/kernel", (2, 8)), ("generator/hidden/bias", (8,)),
        ("generator/output/kernel", (8, 4)), ("generator/output/bias", (4,)),
        ("discriminator/hidden/kernel", (4, 8)), ("discriminator/hidden/bias", (8,)),
        ("discriminator/output/kernel", (8, 1)), ("discriminator/output/bias", (1,))], id="gan_003"),
])
def test_canonical_paths_are_the_tf1_names_after_default_rules(build, expected):
  """Each twin's canonical paths equal its reference's TF1 names after weights/W -> kernel, biases/b -> bias."""
  assert _paths(build()) == expected


@pytest.mark.parametrize("build, outputs", [
    pytest.param(lambda: models.affine_reuseable(7, 3), ("nn1", "nn2"), id="affine_reuseable_003_reuse_true"),
    pytest.param(lambda: models.auto_reuse(), ("output1", "output2"), id="auto_reuse_004"),
])
def test_shared_layer_is_one_layer_called_twice_with_equal_outputs(build, outputs):
  """003 affine_reuseable / 004 AUTO_REUSE: two calls share one kernel and bias; same input -> same output."""
  model = build()
  assert len(model.weights) == 2
  x = np.random.default_rng(0).normal(size=(3, model.input.shape[1])).astype("float32")
  result = model(x)
  np.testing.assert_array_equal(result[outputs[0]], result[outputs[1]])


def test_image_filter_block_is_shared_by_both_inputs():
  """001 my_image_filter: one block named "model" serves 10x10 and 20x20 inputs; 4 weights, SAME padding."""
  model = models.image_filter((10, 10, 32), (20, 20, 32))
  assert len(model.weights) == 4
  out = model([np.ones((1, 10, 10, 32), "float32"), np.ones((1, 20, 20, 32), "float32")])
  assert tuple(out["output1"].shape) == (1, 10, 10, 32)
  assert tuple(out["output2"].shape) == (1, 20, 20, 32)


def test_image_filter_rejects_different_channel_counts():
  """Both inputs go through the same convolutions; the error names both shapes."""
  with pytest.raises(ValueError, match=r"Received: input1_shape=\(10, 10, 32\), input2_shape=\(20, 20, 16\)"):
    models.image_filter((10, 10, 32), (20, 20, 16))


def test_shared_fc_000_relu_only_after_the_first_call():
  """000 corrected: fc1 = relu(x W + b), fc2 = fc1 W + b with the same W and b."""
  model = models.shared_fc(4, 4)
  layer = model.get_layer("fully_connected_1")
  kernel = np.arange(16, dtype="float32").reshape(4, 4) / 10 - 0.8
  layer.set_weights([kernel, np.full((4,), 0.1, "float32")])
  x = np.array([[1.0, -2.0, 0.5, 3.0]], "float32")
  out = model(x)
  fc1 = np.maximum(x @ kernel + 0.1, 0)
  np.testing.assert_allclose(out["fc1"], fc1, rtol=1e-6)
  np.testing.assert_allclose(out["fc2"], fc1 @ kernel + 0.1, rtol=1e-6)


def test_shared_fc_000_rejects_the_documents_non_square_shape():
  """000 as printed: [784, 256] weights cannot be reused on the 256-wide fc1."""
  with pytest.raises(ValueError, match="Received: n_inputs=784, n_units=256"):
    models.shared_fc(784, 256)


@pytest.mark.parametrize("build, layer", [
    pytest.param(lambda: models.affine_reuseable(), "n2", id="affine_reuseable_003"),
    pytest.param(lambda: models.shared_fc(), "fully_connected_1", id="shared_fc_000"),
])
def test_tf1_random_normal_initializer_is_stddev_one(build, layer):
  """`tf.random_normal_initializer()` is stddev 1 (Keras's RandomNormal default is 0.05); biases start at 0."""
  keras.utils.set_random_seed(0)
  kernel, bias = build().get_layer(layer).get_weights()
  assert abs(kernel.std() - 1.0) < 0.02
  np.testing.assert_array_equal(bias, np.zeros_like(bias))


def test_gan_003_generator_and_discriminator_own_their_trainable_weights():
  """003 var_lists: the generator's and discriminator's trainable weights are disjoint and cover the model."""
  gan = models.GAN()
  g = [w.path for w in gan.generator.trainable_weights]
  d = [w.path for w in gan.discriminator.trainable_weights]
  assert g == ["generator/hidden/kernel", "generator/hidden/bias", "generator/output/kernel",
               "generator/output/bias"]
  assert d == ["discriminator/hidden/kernel", "discriminator/hidden/bias", "discriminator/output/kernel",
               "discriminator/output/bias"]
  assert len(gan.trainable_weights) == 8


def test_gan_003_call_returns_the_build_gan_tensors():
  """`GAN((x_real, z))` gives g_sample, d_real_logits, d_fake_logits, with d_fake = D(G(z))."""
  gan = models.GAN()
  rng = np.random.default_rng(0)
  x, z = rng.normal(size=(5, 4)).astype("float32"), rng.normal(size=(5, 2)).astype("float32")
  out = gan((x, z))
  assert {k: tuple(v.shape) for k, v in out.items()} == {
      "g_sample": (5, 4), "d_real_logits": (5, 1), "d_fake_logits": (5, 1)}
  np.testing.assert_allclose(out["d_fake_logits"], gan.discriminator(gan.generator(z)), rtol=1e-6)


def test_gan_003_fit_with_and_without_noise_updates_both_networks():
  """`fit(x_real, z)` uses the given noise, `fit(x_real)` draws it; both move G and D weights."""
  gan = models.GAN(seed=1)
  gan.compile()
  rng = np.random.default_rng(0)
  x, z = rng.normal(3, 0.5, size=(16, 4)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")
  before = [w.numpy() for w in gan.weights]
  history = gan.fit(x, z, batch_size=8, epochs=1, verbose=0)
  assert set(history.history) == {"d_loss", "g_loss"}
  middle = [w.numpy() for w in gan.weights]
  assert all(not np.array_equal(a, b) for a, b in zip(before, middle))
  gan.fit(x, batch_size=8, epochs=1, verbose=0)
  assert all(not np.array_equal(a, w.numpy()) for a, w in zip(middle, gan.weights))
