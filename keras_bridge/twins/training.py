"""The TF1 runs of the reference models: the 002 DNN, its transfer learning, and the 003 GAN.

Each run builds a `tf1_reference` graph, trains it in a `tf.compat.v1.Session`, writes name-based checkpoints
and, given a `logdir`, TensorBoard summaries under the tags every run shares (`LOSS_TAG`, `ACCURACY_TAG`,
`WEIGHTS_TAG_PREFIX`), so the TF1 and Keras curves overlay on one step axis.

- `train_dnn`: 002_9773991e7c1a2830.txt's DNN, with 003_edbfd8374a89a122.txt's periodic checkpoints and
  resume (`model-<global_step>` every `save_every` steps; a directory that holds one is resumed).
- `train_transfer`: 002's transfer listing: hidden1-3 restored from a `train_dnn` checkpoint, new hidden4 and
  outputs trained; steps continue the source's global_step.
- `train_gan`: 003's GAN: two scopes, two optimizers, two `var_list`s, on the reference's toy distribution.
"""

import contextlib
import dataclasses
import glob
import itertools
import json
import os
import re
from typing import List, Optional, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from keras_bridge import _bundle
from keras_bridge import _durable
from keras_bridge import _errors
from keras_bridge import _tables
from keras_bridge import _tf1_checkpoint
from keras_bridge.twins import checkpoints
from keras_bridge.twins import datasets
from keras_bridge.twins.progress import Progress
from tf1_reference import dnn as _dnn
from tf1_reference import gan as _gan

v1 = tf.compat.v1

#: The TensorBoard tags every run writes (TF1 and Keras alike), so their curves overlay.
LOSS_TAG = "test/loss"
ACCURACY_TAG = "test/accuracy"
WEIGHTS_TAG_PREFIX = "weights/"


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

  def table(self, data: datasets.Dataset) -> str:
    """The run as a two-column table, `data` being the dataset it trained on."""
    return _tables.format_table(
        [("dataset", f"{data.name} ({data.n_inputs} inputs, {data.n_classes} classes)"),
         ("resumed from", self.resumed_from or "-"),
         ("epochs run", self.epochs_run),
         ("global step", self.global_step),
         ("test loss", f"{self.test_loss:.4f}"),
         ("test accuracy", f"{self.test_accuracy:.4f}")] + _outputs(self.checkpoint, self.logdir))


def _outputs(checkpoint: str, logdir: Optional[str]) -> List[Tuple[str, str]]:
  """The last rows of every run's table: what it wrote."""
  return [("checkpoint", checkpoint), ("TensorBoard run", logdir or "-")]


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
  # The Saver forgets its earlier checkpoints when the process ends; without them max_to_keep stops working.
  saver.recover_last_checkpoints([os.path.join(checkpoint_dir, os.path.basename(p))
                                  for p in state.all_model_checkpoint_paths])
  return path


@contextlib.contextmanager
def run_directory(checkpoint_dir: str, prefix: str):
  """Holds `prefix`'s writer lock and cleans what a killed run left in `checkpoint_dir`; OS errors as one line.

  A killed `Saver` leaves `<prefix>-N_temp/` directories, `*.tempstate*` files and data files whose index was
  never written; none is named by the state file, so none is a checkpoint.
  """
  with _durable.storage_errors(checkpoint_dir, "write the checkpoints in"):
    os.makedirs(checkpoint_dir, exist_ok=True)
    with _durable.writer_lock(prefix):
      _bundle.recover(checkpoint_dir)
      for data in glob.glob(glob.escape(prefix) + "-*.data-?????-of-?????"):
        if not os.path.exists(data[:data.rindex(".data-")] + ".index"):
          os.remove(data)
      yield


def evaluate(sess, net: _dnn.DNNGraph, x: np.ndarray, y: np.ndarray, summary_op=None):
  """Returns `(loss, accuracy, serialized_summary_or_None)` of `net` on `(x, y)`."""
  fetches = [net.loss, net.accuracy] + ([summary_op] if summary_op is not None else [])
  out = sess.run(fetches, feed_dict={net.X: x, net.y: y})
  return float(out[0]), float(out[1]), (out[2] if summary_op is not None else None)


def train_dnn(data: datasets.Dataset,
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
  prefix = os.path.join(checkpoint_dir, "model")
  steps_per_epoch = -(-len(data.x_train) // batch_size)
  history, writer = [], None
  with run_directory(checkpoint_dir, prefix), v1.Session(graph=net.graph) as sess:
    try:
      with net.graph.as_default():  # FileWriter refuses eager mode, TF2's default.
        writer = v1.summary.FileWriter(logdir, graph=net.graph) if logdir else None
      sess.run(net.init)
      resumed_from = load_latest(sess, net.saver, checkpoint_dir)
      step = int(sess.run(net.global_step))
      first_epoch = step // steps_per_epoch
      if resumed_from:
        logging.info("Resumed from %s at global step %d (epoch %d).", resumed_from, step, first_epoch)
      bar = Progress(max(epochs - first_epoch, 0), progress, unit_name="epoch")
      last_saved = None
      for epoch in range(first_epoch, epochs):
        # Seeded per epoch, so a resumed run shuffles as the uninterrupted one would have, and skips the batches
        # of a partly done epoch that the checkpoint already holds: the resumed run is bit-equal to it.
        rng = np.random.default_rng([seed, epoch])
        done = step - epoch * steps_per_epoch if epoch == first_epoch else 0
        for x_batch, y_batch in itertools.islice(datasets.batches(data.x_train, data.y_train, batch_size, rng),
                                                 done, None):
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


REUSED_LAYERS = ("hidden1", "hidden2", "hidden3")


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

  def table(self) -> str:
    """The run as a two-column table."""
    return _tables.format_table(
        [("source", self.source),
         ("restored", ", ".join(self.restored)),
         ("hidden sizes", ", ".join(map(str, self.hidden_sizes))),
         ("steps", f"{self.first_step} -> {self.global_step}"),
         ("test accuracy", f"{self.history[0][2]:.4f} (restored, new layers untrained) -> "
                           f"{self.test_accuracy:.4f}")] + _outputs(self.checkpoint, self.logdir))


def _reused_sizes(prefix: str, n_inputs: int) -> Tuple[List[int], int]:
  """Sizes of hidden1-3 and the source's global_step; checks the source against the data."""
  variables = _tf1_checkpoint.read_variables(prefix)
  source_inputs, hidden, _ = checkpoints.dnn_sizes(variables, repr(prefix))
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


#: Written beside a resumable run's checkpoints: what the run was started with.
RUN_FILE = "run.json"


def _describe_held(held: List[str]) -> str:
  return ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")


def resumable(checkpoint_dir: str, params: dict, overwrite: bool, flag: str = "--checkpoint_dir") -> bool:
  """Whether `checkpoint_dir` holds a run started with `params` (so it is resumed), else checks it may be used.

  A killed run is resumed by running it again with the same arguments: `RUN_FILE` records them, so a
  directory of another run (or foreign files) is refused instead of silently mixed into.

  Raises:
    keras_bridge.OutputExistsError: the directory holds something else and `overwrite` is False.
  """
  held = sorted(os.listdir(checkpoint_dir)) if os.path.isdir(checkpoint_dir) else []
  if not held or overwrite:
    return False
  try:
    with open(os.path.join(checkpoint_dir, RUN_FILE), encoding="utf-8") as f:
      recorded = json.load(f)
  except (OSError, ValueError):
    recorded = None
  if recorded == params:
    return True
  if isinstance(recorded, dict):
    differ = sorted(k for k in set(params) | set(recorded) if recorded.get(k) != params.get(k))
    what = (f"it holds a run with {', '.join(f'{k}={recorded.get(k)!r}' for k in differ)}, this one has "
            f"{', '.join(f'{k}={params.get(k)!r}' for k in differ)}")
  else:
    what = f"it holds {_describe_held(held)}"
  raise _errors.OutputExistsError(
      f"Output directory {checkpoint_dir!r} is not empty ({what}). Pass --overwrite to write the new model there "
      f"anyway, the arguments of that run to resume it, or choose another {flag}.")


def record_run(checkpoint_dir: str, params: dict) -> None:
  """Writes `RUN_FILE` (temporary file, then rename)."""
  os.makedirs(checkpoint_dir, exist_ok=True)
  _durable.replace_text(os.path.join(checkpoint_dir, RUN_FILE), json.dumps(params, sort_keys=True))


def train_transfer(data: datasets.Dataset,
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
             overwrite: bool = False,
             save_every: int = 0) -> TransferResult:
  """Runs the transfer listing of 002_9773991e7c1a2830.txt on `data`.

  Args:
    data: the new task's dataset; its feature count must match the source's input layer.
    source: a name-based checkpoint of the 002 DNN (directory, prefix or step prefix), e.g. `train_dnn`'s.
    checkpoint_dir: where the new model is saved.
    n_hidden4: units of the new hidden4 layer.
    epochs: training epochs.
    batch_size: minibatch size.
    learning_rate: of the `GradientDescentOptimizer` (`minimize`, no clipping, as in the listing).
    seed: graph seed (initial weights of the new layers) and shuffling seed.
    logdir: TensorBoard run directory (e.g. `<logdir>/tf1_transfer`); None writes no logs.
    progress: show a progress bar over the epochs.
    overwrite: allow a non-empty `checkpoint_dir` (its checkpoints are removed; nothing is resumed).
    save_every: also save `model-<step>` every this many global steps (0: at the end only). A `checkpoint_dir`
      holding a run started with the same arguments (`RUN_FILE`) is resumed from its latest checkpoint, bit-equal
      to the run that was never interrupted.

  Returns:
    A `TransferResult`.

  Raises:
    keras_bridge.CheckpointNotFoundError, CheckpointFormatError: `source` is missing or unreadable.
    keras_bridge.MappingError: `source` is not a DNN with hidden1-3 over the dataset's features.
    keras_bridge.OutputExistsError: `checkpoint_dir` is not empty and `overwrite` is False.
  """
  prefix = _tf1_checkpoint.resolve_checkpoint(source)
  reused, first_step = _reused_sizes(prefix, data.n_inputs)
  hidden_sizes = tuple(reused) + (n_hidden4,)
  # The source relative to the output: a moved or copied work directory still resumes.
  params = dict(source=os.path.relpath(prefix, checkpoint_dir), hidden_sizes=list(hidden_sizes),
                examples=len(data.x_train), batch_size=int(batch_size), learning_rate=float(learning_rate),
                seed=int(seed))
  resume = resumable(checkpoint_dir, params, overwrite)
  if overwrite and not resume and os.path.isdir(checkpoint_dir):
    for name in os.listdir(checkpoint_dir):  # The old run's checkpoints would be resumed or mixed in.
      if name in (_bundle.STATE_FILE, RUN_FILE) or re.match(r"model-\d+\.(index|data-)", name):
        os.remove(os.path.join(checkpoint_dir, name))
  net = _dnn.build_transfer_dnn(data.n_inputs, data.n_classes, hidden_sizes, reused_layers=REUSED_LAYERS,
                                learning_rate=learning_rate, seed=seed)
  summary_op = add_summaries(net)
  out_prefix = os.path.join(checkpoint_dir, "model")
  steps_per_epoch = -(-len(data.x_train) // batch_size)
  last_step = first_step + epochs * steps_per_epoch
  step = first_step
  history = []
  writer = None
  with run_directory(checkpoint_dir, out_prefix), v1.Session(graph=net.graph) as sess:
    try:
      record_run(checkpoint_dir, params)
      with net.graph.as_default():  # FileWriter refuses eager mode, TF2's default.
        writer = v1.summary.FileWriter(logdir, graph=net.graph) if logdir else None
      # The listing's order: initialize everything, then restore hidden1-3 over the fresh values.
      sess.run(net.init)
      net.restore_saver.restore(sess, prefix)
      resumed_from = load_latest(sess, net.saver, checkpoint_dir) if resume else None
      if resumed_from:
        step = int(re.search(r"-(\d+)$", resumed_from).group(1))
        logging.info("Resumed from %s at global step %d.", resumed_from, step)

      def record():
        loss, accuracy, summary = evaluate(sess, net, data.x_test, data.y_test, summary_op)
        history.append((step, loss, accuracy))
        if writer:
          writer.add_summary(summary, step)
        return loss, accuracy

      if not resumed_from:
        record()
      first_epoch = (step - first_step) // steps_per_epoch
      bar = Progress(max(epochs - first_epoch, 0), progress, unit_name="epoch")
      saved = None
      for epoch in range(first_epoch, epochs):
        # Seeded per epoch and skipping the batches a resumed checkpoint holds, as in `train_dnn`.
        rng = np.random.default_rng([seed, epoch])
        done = step - first_step - epoch * steps_per_epoch
        for x_batch, y_batch in itertools.islice(datasets.batches(data.x_train, data.y_train, batch_size, rng),
                                                 done, None):
          sess.run(net.training_op, feed_dict={net.X: x_batch, net.y: y_batch})
          step += 1
          if save_every and step % save_every == 0 and step != last_step:
            saved = net.saver.save(sess, out_prefix, global_step=step)
        loss, accuracy = record()
        bar.update(epoch - first_epoch + 1, [("test_loss", loss), ("test_accuracy", accuracy)])
        if not progress:
          logging.info("epoch %d step %d: test loss %.4f, test accuracy %.4f", epoch + 1, step, loss, accuracy)
      if not (saved or resumed_from or "").endswith(f"-{step}"):
        saved = net.saver.save(sess, out_prefix, global_step=step)
      saved = saved or resumed_from
      if not history:
        record()
    finally:
      if writer:
        writer.close()
  _, loss, accuracy = history[-1]
  return TransferResult(checkpoint=saved, source=prefix, restored=sorted(v.op.name for v in net.reuse_vars),
                        hidden_sizes=hidden_sizes, first_step=first_step, global_step=step, test_loss=loss,
                        test_accuracy=accuracy, history=history, logdir=logdir)


#: The reference's toy distribution (`tf1_reference.gan.sample_batch`): N(REAL_MEAN, REAL_STD).
REAL_MEAN, REAL_STD = 3.0, 0.5
_EVAL_SAMPLES = 1000


@dataclasses.dataclass
class GanResult:
  """What a GAN run produced.

  Attributes:
    checkpoint: the saved model's prefix.
    steps: training steps.
    d_loss: discriminator loss at the last step.
    g_loss: generator loss at the last step.
    sample_mean: mean of generated samples (over every dimension), before and after training.
    sample_std: their standard deviation, before and after training.
    discriminator_variables: the discriminator optimizer's var_list.
    generator_variables: the generator optimizer's var_list.
    logdir: the TensorBoard run directory, or None.
  """

  checkpoint: str
  steps: int
  d_loss: float
  g_loss: float
  sample_mean: tuple
  sample_std: tuple
  discriminator_variables: List[str]
  generator_variables: List[str]
  logdir: Optional[str] = None

  def table(self) -> str:
    """The run as a two-column table: both var_lists, the losses, the generated samples against the real ones."""
    return _tables.format_table(
        [("discriminator var_list", ", ".join(self.discriminator_variables)),
         ("generator var_list", ", ".join(self.generator_variables)),
         ("steps", self.steps),
         ("d_loss / g_loss", f"{self.d_loss:.4f} / {self.g_loss:.4f}"),
         ("generated mean", f"{self.sample_mean[0]:.3f} -> {self.sample_mean[1]:.3f} (real {REAL_MEAN})"),
         ("generated std", f"{self.sample_std[0]:.3f} -> {self.sample_std[1]:.3f} (real {REAL_STD})")]
        + _outputs(self.checkpoint, self.logdir))


def train_gan(checkpoint_dir: str,
              *,
              steps: int = 2000,
              batch_size: int = 20,
              data_dim: int = 2,
              noise_dim: int = 2,
              hidden_units: int = 16,
              d_learning_rate: float = 0.05,
              g_learning_rate: float = 0.05,
              seed: int = 42,
              logdir: Optional[str] = None,
              progress: bool = False,
              overwrite: bool = False,
              save_every: int = 0) -> GanResult:
  """Builds `tf1_reference.gan.build_gan`, trains it on the toy distribution, and saves it.

  Args:
    checkpoint_dir: where `model-<steps>` is saved.
    steps: alternating discriminator/generator steps.
    batch_size: real samples and noise vectors per step.
    data_dim: toy data dimensions.
    noise_dim: noise dimensions.
    hidden_units: hidden units of each network.
    d_learning_rate: discriminator's gradient-descent learning rate.
    g_learning_rate: generator's gradient-descent learning rate.
    seed: graph seed and sampling seed.
    logdir: TensorBoard run directory; None writes no logs.
    progress: show a progress bar over the steps.
    overwrite: allow a non-empty `checkpoint_dir`.
    save_every: also save `model-<step>` every this many steps (0: only at the end). A directory whose
      state file names a `model-<step>` checkpoint is resumed from it (unless `overwrite`), bit-equal to an
      uninterrupted run.

  Returns:
    A `GanResult`.

  Raises:
    keras_bridge.OutputExistsError: `checkpoint_dir` is not empty and `overwrite` is False.
  """
  prefix = os.path.join(checkpoint_dir, "model")
  state = v1.train.get_checkpoint_state(checkpoint_dir) if os.path.isdir(checkpoint_dir) else None
  resume = re.fullmatch(r"model-(\d+)", os.path.basename(state.model_checkpoint_path)) if state else None
  if os.path.isdir(checkpoint_dir) and os.listdir(checkpoint_dir) and not (overwrite or resume):
    raise _errors.OutputExistsError(f"Output directory {checkpoint_dir!r} is not empty. Pass --overwrite to save "
                                    "the GAN there anyway, or choose another --checkpoint_dir.")
  net = _gan.build_gan(data_dim=data_dim, noise_dim=noise_dim, hidden_units=hidden_units,
                       d_learning_rate=d_learning_rate, g_learning_rate=g_learning_rate, seed=seed)
  with net.graph.as_default():
    summary_op = v1.summary.merge([v1.summary.scalar("gan/d_loss", net.d_loss),
                                   v1.summary.scalar("gan/g_loss", net.g_loss),
                                   v1.summary.histogram("gan/generated", net.g_sample)])
  # Every draw is a function of (seed, step), so a run resumed from `model-N` draws what the uninterrupted
  # run drew at step N + 1 and after: its weights end bit-equal.
  eval_z = np.random.default_rng([seed, 0]).uniform(-1.0, 1.0, size=(_EVAL_SAMPLES, noise_dim)).astype(np.float32)
  log_every = max(steps // 50, 1)
  saved, writer = None, None
  with run_directory(checkpoint_dir, prefix), v1.Session(graph=net.graph) as sess:
    try:
      with net.graph.as_default():
        writer = v1.summary.FileWriter(logdir, graph=net.graph) if logdir else None
      sess.run(net.init)
      before = sess.run(net.g_sample, {net.z: eval_z})
      first = 0
      if resume and not overwrite and int(resume.group(1)) <= steps:
        saved = load_latest(sess, net.saver, checkpoint_dir)
        first = int(resume.group(1))
        logging.info("Resumed from %s at step %d.", saved, first)
      bar = Progress(steps, progress)
      feed = {net.x_real: _gan.sample_batch(np.random.default_rng([seed, 1]), batch_size, data_dim, noise_dim)[0],
              net.z: eval_z[:batch_size]}
      d_loss, g_loss = sess.run([net.d_loss, net.g_loss], feed)
      for step in range(first + 1, steps + 1):
        x, z = _gan.sample_batch(np.random.default_rng([seed, step]), batch_size, data_dim, noise_dim)
        feed = {net.x_real: x, net.z: z}
        _, d_loss = sess.run([net.train_discriminator, net.d_loss], feed)
        _, g_loss = sess.run([net.train_generator, net.g_loss], feed)
        if save_every and step % save_every == 0 and step != steps:
          saved = net.saver.save(sess, prefix, global_step=step)
        if step % log_every == 0 or step == steps:
          if writer:
            writer.add_summary(sess.run(summary_op, feed), step)
          bar.update(step, [("d_loss", d_loss), ("g_loss", g_loss)])
      after = sess.run(net.g_sample, {net.z: eval_z})
      if saved is None or not saved.endswith(f"-{steps}"):
        saved = net.saver.save(sess, prefix, global_step=steps)
    finally:
      if writer:
        writer.close()
  return GanResult(checkpoint=saved, steps=steps, d_loss=float(d_loss), g_loss=float(g_loss),
                   sample_mean=(float(before.mean()), float(after.mean())),
                   sample_std=(float(before.std()), float(after.std())),
                   discriminator_variables=[v.op.name for v in net.discriminator_variables],
                   generator_variables=[v.op.name for v in net.generator_variables], logdir=logdir)
