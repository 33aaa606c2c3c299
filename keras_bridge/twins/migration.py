"""The main job as a library function: train in TF1, checkpoint, transfer-learn, migrate to Keras 3, verify,
continue training.

1. Prints the seed-example table (every reproduced example of the seed documents, with its erratum).
2. Trains the 002_9773991e7c1a2830.txt DNN in TF1 graph mode with periodic checkpoints (`training.train_dnn`).
3. Transfer-learns it: hidden1-3 restored, new hidden4/outputs trained and saved (`training.train_transfer`).
4. Migrates the transfer checkpoint to Keras 3 with `keras_bridge.load_tf1_checkpoint`.
5. Proves it is the same model: per-layer outputs and test accuracy of TF1 vs Keras
   (`verification.verify_dnn`).
6. Continues training in Keras, then writes the weights as `.weights.h5` and back as a TF1 checkpoint.

TensorBoard: <logdir>/tf1, <logdir>/tf1_transfer and <logdir>/keras hold the same tags on one step axis;
the Keras run's first point is the migrated model, at the step where the TF1 run ended.
"""

import dataclasses
import os
import shutil
import sys
import time
from typing import List, Optional, Tuple

import keras
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _distributed
from keras_bridge import _durable
from keras_bridge import _tables
from keras_bridge import _tf1_checkpoint
from keras_bridge import _tolerances
from keras_bridge import importer
from keras_bridge.twins import continuation
from keras_bridge.twins import datasets
from keras_bridge.twins import models
from keras_bridge.twins import plots
from keras_bridge.twins import seed_examples
from keras_bridge.twins import training
from keras_bridge.twins import verification

#: What the workdir holds; --overwrite removes exactly these. SUMMARY_FILE, written last, marks a finished run.
ARTEFACTS = ("tf1_dnn", "tf1_transfer", "keras", "logs", "plots")
SUMMARY_FILE = "summary.txt"
#: The largest output difference accepted as "the same model" (CPU float32).
TOLERANCE = _tolerances.CPU_CHECKPOINT_TOL


@dataclasses.dataclass
class Summary:
  """Everything the main job measured and wrote.

  Attributes:
    dataset: dataset name.
    tf1_accuracy: test accuracy of the TF1 transfer model at migration time.
    keras_accuracy: test accuracy of the migrated Keras model before any Keras training.
    max_output_diff: max absolute difference over every layer's output, TF1 vs Keras.
    layer_diffs: that difference per layer.
    final_accuracy: test accuracy after the continued Keras training.
    tf1_steps: SGD steps of the TF1 phases (train + transfer).
    keras_steps: SGD steps continued in Keras.
    matched: tensors the bridge loaded.
    artefacts: `(what, path)` for every artefact written.
    seconds: wall time of each phase.
  """

  dataset: str
  tf1_accuracy: float
  keras_accuracy: float
  max_output_diff: float
  layer_diffs: dict
  final_accuracy: float
  tf1_steps: int
  keras_steps: int
  matched: int
  artefacts: List[Tuple[str, str]]
  seconds: dict
  import_max_diff: float = 0.0
  import_layers: int = 0
  import_ok: bool = True

  @property
  def verified(self) -> bool:
    return self.tf1_accuracy == self.keras_accuracy and self.max_output_diff <= TOLERANCE and self.import_ok

  def table(self) -> str:
    rows = [
        ("dataset", self.dataset),
        ("TF1 test accuracy at migration", f"{self.tf1_accuracy:.4f}"),
        ("Keras test accuracy after migration", f"{self.keras_accuracy:.4f}"),
        ("max output difference (all layers)", f"{self.max_output_diff:.3g} (tolerance {TOLERANCE:g})"),
        ("tensors migrated", self.matched),
        ("imported graph, no twin: max difference", f"{self.import_max_diff:.3g} over "
                                                    f"{self.import_layers} layers"),
        ("TF1 steps (train + transfer)", self.tf1_steps),
        ("steps continued in Keras", self.keras_steps),
        ("Keras test accuracy after continuing", f"{self.final_accuracy:.4f}"),
        ("verdict", "same model" if self.verified else "DIFFERENT MODELS"),
    ]
    rows += [(what, path) for what, path in self.artefacts]
    rows.append(("seconds", ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items())))
    return _tables.format_table(rows, ("what", "value"), max_width=_tables.WIDTH)


def print_seed_examples(out):
  """Prints the seed-example table (`seed_examples.reproduce`)."""
  print("== Seed examples, reproduced in TF1 graph mode (in full: python -m scripts.reproduce_seeds) ==", file=out)
  seed_examples.reproduce(out=out, wrap=False)


def _run_logdir(logdir: str, run_name: str) -> str:
  """The subdirectory of `logdir` for one run (`tf1`, `tf1_transfer`, `keras`)."""
  return os.path.join(logdir, run_name)


def _prepare_workdir(workdir: str, overwrite: bool) -> bool:
  """Makes `workdir` ready; True when it holds an unfinished run of this job, which is then resumed."""
  held = sorted(os.listdir(workdir)) if os.path.isdir(workdir) else []
  if held and overwrite:
    for name in ARTEFACTS:
      shutil.rmtree(os.path.join(workdir, name), ignore_errors=True)
    if os.path.exists(os.path.join(workdir, SUMMARY_FILE)):
      os.remove(os.path.join(workdir, SUMMARY_FILE))
    held = []
  if held and (SUMMARY_FILE in held or not set(held) <= set(ARTEFACTS)):
    what = "a finished run" if SUMMARY_FILE in held else ", ".join(held[:6])
    raise _errors.OutputExistsError(
        f"Work directory {workdir!r} is not empty (it holds {what}). Pass --overwrite to replace the artefacts "
        "of a previous run, or choose another --workdir.")
  os.makedirs(workdir, exist_ok=True)
  return bool(held)


def migrate(workdir: str,
            *,
            dataset: str = "digits",
            data_dir: Optional[str] = None,
            epochs: int = 10,
            transfer_epochs: int = 5,
            keras_epochs: int = 3,
            batch_size: int = 20,
            learning_rate: float = 0.02,
            seed: int = 42,
            logdir: Optional[str] = None,
            progress: bool = False,
            overwrite: bool = False,
            seed_examples: bool = True,
            save_every: int = 100,
            strategy: Optional[tf.distribute.Strategy] = None,
            jit_compile: bool = False,
            out=None) -> Summary:
  """Runs the whole story and returns its `Summary` (printed to `out` along the way).

  Args:
    workdir: artefact directory; created; must be empty unless `overwrite`.
    dataset: "digits" (offline) or "mnist".
    data_dir: tfds data directory for mnist.
    epochs: TF1 training epochs of the original DNN.
    transfer_epochs: TF1 transfer-learning epochs.
    keras_epochs: epochs continued in Keras.
    batch_size: minibatch size of every phase.
    learning_rate: SGD learning rate of every phase.
    seed: weights and shuffling seed.
    logdir: TensorBoard logdir; default `<workdir>/logs`.
    progress: progress bars.
    overwrite: replace the artefacts of a previous run in `workdir`.
    seed_examples: print the seed-example table first.
    save_every: checkpoint period (global steps) of every training phase; the Keras phase's checkpoints
      (`<workdir>/keras/ckpt`) make it resumable: run again without --overwrite to continue a killed run.
    strategy: the `tf.distribute` strategy of the Keras phase (`_distributed.strategy_from_flags`); the model is
      built and loaded in its scope, and only the chief writes the Keras outputs. Default: one device.
    jit_compile: XLA-compile the Keras step (`continuation.continue_training`; off by default, see there).
    out: where the tables go; default `sys.stdout`.

  Returns:
    The `Summary`.

  Raises:
    keras_bridge.OutputExistsError: `workdir` is not empty and `overwrite` is False.
    keras_bridge.MappingError: the migration mapping is incomplete (it never is for these models).
  """
  out = out or sys.stdout
  seconds = {}
  resuming = _prepare_workdir(workdir, overwrite)
  strategy = strategy or tf.distribute.get_strategy()
  chief = _distributed.is_chief(strategy)
  logdir = logdir or os.path.join(workdir, "logs")
  if resuming:
    print(f"Resuming the unfinished run in {workdir} (each phase continues from its latest checkpoint).",
          file=out)
  if seed_examples:
    start = time.perf_counter()
    print_seed_examples(out)
    seconds["seed examples"] = time.perf_counter() - start

  start = time.perf_counter()
  data = datasets.load_dataset(dataset, data_dir)
  print(f"\n== 1. Train the 002 DNN in TF1 on {data.name}: {len(data.x_train)} train / {len(data.x_test)} test "
        f"examples, {data.n_inputs} features ==", file=out)
  trained = training.train_dnn(data, os.path.join(workdir, "tf1_dnn"), epochs=epochs, batch_size=batch_size,
                            learning_rate=learning_rate, save_every=save_every, seed=seed,
                            logdir=_run_logdir(logdir, "tf1"), progress=progress)
  print(f"checkpoint {trained.checkpoint}: step {trained.global_step}, test accuracy "
        f"{trained.test_accuracy:.4f}", file=out)

  print("\n== 2. Transfer-learn: restore hidden1-3, train new hidden4/outputs ==", file=out)
  transferred = training.train_transfer(data, trained.checkpoint, os.path.join(workdir, "tf1_transfer"),
                                      epochs=transfer_epochs, batch_size=batch_size, learning_rate=learning_rate,
                                      seed=seed, logdir=_run_logdir(logdir, "tf1_transfer"),
                                      progress=progress, save_every=save_every)
  print(f"checkpoint {transferred.checkpoint}: step {transferred.global_step}, test accuracy "
        f"{transferred.test_accuracy:.4f}", file=out)
  seconds["TF1"] = time.perf_counter() - start

  start = time.perf_counter()
  print("\n== 3. Migrate the transfer checkpoint to Keras 3 (keras_bridge.load_tf1_checkpoint) ==", file=out)
  with strategy.scope():  # Mirrored variables for a distributed Keras phase; loading fills every replica.
    model = models.transfer_dnn(data.n_inputs, data.n_classes, transferred.hidden_sizes)
    checked = verification.verify_dnn(transferred.checkpoint, data.x_test, data.y_test, kind="transfer_dnn",
                                      keras_model=model)
  print(checked.report, file=out)

  print("\n== 4. Verify: the same checkpoint in the TF1 graph and in Keras, layer by layer ==", file=out)
  print(checked.table(), file=out)
  seconds["migrate + verify"] = time.perf_counter() - start

  start = time.perf_counter()
  print("\n== 4b. Import the same TF1 graph with no twin (keras_bridge.import_tf1_graph: .meta + "
        "checkpoint) ==", file=out)
  imported = importer.import_tf1_graph(transferred.checkpoint)
  (input_name,) = imported.inputs
  imported_check = imported.verify({input_name: data.x_test.astype("float32")})
  print(_tables.format_table([(layer.name, type(layer).__name__, layer.count_params())
                              for layer in imported.model.layers[1:]], ("layer", "class", "parameters")),
        file=out)
  print(imported_check, file=out)
  print(f"max difference: imported {imported_check.max_diff:.3g}, hand-written twin "
        f"{checked.max_abs_diff:.3g}", file=out)
  seconds["import graph"] = time.perf_counter() - start

  start = time.perf_counter()
  print(f"\n== 5. Continue training in Keras 3 for {keras_epochs} epoch(s) ==", file=out)
  keras_dir = os.path.join(workdir, "keras")
  continued = continuation.continue_training(
      model, data, first_step=transferred.global_step, epochs=keras_epochs, batch_size=batch_size,
      learning_rate=learning_rate, seed=seed, checkpoint_dir=os.path.join(keras_dir, "ckpt"),
      save_every=save_every, strategy=strategy, jit_compile=jit_compile, logdir=_run_logdir(logdir, "keras"),
      progress=progress)
  history = continued.history
  print(f"step {continued.global_step}"
        + (f" (resumed from {continued.resumed_from})" if continued.resumed_from else "")
        + f", test accuracy {history[-1][2]:.4f}", file=out)
  print(f"checkpoints: {os.path.join(keras_dir, 'ckpt')}; XLA {'on' if continued.jit_compile else 'off'}, "
        f"{continued.steps_per_call} steps per call, {strategy.num_replicas_in_sync} replica(s)", file=out)
  weights_h5 = os.path.join(keras_dir, "transfer_dnn.weights.h5")
  with _distributed.write_location(weights_h5, strategy) as where:
    tmp = os.path.join(os.path.dirname(where), f".{os.path.basename(where)}.tmp-{os.getpid()}.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, where)
  back_to_tf1 = _tf1_checkpoint.save_tf1_checkpoint(model, os.path.join(keras_dir, "tf1", "model"),
                                                    global_step=continued.global_step, overwrite=resuming)
  histogram = at_a_glance = "(written by the chief)"
  if chief:
    histogram = plots.save_weight_histogram(
        keras.ops.convert_to_numpy(model.get_layer("hidden1").kernel),
        os.path.join(workdir, "plots", "hidden1_kernel_hist.png"),
        "hidden1/kernel after migration and Keras training\n(004: plt.hist, bins=50)")
    at_a_glance = plots.save_migration_plot(
        [("TF1 training", [(step, loss) for step, loss, _ in trained.history]),
         ("TF1 transfer", [(step, loss) for step, loss, _ in transferred.history]),
         ("Keras (migrated)", [(step, loss) for step, loss, _ in history])],
        dict(checked.outputs.diffs), os.path.join(workdir, "plots", "migration.png"), TOLERANCE)
  seconds["Keras"] = time.perf_counter() - start

  summary = Summary(
      # Both accuracies from argmax over the two sides' logits, so only the models can make them differ.
      dataset=data.name, tf1_accuracy=checked.tf1_accuracy, keras_accuracy=checked.keras_accuracy,
      max_output_diff=checked.max_abs_diff, layer_diffs=dict(checked.outputs.diffs),
      final_accuracy=history[-1][2], tf1_steps=transferred.global_step,
      keras_steps=continued.global_step - transferred.global_step,
      matched=len(checked.report.matched),
      artefacts=[("TF1 checkpoints (train_tf1)", os.path.dirname(trained.checkpoint)),
                 ("TF1 transfer checkpoint", transferred.checkpoint),
                 ("Keras weights (.weights.h5)", weights_h5),
                 ("Keras weights as TF1 checkpoint", back_to_tf1),
                 ("weight histogram (004)", histogram),
                 ("migration at a glance (loss, layer diffs)", at_a_glance),
                 ("TensorBoard logdir (tf1, tf1_transfer, keras)", logdir)],
      seconds=seconds, import_max_diff=imported_check.max_diff, import_layers=len(imported.model.layers) - 1,
      import_ok=imported_check.ok)
  print("\n== Summary ==", file=out)
  print(summary.table(), file=out)
  if chief:  # Last: marks the run finished (a rerun without --overwrite is refused, not resumed).
    _durable.replace_text(os.path.join(workdir, SUMMARY_FILE), summary.table() + "\n")
  print(f"\nView the curves: tensorboard --logdir={logdir}", file=out)
  return summary
