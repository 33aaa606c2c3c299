"""What the distributed tests run in every process: the same continuation, whatever the strategy."""

import numpy as np
import tensorflow as tf
import keras

import keras_bridge
from keras_bridge import _distributed

HIDDEN = (6, 5)
N_INPUTS, N_OUTPUTS = 8, 3
GLOBAL_BATCH = 8


def loss(y, logits):
  return keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)


def continue_training(strategy, checkpoint, data, output, steps):
  """Loads `checkpoint` (TF1 DNN + Adam) under `strategy`, trains `steps` global batches of `data` (an .npz
  with x, y), writes the TF1 checkpoint `output` and returns the losses and the weights."""
  with strategy.scope():
    model = keras_bridge.models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)
    state = keras_bridge.load_tf1_training_state(model, None, checkpoint)
  arrays = np.load(data)
  trainer = _distributed.DistributedTrainer(model, state.optimizer, loss, strategy=strategy,
                                            global_batch_size=GLOBAL_BATCH)
  losses = trainer.fit(tf.data.Dataset.from_tensor_slices((arrays["x"], arrays["y"])), steps)
  written = keras_bridge.save_tf1_training_state(model, state.optimizer, output, names=state, overwrite=True)
  return {"losses": losses, "checkpoint": written.checkpoint, "iterations": int(state.optimizer.iterations.numpy()),
          "weights": {w.path: w.numpy() for w in model.weights}}


def continue_migrated(strategy, checkpoint_dir):
  """`migrate`'s Keras phase (`continuation.continue_training`) under `strategy`: the transfer DNN on 400 digits,
  batch 32 (the last batch of each epoch 16, split unevenly across replicas), 2 epochs, saving every 5 steps.
  Returns the weights and what the run reported."""
  import dataclasses  # pylint: disable=import-outside-toplevel

  from keras_bridge.twins import continuation  # pylint: disable=import-outside-toplevel
  from keras_bridge.twins import datasets  # pylint: disable=import-outside-toplevel

  digits = datasets.load_dataset("digits")
  data = dataclasses.replace(digits, x_train=digits.x_train[:400], y_train=digits.y_train[:400])
  with strategy.scope():
    keras.utils.set_random_seed(7)
    model = keras_bridge.models.transfer_dnn(data.n_inputs, data.n_classes, (12, 10, 8, 6))
  result = continuation.continue_training(model, data, first_step=40, epochs=2, batch_size=32, learning_rate=0.05,
                                          seed=5, checkpoint_dir=checkpoint_dir, save_every=5, strategy=strategy)
  return {"global_step": result.global_step, "checkpoint": result.checkpoint, "jit": result.jit_compile,
          "steps_per_call": result.steps_per_call, "weights": {w.path: w.numpy() for w in model.weights}}
