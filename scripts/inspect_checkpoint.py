"""Lists a checkpoint's tensors (key, shape, dtype, bytes) and its format; optionally diffs it with another.

Reads name-based (TF1) and object-based (TF2) checkpoints and Keras `.weights.h5` files, without loading
the values. --diff compares two of them tensor by tensor; across formats, pass --model so both sides are
named by the Keras weight they fill (the sizes are read from --checkpoint).
The work is `keras_bridge.twins.checkpoints.inspect` (`keras_bridge.inspect_checkpoint`, `diff_checkpoints`).

Examples:
  python -m scripts.inspect_checkpoint --checkpoint=runs/train_tf1
  python -m scripts.inspect_checkpoint --checkpoint=a.weights.h5 --diff=runs/train_tf1 --model=dnn --json=-
"""

import json

from absl import flags

from . import _cli

_DIFF = flags.DEFINE_string("diff", None, "A second checkpoint or .weights.h5 file to compare with --checkpoint.")
_JSON = flags.DEFINE_string("json", None, "Write the result as JSON to this path ('-': to stdout, instead of the "
                            "table).")

for _name in ("checkpoint", "model", "meta", "json"):
  flags.declare_key_flag(_name)


def main(argv):
  _cli.no_positional_args(argv)
  _cli.require(["--checkpoint is required: the checkpoint or .weights.h5 file to inspect."
                if not _cli.CHECKPOINT.value else ""])
  with _cli.tensorflow_quietly():
    from keras_bridge.twins import checkpoints  # pylint: disable=g-import-not-at-top

  if _DIFF.value and _cli.user_model_requested():
    from keras_bridge import importer  # pylint: disable=g-import-not-at-top
    user = importer.user_model(_cli.CHECKPOINT.value, model=_cli.MODEL.value, meta=_cli.META.value)
    result = checkpoints.inspect(_cli.CHECKPOINT.value)
    result["diff"] = importer.diff_user_model(_cli.CHECKPOINT.value, _DIFF.value, user)
  else:
    kind = _cli.MODEL.value if flags.FLAGS["model"].present else None
    result = checkpoints.inspect(_cli.CHECKPOINT.value, diff=_DIFF.value, kind=kind)
  json_path = _JSON.value
  if json_path:
    payload = {"info": result["info"].to_dict(), "diff": result["diff"].to_dict() if result["diff"] else None}
    text = json.dumps(payload, indent=2)
    if json_path == "-":
      print(text)
      return 0
    with open(json_path, "w", encoding="utf-8") as f:
      f.write(text + "\n")
  print(result["info"])
  if result["diff"] is not None:
    print()
    print(result["diff"])
    return 0 if result["diff"].identical else 1
  return 0


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
