"""The loss-equivalence check of `train.py`, flagless so that tests import it (issue 13, goal 3).

TF1 and Keras 3 train the seed-002 DNN from the same initial weights (saved by TF1's Saver, loaded with
`keras_bridge.load_tf1_checkpoint`) on the same batches in the same order, one step per call.
"""

import os
import shutil
import tempfile

BATCH = 50
LEARNING_RATE = 0.01
CLIP = 1.0
LOSS_RTOL = 1e-5
EQUIVALENCE_STEPS = 100


def compile_like_tf1(model, jit_compile=False, steps_per_execution=1):
  """The TF1 run's optimizer and loss: SGD, gradients clipped to [-1, 1], mean sparse cross-entropy."""
  import keras  # pylint: disable=g-import-not-at-top
  kwargs = {}
  if jit_compile:
    kwargs["jit_compile"] = True
  if steps_per_execution > 1:
    kwargs["steps_per_execution"] = steps_per_execution
  model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE, clipvalue=CLIP),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), **kwargs)


def equivalence(n_inputs=28 * 28, hidden=None, steps=EQUIVALENCE_STEPS, jit_compile=False, workdir=None,
                seed=42, loop="train_on_batch"):
  """TF1's and Keras's losses over the same `steps` batches, one step per call, from the same initial weights.

  The seed-002 DNN (`hidden` units, default `DNN_HIDDEN`) is initialised by TF1, saved by its Saver and loaded
  into the Keras twin with `keras_bridge.load_tf1_checkpoint`; both take SGD steps (gradients clipped to
  [-1, 1]) on the same batches in the same order: TF1 `sess.run([train_op, loss])`, Keras `train_on_batch`.

  Returns:
    `(tf1_losses, keras_losses)`, two float64 NumPy arrays.
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import keras_bridge  # pylint: disable=g-import-not-at-top
  from keras_bridge.twins import models  # pylint: disable=g-import-not-at-top
  from tf1_reference import dnn  # pylint: disable=g-import-not-at-top
  hidden = tuple(hidden or dnn.DNN_HIDDEN)
  rng = np.random.default_rng(seed)
  x = rng.random((steps * BATCH, n_inputs), dtype=np.float32)
  y = rng.integers(0, 10, steps * BATCH).astype(np.int64)
  net = dnn.build_dnn(n_inputs, 10, hidden, learning_rate=LEARNING_RATE, threshold=CLIP, seed=seed)
  own = workdir is None
  workdir = workdir or tempfile.mkdtemp(prefix="train-equivalence-")
  try:
    with tf.compat.v1.Session(graph=net.graph) as sess:
      sess.run(net.init)
      prefix = net.saver.save(sess, os.path.join(workdir, "init", "model.ckpt"), write_meta_graph=False)
      tf1 = [sess.run([net.training_op, net.loss], {net.X: x[i * BATCH:(i + 1) * BATCH],
                                                    net.y: y[i * BATCH:(i + 1) * BATCH]})[1] for i in range(steps)]
    model = models.dnn(n_inputs, 10, hidden)
    keras_bridge.load_tf1_checkpoint(model, prefix)
  finally:
    if own:
      shutil.rmtree(workdir, ignore_errors=True)
  if loop == "continuation":
    import keras  # pylint: disable=g-import-not-at-top
    from keras_bridge.twins import continuation  # pylint: disable=g-import-not-at-top
    optimizer = keras.optimizers.SGD(LEARNING_RATE, clipvalue=CLIP)
    optimizer.build(model.trainable_variables)
    run = continuation._Steps(model, optimizer, tf.distribute.get_strategy(), jit_compile).run_in_memory  # pylint: disable=protected-access
    xt, yt, order = tf.constant(x), tf.constant(y), tf.range(steps * BATCH, dtype=tf.int64)
    one, batch = tf.constant(1, tf.int64), tf.constant(BATCH, tf.int64)
    ours = [run(xt, yt, order, tf.constant(i, tf.int64), one, batch).numpy() for i in range(steps)]
  else:
    compile_like_tf1(model, jit_compile=jit_compile)
    ours = [model.train_on_batch(x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH])
            for i in range(steps)]
  return np.asarray(tf1, np.float64), np.asarray(ours, np.float64)
