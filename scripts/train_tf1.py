"""Trains the 002_9773991e7c1a2830.txt DNN in TF1 graph mode, with periodic checkpoints and resume.

Checkpoints are `<checkpoint_dir>/model-<global_step>`, written every --save_every steps and at the end, as
003_edbfd8374a89a122.txt's `save()` does. A run whose --checkpoint_dir already holds one resumes from the latest
(003's `loadmodel`: initialize everything, then restore) and trains up to --epochs in total.
The work is `keras_bridge.twins.training.train_dnn`.

Example: python -m scripts.train_tf1 --epochs=10 --checkpoint_dir=runs/train_tf1 --logdir=runs/logs
"""

from absl import flags

from . import _cli

_SAVE_EVERY = flags.DEFINE_integer("save_every", 100, "Write a checkpoint every this many global steps.",
                                   lower_bound=1)

for _name in ("hidden_sizes", "dataset", "data_dir", "epochs", "batch_size", "learning_rate", "seed", "checkpoint_dir",
              "logdir", "progress"):
  flags.declare_key_flag(_name)

DEFAULT_CHECKPOINT_DIR = _cli.TRAIN_TF1_DIR


def main(argv):
  _cli.no_positional_args(argv)
  hidden_sizes, problems = _cli.parse_sizes(_cli.HIDDEN_SIZES.value, "hidden_sizes")
  if _cli.LEARNING_RATE.value <= 0:
    problems.append(f"--learning_rate must be positive. Received: --learning_rate={_cli.LEARNING_RATE.value}")
  _cli.require(problems)
  with _cli.tensorflow_quietly():
    from keras_bridge.twins import datasets  # pylint: disable=g-import-not-at-top
    from keras_bridge.twins import training  # pylint: disable=g-import-not-at-top

  data = datasets.load_dataset(_cli.DATASET.value, _cli.DATA_DIR.value)
  result = training.train_dnn(data, _cli.CHECKPOINT_DIR.value or DEFAULT_CHECKPOINT_DIR,
                              epochs=_cli.EPOCHS.value, batch_size=_cli.BATCH_SIZE.value,
                              learning_rate=_cli.LEARNING_RATE.value, save_every=_SAVE_EVERY.value,
                              seed=_cli.SEED.value, hidden_sizes=hidden_sizes,
                              logdir=_cli.run_logdir(_cli.LOGDIR.value, "tf1"),
                              progress=_cli.show_progress(_cli.PROGRESS.value))
  print(result.table(data))
  return 0


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
