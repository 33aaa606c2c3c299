"""Transfer learning of 002_9773991e7c1a2830.txt in TF1: reuse hidden1-3, train a new hidden4 and outputs.

The sizes of hidden1-3 and the input come from --source_checkpoint (a train_tf1 checkpoint directory or
prefix); `restore_saver` restores only those layers after everything is initialized, the new layers train,
and the whole new model is saved to --checkpoint_dir as `model-<step>`. Steps continue the source's
global_step, so the TensorBoard curves of train_tf1 and this run join up. With --save_every it also
checkpoints every that many steps; a killed run is resumed by the same command (the directory records the
run's arguments), bit-equal to a run that was never interrupted.
The work is `keras_bridge.twins.training.train_transfer`.

Example: python -m scripts.transfer_tf1 --source_checkpoint=runs/train_tf1 --checkpoint_dir=runs/transfer_tf1
"""

import os

from absl import flags

from . import _cli

_SOURCE = flags.DEFINE_string("source_checkpoint", _cli.TRAIN_TF1_DIR,
                              "The original model: a train_tf1 checkpoint directory (its latest checkpoint) or "
                              "checkpoint prefix.")
_N_HIDDEN4 = flags.DEFINE_integer("n_hidden4", None, "Units of the new hidden4 layer; default: the 002 "
                                  "document's transfer listing's.", lower_bound=1)

_SAVE_EVERY = flags.DEFINE_integer("save_every", 0, "Also write a checkpoint every this many global steps (0: "
                                   "only at the end).", lower_bound=0)

for _name in ("dataset", "data_dir", "epochs", "batch_size", "learning_rate", "seed", "checkpoint_dir",
              "logdir", "progress", "overwrite"):
  flags.declare_key_flag(_name)

DEFAULT_CHECKPOINT_DIR = os.path.join("runs", "transfer_tf1")


def main(argv):
  _cli.no_positional_args(argv)
  _cli.require([f"--learning_rate must be positive. Received: --learning_rate={_cli.LEARNING_RATE.value}"
                if _cli.LEARNING_RATE.value <= 0 else "",
                "--source_checkpoint is required." if not _SOURCE.value else ""])
  with _cli.tensorflow_quietly():
    from keras_bridge.twins import datasets  # pylint: disable=g-import-not-at-top
    from keras_bridge.twins import training  # pylint: disable=g-import-not-at-top

  data = datasets.load_dataset(_cli.DATASET.value, _cli.DATA_DIR.value)
  sizes = {} if _N_HIDDEN4.value is None else {"n_hidden4": _N_HIDDEN4.value}
  result = training.train_transfer(data, _SOURCE.value, _cli.CHECKPOINT_DIR.value or DEFAULT_CHECKPOINT_DIR,
                                   epochs=_cli.EPOCHS.value, batch_size=_cli.BATCH_SIZE.value,
                                   learning_rate=_cli.LEARNING_RATE.value, seed=_cli.SEED.value,
                                   logdir=_cli.run_logdir(_cli.LOGDIR.value, "tf1_transfer"),
                                   progress=_cli.show_progress(_cli.PROGRESS.value),
                                   overwrite=_cli.OVERWRITE.value, save_every=_SAVE_EVERY.value,
                                   **sizes)
  print(result.table())
  return 0


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
