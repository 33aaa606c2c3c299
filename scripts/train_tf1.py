"""Trains the 002_9773991e7c1a2830.txt DNN in TF1 graph mode, with periodic checkpoints and resume.

Checkpoints are `<checkpoint_dir>/model-<global_step>`, written every --save_every steps and at the end, as
003_edbfd8374a89a122.txt's `save()` does. A run whose --checkpoint_dir already holds one resumes from the latest
(003's `loadmodel`: initialize everything, then restore) and trains up to --epochs in total.

Example: python -m scripts.train_tf1 --epochs=10 --checkpoint_dir=runs/train_tf1 --logdir=runs/logs
"""

import dataclasses
import os
from typing import List, Optional, Sequence, Tuple

from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf

from keras_bridge import _errors
from scripts import _common
from scripts import _data
from tf1_reference import dnn as _dnn

v1 = tf.compat.v1

_SAVE_EVERY = flags.DEFINE_integer("save_every", 100, "Write a checkpoint every this many global steps.",
                                   lower_bound=1)

for _name in ("hidden_sizes", "dataset", "data_dir", "epochs", "batch_size", "learning_rate", "seed", "checkpoint_dir",
              "logdir", "progress"):
  flags.declare_key_flag(_name)

#: The TensorBoard tags every run writes (TF1 and Keras alike), so their curves overlay.
LOSS_TAG = "test/loss"
ACCURACY_TAG = "test/accuracy"
WEIGHTS_TAG_PREFIX = "weights/"
DEFAULT_CHECKPOINT_DIR = os.path.join("runs", "train_tf1")


@dataclasses.dataclass
class TrainResult:
  """What a TF1 training run produced.

  Attributes:
    checkpoint: the prefix of the last checkpoint written (`.../model-<global_step>`).
    global_step: SGD steps taken in total, counting those before a resume.
    test_loss: loss on the test set after the last epoch.
    test_accuracy: accuracy on the test set after the last epoch.
    resumed_from: the checkpoint restored at the start, or None for a fresh run.
    epochs_run: epochs trained by this call (fewer than `epochs` after a resume).
    history: `(global_step, test_loss, test_accuracy)` after each epoch of this call.
    logdir: the TensorBoard run directory, or None.
  """

  checkpoint: str
  global_step: int
  test_loss: float
  test_accuracy: float
  resumed_from: Optional[str]
  epochs_run: int
  history: List[Tuple[int, float, float]]
  logdir: Optional[str] = None


def add_summaries(net: _dnn.DNNGraph):
  """Adds the scalar and histogram summaries to `net.graph` and returns the merged op.

  The scalars are the loss and accuracy of whatever is fed (the scripts feed the test set); the histograms
  are the layer weights under their TF1 names, which are also the bridge's canonical Keras paths.
  """
  with net.graph.as_default():
    summaries = [v1.summary.scalar(LOSS_TAG, net.loss), v1.summary.scalar(ACCURACY_TAG, net.accuracy)]
    summaries += [v1.summary.histogram(WEIGHTS_TAG_PREFIX + var.op.name, var) for var in net.model_variables()]
    return v1.summary.merge(summaries)


def _mismatches(sess, path: str) -> List[str]:
  """Graph variables that the checkpoint lacks or holds with another shape."""
  shapes = tf.train.load_checkpoint(path).get_variable_to_shape_map()
  problems = []
  for var in sess.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES):
    name, shape = var.op.name, var.shape.as_list()
    if name not in shapes:
      problems.append(f"{name!r} is missing")
    elif list(shapes[name]) != shape:
      problems.append(f"{name!r} has shape {tuple(shapes[name])}, the model needs {tuple(shape)}")
  return problems


def load_latest(sess, saver, checkpoint_dir: str) -> Optional[str]:
  """003_edbfd8374a89a122.txt's `loadmodel`: restores the latest checkpoint of `checkpoint_dir` if any.

  Variables must already be initialized; those the checkpoint holds are then overwritten. The shapes are
  checked first: a TF1 `Saver` restoring resource variables does not check them, and silently gives a
  variable the checkpoint's shape, so a checkpoint of another model would only fail later, in a matmul.

  Returns:
    The restored checkpoint prefix, or None when the directory holds no checkpoint.

  Raises:
    keras_bridge.CheckpointFormatError: the checkpoint does not match the graph (other sizes or names).
  """
  state = v1.train.get_checkpoint_state(checkpoint_dir)
  if not (state and state.model_checkpoint_path):
    return None
  # As in the document: the state file may hold a path from another machine; only its base name counts.
  path = os.path.join(checkpoint_dir, os.path.basename(state.model_checkpoint_path))
  problems = _mismatches(sess, path)
  if problems:
    raise _errors.CheckpointFormatError(
        f"Cannot resume from {path}: it does not match the model being trained ({'; '.join(problems)}). Pass "
        "another --checkpoint_dir, or the flags (--hidden_sizes, --dataset) the checkpoint was trained with.")
  saver.restore(sess, path)
  return path


def evaluate(sess, net: _dnn.DNNGraph, x: np.ndarray, y: np.ndarray, summary_op=None):
  """Returns `(loss, accuracy, serialized_summary_or_None)` of `net` on `(x, y)`."""
  fetches = [net.loss, net.accuracy] + ([summary_op] if summary_op is not None else [])
  out = sess.run(fetches, feed_dict={net.X: x, net.y: y})
  return float(out[0]), float(out[1]), (out[2] if summary_op is not None else None)


def train(data: _data.Dataset,
          checkpoint_dir: str,
          *,
          epochs: int = 10,
          batch_size: int = 20,
          learning_rate: float = 0.02,
          save_every: int = 100,
          seed: int = 42,
          hidden_sizes: Sequence[int] = _dnn.DNN_HIDDEN,
          logdir: Optional[str] = None,
          progress: bool = False) -> TrainResult:
  """Trains the "完整代码" DNN of 002_9773991e7c1a2830.txt (gradient clipping included) on `data`.

  Args:
    data: the dataset; its feature and class counts size the input and output layers.
    checkpoint_dir: where `model-<global_step>` checkpoints go; the latest one there is resumed.
    epochs: total epochs, counting those of the run being resumed.
    batch_size: minibatch size.
    learning_rate: of the `GradientDescentOptimizer`.
    save_every: checkpoint period in global steps; the last step is always saved.
    seed: graph seed (initial weights) and shuffling seed.
    hidden_sizes: units of hidden1, hidden2, ...
    logdir: TensorBoard run directory (e.g. `<logdir>/tf1`); None writes no logs.
    progress: show a progress bar over the epochs.

  Returns:
    A `TrainResult`.

  Raises:
    keras_bridge.CheckpointFormatError: `checkpoint_dir` holds a checkpoint of another model.
  """
  net = _dnn.build_dnn(data.n_inputs, data.n_classes, hidden_sizes, learning_rate=learning_rate,
                       global_step=True, seed=seed)
  summary_op = add_summaries(net)
  os.makedirs(checkpoint_dir, exist_ok=True)
  prefix = os.path.join(checkpoint_dir, "model")
  steps_per_epoch = -(-len(data.x_train) // batch_size)
  with net.graph.as_default():  # FileWriter refuses eager mode, TF2's default.
    writer = v1.summary.FileWriter(logdir, graph=net.graph) if logdir else None
  history = []
  try:
    with v1.Session(graph=net.graph) as sess:
      sess.run(net.init)
      resumed_from = load_latest(sess, net.saver, checkpoint_dir)
      step = int(sess.run(net.global_step))
      first_epoch = step // steps_per_epoch
      if resumed_from:
        logging.info("Resumed from %s at global step %d (epoch %d).", resumed_from, step, first_epoch)
      bar = _common.Progress(max(epochs - first_epoch, 0), progress, unit_name="epoch")
      last_saved = None
      for epoch in range(first_epoch, epochs):
        # Seeded per epoch, so a resumed run shuffles as the uninterrupted one would have.
        rng = np.random.default_rng([seed, epoch])
        for x_batch, y_batch in _data.batches(data.x_train, data.y_train, batch_size, rng):
          sess.run(net.training_op, feed_dict={net.X: x_batch, net.y: y_batch})
          step += 1  # training_op increments global_step by one.
          if step % save_every == 0:
            last_saved = net.saver.save(sess, prefix, global_step=step)
        loss, accuracy, summary = evaluate(sess, net, data.x_test, data.y_test, summary_op)
        history.append((step, loss, accuracy))
        if writer:
          writer.add_summary(summary, step)
        bar.update(epoch - first_epoch + 1, [("test_loss", loss), ("test_accuracy", accuracy)])
        if not progress:
          logging.info("epoch %d step %d: test loss %.4f, test accuracy %.4f", epoch + 1, step, loss, accuracy)
      if last_saved is None or not last_saved.endswith(f"-{step}"):
        last_saved = net.saver.save(sess, prefix, global_step=step)
      if not history:
        loss, accuracy, _ = evaluate(sess, net, data.x_test, data.y_test)
      else:
        _, loss, accuracy = history[-1]
  finally:
    if writer:
      writer.close()
  return TrainResult(checkpoint=last_saved, global_step=step, test_loss=loss, test_accuracy=accuracy,
                     resumed_from=resumed_from, epochs_run=len(history), history=history, logdir=logdir)


def parse_sizes(values: Sequence[str], flag: str) -> Tuple[List[int], List[str]]:
  """Parses a list flag of positive integers; returns `(sizes, problems)`."""
  sizes, problems = [], []
  for value in values:
    try:
      size = int(value)
    except ValueError:
      size = 0
    if size < 1:
      problems.append(f"--{flag}: {value!r} is not a positive integer. Received: --{flag}={','.join(values)}")
    sizes.append(size)
  if not values:
    problems.append(f"--{flag} needs at least one size, e.g. --{flag}=300,50.")
  return sizes, problems


def main(argv):
  _common.no_positional_args(argv)
  hidden_sizes, problems = parse_sizes(_common.HIDDEN_SIZES.value, "hidden_sizes")
  if _common.LEARNING_RATE.value <= 0:
    problems.append(f"--learning_rate must be positive. Received: --learning_rate={_common.LEARNING_RATE.value}")
  _common.require(problems)
  data = _data.load_dataset(_common.DATASET.value, _common.DATA_DIR.value)
  result = train(data, _common.CHECKPOINT_DIR.value or DEFAULT_CHECKPOINT_DIR,
                 epochs=_common.EPOCHS.value, batch_size=_common.BATCH_SIZE.value,
                 learning_rate=_common.LEARNING_RATE.value, save_every=_SAVE_EVERY.value,
                 seed=_common.SEED.value, hidden_sizes=hidden_sizes,
                 logdir=_common.run_logdir(_common.LOGDIR.value, "tf1"),
                 progress=_common.show_progress(_common.PROGRESS.value))
  print(_common.format_table(
      [("dataset", f"{data.name} ({data.n_inputs} inputs, {data.n_classes} classes)"),
       ("resumed from", result.resumed_from or "-"),
       ("epochs run", result.epochs_run),
       ("global step", result.global_step),
       ("test loss", f"{result.test_loss:.4f}"),
       ("test accuracy", f"{result.test_accuracy:.4f}"),
       ("checkpoint", result.checkpoint),
       ("TensorBoard run", result.logdir or "-")]))
  return 0


def run():
  _common.run(main)


if __name__ == "__main__":
  run()
