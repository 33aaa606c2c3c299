"""Loads one name-based checkpoint into the TF1 graph and into its Keras 3 twin, and compares every layer.

The TF1 side is the tf1_reference graph restored with `tf.compat.v1.train.Saver`; the Keras side is the
keras_bridge twin filled by `load_tf1_checkpoint`. Both run on the same inputs (the --dataset test set), and
the table gives the max absolute difference of each layer's output plus both accuracies. Layer sizes are read
from the checkpoint. Exit status 1 when a difference exceeds --tolerance.
The work is `keras_bridge.twins.verification` (`verify_dnn`, `verify_gan`).

Examples:
  python -m scripts.verify_equivalence --checkpoint=runs/transfer_tf1 --model=transfer_dnn
  python -m scripts.verify_equivalence --checkpoint=runs/gan_tf1 --model=gan   # generated samples and logits
"""

from absl import flags

import keras_bridge

from . import _cli

_TOLERANCE = flags.DEFINE_float("tolerance", keras_bridge.CPU_CHECKPOINT_TOL,
                                "Largest max-abs output difference that counts as equal.")

for _name in ("checkpoint", "model", "meta", "dataset", "data_dir"):
  flags.declare_key_flag(_name)


def main(argv):
  _cli.no_positional_args(argv)
  _cli.require([
      "--checkpoint is required: a train_tf1, transfer_tf1 or gan_tf1 checkpoint."
      if not _cli.CHECKPOINT.value else "",
      f"--tolerance must be non-negative. Received: --tolerance={_TOLERANCE.value}"
      if _TOLERANCE.value < 0 else ""])
  if _cli.user_model_requested():
    with _cli.tensorflow_quietly():
      from keras_bridge import importer  # pylint: disable=g-import-not-at-top
    user = importer.user_model(_cli.CHECKPOINT.value, model=_cli.MODEL.value, meta=_cli.META.value)
    check = importer.verify_user_model(_cli.CHECKPOINT.value, user, meta=_cli.META.value)
    print(f"model: {user.origin}")
    print(check)
    print(f"{'EQUIVALENT' if check.ok else 'DIFFERENT'}: max output difference {check.max_diff:.3g} "
          f"({'within' if check.ok else 'beyond'} {keras_bridge.CPU_IMPORT_RTOL:g} * max(1, max|y|))")
    return 0 if check.ok else 1
  with _cli.tensorflow_quietly():
    from keras_bridge.twins import datasets  # pylint: disable=g-import-not-at-top
    from keras_bridge.twins import verification  # pylint: disable=g-import-not-at-top

  if _cli.MODEL.value == "gan":
    result = verification.verify_gan(_cli.CHECKPOINT.value)
  else:
    data = datasets.load_dataset(_cli.DATASET.value, _cli.DATA_DIR.value)
    result = verification.verify_dnn(_cli.CHECKPOINT.value, data.x_test, data.y_test, kind=_cli.MODEL.value)
  print(f"checkpoint: {result.checkpoint} ({len(result.report.matched)} tensors loaded into Keras)")
  print(result.table())
  ok = result.max_abs_diff <= _TOLERANCE.value
  print(f"{'EQUIVALENT' if ok else 'DIFFERENT'}: max output difference {result.max_abs_diff:.3g} "
        f"{'<=' if ok else '>'} tolerance {_TOLERANCE.value:g}")
  return 0 if ok else 1


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
