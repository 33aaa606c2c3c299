"""The main job: train in TF1, checkpoint, transfer-learn, migrate to Keras 3, verify, continue training.

1. Prints the seed-example table (every reproduced example of the seed documents, with its erratum).
2. Trains the 002_9773991e7c1a2830.txt DNN in TF1 graph mode with periodic checkpoints (as train_tf1 does).
3. Transfer-learns it: hidden1-3 restored, new hidden4/outputs trained and saved (as transfer_tf1 does).
4. Migrates the transfer checkpoint to Keras 3 with `keras_bridge.load_tf1_checkpoint`.
5. Proves it is the same model: per-layer outputs and test accuracy of TF1 vs Keras (as verify_equivalence).
   Then imports the same TF1 graph with no hand-written twin (`keras_bridge.import_tf1_graph`, from the
   `.meta` and the checkpoint) and verifies that model against the TF1 session too.
6. Continues training in Keras, then writes the weights as `.weights.h5` and back as a TF1 checkpoint.

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

for _name in ("dataset", "data_dir", "epochs", "batch_size", "learning_rate", "seed", "logdir", "progress",
              "overwrite"):
  flags.declare_key_flag(_name)

DEFAULT_WORKDIR = os.path.join("runs", "migrate")


def main(argv):
  _cli.no_positional_args(argv)
  _cli.require([f"--learning_rate must be positive. Received: --learning_rate={_cli.LEARNING_RATE.value}"
                if _cli.LEARNING_RATE.value <= 0 else ""])
  with _cli.tensorflow_quietly():
    from keras_bridge.twins import migration  # pylint: disable=g-import-not-at-top

  summary = migration.migrate(_WORKDIR.value or DEFAULT_WORKDIR, dataset=_cli.DATASET.value,
                              data_dir=_cli.DATA_DIR.value,
                              epochs=_cli.EPOCHS.value, transfer_epochs=_TRANSFER_EPOCHS.value,
                              keras_epochs=_KERAS_EPOCHS.value, batch_size=_cli.BATCH_SIZE.value,
                              learning_rate=_cli.LEARNING_RATE.value, seed=_cli.SEED.value,
                              logdir=_cli.LOGDIR.value, progress=_cli.show_progress(_cli.PROGRESS.value),
                              overwrite=_cli.OVERWRITE.value, seed_examples=_SEED_EXAMPLES.value)
  return 0 if summary.verified else 1


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
