"""Transfer learning of 002_9773991e7c1a2830.txt in TF1: reuse hidden1-3, train a new hidden4 and outputs.

The sizes of hidden1-3 and the input come from --source_checkpoint (a train_tf1 checkpoint directory or
prefix); `restore_saver` restores only those layers after everything is initialized, the new layers train,
and the whole new model is saved to --checkpoint_dir as `model-<step>`. Steps continue the source's
global_step, so the TensorBoard curves of train_tf1 and this run join up.

Example: python -m scripts.transfer_tf1 --source_checkpoint=runs/train_tf1 --checkpoint_dir=runs/transfer_tf1
"""

import dataclasses
import os
from typing import List, Optional, Tuple

from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _tf1_checkpoint
from scripts import _common
from scripts import _data
from scripts import train_tf1
from tf1_reference import dnn as _dnn

v1 = tf.compat.v1

_SOURCE = flags.DEFINE_string("source_checkpoint", train_tf1.DEFAULT_CHECKPOINT_DIR,
                              "The original model: a train_tf1 checkpoint directory (its latest checkpoint) or "
                              "checkpoint prefix.")
_N_HIDDEN4 = flags.DEFINE_integer("n_hidden4", _dnn.TRANSFER_HIDDEN[3], "Units of the new hidden4 layer.",
                                  lower_bound=1)

for _name in ("dataset", "data_dir", "epochs", "batch_size", "learning_rate", "seed", "checkpoint_dir",
              "logdir", "progress", "overwrite"):
  flags.declare_key_flag(_name)

REUSED_LAYERS = ("hidden1", "hidden2", "hidden3")
DEFAULT_CHECKPOINT_DIR = os.path.join("runs", "transfer_tf1")


@dataclasses.dataclass
class TransferResult:
  """What a transfer run produced.

  Attributes:
    checkpoint: the prefix of the saved new model (`.../model-<step>`).
    source: the checkpoint hidden1-3 were restored from.
    restored: the variable names restored from `source`.
    hidden_sizes: the new model's hidden sizes (three reused, then hidden4).
    first_step: the source's global_step, where this run's step axis starts.
    global_step: `first_step` plus the steps trained here.
    test_loss: test loss after training.
    test_accuracy: test accuracy after training.
    history: `(step, test_loss, test_accuracy)`, first before training, then after each epoch.
    logdir: the TensorBoard run directory, or None.
  """

  checkpoint: str
  source: str
  restored: List[str]
  hidden_sizes: Tuple[int, ...]
  first_step: int
  global_step: int
  test_loss: float
  test_accuracy: float
  history: List[Tuple[int, float, float]]
  logdir: Optional[str] = None


def _reused_sizes(prefix: str, n_inputs: int) -> Tuple[List[int], int]:
  """Sizes of hidden1-3 and the source's global_step; checks the source against the data."""
  variables = _tf1_checkpoint.read_variables(prefix)
  source_inputs, hidden, _ = _common.dnn_sizes(variables, repr(prefix))
  problems = []
  if len(hidden) < len(REUSED_LAYERS):
    problems.append(f"it has {len(hidden)} hidden layer(s); transfer reuses {', '.join(REUSED_LAYERS)}")
  if source_inputs != n_inputs:
    problems.append(f"hidden1/kernel takes {source_inputs} inputs but the dataset has {n_inputs} features")
  if problems:
    raise _errors.MappingError(f"Cannot reuse {prefix!r}: {'; '.join(problems)}. Pass a train_tf1 checkpoint "
                               "trained on the same --dataset.")
  step = 0
  if "global_step" in variables:
    step = int(tf.train.load_checkpoint(prefix).get_tensor("global_step"))
  return hidden[:len(REUSED_LAYERS)], step


def _check_output_dir(checkpoint_dir: str, overwrite: bool):
  held = sorted(os.listdir(checkpoint_dir)) if os.path.isdir(checkpoint_dir) else []
  if held and not overwrite:
    raise _errors.OutputExistsError(
        f"Output directory {checkpoint_dir!r} is not empty (it holds {', '.join(held[:5])}"
        f"{', ...' if len(held) > 5 else ''}). Pass --overwrite to write the new model there anyway, or choose "
        "another --checkpoint_dir.")


def transfer(data: _data.Dataset,
             source: str,
             checkpoint_dir: str,
             *,
             n_hidden4: int = _dnn.TRANSFER_HIDDEN[3],
             epochs: int = 10,
             batch_size: int = 20,
             learning_rate: float = 0.02,
             seed: int = 42,
             logdir: Optional[str] = None,
             progress: bool = False,
             overwrite: bool = False) -> TransferResult:
  """Runs the transfer listing of 002_9773991e7c1a2830.txt on `data`.

  Args:
    data: the new task's dataset; its feature count must match the source's input layer.
    source: a name-based checkpoint of the 002 DNN (directory, prefix or step prefix).
    checkpoint_dir: where the new model is saved.
    n_hidden4: units of the new hidden4 layer.
    epochs: training epochs.
    batch_size: minibatch size.
    learning_rate: of the `GradientDescentOptimizer` (`minimize`, no clipping, as in the listing).
    seed: graph seed (initial weights of the new layers) and shuffling seed.
    logdir: TensorBoard run directory (e.g. `<logdir>/tf1_transfer`); None writes no logs.
    progress: show a progress bar over the epochs.
    overwrite: allow a non-empty `checkpoint_dir`.

  Returns:
    A `TransferResult`.

  Raises:
    keras_bridge.CheckpointNotFoundError, CheckpointFormatError: `source` is missing or unreadable.
    keras_bridge.MappingError: `source` is not a DNN with hidden1-3 over the dataset's features.
    keras_bridge.OutputExistsError: `checkpoint_dir` is not empty and `overwrite` is False.
  """
  prefix = _tf1_checkpoint.resolve_checkpoint(source)
  reused, first_step = _reused_sizes(prefix, data.n_inputs)
  _check_output_dir(checkpoint_dir, overwrite)
  hidden_sizes = tuple(reused) + (n_hidden4,)
  net = _dnn.build_transfer_dnn(data.n_inputs, data.n_classes, hidden_sizes, reused_layers=REUSED_LAYERS,
                                learning_rate=learning_rate, seed=seed)
  summary_op = train_tf1.add_summaries(net)
  os.makedirs(checkpoint_dir, exist_ok=True)
  with net.graph.as_default():  # FileWriter refuses eager mode, TF2's default.
    writer = v1.summary.FileWriter(logdir, graph=net.graph) if logdir else None
  step = first_step
  history = []
  try:
    with v1.Session(graph=net.graph) as sess:
      # The listing's order: initialize everything, then restore hidden1-3 over the fresh values.
      sess.run(net.init)
      net.restore_saver.restore(sess, prefix)

      def record():
        loss, accuracy, summary = train_tf1.evaluate(sess, net, data.x_test, data.y_test, summary_op)
        history.append((step, loss, accuracy))
        if writer:
          writer.add_summary(summary, step)
        return loss, accuracy

      record()
      bar = _common.Progress(epochs, progress, unit_name="epoch")
      for epoch in range(epochs):
        rng = np.random.default_rng([seed, epoch])
        for x_batch, y_batch in _data.batches(data.x_train, data.y_train, batch_size, rng):
          sess.run(net.training_op, feed_dict={net.X: x_batch, net.y: y_batch})
          step += 1
        loss, accuracy = record()
        bar.update(epoch + 1, [("test_loss", loss), ("test_accuracy", accuracy)])
        if not progress:
          logging.info("epoch %d step %d: test loss %.4f, test accuracy %.4f", epoch + 1, step, loss, accuracy)
      saved = net.saver.save(sess, os.path.join(checkpoint_dir, "model"), global_step=step)
  finally:
    if writer:
      writer.close()
  _, loss, accuracy = history[-1]
  return TransferResult(checkpoint=saved, source=prefix, restored=sorted(v.op.name for v in net.reuse_vars),
                        hidden_sizes=hidden_sizes, first_step=first_step, global_step=step, test_loss=loss,
                        test_accuracy=accuracy, history=history, logdir=logdir)


def main(argv):
  _common.no_positional_args(argv)
  _common.require([f"--learning_rate must be positive. Received: --learning_rate={_common.LEARNING_RATE.value}"
                   if _common.LEARNING_RATE.value <= 0 else "",
                   "--source_checkpoint is required." if not _SOURCE.value else ""])
  data = _data.load_dataset(_common.DATASET.value, _common.DATA_DIR.value)
  result = transfer(data, _SOURCE.value, _common.CHECKPOINT_DIR.value or DEFAULT_CHECKPOINT_DIR,
                    n_hidden4=_N_HIDDEN4.value, epochs=_common.EPOCHS.value, batch_size=_common.BATCH_SIZE.value,
                    learning_rate=_common.LEARNING_RATE.value, seed=_common.SEED.value,
                    logdir=_common.run_logdir(_common.LOGDIR.value, "tf1_transfer"),
                    progress=_common.show_progress(_common.PROGRESS.value), overwrite=_common.OVERWRITE.value)
  print(_common.format_table(
      [("source", result.source),
       ("restored", ", ".join(result.restored)),
       ("hidden sizes", ", ".join(map(str, result.hidden_sizes))),
       ("steps", f"{result.first_step} -> {result.global_step}"),
       ("test accuracy", f"{result.history[0][2]:.4f} (restored, new layers untrained) -> "
                         f"{result.test_accuracy:.4f}"),
       ("checkpoint", result.checkpoint),
       ("TensorBoard run", result.logdir or "-")]))
  return 0


def run():
  _common.run(main)


if __name__ == "__main__":
  run()
