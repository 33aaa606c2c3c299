"""Lists a checkpoint's tensors (key, shape, dtype, bytes) and its format; optionally diffs it with another.

Reads name-based (TF1) and object-based (TF2) checkpoints and Keras `.weights.h5` files, without loading
the values. --diff compares two of them tensor by tensor; across formats, pass --model so both sides are
named by the Keras weight they fill (the sizes are read from --checkpoint).

Examples:
  python -m scripts.inspect_checkpoint --checkpoint=runs/train_tf1
  python -m scripts.inspect_checkpoint --checkpoint=a.weights.h5 --diff=runs/train_tf1 --model=dnn --json=-
"""

import json

from absl import flags

from keras_bridge import _inspect
from scripts import _common

_DIFF = flags.DEFINE_string("diff", None, "A second checkpoint or .weights.h5 file to compare with --checkpoint.")
_JSON = flags.DEFINE_string("json", None, "Write the result as JSON to this path ('-': to stdout, instead of the "
                            "table).")

for _name in ("checkpoint", "model", "json"):
  flags.declare_key_flag(_name)


def inspect(path: str, *, diff: str = None, model: str = None) -> dict:
  """Inspects `path` (and diffs it with `diff`); returns `{"info": CheckpointInfo, "diff": CheckpointDiff}`.

  Args:
    path: a checkpoint (prefix, step prefix, directory with a state file, one of its files) or a
      `.weights.h5` file.
    diff: optional second checkpoint or weights file.
    model: "dnn", "transfer_dnn" or "gan": compare by Keras weight (needed across formats); its sizes are
      read from `path`. None compares raw keys.

  Raises:
    keras_bridge.Error: a path is missing or not a checkpoint.
  """
  result = {"info": _inspect.inspect_checkpoint(path), "diff": None}
  if diff:
    keras_model = _common.model_for_checkpoint(model, path)[0] if model else None
    result["diff"] = _inspect.diff_checkpoints(path, diff, model=keras_model)
  return result


def main(argv):
  _common.no_positional_args(argv)
  _common.require(["--checkpoint is required: the checkpoint or .weights.h5 file to inspect."
                   if not _common.CHECKPOINT.value else ""])
  model = _common.MODEL.value if flags.FLAGS["model"].present else None
  result = inspect(_common.CHECKPOINT.value, diff=_DIFF.value, model=model)
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
  _common.run(main)


if __name__ == "__main__":
  run()
