"""What the absl scripts share: common flags, exit status 2 on bad input, progress bars, TensorBoard, plots.

Flags used by several scripts are defined here once, because every script module is imported into the same
process by the tests (and `migrate` imports the others), and absl refuses a flag name defined by two modules.
Each script marks the ones it uses with `flags.declare_key_flag`, so `--helpshort` lists them.
"""

import functools
import os
import re
import sys
from typing import Callable, Iterable, List, Mapping, Optional, Tuple

from absl import app
from absl import flags
import numpy as np

from keras_bridge import _errors
from scripts import _data

DATASET = flags.DEFINE_enum("dataset", "digits", list(_data.DATASETS),
                            "digits: scikit-learn's bundled 8x8 digits, offline. mnist: through "
                            "tensorflow_datasets (needs --data_dir with a prepared copy, or network).")
DATA_DIR = flags.DEFINE_string("data_dir", None, "tensorflow_datasets data directory for --dataset=mnist.")
EPOCHS = flags.DEFINE_integer("epochs", 10, "Training epochs (total, counting epochs done before a resume).",
                              lower_bound=0)
BATCH_SIZE = flags.DEFINE_integer("batch_size", 20, "Minibatch size.", lower_bound=1)
LEARNING_RATE = flags.DEFINE_float("learning_rate", 0.02, "Learning rate of the gradient-descent optimizer.")
SEED = flags.DEFINE_integer("seed", 42, "Random seed for initial weights and shuffling.")
CHECKPOINT_DIR = flags.DEFINE_string("checkpoint_dir", None, "Directory of the checkpoints this script writes.")
LOGDIR = flags.DEFINE_string("logdir", None, "TensorBoard log directory; runs are written to subdirectories. "
                             "No logs when unset.")
PROGRESS = flags.DEFINE_bool("progress", True, "Show progress bars (always off when the CI environment "
                             "variable is true).")
OVERWRITE = flags.DEFINE_bool("overwrite", False, "Allow replacing existing outputs.")
MODEL = flags.DEFINE_enum("model", "dnn", ["dnn", "transfer_dnn", "gan"],
                          "Which reference model the checkpoint belongs to.")
CHECKPOINT = flags.DEFINE_string("checkpoint", None, "A checkpoint: prefix, step prefix, a directory with a "
                                 "'checkpoint' state file (its latest), or a .weights.h5 file where accepted.")
HIDDEN_SIZES = flags.DEFINE_list("hidden_sizes", ["300", "50", "50", "50", "50"],
                                 "Units of hidden1, hidden2, ...; the 002 document's are 300,50,50,50,50. Scripts "
                                 "that read a checkpoint take them from it unless this flag is given.")
N_INPUTS = flags.DEFINE_integer("n_inputs", None, "Input features of the model; default: read from the checkpoint.",
                                lower_bound=1)
N_OUTPUTS = flags.DEFINE_integer("n_outputs", None, "Outputs (classes) of the model; default: read from the "
                                 "checkpoint.", lower_bound=1)


def show_progress(flag_value: bool = True) -> bool:
  """Progress bars are shown when asked for and not running under CI (`CI=true`)."""
  return flag_value and os.environ.get("CI", "").strip().lower() not in ("true", "1", "yes")


class Progress:
  """A `keras.utils.Progbar` that does nothing when disabled, so callers need no branches."""

  def __init__(self, target: Optional[int], enabled: bool, unit_name: str = "step"):
    self._bar = None
    if enabled:
      import keras  # pylint: disable=g-import-not-at-top

      # Without a terminal, one line at the end instead of a stream of carriage-return updates.
      self._bar = keras.utils.Progbar(target, unit_name=unit_name, verbose=1 if sys.stdout.isatty() else 2)

  def update(self, current: int, values=None, finalize=None):
    if self._bar is not None:
      self._bar.update(current, values=values, finalize=finalize)


def require(problems: Iterable[str]):
  """Raises one `app.UsageError` (exit status 2) listing every problem, if there is any."""
  problems = [p for p in problems if p]
  if problems:
    raise app.UsageError("\n".join(problems), exitcode=2)


def no_positional_args(argv):
  """Raises `app.UsageError` when the command line holds anything besides flags."""
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}. This script takes only flags "
                         "(--name=value).", exitcode=2)


def _program(argv0: str) -> str:
  return os.path.basename(argv0) or "script"


def _parse_flags(argv):
  # absl's own parser exits with status 1 and no program name; bad flags exit 2 here, as UsageError does.
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    sys.stderr.write(f"{_program(argv[0])}: error: {e}\nPass --helpshort or --helpfull to see help on "
                     "flags.\n")
    sys.exit(2)


def _handle_errors(main: Callable):

  @functools.wraps(main)
  def wrapped(argv):
    try:
      return main(argv)
    except _errors.Error as e:
      # Bad input files are the user's to fix: the message says how; a traceback would only hide it.
      sys.stderr.write(f"{_program(argv[0])}: error: {e}\n")
      return 2

  return wrapped


def run(main: Callable):
  """`app.run(main)` with exit status 2 and a one-message error for bad flags and bad input files."""
  app.run(_handle_errors(main), flags_parser=_parse_flags)


def run_logdir(logdir: Optional[str], run_name: str) -> Optional[str]:
  """The subdirectory of `logdir` for one run (`tf1`, `tf1_transfer`, `keras`), or None without a logdir."""
  return None if logdir is None else os.path.join(logdir, run_name)


def save_weight_histogram(weights: np.ndarray, path: str, title: str, bins: int = 50) -> str:
  """Writes 004_6270d8d9c47d861f.txt's `plt.hist(weights.flatten(), bins=50)` plot as a PNG.

  Args:
    weights: any array; it is flattened.
    path: the PNG to write (its directory is created).
    title: the plot title.
    bins: histogram bins, 50 as in the document.

  Returns:
    `path`.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use("Agg")  # No display; the document's plt.show() becomes savefig.
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig, ax = plt.subplots(figsize=(6, 4))
  try:
    ax.hist(np.asarray(weights).ravel(), bins=bins)
    ax.set_title(title, fontsize="medium", wrap=True)
    ax.set_xlabel("weight value")
    ax.set_ylabel("count")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
  finally:
    plt.close(fig)
  return path


def format_table(rows, headers=None) -> str:
  """Formats rows (sequences of cells) as a plain-text table with aligned columns, under optional headers."""
  cells = ([[str(h) for h in headers]] if headers else []) + [[str(c) for c in row] for row in rows]
  widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
  lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
  if headers:
    lines.insert(1, "  ".join("-" * w for w in widths))
  return "\n".join(lines)


_HIDDEN_KERNEL_RE = re.compile(r"hidden(\d+)/kernel")


def dnn_sizes(variables: Mapping[str, tuple], source: str = "the checkpoint") -> Tuple[int, List[int], int]:
  """Reads the 002 DNN's sizes off name-based checkpoint keys: `hidden<i>/kernel` and `outputs/kernel`.

  Args:
    variables: `{key: (shape, dtype)}`, as `keras_bridge._tf1_checkpoint.read_variables` returns.
    source: how to name the checkpoint in error messages.

  Returns:
    `(n_inputs, hidden_sizes, n_outputs)`.

  Raises:
    keras_bridge.MappingError: the keys are not those of a DNN (no `outputs/kernel`, no `hidden1/kernel`,
      a gap in the hidden layers, or kernels whose shapes do not chain).
  """
  hidden = {int(m.group(1)): tuple(variables[k][0]) for k in variables
            if (m := _HIDDEN_KERNEL_RE.fullmatch(k))}
  problems = []
  if "outputs/kernel" not in variables:
    problems.append("no 'outputs/kernel'")
  expected = list(range(1, len(hidden) + 1))
  if sorted(hidden) != expected or not hidden:
    problems.append(f"hidden layer kernels {['hidden%d/kernel' % i for i in sorted(hidden)]} instead of "
                    "hidden1/kernel, hidden2/kernel, ... without gaps")
  if not problems:
    shapes = [hidden[i] for i in expected] + [tuple(variables["outputs/kernel"][0])]
    names = _layer_names(len(hidden))
    for i in range(len(shapes) - 1):
      if len(shapes[i]) != 2 or len(shapes[i + 1]) != 2 or shapes[i][1] != shapes[i + 1][0]:
        problems.append(f"{names[i]}/kernel {shapes[i]} does not feed {names[i + 1]}/kernel {shapes[i + 1]}")
  if problems:
    keys = ", ".join(sorted(variables)[:12]) + (", ..." if len(variables) > 12 else "")
    raise _errors.MappingError(
        f"Cannot read the 002 DNN's layer sizes from {source}: {'; '.join(problems)}. Its keys: {keys}. "
        "Pass a checkpoint written by train_tf1/transfer_tf1 (or give --n_inputs/--hidden_sizes/--n_outputs).")
  return shapes[0][0], [hidden[i][1] for i in expected], shapes[-1][1]


def _layer_names(n_hidden: int) -> List[str]:
  return [f"hidden{i}" for i in range(1, n_hidden + 1)] + ["outputs"]


_OBJECT_KERNEL_RE = re.compile(r"model/_operations/(\d+)/_kernel")


def _kernel_shapes(path: str) -> Tuple[str, dict]:
  """`(format, {"hidden1/kernel": (shape, dtype), ...})` for a DNN in any of the three formats."""
  from keras_bridge import _convert  # pylint: disable=g-import-not-at-top
  from keras_bridge import _inspect  # pylint: disable=g-import-not-at-top
  from keras_bridge import _tf1_checkpoint  # pylint: disable=g-import-not-at-top

  fmt, location = _convert.locate(path)
  if fmt == _convert.NAME_BASED:
    return fmt, _tf1_checkpoint.read_variables(location)
  info = _inspect.inspect_checkpoint(location)
  if fmt == _convert.KERAS_H5:
    # Keras stores each layer's own name next to its variables; a Dense layer's vars/0 is its kernel.
    return fmt, {f"{t.layer}/kernel": (t.shape, t.dtype) for t in info.tensors
                 if t.key.endswith("/vars/0") and len(t.shape) == 2 and t.layer}
  # Object-based keys hold no layer names, only the functional model's operation order.
  kernels = sorted((int(m.group(1)), t) for t in info.tensors
                   if t.object_path and (m := _OBJECT_KERNEL_RE.fullmatch(t.object_path)))
  names = _layer_names(len(kernels) - 1)
  return fmt, {f"{name}/kernel": (t.shape, t.dtype) for name, (_, t) in zip(names, kernels)}


def gan_sizes(variables: Mapping[str, tuple], source: str = "the checkpoint") -> dict:
  """`{"noise_dim", "hidden_units", "data_dim"}` from name-based keys of `tf1_reference.gan.build_gan`."""
  hidden, output = variables.get("generator/hidden/kernel"), variables.get("generator/output/kernel")
  if hidden is None or output is None:
    raise _errors.MappingError(
        f"Cannot read the GAN's sizes from {source}: it has no 'generator/hidden/kernel' and "
        f"'generator/output/kernel'. Pass a name-based checkpoint written by gan_tf1.")
  return {"noise_dim": hidden[0][0], "hidden_units": hidden[0][1], "data_dim": output[0][1]}


def model_for_checkpoint(model: str, path: str, *, n_inputs: Optional[int] = None,
                         n_outputs: Optional[int] = None, hidden_sizes: Optional[List[int]] = None):
  """Builds the keras_bridge twin that `path` belongs to, with sizes read from the checkpoint itself.

  Args:
    model: "dnn", "transfer_dnn" or "gan".
    path: a name-based or object-based checkpoint, or a `.weights.h5` file (the GAN: name-based only).
    n_inputs: overrides the input size read from the checkpoint (DNNs).
    n_outputs: overrides the output size (DNNs).
    hidden_sizes: overrides the hidden sizes (DNNs).

  Returns:
    `(keras_model, sizes)`: the built model and a one-line description of its sizes.

  Raises:
    keras_bridge.Error: the checkpoint is missing, unreadable, or not of that model.
  """
  from keras_bridge import models  # pylint: disable=g-import-not-at-top

  if model == "gan":
    from keras_bridge import _convert  # pylint: disable=g-import-not-at-top
    from keras_bridge import _tf1_checkpoint  # pylint: disable=g-import-not-at-top

    fmt, location = _convert.locate(path)
    variables = _tf1_checkpoint.read_variables(location) if fmt == _convert.NAME_BASED else {}
    sizes = gan_sizes(variables, f"{fmt} {location!r}")
    gan = models.GAN(**sizes)
    gan([np.zeros((1, sizes["data_dim"]), np.float32), np.zeros((1, sizes["noise_dim"]), np.float32)])
    return gan, ", ".join(f"{k}={v}" for k, v in sizes.items())
  if n_inputs is None or n_outputs is None or hidden_sizes is None:
    fmt, kernels = _kernel_shapes(path)
    read = dnn_sizes(kernels, f"{fmt} checkpoint {path!r}")
    n_inputs = n_inputs or read[0]
    hidden_sizes = hidden_sizes or read[1]
    n_outputs = n_outputs or read[2]
  build = models.transfer_dnn if model == "transfer_dnn" else models.dnn
  return (build(n_inputs, n_outputs, hidden_sizes),
          f"n_inputs={n_inputs}, hidden_sizes={','.join(map(str, hidden_sizes))}, n_outputs={n_outputs}")
