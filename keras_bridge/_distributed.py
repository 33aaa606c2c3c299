"""Training and checkpointing a Keras 3 model under `tf.distribute`, on several devices or machines.

The one idea: every replica holds the same values, and only one process writes. Models and optimizers are
created under `strategy.scope()`; `load_tf1_checkpoint` / `load_tf1_training_state` assign the same values on
every replica (each worker reads the checkpoint itself), and `save_tf1_checkpoint` / `save_tf1_training_state`
write the real files on the chief only: the other workers write the same checkpoint under a temporary
directory and remove it, as TensorFlow's own multi-worker checkpointing expects (`write_location`).

* `strategy_from_flags(kind, workers, task_index)`: `"default"`, `"mirrored"` or `"multi_worker"`, with
  `TF_CONFIG` built from the arguments. Call it first, before any other TensorFlow op.
* `DistributedTrainer`: a custom step (`strategy.run` + `optimizer.apply_gradients` over
  `strategy.experimental_distribute_dataset`), because Keras 3.15's `fit` fails under
  `MultiWorkerMirroredStrategy` (keras-team/keras#20585) and, under `MirroredStrategy`, with `jit_compile=True`
  or `steps_per_execution > 1`. With the same global batch it gives the weights of one device (each replica's
  loss is divided by the global batch size and the gradients are summed across replicas).

Example (two local devices):

  >>> strategy = strategy_from_flags("mirrored")
  >>> with strategy.scope():
  ...   model = keras_bridge.models.dnn(8, 3, (6, 5))
  ...   report = keras_bridge.load_tf1_training_state(model, None, "run/")
  >>> trainer = DistributedTrainer(model, report.optimizer, loss, strategy=strategy, global_batch_size=32)
  >>> losses = trainer.fit(examples, steps=100)   # unbatched (x, y) examples
  >>> keras_bridge.save_tf1_training_state(model, report.optimizer, "out/model.ckpt", names=report)
"""

import contextlib
import functools
import json
import os
import shutil
from typing import Callable, List, Optional, Sequence

import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _tf_private

KINDS = ("default", "mirrored", "multi_worker")


def strategy_from_flags(kind: str = "default", workers: Sequence[str] = (), task_index: int = 0,
                        devices: Optional[Sequence[str]] = None) -> tf.distribute.Strategy:
  """The `tf.distribute` strategy a script's `--strategy` flags ask for.

  For `"multi_worker"`, `TF_CONFIG` is set from `workers` and `task_index` (replacing any existing value) and a
  `MultiWorkerMirroredStrategy` is created; every worker runs the same program with its own `task_index`, and
  task 0 is the chief. The strategy must be created before any other TensorFlow op runs in the process
  (collective ops are configured at startup), so call this first.

  Args:
    kind: `"default"` (one device, `tf.distribute.get_strategy()`), `"mirrored"` (every local device) or
      `"multi_worker"`.
    workers: `host:port` of every worker, the same list on each, e.g. `["10.0.0.1:2222", "10.0.0.2:2222"]`.
    task_index: this worker's index in `workers`.
    devices: for `"mirrored"`, the devices to use (default: every GPU, else the CPU).

  Returns:
    The strategy.

  Raises:
    ArgumentError: an unknown `kind`, missing `workers`, a `task_index` outside them, or a multi-worker strategy
      requested after TensorFlow has already initialised its devices.
  """
  if kind not in KINDS:
    raise _errors.ArgumentError(f"Unknown strategy kind. Received: kind={kind!r}; expected one of {KINDS!r}.")
  if kind == "default":
    return tf.distribute.get_strategy()
  if kind == "mirrored":
    return tf.distribute.MirroredStrategy(list(devices) if devices else None)
  workers = list(workers)
  if not workers:
    raise _errors.ArgumentError(
        "kind='multi_worker' needs the address of every worker. Received: workers=[]; pass for example "
        "workers=['host1:2222', 'host2:2222'] (the same list on each worker) and this worker's task_index.")
  if not 0 <= task_index < len(workers):
    raise _errors.ArgumentError(
        f"task_index must index `workers`. Received: task_index={task_index}, workers={workers!r} "
        f"(valid: 0 to {len(workers) - 1}).")
  os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": workers},
                                        "task": {"type": "worker", "index": int(task_index)}})
  try:
    return tf.distribute.MultiWorkerMirroredStrategy()
  except RuntimeError as e:
    raise _errors.ArgumentError(
        f"Cannot create MultiWorkerMirroredStrategy ({e}). It must be created before any other TensorFlow op "
        f"runs in the process: call strategy_from_flags first, before building or loading anything.") from e


def model_strategy(model) -> Optional[tf.distribute.Strategy]:
  """The strategy the model's variables were created under, or None for ordinary (single-device) variables."""
  for variable in model.weights:
    return _tf_private.variable_strategy(variable)
  return None


def scope_of(model):
  """`strategy.scope()` of the model's strategy when not already in it (so optimizers and their slots are
  created under it), else a no-op context."""
  strategy = model_strategy(model)
  if strategy is None or (tf.distribute.has_strategy() and tf.distribute.get_strategy() is strategy):
    return contextlib.nullcontext()
  return strategy.scope()


def in_model_scope(fn):
  """Runs `fn(model, ...)` under `scope_of(model)`: the optimizers it creates or builds get mirrored slots."""

  @functools.wraps(fn)
  def wrapper(model, *args, **kwargs):
    with scope_of(model):
      return fn(model, *args, **kwargs)

  return wrapper


def check_same_strategy(model, optimizers, where: str) -> List[str]:
  """Problems (one line each) for Keras optimizers not created under the model's strategy."""
  owner = model_strategy(model)
  problems = []
  for opt in optimizers:
    if opt is not None and _tf_private.variable_strategy(opt.iterations) is not owner:
      problems.append(
          f"{where}: the {type(opt).__name__} optimizer {opt.name!r} was created "
          + (f"outside the scope of the {type(owner).__name__} the model's variables belong to; create it "
             f"inside `strategy.scope()`, or pass optimizer=None to have it created there." if owner is not None
             else "under a tf.distribute strategy but the model was not; create both in the same scope."))
  return problems


def is_chief(strategy: Optional[tf.distribute.Strategy]) -> bool:
  """Whether this process writes the real outputs: always without a strategy or on one machine."""
  return strategy is None or bool(strategy.extended.should_checkpoint)


def _task_id(strategy) -> int:
  resolver = getattr(strategy, "cluster_resolver", None)
  return int(resolver.task_id) if resolver is not None and resolver.task_id is not None else 0


@contextlib.contextmanager
def write_location(path: str, strategy: Optional[tf.distribute.Strategy]):
  """Yields where this process writes `path` (a file or checkpoint prefix), and cleans up after it.

  The chief (and a single process) writes `path` itself. Any other worker writes the same name under
  `<directory of path>/.workertemp_<task id>/`, which is removed when the block ends, error or not: every
  worker runs the same code (its reads may take part in collectives), but only the chief's files remain.
  """
  if is_chief(strategy):
    yield path
    return
  directory = os.path.join(os.path.dirname(os.path.abspath(path)), f".workertemp_{_task_id(strategy)}")
  os.makedirs(directory, exist_ok=True)
  try:
    yield os.path.join(directory, os.path.basename(path))
  finally:
    shutil.rmtree(directory, ignore_errors=True)


class DistributedTrainer:
  """Trains a Keras 3 model with a custom step under a `tf.distribute` strategy (or on one device).

  Each step takes one global batch, splits it across the replicas (`experimental_distribute_dataset`: the
  local devices, then the workers), and applies the summed gradients of the per-replica losses, each divided
  by the global batch size: the update one device makes on the whole batch. Create the model and the optimizer
  under `strategy.scope()`. Sparse gradients (an `Embedding`'s) are made dense, so the optimizer's update is
  the one TF1's optimizers make. The optimizer's `clipnorm` / `clipvalue` apply to each replica's gradients before
  they are summed, so with clipping active the result differs from one device.

  Args:
    model: a Keras 3 model created under `strategy.scope()`.
    optimizer: a Keras 3 optimizer created under `strategy.scope()` (e.g. `report.optimizer` of
      `load_tf1_training_state` called in the scope).
    loss: `loss(y_true, y_pred) -> per-example losses` (shape `[batch]`), e.g.
      `lambda y, p: keras.losses.sparse_categorical_crossentropy(y, p, from_logits=True)`.
    strategy: the strategy; default: the model's.
    global_batch_size: examples per step over all replicas; a multiple of `strategy.num_replicas_in_sync`.

  Raises:
    ArgumentError: a batch size that does not split evenly, or a model and an optimizer from different
      strategies.
  """

  def __init__(self, model, optimizer, loss: Callable, *, strategy: Optional[tf.distribute.Strategy] = None,
               global_batch_size: int):
    self.model, self.optimizer, self.loss = model, optimizer, loss
    self.strategy = strategy or model_strategy(model) or tf.distribute.get_strategy()
    self.global_batch_size = int(global_batch_size)
    replicas = self.strategy.num_replicas_in_sync
    if self.global_batch_size <= 0 or self.global_batch_size % replicas:
      raise _errors.ArgumentError(
          f"global_batch_size must be a positive multiple of the {replicas} replicas in sync. Received: "
          f"global_batch_size={global_batch_size}.")
    owner = model_strategy(model)
    if (owner is not None and owner is not self.strategy) or (owner is None and replicas > 1):
      raise _errors.ArgumentError(
          f"Model {model.name!r} was not created under the trainer's strategy "
          f"({type(self.strategy).__name__}); create the model and its optimizer inside `strategy.scope()`.")
    self._step = tf.function(self._distributed_step)

  def _replica_step(self, x, y):
    with tf.GradientTape() as tape:
      per_example = self.loss(y, self.model(x, training=True))
      loss = tf.nn.compute_average_loss(per_example, global_batch_size=self.global_batch_size)
      if self.model.losses:
        loss += tf.nn.scale_regularization_loss(tf.add_n(self.model.losses))
    variables = self.model.trainable_variables
    # Dense gradients: Keras 3's Adam (and RMSprop, Adagrad) given an embedding's IndexedSlices updates the
    # slots of the looked-up rows only, where TF1's optimizers decay every row (their sparse apply is
    # dense-equivalent); densified, the update is TF1's (0.0145 apart after one Adam step otherwise).
    grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
             for g in tape.gradient(loss, variables)]
    self.optimizer.apply_gradients(zip(grads, variables))
    return loss

  def _distributed_step(self, batch):
    per_replica = self.strategy.run(self._replica_step, args=batch)
    return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

  def distribute(self, dataset: tf.data.Dataset):
    """`dataset` of unbatched `(x, y)` examples, batched by the global batch size (the remainder dropped) and
    split across the replicas. Data sharding splits each global batch, so every worker reads the whole
    dataset and takes its part of every batch."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batched = dataset.batch(self.global_batch_size, drop_remainder=True).with_options(options)
    return self.strategy.experimental_distribute_dataset(batched)

  def fit(self, dataset: tf.data.Dataset, steps: int) -> List[float]:
    """Runs `steps` steps on `dataset` (unbatched `(x, y)` examples, repeated as needed); returns each step's
    global mean loss."""
    iterator = iter(self.distribute(dataset.repeat()))
    return [float(self._step(next(iterator))) for _ in range(int(steps))]
