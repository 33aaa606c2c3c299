"""Name-based (TF1) checkpoints: find them, read them, load them into Keras 3 models, write them back.

A name-based checkpoint is what `tf.compat.v1.train.Saver` writes: a prefix such as `model.ckpt-100` with
`model.ckpt-100.index` and `model.ckpt-100.data-00000-of-00001` (several `.data-*-of-N` shards for a
sharded Saver), keyed by variable name (`hidden1/kernel`). An object-based (TF2) checkpoint, written by
`tf.train.Checkpoint`, has the same files but keys by object path and holds `_CHECKPOINTABLE_OBJECT_GRAPH`.

* `load_tf1_checkpoint(model, path)` maps the keys onto the model's canonical weight paths
  (`keras_bridge._mapping`), refuses to assign anything unless the mapping is complete (strict, the
  default) and every needed tensor's bytes pass their CRC-32C, then assigns them one at a time
  (`keras_bridge._loading`). It returns the `MappingReport`.
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

import os
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from keras_bridge import _bundle
from keras_bridge import _distributed
from keras_bridge import _durable
from keras_bridge import _errors
from keras_bridge import _loading
from keras_bridge import _mapping
from keras_bridge import _naming
from keras_bridge import _transforms

OBJECT_GRAPH_KEY = _bundle.OBJECT_GRAPH_KEY
STATE_FILE = _bundle.STATE_FILE


def resolve_checkpoint(path) -> str:
  """Turns what a user passes into a checkpoint prefix, and checks its files.

  Accepted: a prefix (`run/model.ckpt`), a step prefix (`run/model.ckpt-100`), a directory with a
  `checkpoint` state file (its latest checkpoint), or any file of the checkpoint (`.index`, `.meta`,
  `.data-00000-of-00002`), whose suffix is stripped. Sharded checkpoints are accepted when every shard is
  present. The index is opened, so a truncated or foreign `.index` is caught here; a truncated `.data` file
  is caught when the tensors are checked (`load_tf1_checkpoint` checks all of them before assigning).

  Args:
    path: a str or `os.PathLike`.

  Returns:
    The checkpoint prefix.

  Raises:
    CheckpointNotFoundError: nothing at `path`, a directory without a state file, a state file that names a
      missing checkpoint, or a missing `.data` shard.
    CheckpointFormatError: `path` is a file but not part of a checkpoint, or the index cannot be read.
  """
  return _bundle.open_bundle(path).prefix


def checkpoint_format(prefix: str) -> str:
  """`"object-based"` if the checkpoint holds `_CHECKPOINTABLE_OBJECT_GRAPH` (`tf.train.Checkpoint`), else
  `"name-based"` (`tf.compat.v1.train.Saver`). `prefix` is resolved with `resolve_checkpoint` first."""
  return _bundle.open_bundle(prefix).format


def read_variables(prefix: str) -> Dict[str, Tuple[Tuple[int, ...], str]]:
  """`{key: (shape, dtype_name)}` of every tensor in the checkpoint except `_CHECKPOINTABLE_OBJECT_GRAPH`.

  Example:

    >>> read_variables("run/model.ckpt-100")["hidden1/kernel"]
    ((8, 6), 'float32')
  """
  return dict(_bundle.open_bundle(prefix).specs)


def load_tf1_checkpoint(model,
                        path,
                        *,
                        rules=(),
                        include: Sequence[str] = (),
                        exclude: Sequence[str] = (),
                        strict: bool = True,
                        dry_run: bool = False,
                        default_rules: bool = True,
                        names=None) -> _mapping.MappingReport:
  """Loads a name-based (TF1) checkpoint into a Keras 3 model.

  Nothing is assigned unless every check passes: the mapping (keys, shapes, dtypes), then every needed
  tensor's bytes against its CRC-32C, streamed (`keras_bridge._loading`). Only then are the tensors read and
  assigned one at a time, so the load holds at most one tensor beyond the model. Optimizer slots and step
  variables are recognised and reported in `report.optimizer_slots` / `report.step_keys`, but never loaded
  here.

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
    names: `{canonical Keras path: TF1 key or transform}` deciding those weights before any rule, e.g. the
      `TF1_NAMES` of a module generated by `import_tf1_graph` (transforms assemble an LSTM's kernels from
      one TF1 key; see `keras_bridge._transforms`).

  Returns:
    The `MappingReport`; `report.assigned` says whether values were assigned.

  Raises:
    CheckpointNotFoundError, CheckpointFormatError: see `resolve_checkpoint`; also for an object-based
      checkpoint, and for tensors that are short or fail their CRC-32C (nothing assigned).
    PartialLoadError: a `CheckpointFormatError` for a tensor that became unreadable after the check (the
      files changed during the load); it names the weights already assigned (`error.assigned`).
    MappingError: strict mode and the mapping is incomplete; the message lists every problem and
      `error.report` holds the report.

  Example:

    >>> report = load_tf1_checkpoint(model, "run/model.ckpt-100", dry_run=True)
    >>> report.ok, report.assigned   # print(report) shows the matched pairs, then every problem
    (True, False)
  """
  bundle = _bundle.open_bundle(path)
  prefix = bundle.prefix
  if bundle.format == _bundle.OBJECT_BASED:
    raise _errors.CheckpointFormatError(
        f"{prefix!r} is an object-based (TF2) checkpoint written by tf.train.Checkpoint (it holds "
        f"{OBJECT_GRAPH_KEY!r}); load_tf1_checkpoint reads name-based (TF1) checkpoints written by "
        f"tf.compat.v1.train.Saver. Restore it with tf.train.Checkpoint(model=model).read(prefix) instead.")
  report = _mapping.build_mapping(model, bundle.specs, rules=rules, include=include,
                                  exclude=exclude, default_rules=default_rules, names=names)
  report.checkpoint = prefix
  if dry_run:
    return report
  if strict:
    report.raise_if_incomplete(model.name)
  assignments = weight_assignments(model, report)
  bundle.verify(_loading.keys(assignments))
  with _distributed.scope_of(model):  # Mirrored variables: every replica gets the value.
    _loading.assign(bundle, assignments)
  report.assigned = True
  return report


def weight_assignments(model, report: _mapping.MappingReport) -> List[_loading.Assignment]:
  """What a load of `report` assigns: each matched weight from its key, then each transformed weight."""
  weights = _naming.canonical_weights(model)
  return ([_loading.Assignment(f"weight {m.keras_path!r}", weights[m.keras_path], m.tf1_key) for m in report.matched]
          + [_loading.Assignment(f"weight {path!r}", weights[path], spec) for path, spec in report.transforms.items()])


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

  Under a multi-worker `tf.distribute` strategy (a model created in its scope), every worker calls this and
  only the chief writes `path`; the others write a temporary copy and remove it (`keras_bridge._distributed`).

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
      rules were) or a `{canonical Keras path: TF1 key or transform}` dict (a generated module's
      `TF1_NAMES`). Weights it does not name get `rules`. Transforms are inverted exactly (an LSTM's
      kernels go back into one TF1 kernel); a folded forget bias comes back within float32 rounding.

  Returns:
    The prefix written.

  Raises:
    OutputExistsError: the checkpoint's files exist and `overwrite` is False.
    MappingError: two weights (or a weight and an `extra` key) get the same TF1 key.
    CheckpointFormatError: `path` is an existing directory.
    OutputBusyError: another process is writing the same prefix.
    StorageError: the operating system refused a write (no permission, read-only or full disk, I/O error).

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
    names = dict({m.keras_path: m.tf1_key for m in names.matched}, **names.transforms)
  names = dict(names or {})
  weights = _naming.canonical_weights(model)
  unknown = sorted(set(names) - set(weights))
  if unknown:
    raise _errors.MappingError(
        f"`names` gives TF1 keys for {unknown!r}, which are not weights of model {model.name!r} (its weights: "
        f"{list(weights)!r}). Pass the report of a load into this same model, or fix the paths. "
        f"Nothing was written.")
  tensors, sources = {}, {}
  transformed = {p: s for p, s in names.items() if _transforms.is_transform(s)}
  for keras_path, var in weights.items():
    if keras_path in transformed:
      continue
    key = names[keras_path] if keras_path in names else _naming.apply_rules(keras_path, rules)
    sources.setdefault(key, []).append(f"Keras weight {keras_path!r}")
    tensors[key] = var.value
  if transformed:
    values = {p: weights[p].numpy() for p in transformed}
    shapes = _transforms.infer_key_shapes(transformed, {p: v.shape for p, v in values.items()})
    for key, value in _transforms.to_tf1(transformed, values, shapes).items():
      sources.setdefault(key, []).append("Keras weights " + ", ".join(
          repr(p) for p, s in transformed.items() if key in _transforms.keys(s)))
      tensors[key] = value
  for key, value in (extra or {}).items():
    sources.setdefault(key, []).append("extra")
    tensors[key] = value
  if not tensors:
    raise _errors.MappingError(
        f"Model {model.name!r} has no weights and no `extra` values were given, so there is nothing to save. "
        f"Build the model first (call it on an input, or give it an Input).")
  _bundle.check_unique_keys(sources, "values", "Change `rules` or the `extra` keys")
  strategy = _distributed.model_strategy(model)
  with _durable.storage_errors(prefix, "create the directory of"):
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
  with _distributed.write_location(prefix, strategy) as target:
    with _durable.writer_lock(target):
      existing = _bundle.bundle_files(target)
      if existing and not overwrite and _distributed.is_chief(strategy):
        raise _errors.OutputExistsError(
            f"Checkpoint {prefix!r} exists ({', '.join(repr(e) for e in existing)}); pass overwrite=True to "
            f"replace it, or choose another path. Nothing was written.")
      items = [(key, lambda v=value: v, 0) for key, value in sorted(tensors.items())]
      _bundle.write_bundle(target, items, one_batch=True, record_state=True)
  return prefix
