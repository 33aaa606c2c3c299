"""Conversion between name-based (TF1), object-based (TF2) checkpoints and Keras `.weights.h5` files.

Three formats hold the same weights under different keys:

* **name-based** (TF1), written by `tf.compat.v1.train.Saver`: keys are variable names (`hidden1/kernel`).
* **object-based** (TF2), written by `tf.train.Checkpoint(model=model)`: keys are object paths
  (`model/_operations/1/_kernel/.ATTRIBUTES/VARIABLE_VALUE`) plus the object graph.
* **keras-h5**, written by `model.save_weights("x.weights.h5")`: datasets such as `layers/dense/vars/0`.

Object-based keys and the `.weights.h5` layout depend on how the Keras model is built, so
`convert_checkpoint` takes the model that will read the result. The model is only used for its structure:
its weights are neither read (except for state that has no source, such as a built optimizer's variables in
an object-based or `.weights.h5` output) nor changed.

Name-based -> object-based conversion carries the data files over: the tensor bytes of both formats are the
same, only the keys differ, so the source's `.data` files join the output as they are and a new index gives their
tensors the object-based keys; the object graph and the state without a source (`save_counter`, optimizer
variables) go into one more shard. How the files are carried is `data` (`keras_bridge._bundle.DATA_MODES`): by
default a reflink (the new file shares the source's extents, copy-on-write: the cost of metadata) on filesystems
that have them (XFS with reflink=1, btrfs), else the in-kernel copy `cp` uses; hard links only when asked. The
tensors are never in memory, and every copied tensor's CRC-32C is checked in the output unless `verify=False`
(shared bytes, reflinked or hard-linked, only with `verify=True`).
A source whose data bytes are mostly not model weights (`_COPY_MIN_REFERENCED`) or whose index cannot be
rewritten here is streamed instead; `ConversionReport.method` says which.

A checkpoint -> `.weights.h5` conversion lays out the file with Keras's own writer (`keras.src.saving.saving_lib`,
through `keras_bridge._keras_private`), but copies each numeric tensor's bytes from the checkpoint's data file
into its dataset in the kernel, never through memory, and checks its CRC-32C there (`keras_bridge._keras_h5`).

Every other conversion streams: every tensor is read from the source and written to the output one at a time
(small tensors in batches of up to `_BATCH_BYTES`), so the memory it needs beyond the model is about the
largest tensor. Checkpoints are written by TensorFlow's own `SaveV2` op into one bundle per batch, which
`MergeV2Checkpoints` (the op sharded `Saver`s use) joins by renaming, as a sharded checkpoint with one `.data`
shard per batch. Keys and the object graph come from TensorFlow's own serializer
(`tf.train.Checkpoint(model=model)`). Outputs are written under a temporary name in the destination directory and
renamed into place.

The pieces live in one module per format: `keras_bridge._bundle` (checkpoint files, the one atomic writer, the
copy path), `keras_bridge._sstable` (the index table), `keras_bridge._object_graph` (object-based keys),
`keras_bridge._keras_h5` (the `.weights.h5` layout). This module checks the inputs, plans the conversion (one
planner per output format, which fills the `ConversionReport`) and hands the plan to that format's writer.

Example:

  >>> model = keras_bridge.models.dnn(8, 3, (6, 5))
  >>> convert_checkpoint("tf1/model.ckpt-100", "tf2/ckpt", model)             # TF1 -> object-based
  >>> tf.train.Checkpoint(model=model).restore("tf2/ckpt").assert_consumed()
  >>> convert_checkpoint("tf2/ckpt", "keras/model.weights.h5", model)         # object-based -> .weights.h5
  >>> convert_checkpoint("keras/model.weights.h5", "tf1/back.ckpt", model, dst_format="name-based")
"""

import dataclasses
import os
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import h5py
import tensorflow as tf

from keras_bridge import _bundle
from keras_bridge import _durable
from keras_bridge import _errors
from keras_bridge import _format_names
from keras_bridge import _keras_h5
from keras_bridge import _mapping
from keras_bridge import _naming
from keras_bridge import _object_graph
from keras_bridge import _specs
from keras_bridge import _tables

NAME_BASED = _bundle.NAME_BASED
OBJECT_BASED = _bundle.OBJECT_BASED
KERAS_H5 = _keras_h5.KERAS_H5
FORMATS = _format_names.FORMATS
DATA_MODES = _bundle.DATA_MODES
H5_SUFFIX = _keras_h5.H5_SUFFIX
OBJECT_GRAPH_KEY = _bundle.OBJECT_GRAPH_KEY


def open_path(path) -> Tuple[str, str, Optional[_bundle.Bundle]]:
  """Finds what `path` is and opens it: `(format, location, bundle)`.

  Args:
    path: a `.weights.h5` (or any HDF5) file, or anything `resolve_checkpoint` accepts (a prefix, a `-N`
      step prefix, a directory with a `checkpoint` state file, one of the checkpoint's files).

  Returns:
    `(format, location, bundle)`: the format is one of `FORMATS`; the location is the HDF5 file or the
    checkpoint prefix; `bundle` is the opened checkpoint (None for an HDF5 file).

  Raises:
    CheckpointNotFoundError: nothing at `path`.
    CheckpointFormatError: `path` is neither an HDF5 file nor a readable checkpoint.
  """
  path = os.path.expanduser(os.fspath(path))
  if os.path.isfile(path) and _keras_h5.is_hdf5(path):
    return KERAS_H5, path, None
  if path.endswith(".h5"):
    if not os.path.exists(path):
      raise _errors.CheckpointNotFoundError(
          f"No Keras weights file at {path!r}. Pass the path of an existing '{H5_SUFFIX}' file, written by "
          f"model.save_weights(...).")
    raise _errors.CheckpointFormatError(
        f"{path!r} has an '.h5' suffix but is not an HDF5 file (it does not start with the HDF5 signature); "
        f"it is truncated or not a Keras weights file. Write it again with model.save_weights(...).")
  bundle = _bundle.open_bundle(path)
  return bundle.format, bundle.prefix, bundle


def locate(path) -> Tuple[str, str]:
  """`(format, location)` of `path`; see `open_path`."""
  return open_path(path)[:2]


def detect_format(path) -> str:
  """The format of the checkpoint or weights file at `path`: one of `FORMATS`. See `open_path`."""
  return open_path(path)[0]


class ConvertedTensor(NamedTuple):
  """One tensor of a conversion: where it came from and where it went."""

  keras_path: str  # The canonical Keras path, or "" for state written from the model (optimizer variables).
  src_key: str  # The source key ("" for state written from the model).
  dst_key: str
  shape: Tuple[int, ...]
  dtype: str

  @property
  def nbytes(self) -> int:
    return _specs.nbytes(self.shape, self.dtype)


@dataclasses.dataclass
class ConversionReport:
  """What `convert_checkpoint` did, or, with `dry_run`, would do.

  Attributes:
    src, dst: the source location (checkpoint prefix or HDF5 file) and the output path.
    src_format, dst_format: two of `FORMATS`.
    tensors: one `ConvertedTensor` per tensor written, in writing order. Model weights have a `src_key`;
      state without a source (a built optimizer's variables, for object-based and `.weights.h5` outputs)
      (and an object-based output's `save_counter`) has `src_key == ""` and is written from the model's
      current values.
    skipped: source keys that were not converted: optimizer slots, step variables, keys dropped by
      `include` / `exclude`, and other entries that belong to no model weight.
    mapping: the `MappingReport` when the source is name-based, else None.
    dry_run: True when nothing was written.
    seconds: wall time of the conversion.
    method: "copy" when the source's data files were carried over as they are and only the index was rewritten
      (name-based -> object-based, see `convert_checkpoint`), else "stream".
    data: with "copy", how the data files were carried: "reflink", "copy" or "hardlink" (in a dry run, the
      `data` asked for); else "".
    verified: whether the CRC-32C of every tensor written as it is (carried data files, `.weights.h5` datasets
      copied from a checkpoint) was checked in the output.
    stream_reason: why a name-based -> object-based conversion streamed instead of copying ("" otherwise).
    unreferenced_bytes: with "copy", the bytes of the copied data files that no output key references (the
      `skipped` tensors: they stay in the files, unreachable).
    sliced: source keys of partitioned (sliced) TF1 variables that were written whole: the values are kept
      bit-exactly, the slice layout is not (a TF1 graph with the same partitioners still restores them).
  """

  src: str
  dst: str
  src_format: str
  dst_format: str
  tensors: List[ConvertedTensor] = dataclasses.field(default_factory=list)
  skipped: List[str] = dataclasses.field(default_factory=list)
  mapping: Optional[_mapping.MappingReport] = None
  dry_run: bool = False
  seconds: float = 0.0
  method: str = "stream"
  data: str = ""
  verified: bool = False
  stream_reason: str = ""
  unreferenced_bytes: int = 0
  sliced: List[str] = dataclasses.field(default_factory=list)

  @property
  def total_bytes(self) -> int:
    return sum(t.nbytes for t in self.tensors)

  @property
  def largest_tensor_bytes(self) -> int:
    return max((t.nbytes for t in self.tensors), default=0)

  def __str__(self):
    rows = [(t.src_key or "(not in source)", t.dst_key, str(t.shape), t.dtype, str(t.nbytes))
            for t in self.tensors]
    verb = "would write" if self.dry_run else "wrote"
    lines = [f"{self.src_format} {self.src!r} -> {self.dst_format} {self.dst!r}: {verb} {len(self.tensors)} "
             f"tensor(s), {self.total_bytes} bytes" + ("" if self.dry_run else f", in {self.seconds:.2f} s") +
             f" ({self.method}" + (f": {self.stream_reason}" if self.stream_reason else "") +
             (f", data files: {self.data}" if self.data else "") + (", CRC-32C checked" if self.verified else "") +
             ")",
             _tables.format_table(rows, ("source key", "output key", "shape", "dtype", "bytes"))]
    if self.skipped:
      lines.append(f"Skipped (not model weights): {', '.join(self.skipped)}")
    if self.sliced:
      lines.append(f"Partitioned in the source, written whole (values bit-exact, slice layout not kept): "
                   f"{', '.join(self.sliced)}")
    return "\n".join(lines)

  def to_dict(self) -> dict:
    """A JSON-serialisable dict of every field."""
    return {
        "src": self.src, "dst": self.dst, "src_format": self.src_format, "dst_format": self.dst_format,
        "tensors": [dict(t._asdict(), shape=list(t.shape), nbytes=t.nbytes) for t in self.tensors],
        "skipped": list(self.skipped),
        "mapping": self.mapping.to_dict() if self.mapping is not None else None,
        "dry_run": self.dry_run, "seconds": self.seconds, "total_bytes": self.total_bytes,
        "method": self.method, "data": self.data, "verified": self.verified, "stream_reason": self.stream_reason,
        "unreferenced_bytes": self.unreferenced_bytes,
        "sliced": list(self.sliced),
    }


# ---------------------------------------------------------------------------------------------------------
# Sources: one tensor at a time, by canonical Keras path.


class _BundleSource:
  """A name-based or object-based checkpoint, read one tensor at a time from its opened `Bundle`.

  Every source has `format`, `location`, `keys` (`{canonical Keras path: source key}`, verified against the
  model), `specs` (`{source key: (shape, dtype)}`), `skipped` (source keys not used) and `mapping` (the
  `MappingReport` of a name-based source, else None), and reads one tensor at a time with `read_tensor`
  (a `tf.Tensor`) or `read_numpy`.
  """

  mapping = None

  def __init__(self, bundle: _bundle.Bundle):
    self.format, self.location, self.bundle = bundle.format, bundle.prefix, bundle
    self.specs = bundle.specs
    self.read_tensor, self.read_numpy = bundle.read_tensor, bundle.read_numpy

  def _use(self, keys):
    self.keys = keys
    used = set(keys.values())
    self.skipped = [k for k in self.specs if k not in used]


class _NameBasedSource(_BundleSource):

  def __init__(self, bundle, model, *, rules, include, exclude, strict):
    super().__init__(bundle)
    report = _mapping.build_mapping(model, self.specs, rules=rules, include=include, exclude=exclude)
    report.checkpoint = bundle.prefix
    if strict:
      report.raise_if_incomplete(model.name, nothing="written",
                                 fix="Pass rules=/include=/exclude= to fix the names.")
    self.mapping = report
    self._use({m.keras_path: m.tf1_key for m in report.matched})


def _check_specs(location, fmt, model, keys, specs, strict):
  """Checks that every weight's key exists with the weight's shape and dtype; lists all problems at once."""
  problems, good = [], {}
  weights = _naming.canonical_weights(model)
  for path, key in keys.items():
    var = weights[path]
    if key not in specs:
      problems.append(f"Keras weight {path!r} expects key {key!r}, which is missing")
    elif specs[key] != (_specs.shape_tuple(var.shape), _specs.dtype_name(var.dtype)):
      problems.append(f"Keras weight {path!r} is {_specs.shape_tuple(var.shape)} {_specs.dtype_name(var.dtype)}, "
                      f"but {key!r} is "
                      f"{specs[key][0]} {specs[key][1]}")
    else:
      good[path] = key
  if problems and strict:
    raise _errors.MappingError(
        f"{fmt} {location!r} does not fit model {model.name!r}; nothing was written. {len(problems)} "
        f"problem(s):\n" + "\n".join(f"  - {p}" for p in problems) +
        f"\nPass the model the {fmt} file was written from (same layers, sizes and dtypes).")
  return good


class _ObjectBasedSource(_BundleSource):

  def __init__(self, bundle, model, *, strict):
    super().__init__(bundle)
    stored_graph = bundle.object_graph()
    plan, graph = _object_graph.object_plan(model, _object_graph.object_root(stored_graph, bundle.prefix))
    # The key the model would write -> the key this checkpoint stores for the same object attribute.
    stored = _object_graph.object_graph_keys(stored_graph)
    expected = {key: ref for ref, key in _object_graph.object_graph_keys(graph).items()}
    keys = {path: stored.get(expected.get(key), key)
            for path, key in _object_graph.object_keys(model, plan).items()}
    self._use(_check_specs(bundle.prefix, OBJECT_BASED, model, keys, self.specs, strict))


class _H5Source(_BundleSource):
  """A `.weights.h5` file, read one dataset at a time with h5py; see `_BundleSource` for the attributes."""

  def __init__(self, path, model, *, strict):  # pylint: disable=super-init-not-called
    self.format, self.location = KERAS_H5, path
    self.specs = _keras_h5.h5_datasets(path)
    keys = _keras_h5.h5_layout(model).paths
    self._use(_check_specs(path, KERAS_H5, model, keys, self.specs, strict))

  def read_tensor(self, key):
    return tf.convert_to_tensor(self.read_numpy(key))

  def read_numpy(self, key):
    try:
      with h5py.File(self.location, "r") as f:
        return f[key][()]
    except (OSError, KeyError) as e:
      raise _bundle.read_error(self.location, key, e) from e


def open_source(path, model, *, src_format=None, rules=(), include=(), exclude=(), strict=True):
  """Opens and verifies a source for `model`; reads no tensor. See `convert_checkpoint` for the arguments."""
  if src_format is not None and src_format not in FORMATS:
    raise _errors.CheckpointFormatError(f"Unknown src_format={src_format!r}; expected one of {FORMATS}.")
  fmt, location, bundle = open_path(path)
  if src_format is not None and fmt != src_format:
    raise _errors.CheckpointFormatError(
        f"{location!r} is {'an' if fmt[0] in 'aeiou' else 'a'} {fmt} "
        f"{'file' if fmt == KERAS_H5 else 'checkpoint'}, but src_format={src_format!r} "
        f"was given. Pass src_format={fmt!r} (--src_format={fmt}), or leave src_format out to detect it." +
        (" To load a name-based checkpoint into a model, use load_tf1_checkpoint." if fmt == NAME_BASED else
         " To restore it into a model, use tf.train.Checkpoint(model=model).read(prefix)."
         if fmt == OBJECT_BASED else " To load it into a model, use model.load_weights(path)."))
  if fmt == NAME_BASED:
    return _NameBasedSource(bundle, model, rules=rules, include=include, exclude=exclude, strict=strict)
  if fmt == OBJECT_BASED:
    return _ObjectBasedSource(bundle, model, strict=strict)
  return _H5Source(location, model, strict=strict)


# ---------------------------------------------------------------------------------------------------------
# Checking the output.


def _dst_format(dst, dst_format):
  if dst_format is not None and dst_format not in FORMATS:
    raise _errors.CheckpointFormatError(f"Unknown dst_format={dst_format!r}; expected one of {FORMATS}.")
  if dst.endswith(H5_SUFFIX):
    if dst_format not in (None, KERAS_H5):
      raise _errors.CheckpointFormatError(
          f"Output {dst!r} ends in {H5_SUFFIX!r}, which Keras reads as a weights file, but "
          f"dst_format={dst_format!r} was given. Drop dst_format, or choose a checkpoint prefix without that "
          f"suffix.")
    return KERAS_H5
  if dst_format == KERAS_H5:
    raise _errors.CheckpointFormatError(
        f"dst_format='keras-h5' needs an output ending in {H5_SUFFIX!r} (model.load_weights requires it); got "
        f"{dst!r}. Use {dst + H5_SUFFIX!r}.")
  if os.path.isdir(dst):
    raise _errors.CheckpointFormatError(
        f"Output {dst!r} is a directory; give a checkpoint prefix inside it, for example "
        f"{os.path.join(dst, 'ckpt')!r}.")
  return dst_format or OBJECT_BASED


def _same_files(source, dst, dst_fmt) -> bool:
  """Whether output `dst` is the source itself (the same files, under any path or link)."""
  mine = dst if dst_fmt == KERAS_H5 else dst + ".index"
  theirs = source.location if source.format == KERAS_H5 else source.location + ".index"
  try:
    return os.path.samefile(mine, theirs)
  except OSError:
    return False


def _check_output(source, dst, dst_fmt, overwrite):
  if _same_files(source, dst, dst_fmt):
    raise _errors.ArgumentError(
        f"Output {dst!r} is the source {source.location!r} itself; converting onto it would destroy the "
        f"original. Choose another output path. Nothing was written.")
  if source.format == dst_fmt:
    raise _errors.CheckpointFormatError(
        f"{source.location!r} is already {dst_fmt}; convert_checkpoint converts between formats. Copy the "
        f"files instead, or pass another dst_format (one of {FORMATS}).")
  existing = ([dst] if os.path.exists(dst) else []) if dst_fmt == KERAS_H5 else _bundle.bundle_files(dst)
  if existing and not overwrite:
    raise _errors.OutputExistsError(
        f"Output {dst!r} exists ({', '.join(repr(e) for e in existing)}); pass overwrite=True "
        f"(--overwrite) to replace it, or choose another path. Nothing was written.")


# ---------------------------------------------------------------------------------------------------------
# Planning: one planner per output format fills the report's tensors (and what its writer needs); nothing is
# read from the source and nothing is written.


@dataclasses.dataclass
class _Plan:
  """A checked conversion: the source, the model's weights, the report, and what the writer needs beyond it."""

  source: object
  model: object
  dst: str
  weights: Dict[str, object]
  report: ConversionReport
  extra: Dict[str, Callable[[], object]] = dataclasses.field(default_factory=dict)  # dst key -> read
  graph: bytes = b""  # The object graph of an object-based output.
  copy: Optional[_bundle.CopyPlan] = None  # The source's data files, for the copy path.
  layout: Optional[_keras_h5.Layout] = None  # The `.weights.h5` layout of a keras-h5 output.

  def converted(self, path, dst_key) -> ConvertedTensor:
    key = self.source.keys[path]
    return ConvertedTensor(path, key, dst_key, *self.source.specs[key])


def _plan_keras_h5(plan: _Plan, **_) -> None:
  plan.layout = _keras_h5.h5_layout(plan.model)
  names = {id(var): path for path, var in plan.weights.items()}
  for dataset, value in plan.layout.entries:
    path = names.get(id(value))
    plan.report.tensors.append(plan.converted(path, dataset) if path else ConvertedTensor(
        "", "", dataset, _specs.shape_tuple(value.shape), _specs.dtype_name(value.dtype)))


def _plan_object_based(plan: _Plan, *, save_counter, data, verify, **_) -> None:
  report = plan.report
  objects, plan.graph = _object_graph.object_plan(plan.model, save_counter=save_counter)
  names = {id(var): path for path, var in plan.weights.items()}
  for obj, keys in objects:
    for key, read in keys.items():
      path = names.get(id(obj))
      if path:
        report.tensors.append(plan.converted(path, key))
      else:
        plan.extra[key] = read
        tensor = read()
        report.tensors.append(ConvertedTensor("", "", key, _specs.shape_tuple(tensor.shape),
                                              _specs.dtype_name(tensor.dtype)))
  if plan.source.format == NAME_BASED:
    plan.copy, why = _bundle.copy_plan(plan.source.location,
                                       {t.src_key: t.dst_key for t in report.tensors if t.keras_path})
    if plan.copy is not None:
      plan.copy = plan.copy._replace(data=data, verify=verify)
      report.method, report.unreferenced_bytes = "copy", plan.copy.data_bytes - plan.copy.referenced_bytes
      report.data = data
    else:
      report.stream_reason = why


def _plan_name_based(plan: _Plan, *, rules, **_) -> None:
  keys = {}
  for path in plan.weights:
    keys.setdefault(_naming.apply_rules(path, rules), []).append(repr(path))
  _bundle.check_unique_keys(keys, "Keras weights", "Change `rules`")
  plan.report.tensors = [plan.converted(path, _naming.apply_rules(path, rules)) for path in plan.weights]


_PLANNERS = {KERAS_H5: _plan_keras_h5, OBJECT_BASED: _plan_object_based, NAME_BASED: _plan_name_based}


# ---------------------------------------------------------------------------------------------------------
# Writing: one writer per output format, each atomic (see `_bundle.write_bundle`, `_keras_h5.write_h5`).


def _write_keras_h5(plan: _Plan, progress, verify) -> None:
  used = [t for t in plan.report.tensors if t.keras_path]
  bundle = getattr(plan.source, "bundle", None)
  found = _bundle.extents(bundle, [t.src_key for t in used if t.dtype in _keras_h5.DIRECT_DTYPES]) if bundle else {}
  values = {t.dst_key: _keras_h5.H5Value(lambda k=t.src_key: plan.source.read_numpy(k), found.get(t.src_key),
                                         t.shape, t.dtype) for t in used}
  _keras_h5.write_h5(plan.dst, plan.layout, values, progress, verify is not False)  # Its bytes are all copies.
  plan.report.verified = verify is not False and bool(found)


def _bundle_items(plan: _Plan) -> List[_bundle.Item]:
  items = []
  for t in plan.report.tensors:
    if t.keras_path and plan.copy is not None:
      continue  # Its bytes come with the copied data files.
    read = (lambda k=t.src_key: plan.source.read_tensor(k)) if t.keras_path else plan.extra[t.dst_key]
    items.append((t.dst_key, read, t.nbytes))
  return items


def _write_object_based(plan: _Plan, progress, verify) -> None:
  items = _bundle_items(plan)
  items.append((OBJECT_GRAPH_KEY, lambda: tf.constant(plan.graph, dtype=tf.string), len(plan.graph)))
  plan.report.data = _bundle.write_bundle(plan.dst, items, progress, plan.copy)
  plan.report.verified = plan.copy is not None and (verify or verify is None and plan.report.data == "copy")


def _write_name_based(plan: _Plan, progress, verify) -> None:  # pylint: disable=unused-argument
  _bundle.write_bundle(plan.dst, _bundle_items(plan), progress, record_state=True)


_WRITERS = {KERAS_H5: _write_keras_h5, OBJECT_BASED: _write_object_based, NAME_BASED: _write_name_based}


def convert_checkpoint(src,
                       dst,
                       model,
                       *,
                       src_format: Optional[str] = None,
                       dst_format: Optional[str] = None,
                       rules=(),
                       include: Sequence[str] = (),
                       exclude: Sequence[str] = (),
                       overwrite: bool = False,
                       dry_run: bool = False,
                       progress=False,
                       save_counter: Optional[int] = 1,
                       data: str = "auto",
                       verify: Optional[bool] = None) -> ConversionReport:
  """Converts weights between name-based (TF1), object-based (TF2) checkpoints and `.weights.h5` files.

  Every input is checked before anything is written: the source's format, its keys against the model's
  weights (all of them, with shapes and dtypes; every problem listed in one error) and the output path.
  Name-based -> object-based carries the source's data files over as they are (reflinked where the filesystem
  can, else copied; see `data`) and rewrites only the index (`method="copy"`); source tensors that fill no
  weight (`skipped`: `global_step`, excluded keys, optimizer slots) then stay in the carried files, referenced
  by no key (`unreferenced_bytes`), and when they are most of the bytes the conversion streams instead. A
  checkpoint -> `.weights.h5` conversion copies each numeric tensor's bytes into its dataset in the kernel.
  Other conversions stream one tensor at a time (see the module docstring), so memory beyond the model stays
  near the largest tensor. The model's weights are not read or changed. The output shares files (inodes) with
  the source only with `data="hardlink"`.

  Outputs:
    * object-based: what `tf.train.Checkpoint(model=twin).save` writes (the weights and `save_counter`), so
      `tf.train.Checkpoint(model=twin).restore(dst).assert_consumed()` passes. With `save_counter=None` it
      is what `Checkpoint.write` writes, for `.read(dst).assert_consumed()`. (TensorFlow pairs them so: a
      restored checkpoint without `save_counter`, or a read one with it, fails `assert_consumed`.)
    * keras-h5: loadable with `twin.load_weights(dst)`.
    * name-based: restorable with `tf.compat.v1.train.Saver` in the matching `tf1_reference` graph; keys are
      the canonical Keras paths rewritten by `rules` (as `save_tf1_checkpoint` writes them), and the
      directory's `checkpoint` state file names the new checkpoint.

  Args:
    src: the source: a checkpoint prefix, `-N` step prefix, directory with a `checkpoint` state file, one of
      the checkpoint's files, or a `.weights.h5` file.
    dst: the output: a `.weights.h5` path, or a checkpoint prefix. Missing directories are created.
    model: a built Keras 3 model whose weights match the source; it gives object-based keys and the
      `.weights.h5` layout.
    src_format: the expected source format (one of `FORMATS`); None detects it.
    dst_format: the output format. None means keras-h5 for a `.weights.h5` path and object-based otherwise.
    rules: ordered `(regex, replacement)` pairs for the name-based side: TF1 keys -> canonical paths when the
      source is name-based (as in `load_tf1_checkpoint`), canonical paths -> TF1 keys when the output is (as
      in `save_tf1_checkpoint`).
    include: regexes selecting the name-based source keys to convert (see `keras_bridge._mapping`).
    exclude: regexes selecting name-based source keys to leave out.
    overwrite: replace an existing output.
    dry_run: check everything and return the report; write nothing.
    progress: True prints one line per tensor to stderr; a callable is called as
      `progress(done, total, key, nbytes)` after each tensor (or copied data file) instead, e.g. to drive a
      progress bar.
    save_counter: object-based outputs only: the `save_counter` value to store (None: none, see above).
    data: how name-based -> object-based carries the source's data files (one of `DATA_MODES`): "auto" reflinks
      them (XFS with reflink=1, btrfs: the new files share the source's extents copy-on-write, so later writes
      to either never reach the other) and copies where the filesystem cannot; "copy" always copies the bytes;
      "reflink" fails with `ArgumentError` where reflinks are impossible; "hardlink" links the source's files
      into the output: no bytes move, but output and source are then the same files (one inode), so writing
      to one changes the other. TensorFlow never rewrites a `.data` file in place; a tool that does, or
      deleting one side's files, is safe only with copies or reflinks. "reflink" and "hardlink" need the copy
      path (a name-based source, object-based output).
    verify: check the CRC-32C of tensors written as they are against the source's index before the output is
      committed, which reads their bytes once. None (the default): every tensor whose bytes were copied (`data`
      "copy", or "auto" where it copies, and the numeric tensors of a `.weights.h5` output), not those shared
      by a reflink or hard link: those hold no new bytes, and the output's index keeps the source's CRC-32C,
      which TensorFlow checks on every read. True: the shared ones too (a corrupt source then fails the
      conversion instead of the first load). False: none (the source is trusted). Streamed tensors are checked
      by TensorFlow's reader regardless.

  Returns:
    A `ConversionReport`.

  Raises:
    CheckpointNotFoundError: the source does not exist.
    CheckpointFormatError: the source is not a checkpoint or weights file, has another format than
      `src_format`, is truncated, or source and output formats are the same.
    MappingError: the source's keys do not fill the model's weights one-to-one; lists every problem.
    OutputExistsError: the output exists and `overwrite` is False.
    ArgumentError: the output is the source itself; `data` is not one of `DATA_MODES`, or asks for a reflink or
      hard link where the conversion streams or the filesystem refuses.
    OutputBusyError: another process is writing the same output.
    StorageError: the operating system refused a write (no permission, read-only or full disk, I/O error).
  """
  start = time.perf_counter()
  if data not in DATA_MODES:
    raise _errors.ArgumentError(f"Unknown data={data!r}; expected one of {DATA_MODES} (--data=...). Nothing was "
                                f"written.")
  dst = os.path.expanduser(os.fspath(dst))
  dst_fmt = _dst_format(dst, dst_format)
  source = open_source(src, model, src_format=src_format, rules=rules, include=include, exclude=exclude)
  _check_output(source, dst, dst_fmt, overwrite)
  plan = _Plan(source=source, model=model, dst=dst, weights=_naming.canonical_weights(model),
               report=ConversionReport(src=source.location, dst=dst, src_format=source.format, dst_format=dst_fmt,
                                       skipped=list(source.skipped), mapping=source.mapping, dry_run=dry_run))
  _PLANNERS[dst_fmt](plan, rules=rules, save_counter=save_counter, data=data, verify=verify)
  if data in ("reflink", "hardlink") and plan.copy is None:
    why = (f"it streams: {plan.report.stream_reason}" if plan.report.stream_reason else
           f"{source.format} -> {dst_fmt} rewrites every tensor")
    raise _errors.ArgumentError(
        f"data={data!r} shares the data files of a name-based source with an object-based output, but converting "
        f"{source.location!r} to {dst!r} cannot: {why}. Pass data='auto' (--data=auto). Nothing was written.")
  bundle = getattr(source, "bundle", None)  # A `.weights.h5` source has no slices.
  if bundle is not None:
    used = {t.src_key for t in plan.report.tensors}
    plan.report.sliced = [k for k in bundle.sliced_keys if k in used]
  if not dry_run:
    with _durable.storage_errors(dst, "create the output directory of"):
      os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    with _durable.writer_lock(dst):
      _check_output(source, dst, dst_fmt, overwrite)  # Again, now that no other writer can come between.
      _WRITERS[dst_fmt](plan, progress, verify)
  plan.report.seconds = time.perf_counter() - start
  return plan.report
