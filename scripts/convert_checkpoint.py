"""Converts weights between name-based (TF1), object-based (TF2) checkpoints and Keras `.weights.h5` files.

The model the weights belong to is --model (dnn, transfer_dnn, gan); its sizes are read from --src, or
given with --n_inputs/--n_outputs/--hidden_sizes. --rules renames TF1 keys, from a file (one
"regex=replacement" per line, # comments) or inline (a comma-separated list). --dry_run prints the mapping
and what would be written, and writes nothing. An existing --dst is replaced only with --overwrite.

Examples:
  python -m scripts.convert_checkpoint --src=runs/train_tf1 --dst=runs/keras/dnn.weights.h5
  python -m scripts.convert_checkpoint --src=runs/keras/dnn.weights.h5 --dst=runs/tf1_again/model \
      --dst_format=name-based --rules='/kernel$=/weights,/bias$=/biases'
"""

import os
from typing import List, Optional, Sequence, Tuple

from absl import flags

from keras_bridge import _convert
from scripts import _common
from scripts import train_tf1

_SRC = flags.DEFINE_string("src", None, "Source: checkpoint prefix, step prefix, directory with a 'checkpoint' "
                           "state file, or a .weights.h5 file.")
_DST = flags.DEFINE_string("dst", None, "Output: a .weights.h5 path or a checkpoint prefix.")
_SRC_FORMAT = flags.DEFINE_enum("src_format", None, list(_convert.FORMATS), "Expected source format; default: "
                                "detected.")
_DST_FORMAT = flags.DEFINE_enum("dst_format", None, list(_convert.FORMATS), "Output format; default: keras-h5 "
                                "for a .weights.h5 --dst, object-based otherwise.")
_RULES = flags.DEFINE_string("rules", None, "Renaming rules for TF1 keys: a file with one 'regex=replacement' "
                             "per line, or an inline comma-separated list of them.")
_DRY_RUN = flags.DEFINE_bool("dry_run", False, "Print the mapping report and what would be written; write "
                             "nothing.")

for _name in ("model", "n_inputs", "n_outputs", "hidden_sizes", "overwrite", "progress"):
  flags.declare_key_flag(_name)


def parse_rules(spec: Optional[str]) -> Tuple[List[Tuple[str, str]], List[str]]:
  """Parses --rules (a file path or an inline list); returns `(rules, problems)`.

  Each rule is `regex=replacement`, split at the first "=" that is not preceded by a backslash (write
  `\\=` for a literal "=" in the regex).
  """
  if not spec:
    return [], []
  if os.path.isfile(spec):
    with open(spec, encoding="utf-8") as f:
      entries = [(f"{spec}:{i}", line.strip()) for i, line in enumerate(f, 1)]
    entries = [(where, line) for where, line in entries if line and not line.startswith("#")]
  else:
    entries = [(f"rule {i}", item.strip()) for i, item in enumerate(spec.split(","), 1) if item.strip()]
  rules, problems = [], []
  import re  # pylint: disable=g-import-not-at-top

  for where, entry in entries:
    parts = re.split(r"(?<!\\)=", entry, maxsplit=1)
    if len(parts) != 2 or not parts[0]:
      problems.append(f"--rules {where}: {entry!r} is not 'regex=replacement'.")
      continue
    pattern = parts[0].replace("\\=", "=")
    try:
      re.compile(pattern)
    except re.error as e:
      problems.append(f"--rules {where}: {pattern!r} is not a valid regex ({e}).")
      continue
    rules.append((pattern, parts[1]))
  return rules, problems


def convert(src: str, dst: str, *, model: str = "dnn", src_format: Optional[str] = None,
            dst_format: Optional[str] = None, rules: Sequence[Tuple[str, str]] = (), overwrite: bool = False,
            dry_run: bool = False, progress=False, n_inputs: Optional[int] = None,
            n_outputs: Optional[int] = None, hidden_sizes: Optional[List[int]] = None):
  """Builds the model `src` belongs to (sizes read from `src`) and converts; returns `(report, sizes)`.

  Raises:
    keras_bridge.Error: from `keras_bridge._convert.convert_checkpoint` (missing or unreadable source,
      same format on both sides, incomplete mapping, existing output).
  """
  keras_model, sizes = _common.model_for_checkpoint(model, src, n_inputs=n_inputs, n_outputs=n_outputs,
                                                    hidden_sizes=hidden_sizes)
  report = _convert.convert_checkpoint(src, dst, keras_model, src_format=src_format, dst_format=dst_format,
                                       rules=rules, overwrite=overwrite, dry_run=dry_run, progress=progress)
  return report, sizes


def progress_bar(enabled: bool):
  """A `convert_checkpoint(progress=...)` callback that drives one progress bar, or False when disabled."""
  if not enabled:
    return False
  bars = {}

  def update(done, total, key, nbytes):
    del key, nbytes
    bar = bars.setdefault(total, _common.Progress(total, True, unit_name="tensor"))
    bar.update(done)

  return update


def main(argv):
  _common.no_positional_args(argv)
  rules, problems = parse_rules(_RULES.value)
  hidden_sizes = None
  if flags.FLAGS["hidden_sizes"].present:
    hidden_sizes, size_problems = train_tf1.parse_sizes(_common.HIDDEN_SIZES.value, "hidden_sizes")
    problems += size_problems
  problems += ["--src is required." if not _SRC.value else "", "--dst is required." if not _DST.value else ""]
  _common.require(problems)
  report, sizes = convert(_SRC.value, _DST.value, model=_common.MODEL.value, src_format=_SRC_FORMAT.value,
                          dst_format=_DST_FORMAT.value, rules=rules, overwrite=_common.OVERWRITE.value,
                          dry_run=_DRY_RUN.value,
                          progress=progress_bar(_common.show_progress(_common.PROGRESS.value)),
                          n_inputs=_common.N_INPUTS.value, n_outputs=_common.N_OUTPUTS.value,
                          hidden_sizes=hidden_sizes)
  print(f"model: {_common.MODEL.value} ({sizes})")
  if report.mapping is not None:
    print(report.mapping)
  print(report)
  return 0


def run():
  _common.run(main)


if __name__ == "__main__":
  run()
