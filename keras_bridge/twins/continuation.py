"""Training a migrated model on in Keras 3: a custom step, exact resume, one device or many.

`continue_training` trains a Keras 3 classifier with plain SGD (the TF1 runs' optimizer) on the batches the TF1
runs would have drawn next, writing `tf.train.CheckpointManager` checkpoints every `save_every` steps. Every batch
is a function of `(seed, step)`: epoch `e` shuffles with `np.random.default_rng([seed, e])` (as
`training.train_dnn` does), so a run killed at any moment and started again on the same `checkpoint_dir`
restores the latest checkpoint, skips the batches it already holds and ends bit-equal to the run that was never
interrupted. Keras 3's `fit` + `BackupAndRestore` cannot promise that: it restarts a partly done epoch from its
first batch.

Speed on one device (issue 13): with no strategy the training data are held as tensors and each compiled call
runs `steps_per_call` steps, gathering every batch inside the graph from the epoch's order (`_Steps.run_in_memory`),
with no `tf.data` iterator between the steps; that loop runs faster than the TF1 session, where Keras's `fit`
only matches it (`benchmarks/train.py`).

Under a `tf.distribute` strategy (the model created in `strategy.scope()`), each global batch is split across the
replicas and the update is the one a single device makes on the whole batch; XLA and multi-step calls are off
there (Keras 3.15's own `fit` fails with them under `MirroredStrategy`). Only the chief writes checkpoints: the
other workers write theirs into `.workertemp_<task>/` and remove it (`_distributed.write_location`).

Example:

  >>> result = continue_training(model, data, first_step=600, epochs=3, batch_size=20, learning_rate=0.02,
  ...                            seed=42, checkpoint_dir="runs/migrate/keras/ckpt", save_every=50)
  >>> result.global_step, result.resumed_from
  (816, None)
"""

import contextlib
import dataclasses
import os
import shutil
from typing import List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from keras_bridge import _distributed
from keras_bridge import _durable
from keras_bridge import _errors
from keras_bridge import _naming
from keras_bridge.twins import datasets
from keras_bridge.twins import progress as progress_lib
from keras_bridge.twins import training

#: Steps run per call on one device (Keras's `steps_per_execution`); 1 under a multi-replica strategy.
STEPS_PER_CALL = 50
_CHECKPOINT_NAME = "ckpt"

#: TensorBoard tags, the TF1 runs' (`training.LOSS_TAG` ...), so the curves overlay.
LOSS_TAG = "test/loss"
ACCURACY_TAG = "test/accuracy"
WEIGHTS_TAG_PREFIX = "weights/"


@dataclasses.dataclass
class Continued:
  """What `continue_training` did.

  Attributes:
    global_step: the last step, on the TF1 run's step axis (`first_step` + every Keras step, all calls).
    steps: steps this call ran (fewer than the whole run's after a resume).
    history: `(step, test_loss, test_accuracy)` at `first_step` (fresh runs only) and after each epoch this call
      finished.
    checkpoint: the latest checkpoint prefix (`<checkpoint_dir>/ckpt-<step>`), or None without `checkpoint_dir`.
    resumed_from: the checkpoint restored at the start, or None.
    jit_compile: whether the step was XLA-compiled.
    steps_per_call: steps per call of the compiled loop.
  """

  global_step: int
  steps: int
  history: List[Tuple[int, float, float]]
  checkpoint: Optional[str]
  resumed_from: Optional[str]
  jit_compile: bool
  steps_per_call: int


def _order(n: int, seed: int, epoch: int) -> np.ndarray:
  """Epoch `epoch`'s example order: `datasets.batches`'s, with the TF1 runs' per-epoch seeding."""
  return np.random.default_rng([seed, epoch]).permutation(n)


def _epoch_dataset(x, y, batch_size: int, order: np.ndarray, skip: int) -> tf.data.Dataset:
  """Batches `skip`, `skip + 1`, ... of one epoch, each as `(x, y, n)`: `n` repeats the batch's size per example, so
  every replica divides by the global batch's size, the last (smaller) batch included."""
  index = tf.data.Dataset.from_tensor_slices(order).batch(batch_size).skip(skip)

  def gather(idx):
    n = tf.fill(tf.shape(idx), tf.shape(idx)[0])
    return tf.gather(x, idx), tf.gather(y, idx), n

  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
  return index.map(gather).with_options(options)


class _Steps:
  """The compiled training step(s) of one model and optimizer under one strategy."""

  def __init__(self, model, optimizer, strategy, jit_compile: bool):
    self.model, self.optimizer, self.strategy = model, optimizer, strategy
    self._replica = tf.function(self._replica_step, jit_compile=jit_compile)
    self.run = tf.function(self._run)
    self.run_in_memory = tf.function(self._run_in_memory)

  def _replica_step(self, x, y, n):
    with tf.GradientTape() as tape:
      logits = self.model(x, training=True)
      per_example = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
      # Sum / global batch size: summed over the replicas, the gradient of the mean over the whole batch.
      total = tf.cast(tf.reduce_max(tf.concat([n, tf.ones([1], n.dtype)], 0)), per_example.dtype)
      loss = tf.reduce_sum(per_example) / total
      if self.model.losses:
        loss += tf.add_n(self.model.losses) / self.strategy.num_replicas_in_sync
    variables = self.model.trainable_variables
    grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
             for g in tape.gradient(loss, variables)]
    self.optimizer.apply_gradients(zip(grads, variables))
    return loss

  def _run(self, iterator, steps):
    """Runs `steps` (a scalar tensor: one trace for every count) steps; returns the last global mean loss."""
    loss = tf.constant(0.0)
    for _ in tf.range(steps):
      per_replica = self.strategy.run(self._replica, args=next(iterator))
      loss = self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
    return loss

  def _run_in_memory(self, x, y, order, first, steps, batch_size):
    """One device: runs `steps` steps on batches `first`, `first + 1`, ... of the epoch order `order` (the last
    may be smaller), gathered from `x` and `y` inside the graph (no `tf.data` iterator between the steps);
    returns the last loss. Every argument is a tensor: one trace for every count."""
    examples = tf.shape(order, out_type=tf.int64)[0]
    loss = tf.constant(0.0)
    for i in tf.range(steps):
      start = (first + i) * batch_size
      idx = order[start:tf.minimum(start + batch_size, examples)]
      loss = self._replica(tf.gather(x, idx), tf.gather(y, idx), tf.fill(tf.shape(idx), tf.shape(idx)[0]))
    return loss


def _evaluate(model, data: datasets.Dataset) -> Tuple[float, float]:
  logits = model(data.x_test, training=False)
  loss = keras.losses.sparse_categorical_crossentropy(data.y_test, logits, from_logits=True)
  accuracy = np.mean(np.argmax(keras.ops.convert_to_numpy(logits), axis=1) == data.y_test)
  return float(np.mean(keras.ops.convert_to_numpy(loss))), float(accuracy)


def continue_training(model: keras.Model,
                      data: datasets.Dataset,
                      *,
                      first_step: int,
                      epochs: int,
                      batch_size: int,
                      learning_rate: float,
                      seed: int,
                      checkpoint_dir: Optional[str] = None,
                      save_every: int = 0,
                      max_to_keep: int = 5,
                      overwrite: bool = False,
                      strategy: Optional[tf.distribute.Strategy] = None,
                      jit_compile: bool = False,
                      steps_per_call: Optional[int] = None,
                      logdir: Optional[str] = None,
                      progress: bool = False) -> Continued:
  """Continues training a migrated classifier in Keras 3 with SGD, resumably.

  Args:
    model: the Keras model, weights loaded (created under `strategy.scope()` for a strategy).
    data: the dataset; `x_train` / `y_train` train, `x_test` / `y_test` are logged after each epoch.
    first_step: the TF1 run's last step; Keras steps continue from it, and its epochs count from there.
    epochs: Keras epochs in all, counting those of the run being resumed.
    batch_size: global batch size (split across the replicas).
    learning_rate: SGD learning rate.
    seed: shuffling seed; epoch `e` draws with `np.random.default_rng([seed, e])`.
    checkpoint_dir: where `ckpt-<step>` checkpoints (model, optimizer, step) go; a directory that holds this
      run's checkpoints is resumed from the latest. None: no checkpoints, no resume.
    save_every: also save every this many global steps (0: at the end only).
    max_to_keep: checkpoints kept, across restarts.
    overwrite: start again in a `checkpoint_dir` holding another run's checkpoints (they are removed).
    strategy: the strategy; default: the model's (one device for an ordinary model).
    jit_compile: XLA-compile each step. Off by default: on one device the in-memory loop measured as fast without
      it (benchmarks/train.py) and XLA adds 2-3 s of compile per batch shape; under a strategy, Keras 3.15's own
      `fit` fails with it.
    steps_per_call: steps per compiled call; default `STEPS_PER_CALL` for one replica, 1 otherwise. Checkpoints
      and epoch ends still fall on their exact steps.
    logdir: TensorBoard run directory; None writes no logs.
    progress: a progress bar over the epochs.

  Returns:
    A `Continued`.

  Raises:
    keras_bridge.OutputExistsError: `checkpoint_dir` holds another run's checkpoints and `overwrite` is False.
    keras_bridge.ArgumentError: a bad count, or a model created under another strategy.
    keras_bridge.StorageError: the checkpoint directory cannot be written (one line, with the fix).
  """
  problems = [f"{name} must be positive. Received: {name}={value}"
              for name, value in (("batch_size", batch_size), ("learning_rate", learning_rate)) if value <= 0]
  problems += [f"{name} must be >= 0. Received: {name}={value}"
               for name, value in (("epochs", epochs), ("save_every", save_every)) if value < 0]
  if problems:
    raise _errors.ArgumentError("; ".join(problems) + ".")
  owner = _distributed.model_strategy(model)
  strategy = strategy or owner or tf.distribute.get_strategy()
  if owner is not None and owner is not strategy or owner is None and strategy.num_replicas_in_sync > 1:
    raise _errors.ArgumentError(
        f"Model {model.name!r} was not created under the {type(strategy).__name__} it is to train under; build "
        "(and load) the model inside `strategy.scope()`.")
  single = strategy.num_replicas_in_sync == 1
  # No strategy at all: the batches are gathered inside the compiled loop (`_Steps.run_in_memory`); under one,
  # `tf.data` distributes them.
  in_memory = owner is None and strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy()
  steps_per_call = int(steps_per_call or (STEPS_PER_CALL if single else 1))
  x = tf.constant(data.x_train)
  y = tf.constant(data.y_train)
  steps_per_epoch = -(-len(data.x_train) // batch_size)
  last_step = first_step + epochs * steps_per_epoch

  with strategy.scope():
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    optimizer.build(model.trainable_variables)
    step_var = tf.Variable(first_step, dtype=tf.int64, trainable=False, name="global_step")
  checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, global_step=step_var)
  params = dict(first_step=int(first_step), batch_size=int(batch_size), learning_rate=float(learning_rate),
                seed=int(seed), examples=int(len(data.x_train)))
  resumed_from, manager = None, None
  step = first_step
  history = []
  with contextlib.ExitStack() as stack:
    if checkpoint_dir:
      stack.enter_context(_durable.storage_errors(checkpoint_dir, "write the Keras checkpoints in"))
      resume = training.resumable(checkpoint_dir, params, overwrite, flag="Keras checkpoint directory")
      if not resume and overwrite and os.path.isdir(checkpoint_dir):
        shutil.rmtree(checkpoint_dir)
      # The writer lock, and what a killed save left (`ckpt-N_temp/`, data files with no index) removed.
      stack.enter_context(training.run_directory(checkpoint_dir, os.path.join(checkpoint_dir, _CHECKPOINT_NAME)))
      resumed_from = tf.train.latest_checkpoint(checkpoint_dir) if resume else None
      if resumed_from:
        checkpoint.restore(resumed_from).assert_existing_objects_matched()
        step = int(step_var.numpy())
      if _distributed.is_chief(strategy):
        training.record_run(checkpoint_dir, params)
      # Every worker saves (the save is collective); the others into a directory removed at the end.
      where = stack.enter_context(
          _distributed.write_location(os.path.join(checkpoint_dir, _CHECKPOINT_NAME), strategy))
      manager = tf.train.CheckpointManager(checkpoint, os.path.dirname(where), max_to_keep=max_to_keep,
                                           checkpoint_name=_CHECKPOINT_NAME)
    steps = _Steps(model, optimizer, strategy, bool(jit_compile))
    writer = tf.summary.create_file_writer(logdir) if logdir and _distributed.is_chief(strategy) else None
    if writer is not None:
      stack.callback(writer.close)

    def record(at: int):
      loss, accuracy = _evaluate(model, data)
      history.append((at, loss, accuracy))
      if writer is not None:
        with writer.as_default():
          tf.summary.scalar(LOSS_TAG, loss, step=at)
          tf.summary.scalar(ACCURACY_TAG, accuracy, step=at)
          for path, var in _naming.canonical_weights(model).items():
            tf.summary.histogram(WEIGHTS_TAG_PREFIX + path, var.value, step=at)
        writer.flush()
      return loss, accuracy

    def save():
      step_var.assign(step)
      manager.save(checkpoint_number=step)

    first_epoch = (step - first_step) // steps_per_epoch
    bar = progress_lib.Progress(max(epochs - first_epoch, 0), progress, unit_name="epoch", label="Keras training")
    if resumed_from is None:
      record(step)
    start = step
    for epoch in range(first_epoch, epochs):
      done = step - first_step - epoch * steps_per_epoch
      order = _order(len(data.x_train), seed, epoch)
      if in_memory:
        order = tf.constant(order, tf.int64)
      else:
        iterator = iter(strategy.experimental_distribute_dataset(_epoch_dataset(x, y, batch_size, order, done)))
      epoch_end = first_step + (epoch + 1) * steps_per_epoch
      while step < epoch_end:
        chunk = min(steps_per_call, epoch_end - step)
        if manager is not None and save_every:
          chunk = min(chunk, save_every - step % save_every)
        if in_memory:
          first_batch = step - first_step - epoch * steps_per_epoch
          steps.run_in_memory(x, y, order, tf.constant(first_batch, tf.int64), tf.constant(chunk, tf.int64),
                              tf.constant(batch_size, tf.int64))
        else:
          steps.run(iterator, tf.constant(chunk))
        step += chunk
        if manager is not None and save_every and step % save_every == 0 and step != last_step:
          save()
      loss, accuracy = record(step)
      bar.update(epoch - first_epoch + 1, [("test_loss", loss), ("test_accuracy", accuracy)])
    if manager is not None and not (manager.latest_checkpoint or "").endswith(f"-{step}"):
      save()
    if resumed_from is not None and not history:
      record(step)
  latest = tf.train.latest_checkpoint(checkpoint_dir) if checkpoint_dir else None
  return Continued(global_step=step, steps=step - start, history=history, checkpoint=latest,
                   resumed_from=resumed_from, jit_compile=jit_compile, steps_per_call=steps_per_call)
