"""Keras 3 twins of the tf1_reference models, with layer names chosen so the default mapping works.

Each twin's canonical weight paths (`keras_bridge._naming.canonical_weights`) equal the TF1 variable names
of its reference graph after `DEFAULT_RULES` (`weights`/`W`/`w` -> `kernel`, `biases`/`b` -> `bias`):

=======================  ==========================================  =========================================
twin                     TF1 reference (seed)                        canonical paths
=======================  ==========================================  =========================================
`dnn`                    `dnn.build_dnn` (002)                       `hidden1/kernel` ... `outputs/bias`
`transfer_dnn`           `dnn.build_transfer_dnn` (002)              `hidden1..4/*`, `outputs/*`
`image_filter`           `sharing.build_image_filter` (001)          `model/conv1/kernel`, `model/conv2/bias`
`shared_fc`              `sharing.build_shared_fc` (000, corrected)  `fully_connected_1/kernel|bias`
`affine_reuseable`       `sharing.build_affine_reuseable` (003)      `n2/kernel`, `n2/bias`
`auto_reuse`             `sharing.build_auto_reuse` (004)            `shared/kernel`, `shared/bias`
`GAN`                    `gan.build_gan` (003)                       `generator/hidden/kernel`, ...
=======================  ==========================================  =========================================

A TF1 variable shared by two calls (`reuse=True`, `AUTO_REUSE`, `reuse_variables()`) is one Keras layer
object called twice: the layer owns its variables once, so one TF1 key maps to one Keras weight. The
initializers follow the documents (`tf.random_normal_initializer()` is `RandomNormal(stddev=1.0)`, not
Keras's default `stddev=0.05`), so a fresh twin is distributed like a fresh reference graph; equality of
values comes only from copying the weights.
"""

from typing import Optional, Sequence, Tuple

import keras
import tensorflow as tf

from keras_bridge import _errors
from tf1_reference import dnn as _dnn

#: `tf.random_normal_initializer()` of the TF1 documents: mean 0, stddev 1.
_TF1_RANDOM_NORMAL = {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 1.0}}


def dnn(n_inputs: int = _dnn.MNIST_INPUTS,
        n_outputs: int = _dnn.MNIST_OUTPUTS,
        hidden_sizes: Sequence[int] = _dnn.DNN_HIDDEN,
        name: str = "dnn") -> keras.Model:
  """The 002_9773991e7c1a2830.txt DNN as a functional Keras 3 model: hidden1..N (relu) and `outputs` (logits).

  TF1's `tf.layers.dense` uses glorot_uniform kernels and zero biases, as Keras's `Dense` does.
  """
  inputs = keras.Input(shape=(n_inputs,), name="X")
  x = inputs
  for i, units in enumerate(hidden_sizes):
    x = keras.layers.Dense(units, activation="relu", name=f"hidden{i + 1}")(x)
  logits = keras.layers.Dense(n_outputs, name="outputs")(x)
  return keras.Model(inputs, logits, name=name)


def transfer_dnn(n_inputs: int = _dnn.MNIST_INPUTS,
                 n_outputs: int = _dnn.MNIST_OUTPUTS,
                 hidden_sizes: Sequence[int] = _dnn.TRANSFER_HIDDEN,
                 name: str = "transfer_dnn") -> keras.Model:
  """The transfer variant of 002_9773991e7c1a2830.txt: hidden1..3 as before, new hidden4 (20) and outputs."""
  return dnn(n_inputs, n_outputs, hidden_sizes, name=name)


def image_filter_block(channels: int = 32, kernel_size: int = 5, name: str = "model") -> keras.Model:
  """`my_image_filter` of 001_504de2624905c75a.txt: conv1 and conv2, each `relu(conv2d(x, W, SAME) + b)`.

  Stride 1, SAME padding, `channels` -> `channels` filters as in the document's `[5, 5, 32, 32]` kernels.
  The spatial size is left open, so one block serves the 10x10 and the 20x20 inputs.

  Args:
    channels: input and output channels.
    kernel_size: square kernel side.
    name: the TF1 variable scope around the filter (`"model"` in the document).

  Returns:
    A functional model whose weights are `conv1/kernel`, `conv1/bias`, `conv2/kernel`, `conv2/bias`.
  """
  inputs = keras.Input(shape=(None, None, channels), name=f"{name}_images")
  x = inputs
  for layer_name in ("conv1", "conv2"):
    x = keras.layers.Conv2D(channels, kernel_size, strides=1, padding="same", activation="relu",
                            kernel_initializer=_TF1_RANDOM_NORMAL, bias_initializer="zeros",
                            name=layer_name)(x)
  return keras.Model(inputs, x, name=name)


def image_filter(input1_shape: Tuple[int, ...] = (10, 10, 32),
                 input2_shape: Tuple[int, ...] = (20, 20, 32),
                 kernel_size: int = 5,
                 scope: str = "model",
                 name: str = "image_filter") -> keras.Model:
  """The shared image filter of 001_504de2624905c75a.txt: one filter block applied to two inputs.

  TF1 shares `model/conv1/weights` ... between `output1 = my_image_filter(input1)` and, under
  `reuse=True`, `output2 = my_image_filter(input2)`. Here the block named `scope` is called twice.

  Args:
    input1_shape: shape of `input1` without the batch dimension (the document's is (10, 10, 32)).
    input2_shape: shape of `input2` without the batch dimension (the document's is (20, 20, 32)).
    kernel_size: square kernel side.
    scope: name of the shared block, the TF1 variable scope.
    name: the model name (not part of canonical paths).

  Returns:
    A model `[input1, input2] -> {"output1": ..., "output2": ...}` with canonical weights
    `model/conv1/kernel`, `model/conv1/bias`, `model/conv2/kernel`, `model/conv2/bias`.

  Raises:
    keras_bridge.ArgumentError: the two inputs have different channel counts.
  """
  if input1_shape[-1] != input2_shape[-1]:
    raise _errors.ArgumentError(f"image_filter: both inputs go through the same convolutions, so their channel "
                                f"counts must agree. Received: input1_shape={input1_shape}, "
                                f"input2_shape={input2_shape}.")
  block = image_filter_block(input1_shape[-1], kernel_size, name=scope)
  input1 = keras.Input(shape=input1_shape, name="input1")
  input2 = keras.Input(shape=input2_shape, name="input2")
  return keras.Model([input1, input2], {"output1": block(input1), "output2": block(input2)}, name=name)


def shared_fc(n_inputs: int = 256, n_units: int = 256, name: str = "shared_fc") -> keras.Model:
  """The corrected shared fully-connected model of 000_4e63901589b71580.txt.

  The document's `fully_connected_2` reuses `fully_connected_1/weights` of shape [784, 256] on the
  256-wide `fc1`, which cannot multiply; with a square weight (`n_inputs == n_units`) the sharing works:
  `fc1 = relu(x W + b)`, `fc2 = fc1 W + b`. One `Dense` named `fully_connected_1` is called twice, the relu
  applied only after the first call.

  Args:
    n_inputs: input features; must equal `n_units`.
    n_units: units of the shared layer.
    name: the model name.

  Returns:
    A model `x -> {"fc1": ..., "fc2": ...}` with canonical weights `fully_connected_1/kernel` and
    `fully_connected_1/bias`.

  Raises:
    keras_bridge.ArgumentError: `n_inputs != n_units`, the document's original shape error.
  """
  if n_inputs != n_units:
    raise _errors.ArgumentError(f"shared_fc: fully_connected_2 reuses the [n_inputs, n_units] weight on the "
                                f"n_units-wide fc1, so n_inputs must equal n_units. Received: n_inputs={n_inputs}, "
                                f"n_units={n_units}.")
  x = keras.Input(shape=(n_inputs,), name="x")
  layer = keras.layers.Dense(n_units, kernel_initializer=_TF1_RANDOM_NORMAL, bias_initializer="zeros",
                             name="fully_connected_1")
  fc1 = keras.layers.ReLU(name="fc1")(layer(x))
  fc2 = layer(fc1)
  return keras.Model(x, {"fc1": fc1, "fc2": fc2}, name=name)


def affine_reuseable(n_inputs: int = 784, n_units: int = 500, name: str = "affine_reuseable") -> keras.Model:
  """`affine_reuseable` of 003_edbfd8374a89a122.txt called twice under `variable_scope("n2")`.

  TF1 creates `n2/W` and `n2/b` on the first call and returns them again under `reuse=True`; here one
  `Dense` named `n2` (relu) is called twice on the same input.

  Returns:
    A model `x -> {"nn1": ..., "nn2": ...}` with canonical weights `n2/kernel` and `n2/bias`.
  """
  x = keras.Input(shape=(n_inputs,), name="x")
  layer = keras.layers.Dense(n_units, activation="relu", kernel_initializer=_TF1_RANDOM_NORMAL,
                             bias_initializer="zeros", name="n2")
  return keras.Model(x, {"nn1": layer(x), "nn2": layer(x)}, name=name)


def auto_reuse(n_inputs: int = 10, n_units: int = 5, name: str = "auto_reuse") -> keras.Model:
  """`shared_layer` of 004_6270d8d9c47d861f.txt: `variable_scope("shared", reuse=tf.AUTO_REUSE)` twice.

  TF1 creates `shared/weights` and `shared/bias` once; here one linear `Dense` named `shared` is called
  twice on the same input.

  Returns:
    A model `input_data -> {"output1": ..., "output2": ...}` with canonical weights `shared/kernel` and
    `shared/bias`.
  """
  x = keras.Input(shape=(n_inputs,), name="input_data")
  layer = keras.layers.Dense(n_units, kernel_initializer=_TF1_RANDOM_NORMAL, bias_initializer="zeros",
                             name="shared")
  return keras.Model(x, {"output1": layer(x), "output2": layer(x)}, name=name)


def _mlp(n_inputs, hidden_units, n_outputs, name):
  return keras.Sequential([
      keras.Input(shape=(n_inputs,)),
      keras.layers.Dense(hidden_units, activation="relu", name="hidden"),
      keras.layers.Dense(n_outputs, name="output"),
  ], name=name)


class GAN(keras.Model):
  """The two-network setup of 003_edbfd8374a89a122.txt: a generator and a discriminator, two optimizers.

  TF1 trains `discriminator_optimizer.minimize(d_loss, var_list=discriminator_variables)` and then
  `generator_optimizer.minimize(g_loss, var_list=generator_variables)`. Here `train_step` does the same
  with two `GradientTape` passes (`discriminator_step`, then `generator_step`, which sees the updated
  discriminator). The custom train step needs the TensorFlow backend (`tf.GradientTape`).

  Canonical paths: `generator/hidden/kernel`, `generator/hidden/bias`, `generator/output/kernel`,
  `generator/output/bias`, and the same under `discriminator/`.

  Example:

    gan = GAN(data_dim=4, noise_dim=2, hidden_units=8)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.01), g_optimizer=keras.optimizers.SGD(0.01))
    losses = gan.train_step((x_real, z))   # or gan.fit(x_real, z, batch_size=...)
  """

  def __init__(self, data_dim: int = 4, noise_dim: int = 2, hidden_units: int = 8, name: str = "gan",
               seed: Optional[int] = None, **kwargs):
    super().__init__(name=name, **kwargs)
    self.data_dim = data_dim
    self.noise_dim = noise_dim
    self.hidden_units = hidden_units
    self.generator = _mlp(noise_dim, hidden_units, data_dim, "generator")
    self.discriminator = _mlp(data_dim, hidden_units, 1, "discriminator")
    self._bce = keras.losses.BinaryCrossentropy(from_logits=True)
    self._noise = keras.random.SeedGenerator(seed)
    self.d_optimizer = None
    self.g_optimizer = None

  def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):  # pylint: disable=arguments-differ
    """Sets the two optimizers (default: `SGD(0.01)` each, as `build_gan`)."""
    super().compile(**kwargs)
    self.d_optimizer = d_optimizer or keras.optimizers.SGD(0.01)
    self.g_optimizer = g_optimizer or keras.optimizers.SGD(0.01)

  def call(self, inputs):
    """`(x_real, z) -> {"g_sample", "d_real_logits", "d_fake_logits"}`, the tensors of `build_gan`."""
    x_real, z = inputs
    g_sample = self.generator(z)
    return {"g_sample": g_sample,
            "d_real_logits": self.discriminator(x_real),
            "d_fake_logits": self.discriminator(g_sample)}

  def d_loss(self, x_real, z):
    """Mean sigmoid cross-entropy of real logits against 1 plus fake logits against 0."""
    real = self.discriminator(x_real)
    fake = self.discriminator(self.generator(z))
    return self._bce(keras.ops.ones_like(real), real) + self._bce(keras.ops.zeros_like(fake), fake)

  def g_loss(self, z):
    """Mean sigmoid cross-entropy of fake logits against 1."""
    fake = self.discriminator(self.generator(z))
    return self._bce(keras.ops.ones_like(fake), fake)

  def discriminator_step(self, x_real, z):
    """One `d_optimizer` step on `d_loss` over the discriminator's trainable weights only; returns the loss."""
    d_vars = self.discriminator.trainable_weights
    with tf.GradientTape() as tape:
      d_loss = self.d_loss(x_real, z)
    self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
    return d_loss

  def generator_step(self, z):
    """One `g_optimizer` step on `g_loss` over the generator's trainable weights only; returns the loss."""
    g_vars = self.generator.trainable_weights
    with tf.GradientTape() as tape:
      g_loss = self.g_loss(z)
    self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
    return g_loss

  def train_step(self, data):
    """One discriminator step, then one generator step; `data` is `x_real` or `(x_real, z)`.

    Without `z` (plain `fit(x_real)`), the noise is drawn from a standard normal.
    """
    x_real, z, _ = keras.utils.unpack_x_y_sample_weight(data)
    if z is None:
      z = keras.random.normal((keras.ops.shape(x_real)[0], self.noise_dim), seed=self._noise)
    d_loss = self.discriminator_step(x_real, z)
    g_loss = self.generator_step(z)
    return {"d_loss": d_loss, "g_loss": g_loss}
