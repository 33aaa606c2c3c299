"""Name-based (TF1) checkpoints: find them, read them, load them into Keras 3 models, write them back.

A name-based checkpoint is what `tf.compat.v1.train.Saver` writes: a prefix such as `model.ckpt-100` with
`model.ckpt-100.index` and `model.ckpt-100.data-00000-of-00001` (several `.data-*-of-N` shards for a
sharded Saver), keyed by variable name (`hidden1/kernel`). An object-based (TF2) checkpoint, written by
`tf.train.Checkpoint`, has the same files but keys by object path and holds `_CHECKPOINTABLE_OBJECT_GRAPH`.

* `load_tf1_checkpoint(model, path)` maps the keys onto the model's canonical weight paths
  (`keras_bridge._mapping`), refuses to assign anything unless the mapping is complete (strict, the
  default) and every needed tensor has been read, then assigns. It returns the `MappingReport`.
* `save_tf1_checkpoint(model, path)` writes the model's weights under TF1 names that the matching
  `tf1_reference` graph's `Saver` restores, into a temporary prefix that is renamed into place, and records
  it in the directory's `checkpoint` state file.

Example (the 002_9773991e7c1a2830.txt DNN):

  >>> net = tf1_reference.dnn.build_dnn(8, 3, (6, 5, 5, 5, 5))
  >>> with tf.compat.v1.Session(graph=net.graph) as sess:
  ...   sess.run(net.init)
  ...   prefix = net.saver.save(sess, "run/model.ckpt", global_step=100)
  >>> model = keras_bridge.models.dnn(8, 3, (6, 5, 5, 5, 5))
  >>> report = load_tf1_checkpoint(model, "run")   # the directory: its latest checkpoint
  >>> len(report.matched), report.ok
  (12, True)
  >>> save_tf1_checkpoint(model, "out/model.ckpt", global_step=100)
  'out/model.ckpt-100'
"""

import glob
import os
import re
import uuid
from typing import Dict, Mapping, Optional, Sequence, Tuple

from google.protobuf import text_format
import numpy as np
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _mapping
from keras_bridge import _naming

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
STATE_FILE = "checkpoint"

_SUFFIX_RE = re.compile(r"\.(index|meta|data-\d{5}-of-\d{5})$")
_SHARD_RE = re.compile(r"\.data-(\d{5})-of-(\d{5})$")


def _prefixes_in(directory: str):
  """Checkpoint prefixes (those with an `.index` file) in `directory`, sorted."""
  return sorted(p[:-len(".index")] for p in glob.glob(os.path.join(glob.escape(directory), "*.index")))


def _listing(directory: str, limit: int = 20) -> str:
  names = sorted(os.listdir(directory))
  shown = ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")
  return shown or "nothing (the directory is empty)"


def _not_found(prefix: str, what: str) -> _errors.CheckpointNotFoundError:
  directory = os.path.dirname(prefix) or "."
  known = _prefixes_in(directory) if os.path.isdir(directory) else []
  hint = (f" Checkpoint prefixes in {directory!r}: {', '.join(repr(p) for p in known)}." if known else
          f" {directory!r} holds no checkpoint." if os.path.isdir(directory) else
          f" The directory {directory!r} does not exist.")
  return _errors.CheckpointNotFoundError(
      f"{what}: {prefix + '.index'!r} does not exist.{hint} Pass a checkpoint prefix (the path without "
      f"'.index'), a directory with a {STATE_FILE!r} state file, or one of the files of a checkpoint.")


def _check_files(prefix: str) -> None:
  """Checks that `prefix.index` and every `.data` shard exist; raises naming the missing file."""
  if not os.path.isfile(prefix + ".index"):
    raise _not_found(prefix, f"No checkpoint at {prefix!r}")
  shards = glob.glob(glob.escape(prefix) + ".data-?????-of-?????")
  if not shards:
    raise _errors.CheckpointNotFoundError(
        f"Checkpoint {prefix!r} has an index but no data file: expected {prefix + '.data-00000-of-00001'!r} "
        f"(or the shards of a sharded checkpoint) next to it. Copy the '.data-*' files along with the "
        f"'.index' file.")
  counts = {int(_SHARD_RE.search(s).group(2)) for s in shards}
  expected = {f"{prefix}.data-{i:05d}-of-{n:05d}" for n in counts for i in range(n)}
  missing = sorted(expected - set(shards))
  if missing or len(counts) > 1:
    raise _errors.CheckpointNotFoundError(
        f"Checkpoint {prefix!r} is missing data shard(s): {', '.join(repr(m) for m in missing) or 'none'}; "
        f"found {', '.join(repr(s) for s in sorted(shards))}. Copy every '.data-*-of-*' file of the "
        f"checkpoint (or remove shards left over from an older checkpoint with another shard count).")


def _reader(prefix: str):
  try:
    return tf.train.load_checkpoint(prefix)
  except (tf.errors.OpError, ValueError) as e:
    raise _errors.CheckpointFormatError(
        f"Cannot read the checkpoint index {prefix + '.index'!r}: it is truncated, corrupt, or not a "
        f"TensorFlow checkpoint ({type(e).__name__}: {e.message if hasattr(e, 'message') else e}). "
        f"Copy the '.index' file again from where the checkpoint was written.") from e


def resolve_checkpoint(path) -> str:
  """Turns what a user passes into a checkpoint prefix, and checks its files.

  Accepted: a prefix (`run/model.ckpt`), a step prefix (`run/model.ckpt-100`), a directory with a
  `checkpoint` state file (its latest checkpoint), or any file of the checkpoint (`.index`, `.meta`,
  `.data-00000-of-00002`), whose suffix is stripped. Sharded checkpoints are accepted when every shard is
  present. The index is opened, so a truncated or foreign `.index` is caught here; a truncated `.data` file
  is caught when the tensors are read (`load_tf1_checkpoint` reads all of them before assigning).

  Args:
    path: a str or `os.PathLike`.

  Returns:
    The checkpoint prefix.

  Raises:
    CheckpointNotFoundError: nothing at `path`, a directory without a state file, a state file that names a
      missing checkpoint, or a missing `.data` shard.
    CheckpointFormatError: `path` is a file but not part of a checkpoint, or the index cannot be read.
  """
  path = os.path.expanduser(os.fspath(path))
  if os.path.isdir(path):
    prefix = _latest_in(path)
  else:
    # A prefix may itself end like a checkpoint file ("run/model.meta" -> "run/model.meta.index").
    prefix = path if os.path.isfile(path + ".index") else _SUFFIX_RE.sub("", path)
    if not os.path.exists(prefix + ".index") and os.path.isfile(path) and prefix == path:
      raise _errors.CheckpointFormatError(
          f"{path!r} is not a name-based checkpoint: it is a file of {os.path.getsize(path)} bytes, but a "
          f"checkpoint is a prefix P with files P.index and P.data-00000-of-00001, and {path + '.index'!r} "
          f"does not exist. Pass the checkpoint prefix, for example 'run/model.ckpt-100'.")
  _check_files(prefix)
  _reader(prefix)
  return prefix


def _latest_in(directory: str) -> str:
  state_path = os.path.join(directory, STATE_FILE)
  if not os.path.isfile(state_path):
    known = _prefixes_in(directory)
    fix = (f"pass one of these prefixes instead: {', '.join(repr(p) for p in known)}" if known else
           "pass the directory the checkpoint was saved in, or a checkpoint prefix")
    raise _errors.CheckpointNotFoundError(
        f"Directory {directory!r} has no {STATE_FILE!r} state file naming its latest checkpoint; it "
        f"contains: {_listing(directory)}. To fix it, {fix}.")
  try:
    state = tf.train.get_checkpoint_state(directory)
  except Exception as e:  # A corrupt state file raises protobuf's ParseError, not a TF error.
    raise _errors.CheckpointFormatError(
        f"State file {state_path!r} cannot be parsed ({e}); pass a checkpoint prefix instead, or rewrite the "
        f"state file with tf.compat.v1.train.update_checkpoint_state.") from e
  if state is None or not state.model_checkpoint_path:
    raise _errors.CheckpointFormatError(
        f"State file {state_path!r} names no checkpoint (no model_checkpoint_path); pass a checkpoint prefix "
        f"instead. Prefixes in the directory: {_prefixes_in(directory) or 'none'}.")
  prefix = state.model_checkpoint_path
  if not os.path.isabs(prefix):
    prefix = os.path.join(directory, prefix)
  if not os.path.isfile(prefix + ".index"):
    # A directory copied from another machine keeps the absolute paths of the original.
    moved = os.path.join(directory, os.path.basename(prefix))
    if os.path.isfile(moved + ".index"):
      return moved
    raise _not_found(prefix, f"State file {state_path!r} points at a missing checkpoint")
  return prefix


def checkpoint_format(prefix: str) -> str:
  """`"object-based"` if the checkpoint holds `_CHECKPOINTABLE_OBJECT_GRAPH` (`tf.train.Checkpoint`), else
  `"name-based"` (`tf.compat.v1.train.Saver`). `prefix` is resolved with `resolve_checkpoint` first."""
  return "object-based" if _reader(resolve_checkpoint(prefix)).has_tensor(OBJECT_GRAPH_KEY) else "name-based"


def read_variables(prefix: str) -> Dict[str, Tuple[Tuple[int, ...], str]]:
  """`{key: (shape, dtype_name)}` of every tensor in the checkpoint except `_CHECKPOINTABLE_OBJECT_GRAPH`.

  Example:

    >>> read_variables("run/model.ckpt-100")["hidden1/kernel"]
    ((8, 6), 'float32')
  """
  return _variables(_reader(resolve_checkpoint(prefix)))


def _variables(reader):
  shapes = reader.get_variable_to_shape_map()
  dtypes = reader.get_variable_to_dtype_map()
  return {k: (tuple(int(d) for d in shapes[k]), tf.as_dtype(dtypes[k]).name)
          for k in sorted(shapes) if k != OBJECT_GRAPH_KEY}


def _read_tensors(reader, prefix: str, keys: Sequence[str]) -> Dict[str, np.ndarray]:
  """Reads every key into NumPy; one CheckpointFormatError lists every key that fails (truncated data)."""
  values, failures = {}, []
  for key in keys:
    try:
      values[key] = reader.get_tensor(key)
    except (tf.errors.OpError, IndexError, ValueError) as e:
      failures.append(f"{key!r} ({type(e).__name__}: {getattr(e, 'message', e)})")
  if failures:
    data = sorted(glob.glob(glob.escape(prefix) + ".data-*"))
    raise _errors.CheckpointFormatError(
        f"Cannot read {len(failures)} tensor(s) of checkpoint {prefix!r} from "
        f"{', '.join(repr(d) for d in data)}: {'; '.join(failures)}. The data file is truncated or corrupt; "
        f"copy it again. Nothing was assigned.")
  return values


def load_tf1_checkpoint(model,
                        path,
                        *,
                        rules=(),
                        include: Sequence[str] = (),
                        exclude: Sequence[str] = (),
                        strict: bool = True,
                        dry_run: bool = False,
                        default_rules: bool = True) -> _mapping.MappingReport:
  """Loads a name-based (TF1) checkpoint into a Keras 3 model.

  Nothing is assigned unless every check passes and every needed tensor was read into memory first, so a
  failure leaves the model untouched. Optimizer slots and step variables are recognised and reported in
  `report.optimizer_slots` / `report.step_keys`, but never loaded here.

  Args:
    model: a built Keras 3 model.
    path: checkpoint prefix, `-N` step prefix, directory with a `checkpoint` state file, or one of the
      checkpoint's files (see `resolve_checkpoint`).
    rules: ordered `(regex, replacement)` pairs on TF1 keys, applied before the default rules; e.g.
      `[(r"^my_scope/fc_weights$", "hidden1/kernel")]`.
    include: regexes selecting the keys to map (whole key, or a whole leading part ending at "/").
    exclude: regexes selecting keys to leave out; wins over `include`.
    strict: refuse unless every Keras weight is filled, every model-weight key is used, and no shape, dtype
      or conflict problem exists. With `strict=False`, assign what matches and report the rest.
    dry_run: only build and return the report.
    default_rules: also apply `_naming.DEFAULT_RULES` (`weights` -> `kernel`, `biases` -> `bias`).

  Returns:
    The `MappingReport`; `report.assigned` says whether values were assigned.

  Raises:
    CheckpointNotFoundError, CheckpointFormatError: see `resolve_checkpoint`; also for an object-based
      checkpoint, and for tensors that cannot be read.
    MappingError: strict mode and the mapping is incomplete; the message lists every problem and
      `error.report` holds the report.

  Example:

    >>> report = load_tf1_checkpoint(model, "run/model.ckpt-100", dry_run=True)
    >>> report.ok, report.assigned   # print(report) shows the matched pairs, then every problem
    (True, False)
  """
  prefix = resolve_checkpoint(path)
  reader = _reader(prefix)
  if reader.has_tensor(OBJECT_GRAPH_KEY):
    raise _errors.CheckpointFormatError(
        f"{prefix!r} is an object-based (TF2) checkpoint written by tf.train.Checkpoint (it holds "
        f"{OBJECT_GRAPH_KEY!r}); load_tf1_checkpoint reads name-based (TF1) checkpoints written by "
        f"tf.compat.v1.train.Saver. Restore it with tf.train.Checkpoint(model=model).read(prefix) instead.")
  report = _mapping.build_mapping(model, _variables(reader), rules=rules, include=include,
                                  exclude=exclude, default_rules=default_rules)
  report.checkpoint = prefix
  if dry_run:
    return report
  if strict:
    report.raise_if_incomplete(model.name)
  values = _read_tensors(reader, prefix, [m.tf1_key for m in report.matched])
  weights = _naming.canonical_weights(model)
  for m in report.matched:
    weights[m.keras_path].assign(values[m.tf1_key])
  report.assigned = True
  return report


def _existing_outputs(prefix: str):
  return sorted(glob.glob(glob.escape(prefix) + ".data-?????-of-?????") +
                [p for p in (prefix + ".index",) if os.path.exists(p)])


def save_tf1_checkpoint(model,
                        path,
                        *,
                        rules=(),
                        extra: Optional[Mapping[str, np.ndarray]] = None,
                        overwrite: bool = False,
                        global_step: Optional[int] = None,
                        names=None) -> str:
  """Writes the model's weights as a name-based (TF1) checkpoint.

  Keys are the canonical Keras paths rewritten by `rules`. With the default (no rules) they equal the
  `tf.layers` names (`hidden1/kernel`, `hidden1/bias`), so the 002_9773991e7c1a2830.txt graph's Saver
  restores them. For `tf.contrib.layers` / slim names use
  `rules=[(r"/kernel$", "/weights"), (r"/bias$", "/biases")]`.

  The files are written by TensorFlow's own `SaveV2` op (the op `tf.compat.v1.train.Saver` runs) under a
  temporary prefix in the target directory, then renamed into place (data first, index last), and the
  directory's `checkpoint` state file is updated so `tf.train.get_checkpoint_state` and
  `tf.train.latest_checkpoint` find the new checkpoint.

  Args:
    model: a Keras 3 model.
    path: the checkpoint prefix to write, e.g. `"out/model.ckpt"`. Missing directories are created.
    rules: ordered `(regex, replacement)` pairs applied with `re.sub` to canonical Keras paths.
    extra: more `{tf1_key: array}` to write (optimizer slots, `beta1_power`, `global_step`, ...).
    overwrite: replace an existing checkpoint with the same prefix.
    global_step: if given, the prefix becomes `path-<global_step>`, as with `Saver.save(global_step=...)`.
    names: the exact TF1 key for some or all weights: a `MappingReport` (typically the one
      `load_tf1_checkpoint` returned, so the weights go back under the very keys they came from, whatever the
      rules were) or a `{canonical Keras path: TF1 key}` dict. Weights it does not name get `rules`.

  Returns:
    The prefix written.

  Raises:
    OutputExistsError: the checkpoint's files exist and `overwrite` is False.
    MappingError: two weights (or a weight and an `extra` key) get the same TF1 key.
    CheckpointFormatError: `path` is an existing directory.

  Example:

    >>> save_tf1_checkpoint(model, "out/model.ckpt", global_step=5)
    'out/model.ckpt-5'
  """
  path = os.path.expanduser(os.fspath(path))
  if os.path.isdir(path):
    raise _errors.CheckpointFormatError(
        f"{path!r} is a directory; save_tf1_checkpoint needs a checkpoint prefix inside it, for example "
        f"{os.path.join(path, 'model.ckpt')!r}.")
  prefix = f"{path}-{int(global_step)}" if global_step is not None else path

  _mapping.check_patterns(rules)
  if isinstance(names, _mapping.MappingReport):
    names = {m.keras_path: m.tf1_key for m in names.matched}
  names = dict(names or {})
  weights = _naming.canonical_weights(model)
  unknown = sorted(set(names) - set(weights))
  if unknown:
    raise _errors.MappingError(
        f"`names` gives TF1 keys for {unknown!r}, which are not weights of model {model.name!r} (its weights: "
        f"{list(weights)!r}). Pass the report of a load into this same model, or fix the paths. "
        f"Nothing was written.")
  tensors, sources = {}, {}
  for keras_path, var in weights.items():
    key = names[keras_path] if keras_path in names else _naming.apply_rules(keras_path, rules)
    sources.setdefault(key, []).append(f"Keras weight {keras_path!r}")
    tensors[key] = var.value
  for key, value in (extra or {}).items():
    sources.setdefault(key, []).append("extra")
    tensors[key] = value
  if not tensors:
    raise _errors.MappingError(
        f"Model {model.name!r} has no weights and no `extra` values were given, so there is nothing to save. "
        f"Build the model first (call it on an input, or give it an Input).")
  clashes = {k: v for k, v in sources.items() if len(v) > 1}
  if clashes:
    raise _errors.MappingError(
        "Several values would be written under the same TF1 key: " +
        "; ".join(f"{k!r} from {', '.join(v)}" for k, v in sorted(clashes.items())) +
        ". Change `rules` or the `extra` keys so that each key is written once. Nothing was written.")
  existing = _existing_outputs(prefix)
  if existing and not overwrite:
    raise _errors.OutputExistsError(
        f"Checkpoint {prefix!r} exists ({', '.join(repr(e) for e in existing)}); pass overwrite=True to "
        f"replace it, or choose another path. Nothing was written.")

  directory = os.path.dirname(os.path.abspath(prefix))
  os.makedirs(directory, exist_ok=True)
  tmp = os.path.join(directory, f".tmp-{os.path.basename(prefix)}-{uuid.uuid4().hex}")
  keys = sorted(tensors)
  try:
    tf.raw_ops.SaveV2(prefix=tmp, tensor_names=keys, shape_and_slices=[""] * len(keys),
                      tensors=[tf.convert_to_tensor(tensors[k]) for k in keys])
    written = [prefix + data[len(tmp):] for data in sorted(glob.glob(glob.escape(tmp) + ".data-?????-of-?????"))]
    for data in written:
      os.replace(tmp + data[len(prefix):], data)
    os.replace(tmp + ".index", prefix + ".index")
    # Shards of an overwritten checkpoint with another shard count would make the new one look incomplete.
    for stale in set(existing) - set(written) - {prefix + ".index"}:
      os.remove(stale)
  finally:
    for leftover in glob.glob(glob.escape(tmp) + ".*"):
      os.remove(leftover)
  _record_in_state(directory, prefix)
  return prefix


def _record_in_state(directory: str, prefix: str) -> None:
  """Makes `prefix` the latest checkpoint in `directory`'s state file, keeping the earlier entries."""
  name = os.path.basename(prefix)
  try:
    state = tf.train.get_checkpoint_state(directory)
  except Exception:  # A corrupt state file is replaced; the checkpoint files themselves are fine.
    state = None
  earlier = [os.path.basename(p) if os.path.dirname(p) in ("", directory) else p
             for p in (state.all_model_checkpoint_paths if state else [])]
  paths = [p for p in earlier if p != name] + [name]
  state = tf.compat.v1.train.generate_checkpoint_state_proto(directory, name, all_model_checkpoint_paths=paths)
  tmp = os.path.join(directory, f".tmp-{STATE_FILE}-{uuid.uuid4().hex}")
  with open(tmp, "w", encoding="utf-8") as f:
    f.write(text_format.MessageToString(state))
  os.replace(tmp, os.path.join(directory, STATE_FILE))
