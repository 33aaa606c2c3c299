"""The command-line plumbing the absl scripts share: common flags, flag parsing, exit status 2 on bad input.

Only plumbing lives here; the work is in the library (`keras_bridge`, `keras_bridge.twins`). Flags used by
several scripts are defined here once, because every script module is imported into the same process by the
tests, and absl refuses a flag name defined by two modules. Each script marks the ones it uses with
`flags.declare_key_flag`, so its `--help` lists them (and only the flags it uses).

Nothing here imports TensorFlow or Keras: a script's flags and `--help` load neither.
"""

import functools
import os
import re
import sys
import textwrap
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

from absl import app
from absl import flags

import keras_bridge
from keras_bridge.twins import datasets
from keras_bridge.twins import quiet

#: Where train_tf1 writes its checkpoints by default, and so where transfer_tf1 reads them.
TRAIN_TF1_DIR = os.path.join("runs", "train_tf1")

DATASET = flags.DEFINE_enum("dataset", "digits", list(datasets.DATASETS),
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
#: The reference models the tools know by name.
KINDS = ("dnn", "transfer_dnn", "gan")
MODEL = flags.DEFINE_string("model", "dnn", "The model the checkpoint belongs to: a reference model (dnn, "
                            "transfer_dnn, gan), or your own as path/to/file.py:function (for example the "
                            "model.py that import_graph writes).")
META = flags.DEFINE_string("meta", None, "The TF1 MetaGraph (.meta) of your own model: the tools import it "
                           "(keras_bridge.import_tf1_graph) instead of using --model; default for import_graph: "
                           "the checkpoint prefix + '.meta'.")
flags.register_validator(
    "model", lambda v: v in KINDS or re.match(r"^.+\.py:[A-Za-z_]\w*$", v or "") is not None,
    message="--model must be dnn, transfer_dnn, gan, or path/to/file.py:function (e.g. out/model.py:build_model)")


def user_model_requested() -> bool:
  """Whether --meta or a --model=file.py:function asks for the user's own model."""
  return bool(META.value) or MODEL.value not in KINDS
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


#: Arguments that ask for help; absl's own handlers would import nothing either, but exit 1 and show other modules'.
_HELP_ARGS = ("-h", "-help", "--help", "-helpshort", "--helpshort", "-?")
_HELPFULL_ARGS = ("-helpfull", "--helpfull")
_WIDTH = 100


def command_name(module) -> str:
  """How the user ran the script: `python -m scripts.<name>` from a clone, or the `tf1kb-<name>` entry point."""
  if module.__name__ == "__main__":
    spec = getattr(module, "__spec__", None)
    return f"python -m {spec.name}" if spec else os.path.basename(sys.argv[0])
  return os.path.basename(sys.argv[0]) or module.__name__


def _flag_help(flag) -> str:
  name = f"--[no]{flag.name}" if flag.boolean else f"--{flag.name}"
  if flag.short_name:
    name = f"-{flag.short_name},{name}"
  text = textwrap.fill(f"{name}: {flag.help}", _WIDTH, initial_indent="  ", subsequent_indent="    ")
  if flag.default is not None:
    text += f"\n    (default: {flag.default_as_str})"
  return text


def help_text(module, command: str) -> str:
  """The script's `--help`: its docstring (purpose and an example, in the command the user typed), its flags."""
  doc = (module.__doc__ or "").strip()
  if not command.startswith("python -m "):
    doc = re.sub(r"python -m scripts\.\w+", command, doc)
  key_flags = sorted(flags.FLAGS.get_key_flags_for_module(module), key=lambda f: f.name)
  lines = [f"Usage: {command} [flags]", "", doc, "", "Flags:"]
  lines += [_flag_help(flag) for flag in key_flags]
  lines += ["", "-v 0 (--verbosity=0) shows TensorFlow's own logging; --helpfull lists absl's flags too."]
  return "\n".join(lines) + "\n"


def usage_error(command: str, message: str) -> int:
  """Writes a usage error as `<command>: error: <message>` and a pointer to --help; returns exit status 2."""
  sys.stderr.write(f"{command}: error: {message}\nRun '{command} --help' for the flags and an example.\n")
  return 2


def _parse_flags(argv, module):
  """absl's parser, but --help exits 0 with the script's own help, and bad flags exit 2 with one line."""
  command = command_name(module)
  args = argv[1:argv.index("--")] if "--" in argv else argv[1:]
  if any(a in _HELP_ARGS for a in args):
    sys.stdout.write(help_text(module, command))
    sys.exit(0)
  if any(a in _HELPFULL_ARGS for a in args):
    sys.stdout.write(help_text(module, command) + "\nAll flags:\n" + flags.FLAGS.get_help() + "\n")
    sys.exit(0)
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    sys.exit(usage_error(command, str(e)))


def _handle_errors(main: Callable, command: str):

  @functools.wraps(main)
  def wrapped(argv):
    # An explicit -v 0 (or more) keeps TensorFlow's logging; otherwise the script prints only its own output.
    verbosity = flags.FLAGS["verbosity"]
    quiet.enable(verbose=bool(verbosity.present) and verbosity.value >= 0)
    try:
      status = main(argv)
      sys.stdout.flush()
      return status
    except app.UsageError as e:
      return usage_error(command, str(e))
    except keras_bridge.Error as e:
      # Bad input files are the user's to fix: the message says how; a traceback would only hide it.
      sys.stderr.write(f"{command}: error: {e}\n")
      return 2
    except BrokenPipeError:
      # The reader went away (`... | head -1`): stop quietly, and keep the exit-time flush from failing again.
      os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
      return 1
    except OSError as e:  # The script's own files (--json, ...): the same one line as the library's StorageError.
      sys.stderr.write(f"{command}: error: {keras_bridge.StorageError.from_os_error(e)}\n")
      return 2

  return wrapped


def tensorflow_quietly():
  """A `with` block for a script's heavy imports: TensorFlow's start-up lines are held back (`twins.quiet`)."""
  return quiet.tensorflow_imported()


def run(main: Callable):
  """`app.run(main)` with the script's own --help (exit 0), exit status 2 and one line for bad input."""
  module = sys.modules[main.__module__]
  app.run(_handle_errors(main, command_name(module)),
          flags_parser=functools.partial(_parse_flags, module=module))


def run_logdir(logdir: Optional[str], run_name: str) -> Optional[str]:
  """The subdirectory of `logdir` for one run (`tf1`, `tf1_transfer`, `keras`), or None without a logdir."""
  return None if logdir is None else os.path.join(logdir, run_name)


def parse_sizes(values: Sequence[str], flag: str) -> Tuple[List[int], List[str]]:
  """Parses a list flag of positive integers; returns `(sizes, problems)`."""
  sizes, problems = [], []
  for value in values:
    try:
      size = int(value)
    except ValueError:
      size = 0
    if size < 1:
      problems.append(f"--{flag}: {value!r} is not a positive integer. Received: --{flag}={','.join(values)}")
    sizes.append(size)
  if not values:
    problems.append(f"--{flag} needs at least one size, e.g. --{flag}=300,50.")
  return sizes, problems


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


def progress_bar(enabled: bool):
  """A `convert_checkpoint(progress=...)` callback that drives one progress bar, or False when disabled."""
  if not enabled:
    return False
  from keras_bridge.twins import progress  # pylint: disable=g-import-not-at-top

  bars = {}

  def update(done, total, key, nbytes):
    del key, nbytes
    bar = bars.setdefault(total, progress.Progress(total, True, unit_name="tensor", label="tensors converted"))
    bar.update(done)

  return update
