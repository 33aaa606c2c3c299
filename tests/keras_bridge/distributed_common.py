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
