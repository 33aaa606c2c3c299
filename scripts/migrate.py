"""The main job: train in TF1, checkpoint, transfer-learn, migrate to Keras 3, verify, continue training.

1. Prints the seed-example table (every reproduced example of the seed documents, with its erratum).
2. Trains the 002_9773991e7c1a2830.txt DNN in TF1 graph mode with periodic checkpoints (as train_tf1 does).
3. Transfer-learns it: hidden1-3 restored, new hidden4/outputs trained and saved (as transfer_tf1 does).
4. Migrates the transfer checkpoint to Keras 3 with `keras_bridge.load_tf1_checkpoint`.
5. Proves it is the same model: per-layer outputs and test accuracy of TF1 vs Keras (as verify_equivalence).
   Then imports the same TF1 graph with no hand-written twin (`keras_bridge.import_tf1_graph`, from the
   `.meta` and the checkpoint) and verifies that model against the TF1 session too.
6. Continues training in Keras with a custom step (several steps per call on one device; any
   `tf.distribute` strategy with --strategy), then writes the weights as `.weights.h5` and back as a TF1
   checkpoint.

Every phase checkpoints every --save_every steps. A killed run is resumed by running the same command again:
each phase continues from its latest checkpoint, skipping the batches it holds, and ends bit-equal to a run
that was never interrupted. A finished workdir is refused unless --overwrite.

Several devices or machines (the Keras phase; the TF1 phases run on each worker as they would alone):
  --strategy=mirrored      every local GPU (else the CPU), one process.
  --strategy=multi_worker --workers=host1:2222,host2:2222 --task_index=K   one process per machine, the same
                           --workers everywhere; task 0 is the chief and writes the outputs, each worker needs
                           its own --workdir (default runs/migrate_worker<K> for K > 0).

TensorBoard: <logdir>/tf1, <logdir>/tf1_transfer and <logdir>/keras hold the same tags on one step axis;
the Keras run's first point is the migrated model, at the step where the TF1 run ended.
Runs offline on scikit-learn's digits by default, in well under a minute of compute.
The work is `keras_bridge.twins.migration.migrate`.

Example: python -m scripts.migrate --workdir=runs/migrate
"""

import os

from absl import flags

from . import _cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Where every artefact is written (default: runs/migrate); must "
                               "be empty or missing unless --overwrite.")
_TRANSFER_EPOCHS = flags.DEFINE_integer("transfer_epochs", 5, "Epochs of the TF1 transfer-learning phase.",
                                        lower_bound=0)
_KERAS_EPOCHS = flags.DEFINE_integer("keras_epochs", 3, "Epochs of training continued in Keras 3.",
                                     lower_bound=0)
_SEED_EXAMPLES = flags.DEFINE_bool("seed_examples", True, "Print the seed-example table first.")
_SAVE_EVERY = flags.DEFINE_integer("save_every", 100, "Checkpoint every this many global steps, in every phase "
                                   "(a killed run resumes from the latest).", lower_bound=1)
_STRATEGY = flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker"],
                              "tf.distribute strategy of the Keras phase.")
_WORKERS = flags.DEFINE_list("workers", [], "--strategy=multi_worker: host:port of every worker, the same list "
                             "on each.")
_TASK_INDEX = flags.DEFINE_integer("task_index", 0, "--strategy=multi_worker: this worker's index in --workers "
                                   "(0 is the chief).", lower_bound=0)
_JIT = flags.DEFINE_bool("jit_compile", False, "XLA-compile each Keras step (no faster in this loop on CPU, "
                         "and 2-3 s of compile; try it on GPU).")

for _name in ("dataset", "data_dir", "epochs", "batch_size", "learning_rate", "seed", "logdir", "progress",
              "overwrite"):
  flags.declare_key_flag(_name)

DEFAULT_WORKDIR = os.path.join("runs", "migrate")


def main(argv):
  _cli.no_positional_args(argv)
  multi = _STRATEGY.value == "multi_worker"
  _cli.require([
      f"--learning_rate must be positive. Received: --learning_rate={_cli.LEARNING_RATE.value}"
      if _cli.LEARNING_RATE.value <= 0 else "",
      "--strategy=multi_worker needs --workers=host1:port,host2:port (every worker, the same list on each)."
      if multi and not _WORKERS.value else "",
      f"--workers and --task_index are for --strategy=multi_worker. Received: --strategy={_STRATEGY.value}"
      if not multi and (_WORKERS.value or _TASK_INDEX.value) else "",
      f"--task_index must index --workers. Received: --task_index={_TASK_INDEX.value} with "
      f"{len(_WORKERS.value)} worker(s)" if multi and _WORKERS.value and _TASK_INDEX.value >= len(_WORKERS.value)
      else "",
  ] + [f"--workers entries must be host:port. Received: {w!r}" for w in _WORKERS.value
       if not w.rpartition(":")[2].isdigit()])
  with _cli.tensorflow_quietly():
    import keras_bridge  # pylint: disable=g-import-not-at-top
    from keras_bridge.twins import migration  # pylint: disable=g-import-not-at-top

    # First: MultiWorkerMirroredStrategy must exist before any other TensorFlow op runs.
    strategy = keras_bridge.strategy_from_flags(_STRATEGY.value, _WORKERS.value, _TASK_INDEX.value)
  workdir = _WORKDIR.value or (f"{DEFAULT_WORKDIR}_worker{_TASK_INDEX.value}" if _TASK_INDEX.value
                               else DEFAULT_WORKDIR)
  summary = migration.migrate(workdir, dataset=_cli.DATASET.value,
                              data_dir=_cli.DATA_DIR.value,
                              epochs=_cli.EPOCHS.value, transfer_epochs=_TRANSFER_EPOCHS.value,
                              keras_epochs=_KERAS_EPOCHS.value, batch_size=_cli.BATCH_SIZE.value,
                              learning_rate=_cli.LEARNING_RATE.value, seed=_cli.SEED.value,
                              logdir=_cli.LOGDIR.value, progress=_cli.show_progress(_cli.PROGRESS.value),
                              overwrite=_cli.OVERWRITE.value, seed_examples=_SEED_EXAMPLES.value,
                              save_every=_SAVE_EVERY.value, strategy=strategy,
                              jit_compile=_JIT.value)
  return 0 if summary.verified else 1


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
