"""Converts weights between name-based (TF1), object-based (TF2) checkpoints and Keras `.weights.h5` files.

The model the weights belong to is --model (dnn, transfer_dnn, gan); its sizes are read from --src, or
given with --n_inputs/--n_outputs/--hidden_sizes. --rules renames TF1 keys, from a file (one
"regex=replacement" per line, # comments) or inline (a comma-separated list). --dry_run prints the mapping
and what would be written, and writes nothing. An existing --dst is replaced only with --overwrite.
TF1 -> object-based carries the .data files over as they are: --data=auto reflinks them where the filesystem can
(XFS, btrfs) and copies otherwise; --data=hardlink links the source's files into the output instead (no bytes
move, but both are then the same files: writing to one changes the other). The CRC-32C of every copied byte is
checked before the output is committed; --verify also checks shared (reflinked, hard-linked) bytes, --noverify
none.
The work is `keras_bridge.twins.checkpoints.convert` (the twin, then `keras_bridge.convert_checkpoint`).

Examples:
  python -m scripts.convert_checkpoint --src=runs/train_tf1 --dst=runs/keras/dnn.weights.h5
  python -m scripts.convert_checkpoint --src=runs/keras/dnn.weights.h5 --dst=runs/tf1_again/model \
      --dst_format=name-based --rules='/kernel$=/weights,/bias$=/biases'
  python -m scripts.convert_checkpoint --src=runs/train_tf1 --dst=runs/tf2/ckpt --data=hardlink
"""

from absl import flags

import keras_bridge

from . import _cli

_SRC = flags.DEFINE_string("src", None, "Source: checkpoint prefix, step prefix, directory with a 'checkpoint' "
                           "state file, or a .weights.h5 file.")
_DST = flags.DEFINE_string("dst", None, "Output: a .weights.h5 path or a checkpoint prefix.")
_SRC_FORMAT = flags.DEFINE_enum("src_format", None, list(keras_bridge.FORMATS), "Expected source format; "
                                "default: detected.")
_DST_FORMAT = flags.DEFINE_enum("dst_format", None, list(keras_bridge.FORMATS), "Output format; default: "
                                "keras-h5 for a .weights.h5 --dst, object-based otherwise.")
_RULES = flags.DEFINE_string("rules", None, "Renaming rules for TF1 keys: a file with one 'regex=replacement' "
                             "per line, or an inline comma-separated list of them.")
_DRY_RUN = flags.DEFINE_bool("dry_run", False, "Print the mapping report and what would be written; write "
                             "nothing.")
# The choices are the converter's DATA_MODES (keras_bridge.convert_checkpoint), spelled out so that --help stays light.
_DATA = flags.DEFINE_enum("data", "auto", ["auto", "copy", "reflink", "hardlink"], "TF1 -> object-based: how the "
                          ".data files are carried over. auto: a reflink where the filesystem has them (XFS, "
                          "btrfs), else a copy; copy: always copy; reflink: a reflink or an error; hardlink: hard "
                          "links to the source's own files (they are then the same files: writing to one changes "
                          "the other).")
_VERIFY = flags.DEFINE_bool("verify", None, "Check the CRC-32C of tensors written as they are against the source's "
                            "index before the output is committed. Default: the copied ones (shared bytes, reflinked "
                            "or hard-linked, are the source's own); --verify: the shared ones too; --noverify: none.")

for _name in ("model", "meta", "n_inputs", "n_outputs", "hidden_sizes", "overwrite", "progress"):
  flags.declare_key_flag(_name)


def main(argv):
  _cli.no_positional_args(argv)
  rules, problems = _cli.parse_rules(_RULES.value)
  hidden_sizes = None
  if flags.FLAGS["hidden_sizes"].present:
    hidden_sizes, size_problems = _cli.parse_sizes(_cli.HIDDEN_SIZES.value, "hidden_sizes")
    problems += size_problems
  problems += ["--src is required." if not _SRC.value else "", "--dst is required." if not _DST.value else ""]
  _cli.require(problems)
  if _cli.user_model_requested():
    with _cli.tensorflow_quietly():
      from keras_bridge import importer  # pylint: disable=g-import-not-at-top
    user = importer.user_model(_SRC.value, model=_cli.MODEL.value, meta=_cli.META.value)
    report = importer.convert_user_model(
        _SRC.value, _DST.value, user, src_format=_SRC_FORMAT.value, dst_format=_DST_FORMAT.value,
        overwrite=_cli.OVERWRITE.value, dry_run=_DRY_RUN.value,
        progress=_cli.progress_bar(_cli.show_progress(_cli.PROGRESS.value)), data=_DATA.value,
        verify=_VERIFY.value)
    print(f"model: {user.origin}")
    if report.mapping is not None:
      print(report.mapping)
    print(report)
    return 0
  with _cli.tensorflow_quietly():
    from keras_bridge.twins import checkpoints  # pylint: disable=g-import-not-at-top

  report, sizes = checkpoints.convert(_SRC.value, _DST.value, kind=_cli.MODEL.value, src_format=_SRC_FORMAT.value,
                                      dst_format=_DST_FORMAT.value, rules=rules, overwrite=_cli.OVERWRITE.value,
                                      dry_run=_DRY_RUN.value,
                                      progress=_cli.progress_bar(_cli.show_progress(_cli.PROGRESS.value)),
                                      n_inputs=_cli.N_INPUTS.value, n_outputs=_cli.N_OUTPUTS.value,
                                      hidden_sizes=hidden_sizes, data=_DATA.value, verify=_VERIFY.value)
  print(f"model: {_cli.MODEL.value} ({sizes})")
  if report.mapping is not None:
    print(report.mapping)
  print(report)
  return 0


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
