"""Twins of the tf1_reference graphs for the equivalence harness (`keras_bridge._equivalence`).

Each builder returns a `Twin`: a reference graph in a live session and its Keras 3 model from
`keras_bridge.twins.models`, with matching inputs, outputs, targets and one training step per side.
"""

from typing import Mapping, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from keras_bridge._equivalence import sgd_step
from keras_bridge._equivalence import Twin
from keras_bridge.twins import models
from tf1_reference import dnn as _dnn

v1 = tf.compat.v1


def _start(graph, init=None):
  session = v1.Session(graph=graph)
  if init is None:
    with graph.as_default():
      init = v1.global_variables_initializer()
  session.run(init)
  return session


def _uniform(rng, shape):
  return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def dnn_twin(n_inputs: int = 20, n_outputs: int = 5, hidden_sizes: Sequence[int] = (16, 12, 8),
             learning_rate: float = 0.1, threshold: Optional[float] = 1.0, seed: int = 0) -> Twin:
  """The 002_9773991e7c1a2830.txt DNN (`build_dnn`) and `models.dnn`, compared at every layer.

  The TF1 step is the reference's `training_op`: `compute_gradients`, `clip_by_value(-threshold,
  threshold)`, `apply_gradients` with `GradientDescentOptimizer`. The Keras step is `SGD(clipvalue=...)`
  with `SparseCategoricalCrossentropy(from_logits=True)`.
  """
  net = _dnn.build_dnn(n_inputs, n_outputs, hidden_sizes, learning_rate=learning_rate, threshold=threshold,
                       seed=seed)
  model = models.dnn(n_inputs, n_outputs, hidden_sizes)
  names = net.layer_names
  probe = keras.Model(model.input, {n: model.get_layer(n).output for n in names})
  xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

  def sample(rng, batch_size):
    return [_uniform(rng, (batch_size, n_inputs))], [rng.integers(0, n_outputs, size=batch_size)]

  return Twin(
      name="dnn", session=_start(net.graph, net.init), variables=net.model_variables(), inputs=[net.X],
      outputs=dict(zip(names, list(net.hidden) + [net.logits])), model=model,
      keras_outputs=lambda inputs: probe(inputs[0]), targets=[net.y],
      train_ops=[(net.training_op, net.loss)],
      keras_step=sgd_step(model, lambda x, y: xent(y[0], model(x[0])), learning_rate, threshold),
      sample=sample, saver=net.saver)


def _regression_head(graph, outputs: Mapping[str, tf.Tensor], variables, learning_rate):
  """Adds `sum_k mean((out_k - target_k)^2)` and a `GradientDescentOptimizer` step to a graph without one."""
  with graph.as_default(), tf.name_scope("equivalence"):
    targets = [v1.placeholder(tf.float32, t.shape, name=f"target_{name}") for name, t in outputs.items()]
    losses = [tf.reduce_mean(tf.square(t - target)) for t, target in zip(outputs.values(), targets)]
    loss = losses[0]
    for extra in losses[1:]:
      loss = loss + extra
    train_op = v1.train.GradientDescentOptimizer(learning_rate).minimize(loss, var_list=variables)
  return targets, loss, train_op


def _call(model, inputs):
  return model(list(inputs) if len(inputs) > 1 else inputs[0])


def _regression_loss(model, names):
  def loss_fn(inputs, targets):
    outputs = _call(model, inputs)
    losses = [keras.ops.mean(keras.ops.square(outputs[n] - t)) for n, t in zip(names, targets)]
    loss = losses[0]
    for extra in losses[1:]:
      loss = loss + extra
    return loss

  return loss_fn


def _shared_twin(name, net, inputs, loss_outputs, model, learning_rate, outputs=None, keras_outputs=None
                 ) -> Twin:
  """A twin for a sharing graph, which has no loss: both sides get the same regression head.

  `loss_outputs` (TF1 tensors named like the Keras model's dict outputs) feed the head; `outputs` and
  `keras_outputs` are what `compare_outputs` compares, by default the same tensors.
  """
  targets, loss, train_op = _regression_head(net.graph, loss_outputs, net.variables, learning_rate)
  shapes = [tuple(t.shape.as_list()) for t in list(inputs) + list(targets)]
  with net.graph.as_default():
    saver = v1.train.Saver(net.variables)

  def sample(rng, batch_size):
    arrays = [_uniform(rng, tuple(batch_size if d is None else d for d in s)) for s in shapes]
    return arrays[:len(inputs)], arrays[len(inputs):]

  return Twin(name=name, session=_start(net.graph, net.init), variables=list(net.variables),
              inputs=list(inputs), outputs=dict(outputs or loss_outputs), model=model,
              keras_outputs=keras_outputs or (lambda xs: _call(model, xs)), targets=targets,
              train_ops=[(train_op, loss)],
              keras_step=sgd_step(model, _regression_loss(model, list(loss_outputs)), learning_rate),
              sample=sample, saver=saver)


def _conv_input(tensor):
  """The input of `relu(conv2d(x, W) + b)`: Relu <- add <- Conv2D <- x."""
  return tensor.op.inputs[0].op.inputs[0].op.inputs[0]


def image_filter_twin(share: str = "reuse_true", input1_shape: Sequence[int] = (1, 6, 6, 32),
                      input2_shape: Sequence[int] = (1, 8, 8, 32), learning_rate: float = 1e-4,
                      seed: int = 0) -> Twin:
  """The 001_504de2624905c75a.txt image filter (`sharing.build_image_filter`) and `models.image_filter`.

  Compared per layer and per call: `output1/conv1`, `output1/conv2`, `output2/conv1`, `output2/conv2`.
  """
  from tf1_reference import sharing  # pylint: disable=g-import-not-at-top

  net = sharing.build_image_filter(share, input1_shape, input2_shape, seed=seed)
  model = models.image_filter(tuple(input1_shape[1:]), tuple(input2_shape[1:]))
  block = model.get_layer("model")
  probe = keras.Model(block.input, {"conv1": block.get_layer("conv1").output, "conv2": block.output})
  outputs = {"output1/conv1": _conv_input(net.output1), "output1/conv2": net.output1,
             "output2/conv1": _conv_input(net.output2), "output2/conv2": net.output2}

  def keras_outputs(inputs):
    return {f"output{i}/{layer}": value for i, x in enumerate(inputs, 1) for layer, value in probe(x).items()}

  return _shared_twin("image_filter", net, [net.input1, net.input2],
                      {"output1": net.output1, "output2": net.output2}, model, learning_rate,
                      outputs=outputs, keras_outputs=keras_outputs)


def shared_fc_twin(n_units: int = 6, learning_rate: float = 0.01, seed: int = 0) -> Twin:
  """The corrected 000_4e63901589b71580.txt shared FC (`sharing.build_shared_fc`) and `models.shared_fc`."""
  from tf1_reference import sharing  # pylint: disable=g-import-not-at-top

  net = sharing.build_shared_fc(n_units, n_units, seed=seed)
  model = models.shared_fc(n_units, n_units)
  return _shared_twin("shared_fc", net, [net.x], {"fc1": net.fc1, "fc2": net.fc2}, model, learning_rate)


def affine_reuseable_twin(n_inputs: int = 12, n_units: int = 6, learning_rate: float = 0.01,
                          seed: int = 0) -> Twin:
  """003_edbfd8374a89a122.txt `affine_reuseable` (`sharing.build_affine_reuseable`) and `models.affine_reuseable`."""
  from tf1_reference import sharing  # pylint: disable=g-import-not-at-top

  net = sharing.build_affine_reuseable(n_inputs, n_units, seed=seed)
  model = models.affine_reuseable(n_inputs, n_units)
  return _shared_twin("affine_reuseable", net, [net.x], {"nn1": net.nn1, "nn2": net.nn2}, model,
                      learning_rate)


def auto_reuse_twin(learning_rate: float = 0.01, seed: int = 0) -> Twin:
  """004_6270d8d9c47d861f.txt `shared_layer` with AUTO_REUSE (`sharing.build_auto_reuse`) and `models.auto_reuse`."""
  from tf1_reference import sharing  # pylint: disable=g-import-not-at-top

  net = sharing.build_auto_reuse(seed=seed)
  model = models.auto_reuse()
  return _shared_twin("auto_reuse", net, [net.input_data], {"output1": net.output1, "output2": net.output2},
                      model, learning_rate)


def gan_twin(data_dim: int = 4, noise_dim: int = 2, hidden_units: int = 8, d_learning_rate: float = 0.05,
             g_learning_rate: float = 0.05, seed: int = 0) -> Twin:
  """The 003_edbfd8374a89a122.txt GAN (`gan.build_gan`) and `models.GAN`.

  One TF1 step is `train_discriminator` then `train_generator` (two `var_list`s, two optimizers) with the
  same `x_real` and `z`; one Keras step is `GAN.train_step((x_real, z))`. Inputs are `[x_real, z]`.
  """
  from tf1_reference import gan  # pylint: disable=g-import-not-at-top

  net = gan.build_gan(data_dim, noise_dim, hidden_units, d_learning_rate, g_learning_rate, seed=seed)
  model = models.GAN(data_dim, noise_dim, hidden_units)
  model.compile(d_optimizer=keras.optimizers.SGD(d_learning_rate),
                g_optimizer=keras.optimizers.SGD(g_learning_rate))

  def sample(rng, batch_size):
    return list(gan.sample_batch(rng, batch_size, data_dim, noise_dim)), []

  def keras_step(inputs, targets):
    del targets  # The GAN's targets are implied by its losses.
    losses = model.train_step(tuple(inputs))
    return [losses["d_loss"], losses["g_loss"]]

  return Twin(
      name="gan", session=_start(net.graph, net.init),
      variables=list(net.generator_variables) + list(net.discriminator_variables),
      inputs=[net.x_real, net.z],
      outputs={"g_sample": net.g_sample, "d_real_logits": net.d_real_logits,
               "d_fake_logits": net.d_fake_logits},
      model=model, keras_outputs=lambda inputs: model(tuple(inputs)), targets=[],
      train_ops=[(net.train_discriminator, net.d_loss), (net.train_generator, net.g_loss)],
      keras_step=keras_step, sample=sample, saver=net.saver)
