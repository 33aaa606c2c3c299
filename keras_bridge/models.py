"""Keras 3 twins of the tf1_reference models, with layer names chosen so the default mapping works."""

from typing import Sequence

import keras

from tf1_reference import dnn as _dnn


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
