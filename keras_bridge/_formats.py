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

Name-based -> object-based conversion copies: the tensor bytes of both formats are the same, only the keys
differ, so the source's `.data` files are copied as they are (`copy_file_range`, the in-kernel copy `cp`
uses) and a new index gives their tensors the object-based keys; the object graph and the state without a
source (`save_counter`, optimizer variables) go into one more shard. Its cost is that of `cp`, and the
tensors are never in memory. A source whose data bytes are mostly not model weights (`_COPY_MIN_REFERENCED`)
or whose index cannot be rewritten here is streamed instead; `ConversionReport.method` says which.

Every other conversion streams: every tensor is read from the source and written to the output one at a time
(small tensors in batches of up to `_BATCH_BYTES`), so the memory it needs beyond the model is about the
largest tensor. Checkpoints are written by TensorFlow's own `SaveV2` op into one bundle per batch, which
`MergeV2Checkpoints` (the op sharded `Saver`s use) joins by renaming, as a sharded checkpoint with one `.data`
shard per batch. Keys and the object graph come from TensorFlow's own serializer
(`tf.train.Checkpoint(model=model)`), and the `.weights.h5` file from Keras's own writer
(`keras.src.saving.saving_lib`), with the source tensors substituted for the model's values. Outputs are
written under a temporary name in the destination directory and renamed into place.

Example:

  >>> model = keras_bridge.models.dnn(8, 3, (6, 5))
  >>> convert_checkpoint("tf1/model.ckpt-100", "tf2/ckpt", model)             # TF1 -> object-based
  >>> tf.train.Checkpoint(model=model).restore("tf2/ckpt").assert_consumed()
  >>> convert_checkpoint("tf2/ckpt", "keras/model.weights.h5", model)         # object-based -> .weights.h5
  >>> convert_checkpoint("keras/model.weights.h5", "tf1/back.ckpt", model, dst_format="name-based")
"""

import dataclasses
import functools
import glob
import os
import shutil
import struct
import sys
import tempfile
import time
import uuid
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import h5py
import keras
import numpy as np
import tensorflow as tf
from keras.src.saving import saving_lib
from tensorflow.core.protobuf import tensor_bundle_pb2
from tensorflow.core.protobuf import trackable_object_graph_pb2
from tensorflow.python.trackable import trackable_utils
from tensorflow.python.training.saving import saveable_object

from keras_bridge import _errors
from keras_bridge import _mapping
from keras_bridge import _naming
from keras_bridge import _tf1_checkpoint

NAME_BASED = "name-based"
OBJECT_BASED = "object-based"
KERAS_H5 = "keras-h5"
#: The formats `convert_checkpoint` reads and writes.
FORMATS = (NAME_BASED, OBJECT_BASED, KERAS_H5)
#: Keras 3's `save_weights` / `load_weights` accept only this suffix for an HDF5 weights file.
H5_SUFFIX = ".weights.h5"
#: The root object name of object-based outputs: `tf.train.Checkpoint(model=model)`.
OBJECT_ROOT = "model"
OBJECT_GRAPH_KEY = _tf1_checkpoint.OBJECT_GRAPH_KEY

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# Tensors smaller than this are written together; larger ones alone, so the memory a conversion needs is
# max(largest tensor, _BATCH_BYTES) plus TensorFlow's own overhead.
_BATCH_BYTES = 16 << 20


def _is_hdf5(path: str) -> bool:
  with open(path, "rb") as f:
    return f.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE


def locate(path) -> Tuple[str, str]:
  """Finds what `path` is: `(format, location)`.

  Args:
    path: a `.weights.h5` (or any HDF5) file, or anything `resolve_checkpoint` accepts (a prefix, a `-N`
      step prefix, a directory with a `checkpoint` state file, one of the checkpoint's files).

  Returns:
    `(format, location)`: the format is one of `FORMATS`; the location is the HDF5 file or the checkpoint
    prefix.

  Raises:
    CheckpointNotFoundError: nothing at `path`.
    CheckpointFormatError: `path` is neither an HDF5 file nor a readable checkpoint.
  """
  path = os.path.expanduser(os.fspath(path))
  if os.path.isfile(path) and _is_hdf5(path):
    return KERAS_H5, path
  if path.endswith(".h5"):
    if not os.path.exists(path):
      raise _errors.CheckpointNotFoundError(
          f"No Keras weights file at {path!r}. Pass the path of an existing '{H5_SUFFIX}' file, written by "
          f"model.save_weights(...).")
    raise _errors.CheckpointFormatError(
        f"{path!r} has an '.h5' suffix but is not an HDF5 file (it does not start with the HDF5 signature); "
        f"it is truncated or not a Keras weights file. Write it again with model.save_weights(...).")
  prefix = _tf1_checkpoint.resolve_checkpoint(path)
  return _tf1_checkpoint.checkpoint_format(prefix), prefix


def detect_format(path) -> str:
  """The format of the checkpoint or weights file at `path`: one of `FORMATS`. See `locate`."""
  return locate(path)[0]


class ConvertedTensor(NamedTuple):
  """One tensor of a conversion: where it came from and where it went."""

  keras_path: str  # The canonical Keras path, or "" for state written from the model (optimizer variables).
  src_key: str  # The source key ("" for state written from the model).
  dst_key: str
  shape: Tuple[int, ...]
  dtype: str

  @property
  def nbytes(self) -> int:
    return int(np.prod(self.shape, dtype=np.int64)) * tf.as_dtype(self.dtype).size


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
    method: "copy" when the source's data files were copied as they are and only the index was rewritten
      (name-based -> object-based, see `convert_checkpoint`), else "stream".
    stream_reason: why a name-based -> object-based conversion streamed instead of copying ("" otherwise).
    unreferenced_bytes: with "copy", the bytes of the copied data files that no output key references (the
      `skipped` tensors: they stay in the files, unreachable).
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
  stream_reason: str = ""
  unreferenced_bytes: int = 0

  @property
  def total_bytes(self) -> int:
    return sum(t.nbytes for t in self.tensors)

  @property
  def largest_tensor_bytes(self) -> int:
    return max((t.nbytes for t in self.tensors), default=0)

  def __str__(self):
    rows = [(t.src_key or "(not in source)", t.dst_key, str(t.shape), t.dtype, str(t.nbytes))
            for t in self.tensors]
    header = ("source key", "output key", "shape", "dtype", "bytes")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    verb = "would write" if self.dry_run else "wrote"
    lines = [f"{self.src_format} {self.src!r} -> {self.dst_format} {self.dst!r}: {verb} {len(self.tensors)} "
             f"tensor(s), {self.total_bytes} bytes" + ("" if self.dry_run else f", in {self.seconds:.2f} s") +
             f" ({self.method}" + (f": {self.stream_reason}" if self.stream_reason else "") + ")",
             fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    if self.skipped:
      lines.append(f"Skipped (not model weights): {', '.join(self.skipped)}")
    return "\n".join(lines)

  def to_dict(self) -> dict:
    """A JSON-serialisable dict of every field."""
    return {
        "src": self.src, "dst": self.dst, "src_format": self.src_format, "dst_format": self.dst_format,
        "tensors": [dict(t._asdict(), shape=list(t.shape), nbytes=t.nbytes) for t in self.tensors],
        "skipped": list(self.skipped),
        "mapping": self.mapping.to_dict() if self.mapping is not None else None,
        "dry_run": self.dry_run, "seconds": self.seconds, "total_bytes": self.total_bytes,
        "method": self.method, "stream_reason": self.stream_reason, "unreferenced_bytes": self.unreferenced_bytes,
    }


# ---------------------------------------------------------------------------------------------------------
# Where each model weight lives in each format.


def _shape(shape) -> Tuple[int, ...]:
  return tuple(int(d) for d in shape)


def _dtype(dtype) -> str:
  return tf.as_dtype(dtype).name


def object_plan(model, root: str = OBJECT_ROOT, save_counter: Optional[int] = None):
  """What `tf.train.Checkpoint(**{root: model})` would write, without reading any variable.

  Args:
    model: a built Keras 3 model.
    root: the keyword the model is given to `tf.train.Checkpoint`.
    save_counter: None for what `Checkpoint.write` writes; a number to add the `save_counter` variable with
      that value, as `Checkpoint.save` does.

  Returns:
    `(plan, graph)`: `plan` lists `(object, {checkpoint_key: read})` for each checkpointed object (a Keras
    variable, an optimizer variable, ...), in checkpoint order, where `read()` returns the current value;
    `graph` is the serialized `TrackableObjectGraph` the checkpoint stores under
    `_CHECKPOINTABLE_OBJECT_GRAPH`.

  Raises:
    CheckpointFormatError: the model holds state that is saved by a registered saver or as slices, which a
      streaming conversion cannot write.
  """
  checkpoint = tf.train.Checkpoint(**{root: model})
  if save_counter is not None:
    checkpoint.save_counter.assign(save_counter)
  # The same call `Checkpoint.write` makes; the values of variables are functions, called only when needed.
  saver = checkpoint._saver  # pylint: disable=protected-access
  serialized, _, registered, graph = saver._gather_serialized_tensors(None)  # pylint: disable=protected-access
  serialized.pop(None, None)  # The object graph as a tensor; the caller writes `graph` itself.
  unsupported = [repr(k) for d in serialized.values() for k, v in d.items() if isinstance(v, dict)]
  unsupported += [repr(name) for name in registered]
  if unsupported:
    raise _errors.CheckpointFormatError(
        f"Model {model.name!r} has state saved as slices or by a registered saver ({', '.join(unsupported)}), "
        f"which convert_checkpoint cannot stream. Load the weights into the model and call "
        f"tf.train.Checkpoint(model=model).write(...) instead.")
  plan = [(obj, {key: functools.partial(_saved_value, value) for key, value in d.items()})
          for obj, d in serialized.items() if d]
  return plan, graph.SerializeToString()


def _saved_value(value):
  # A variable's value comes as a `SaveSpec` whose `tensor` reads it when asked.
  return value.tensor if isinstance(value, saveable_object.SaveSpec) else value


def object_graph_keys(graph: bytes) -> Dict[Tuple[str, str], str]:
  """`{(object path, attribute name): checkpoint key}` of a serialized `TrackableObjectGraph`.

  Restore looks every tensor up by the `checkpoint_key` stored in the graph, so readers go through this map
  rather than assume `<path>/.ATTRIBUTES/VARIABLE_VALUE`. Object paths are those TensorFlow gives: the
  first path found breadth-first from the root, local names escaped by `trackable_utils`.
  """
  proto = trackable_object_graph_pb2.TrackableObjectGraph.FromString(graph)
  paths, queue = {0: ""}, [0]
  for node in queue:  # `queue` grows while it is walked: breadth-first.
    for child in proto.nodes[node].children:
      if child.node_id not in paths:
        name = trackable_utils.escape_local_name(child.local_name)
        paths[child.node_id] = f"{paths[node]}/{name}" if node else name
        queue.append(child.node_id)
  return {(paths[i], attr.name): attr.checkpoint_key for i, node in enumerate(proto.nodes) if i in paths
          for attr in node.attributes}


def _object_keys(model, plan) -> Dict[str, str]:
  """`{canonical Keras path: object-based checkpoint key}` for every weight of `model`, from its `plan`."""
  by_id = {id(obj): keys for obj, keys in plan}
  out = {}
  for path, var in _naming.canonical_weights(model).items():
    keys = by_id.get(id(var))
    if keys is None or len(keys) != 1:
      raise _errors.CheckpointFormatError(
          f"Keras weight {path!r} of model {model.name!r} is not checkpointed as one tensor by "
          f"tf.train.Checkpoint (found keys: {sorted(keys or ())}); convert_checkpoint cannot map it.")
    out[path] = next(iter(keys))
  return out


class _LayoutStore(saving_lib.H5IOStore):
  """Records what Keras's `.weights.h5` writer would write, without a file: `(dataset path, value)`."""

  def __init__(self):  # pylint: disable=super-init-not-called
    self.mode = "w"
    self.archive = None
    self.io_file = None
    self.entries = []
    self._path = ""

  def __bool__(self):
    return True

  def make(self, path, metadata=None):
    self._path = path
    return self

  def __setitem__(self, key, value):
    self.entries.append((f"{self._path}/vars/{key}" if self._path else f"vars/{key}", value))

  def close(self):
    pass


class _StreamingH5Store(saving_lib.H5IOStore):
  """Keras's own `.weights.h5` writer, with the source tensors written in place of the model's values."""

  def __init__(self, path, values: Dict[int, Callable[[], np.ndarray]]):
    super().__init__(path, mode="w")
    self._values = values

  def __setitem__(self, key, value):
    # As H5IOStore.__setitem__, but without its `np.array` copy of every value.
    if not self._h5_entry_initialized:
      self._create_h5_group(self._h5_entry_path)
    read = self._values.get(id(value))
    array = read() if read is not None else np.asarray(keras.ops.convert_to_numpy(value))
    if keras.backend.standardize_dtype(array.dtype) == "bfloat16":
      self._h5_entry_group.create_dataset(key, data=array).attrs["dtype"] = "bfloat16"
    else:
      self._h5_entry_group[key] = array


def _save_state(model, store):
  # Keras's own traversal (what `save_weights` runs), so the layout is exactly the one `load_weights` reads.
  save_state = saving_lib._save_state  # pylint: disable=protected-access
  save_state(model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set())


def h5_layout(model) -> Tuple[Dict[str, str], List[Tuple[str, object]]]:
  """Where `model.save_weights("x.weights.h5")` puts each weight.

  Returns:
    `(paths, entries)`: `paths` maps each canonical Keras path to its HDF5 dataset path (for example
    `"hidden1/kernel" -> "layers/dense/vars/0"`); `entries` lists every `(dataset path, value)` Keras writes,
    in order, model weights and other state (a built optimizer's variables) alike.

  Raises:
    CheckpointFormatError: a weight is not written as itself (a LoRA-merged or quantized kernel is written
      as a computed value), so a converted file could not hold the source's tensor for it.
  """
  if not model.built:
    raise _errors.CheckpointFormatError(
        f"Model {model.name!r} is not built; build it (call it on data or model.build(shape)) so that its "
        f"weights exist before converting to or from '{H5_SUFFIX}'.")
  store = _LayoutStore()
  _save_state(model, store)
  by_id = {id(value): dataset for dataset, value in store.entries}
  paths, missing = {}, []
  for path, var in _naming.canonical_weights(model).items():
    if id(var) in by_id:
      paths[path] = by_id[id(var)]
    else:
      missing.append(path)
  if missing:
    raise _errors.CheckpointFormatError(
        f"Keras writes these weights of model {model.name!r} as computed values, not as themselves (LoRA or "
        f"quantization): {', '.join(repr(m) for m in missing)}; convert_checkpoint cannot map them to a "
        f"'{H5_SUFFIX}' dataset. Merge LoRA / dequantize first, or use model.save_weights.")
  return paths, store.entries


# ---------------------------------------------------------------------------------------------------------
# Sources: one tensor at a time, by canonical Keras path.


def _read_error(location, key, e):
  return _errors.CheckpointFormatError(
      f"Cannot read {key!r} from {location!r} ({type(e).__name__}: {getattr(e, 'message', e)}); the file is "
      f"truncated or corrupt. Copy it again. Nothing was written to the output.")


class _BundleSource:
  """A name-based or object-based checkpoint, read with TensorFlow's own `RestoreV2`.

  Every source has `format`, `location`, `keys` (`{canonical Keras path: source key}`, verified against the
  model), `specs` (`{source key: (shape, dtype)}`), `skipped` (source keys not used) and `mapping` (the
  `MappingReport` of a name-based source, else None), and reads one tensor at a time with `read_tensor`
  (a `tf.Tensor`) or `read_numpy`.
  """

  mapping = None

  def __init__(self, prefix, fmt):
    self.format, self.location = fmt, prefix
    self._reader = tf.train.load_checkpoint(prefix)
    self.specs = _tf1_checkpoint._variables(self._reader)  # pylint: disable=protected-access

  def read_tensor(self, key):
    try:
      (value,) = tf.raw_ops.RestoreV2(prefix=self.location, tensor_names=[key], shape_and_slices=[""],
                                      dtypes=[tf.as_dtype(self.specs[key][1])])
    except tf.errors.OpError as e:
      raise _read_error(self.location, key, e) from e
    return value

  def read_numpy(self, key):
    try:
      return self._reader.get_tensor(key)
    except (tf.errors.OpError, ValueError, IndexError) as e:  # A truncated shard raises IndexError.
      raise _read_error(self.location, key, e) from e


class _NameBasedSource(_BundleSource):

  def __init__(self, prefix, model, *, rules, include, exclude, strict):
    super().__init__(prefix, NAME_BASED)
    report = _mapping.build_mapping(model, self.specs, rules=rules, include=include, exclude=exclude)
    report.checkpoint = prefix
    if strict:
      report.raise_if_incomplete(model.name, nothing="written",
                                 fix="Pass rules=/include=/exclude= to fix the names.")
    self.mapping = report
    self.keys = {m.keras_path: m.tf1_key for m in report.matched}
    used = set(self.keys.values())
    self.skipped = [k for k in self.specs if k not in used]


def _check_specs(location, fmt, model, keys, specs, strict):
  """Checks that every weight's key exists with the weight's shape and dtype; lists all problems at once."""
  problems, good = [], {}
  weights = _naming.canonical_weights(model)
  for path, key in keys.items():
    var = weights[path]
    if key not in specs:
      problems.append(f"Keras weight {path!r} expects key {key!r}, which is missing")
    elif specs[key] != (_shape(var.shape), _dtype(var.dtype)):
      problems.append(f"Keras weight {path!r} is {_shape(var.shape)} {_dtype(var.dtype)}, but {key!r} is "
                      f"{specs[key][0]} {specs[key][1]}")
    else:
      good[path] = key
  if problems and strict:
    raise _errors.MappingError(
        f"{fmt} {location!r} does not fit model {model.name!r}; nothing was written. {len(problems)} "
        f"problem(s):\n" + "\n".join(f"  - {p}" for p in problems) +
        f"\nPass the model the {fmt} file was written from (same layers, sizes and dtypes).")
  return good


def _object_root(reader, prefix):
  """The keyword the model was given to `tf.train.Checkpoint`: "model", or the root's only other child."""
  graph = trackable_object_graph_pb2.TrackableObjectGraph()
  graph.ParseFromString(reader.get_tensor(OBJECT_GRAPH_KEY))
  names = [c.local_name for c in graph.nodes[0].children]
  if OBJECT_ROOT in names:
    return OBJECT_ROOT
  others = [n for n in names if n != "save_counter"]
  if len(others) == 1:
    return others[0]
  raise _errors.CheckpointFormatError(
      f"Object-based checkpoint {prefix!r} has root objects {names}; convert_checkpoint expects the model as "
      f"the only one (tf.train.Checkpoint(model=model)). Restore it with tf.train.Checkpoint(...) and write "
      f"tf.train.Checkpoint(model=model) instead.")


class _ObjectBasedSource(_BundleSource):

  def __init__(self, prefix, model, *, strict):
    super().__init__(prefix, OBJECT_BASED)
    plan, graph = object_plan(model, _object_root(self._reader, prefix))
    # The key the model would write -> the key this checkpoint stores for the same object attribute.
    stored = object_graph_keys(self._reader.get_tensor(OBJECT_GRAPH_KEY))
    expected = {key: ref for ref, key in object_graph_keys(graph).items()}
    keys = {path: stored.get(expected.get(key), key) for path, key in _object_keys(model, plan).items()}
    self.keys = _check_specs(prefix, OBJECT_BASED, model, keys, self.specs, strict)
    used = set(self.keys.values())
    self.skipped = [k for k in self.specs if k not in used]


class _H5Source:
  """A `.weights.h5` file, read one dataset at a time with h5py; see `_BundleSource` for the attributes."""

  mapping = None

  def __init__(self, path, model, *, strict):
    self.format, self.location = KERAS_H5, path
    self.specs = h5_datasets(path)
    keys, _ = h5_layout(model)
    self.keys = _check_specs(path, KERAS_H5, model, keys, self.specs, strict)
    used = set(self.keys.values())
    self.skipped = [k for k in self.specs if k not in used]

  def read_tensor(self, key):
    return tf.convert_to_tensor(self.read_numpy(key))

  def read_numpy(self, key):
    try:
      with h5py.File(self.location, "r") as f:
        return f[key][()]
    except (OSError, KeyError) as e:
      raise _read_error(self.location, key, e) from e


def h5_datasets(path) -> Dict[str, Tuple[Tuple[int, ...], str]]:
  """`{dataset path: (shape, dtype name)}` of every dataset in an HDF5 file, without reading the data."""
  out = {}

  def visit(name, obj):
    if isinstance(obj, h5py.Dataset):
      dtype = obj.attrs.get("dtype", obj.dtype)  # Keras tags bfloat16 datasets with a "dtype" attribute.
      out[name] = (_shape(obj.shape), _dtype(dtype))

  try:
    with h5py.File(path, "r") as f:
      f.visititems(visit)
  except OSError as e:
    raise _errors.CheckpointFormatError(
        f"Cannot read the HDF5 file {path!r} ({e}); it is truncated or not a Keras weights file.") from e
  return dict(sorted(out.items()))


def open_source(path, model, *, src_format=None, rules=(), include=(), exclude=(), strict=True):
  """Opens and verifies a source for `model`; reads no tensor. See `convert_checkpoint` for the arguments."""
  if src_format is not None and src_format not in FORMATS:
    raise _errors.CheckpointFormatError(f"Unknown src_format={src_format!r}; expected one of {FORMATS}.")
  fmt, location = locate(path)
  if src_format is not None and fmt != src_format:
    raise _errors.CheckpointFormatError(
        f"{location!r} is a {fmt} {'file' if fmt == KERAS_H5 else 'checkpoint'}, but src_format={src_format!r} "
        f"was given. Pass src_format={fmt!r} (--src_format={fmt}), or leave src_format out to detect it." +
        (" To load a name-based checkpoint into a model, use load_tf1_checkpoint." if fmt == NAME_BASED else
         " To restore it into a model, use tf.train.Checkpoint(model=model).read(prefix)."
         if fmt == OBJECT_BASED else " To load it into a model, use model.load_weights(path)."))
  if fmt == NAME_BASED:
    return _NameBasedSource(location, model, rules=rules, include=include, exclude=exclude, strict=strict)
  if fmt == OBJECT_BASED:
    return _ObjectBasedSource(location, model, strict=strict)
  return _H5Source(location, model, strict=strict)


# ---------------------------------------------------------------------------------------------------------
# The copy path (name-based -> object-based): the `.data` files are copied as they are and only the index is
# rewritten under the new keys.
#
# TensorFlow's restore cannot read a tensor under a name-based key: it looks each variable up by the
# `checkpoint_key` of the object graph, but requires that key to have the form `<path>/.ATTRIBUTES/<name>`
# (`restore._extract_saveable_name`), so pointing the graph at `hidden1/kernel` fails. The index, though, is
# a table of `key -> (shard, offset, size, crc32c)` records that know nothing of the bytes around them; one
# with the object-based keys over the copied data files is a valid bundle. TensorFlow has no Python writer
# for that table (a LevelDB-format SSTable), so it is read and written here, in its simplest form (no
# compression, one data block); `MergeV2Checkpoints` then reads it with TensorFlow's own reader and writes
# the output's index with TensorFlow's own writer.

_TABLE_MAGIC = 0xdb4775248b80fb57  # The last 8 bytes of every LevelDB/TensorFlow table.
_FOOTER_BYTES = 48
# Below this share of the source's data bytes referenced by the output, the copy would mostly carry dead
# bytes (excluded keys, optimizer slots), so the tensors are streamed instead.
_COPY_MIN_REFERENCED = 0.5


def _crc32c_table():
  table = []
  for i in range(256):
    for _ in range(8):
      i = (i >> 1) ^ (0x82F63B78 if i & 1 else 0)
    table.append(i)
  return table


_CRC32C = _crc32c_table()


def _masked_crc32c(data: bytes) -> int:
  """The CRC-32C of `data`, masked as LevelDB stores it in block trailers."""
  crc = 0xFFFFFFFF
  for byte in data:
    crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
  crc ^= 0xFFFFFFFF
  return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
  out = bytearray()
  while n >= 0x80:
    out.append(n & 0x7F | 0x80)
    n >>= 7
  out.append(n)
  return bytes(out)


def _read_varint(buf: bytes, pos: int) -> Tuple[int, int]:
  n = shift = 0
  while True:
    byte = buf[pos]
    n |= (byte & 0x7F) << shift
    pos, shift = pos + 1, shift + 7
    if byte < 0x80:
      return n, pos


def _block_entries(table: bytes, handle: bytes) -> List[Tuple[bytes, bytes]]:
  """The `(key, value)` records of the block at `handle` (offset and size varints)."""
  offset, pos = _read_varint(handle, 0)
  size, _ = _read_varint(handle, pos)
  if table[offset + size] != 0:  # The trailer's compression type; TensorFlow writes bundles uncompressed.
    raise ValueError(f"compressed block (type {table[offset + size]})")
  block = table[offset:offset + size]
  (restarts,) = struct.unpack_from("<I", block, size - 4)
  end, pos, key, out = size - 4 - 4 * restarts, 0, b"", []
  while pos < end:
    shared, pos = _read_varint(block, pos)
    unshared, pos = _read_varint(block, pos)
    length, pos = _read_varint(block, pos)
    key = key[:shared] + block[pos:pos + unshared]
    out.append((key, block[pos + unshared:pos + unshared + length]))
    pos += unshared + length
  return out


def _read_table(path: str) -> List[Tuple[bytes, bytes]]:
  """Every `(key, value)` of an SSTable, in key order."""
  with open(path, "rb") as f:
    table = f.read()
  if len(table) < _FOOTER_BYTES or struct.unpack("<Q", table[-8:])[0] != _TABLE_MAGIC:
    raise ValueError("no table footer")
  footer = table[-_FOOTER_BYTES:]
  _, pos = _read_varint(footer, _read_varint(footer, 0)[1])  # Skips the metaindex handle.
  return [e for _, handle in _block_entries(table, footer[pos:]) for e in _block_entries(table, handle)]


def _table_block(entries) -> bytes:
  # Every record is a restart point (no key prefix sharing): larger, but the simplest valid block.
  records, restarts, size = [], [], 0
  for key, value in entries:
    records.append(_varint(0) + _varint(len(key)) + _varint(len(value)) + key + value)
    restarts.append(size)
    size += len(records[-1])
  restarts = restarts or [0]
  return b"".join(records) + struct.pack(f"<{len(restarts) + 1}I", *restarts, len(restarts))


def _write_table(path: str, entries: List[Tuple[bytes, bytes]]) -> None:
  """Writes sorted `(key, value)` records as an SSTable: one data block, an empty metaindex, the index."""
  out = bytearray()

  def add(block):
    handle = _varint(len(out)) + _varint(len(block))
    out.extend(block + b"\0" + struct.pack("<I", _masked_crc32c(block + b"\0")))  # Type 0: uncompressed.
    return handle

  data = add(_table_block(entries))
  metaindex = add(_table_block([]))
  index = add(_table_block([(entries[-1][0], data)]))
  out.extend((metaindex + index).ljust(_FOOTER_BYTES - 8, b"\0") + struct.pack("<Q", _TABLE_MAGIC))
  with open(path, "wb") as f:
    f.write(out)


class _CopyPlan(NamedTuple):
  """The renamed index of a name-based source: its header, `(new key, entry)` records, and its files."""

  header: bytes
  entries: List[Tuple[bytes, bytes]]
  shards: List[str]
  referenced_bytes: int
  data_bytes: int


def _copy_plan(prefix: str, rename: Dict[str, str]):
  """The index of `prefix` keeping only the keys in `rename`, renamed; or `(None, why)` to stream instead."""
  try:
    records = dict(_read_table(prefix + ".index"))
    header = tensor_bundle_pb2.BundleHeaderProto.FromString(records[b""])
    entries = {new: tensor_bundle_pb2.BundleEntryProto.FromString(records[old.encode()])
               for old, new in rename.items()}
  except (ValueError, KeyError, IndexError, struct.error) as e:  # DecodeError is a ValueError.
    return None, f"its index cannot be read here ({type(e).__name__}: {e})"
  if any(e.slices for e in entries.values()):
    return None, "it holds partitioned (sliced) variables"
  shards = [f"{prefix}.data-{i:05d}-of-{header.num_shards:05d}" for i in range(header.num_shards)]
  sizes = [os.path.getsize(s) for s in shards]
  truncated = sorted(k for k, e in entries.items() if e.offset + e.size > sizes[e.shard_id])
  if truncated:
    raise _errors.CheckpointFormatError(
        f"Checkpoint {prefix!r}: the data of {', '.join(repr(k) for k in truncated)} lies beyond the end of "
        f"its shard; the data file is truncated or corrupt. Copy it again. Nothing was written.")
  plan = _CopyPlan(records[b""], sorted((k.encode(), e.SerializeToString()) for k, e in entries.items()),
                   shards, sum(e.size for e in entries.values()), sum(sizes))
  if plan.referenced_bytes < _COPY_MIN_REFERENCED * plan.data_bytes:
    return None, (f"only {plan.referenced_bytes} of its {plan.data_bytes} data bytes are model weights "
                  f"(less than {_COPY_MIN_REFERENCED:.0%})")
  return plan, ""


def _copy_file(src: str, dst: str) -> None:
  """Copies with `copy_file_range`, as GNU `cp` does (in the kernel; a reflink where the filesystem has
  them); `shutil.copyfile` (`sendfile`) where the call is refused, e.g. across filesystems on old kernels."""
  with open(src, "rb") as f, open(dst, "wb") as g:
    try:
      while os.copy_file_range(f.fileno(), g.fileno(), 1 << 30):
        pass
      return
    except OSError:
      pass
  shutil.copyfile(src, dst)


def _copy_bundle(plan: _CopyPlan, part: str, progress) -> None:
  """Writes bundle `part`: copies of the source's data files (never links: the output must not share inodes
  with the source) and the renamed index."""
  os.makedirs(os.path.dirname(part), exist_ok=True)
  for i, shard in enumerate(plan.shards):
    _progress(progress, i + 1, len(plan.shards), f"copy {shard}", os.path.getsize(shard))
    _copy_file(shard, part + shard[len(shard) - len(".data-00000-of-00000"):])
  _write_table(part + ".index", [(b"", plan.header)] + plan.entries)


# ---------------------------------------------------------------------------------------------------------
# Writers.


def _bundle_files(prefix):
  return sorted(glob.glob(glob.escape(prefix) + ".data-?????-of-?????") +
                [p for p in (prefix + ".index",) if os.path.exists(p)])


def _batches(items):
  """Splits `(key, read, nbytes)` items into runs of at most `_BATCH_BYTES` (a larger item alone)."""
  batch, size = [], 0
  for item in items:
    if batch and size + item[2] > _BATCH_BYTES:
      yield batch
      batch, size = [], 0
    batch.append(item)
    size += item[2]
  if batch:
    yield batch


def _progress(progress, i, n, key, nbytes):
  if callable(progress):
    progress(i, n, key, nbytes)
  elif progress:
    print(f"[{i}/{n}] {key} ({nbytes} bytes)", file=sys.stderr, flush=True)


def _write_bundle(prefix, items, progress, copy: Optional[_CopyPlan] = None):
  """Writes `(key, read, nbytes)` items (and the bundle of `copy`) as a checkpoint at `prefix`.

  Each batch of items is saved by `SaveV2` as its own bundle in a temporary directory next to `prefix`;
  `MergeV2Checkpoints` joins them (renaming the data files) and the result is renamed into place, data files
  first and the index last, so a reader never sees a half-written checkpoint under `prefix`.
  """
  directory = os.path.dirname(os.path.abspath(prefix))
  tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(prefix)}.tmp-", dir=directory)
  try:
    parts, done = [], 0
    if copy is not None:
      parts.append(os.path.join(tmp, "copied", "part"))
      _copy_bundle(copy, parts[0], progress)
    for j, batch in enumerate(_batches(items)):
      tensors = []
      for key, read, nbytes in batch:
        done += 1
        _progress(progress, done, len(items), key, nbytes)
        tensors.append(read())
      part = os.path.join(tmp, "parts", f"part-{j:05d}")
      tf.raw_ops.SaveV2(prefix=part, tensor_names=[k for k, _, _ in batch], shape_and_slices=[""] * len(batch),
                        tensors=tensors)
      del tensors
      parts.append(part)
    merged = os.path.join(tmp, "merged")
    tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=parts, destination_prefix=merged, delete_old_dirs=True)
    old = _bundle_files(prefix)
    if os.path.exists(prefix + ".index"):
      os.remove(prefix + ".index")  # First, so the old data files are never read with the new index.
    new = []
    for data in glob.glob(glob.escape(merged) + ".data-*"):
      new.append(prefix + data[len(merged):])
      os.replace(data, new[-1])
    os.replace(merged + ".index", prefix + ".index")
    for stale in set(old) - set(new) - {prefix + ".index"}:
      os.remove(stale)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


def _write_h5(path, model, values, progress):
  """Writes `model`'s `.weights.h5` layout to `path` with `values` (`{id(var): read}`) substituted."""
  directory = os.path.dirname(os.path.abspath(path))
  tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{uuid.uuid4().hex}{H5_SUFFIX}")
  count = [0]

  def counted(read, name):
    def run():
      count[0] += 1
      value = read()
      _progress(progress, count[0], len(values), name, value.nbytes)
      return value
    return run

  try:
    store = _StreamingH5Store(tmp, {i: counted(read, name) for i, (name, read) in values.items()})
    try:
      _save_state(model, store)
    finally:
      store.close()
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)


def _outputs_of(dst, fmt):
  if fmt == KERAS_H5:
    return [dst] if os.path.exists(dst) else []
  return _bundle_files(dst)


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
                       save_counter: Optional[int] = 1) -> ConversionReport:
  """Converts weights between name-based (TF1), object-based (TF2) checkpoints and `.weights.h5` files.

  Every input is checked before anything is written: the source's format, its keys against the model's
  weights (all of them, with shapes and dtypes; every problem listed in one error) and the output path.
  Name-based -> object-based copies the source's data files and rewrites only the index (`method="copy"`);
  source tensors that fill no weight (`skipped`: `global_step`, excluded keys, optimizer slots) then stay
  in the copied files, referenced by no key (`unreferenced_bytes`), and when they are most of the bytes the
  conversion streams instead. Other conversions stream one tensor at a time (see the module docstring), so
  memory beyond the model stays near the largest tensor. The model's weights are not read or changed. The
  output never shares files (inodes) with the source.

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

  Returns:
    A `ConversionReport`.

  Raises:
    CheckpointNotFoundError: the source does not exist.
    CheckpointFormatError: the source is not a checkpoint or weights file, has another format than
      `src_format`, is truncated, or source and output formats are the same.
    MappingError: the source's keys do not fill the model's weights one-to-one; lists every problem.
    OutputExistsError: the output exists and `overwrite` is False.
  """
  start = time.perf_counter()
  dst = os.path.expanduser(os.fspath(dst))
  dst_fmt = _dst_format(dst, dst_format)
  source = open_source(src, model, src_format=src_format, rules=rules, include=include, exclude=exclude)
  if source.format == dst_fmt:
    raise _errors.CheckpointFormatError(
        f"{source.location!r} is already {dst_fmt}; convert_checkpoint converts between formats. Copy the "
        f"files instead, or pass another dst_format (one of {FORMATS}).")
  existing = _outputs_of(dst, dst_fmt)
  if existing and not overwrite:
    raise _errors.OutputExistsError(
        f"Output {dst!r} exists ({', '.join(repr(e) for e in existing)}); pass overwrite=True "
        f"(--overwrite) to replace it, or choose another path. Nothing was written.")

  weights = _naming.canonical_weights(model)
  copy = None
  report = ConversionReport(src=source.location, dst=dst, src_format=source.format, dst_format=dst_fmt,
                            skipped=list(source.skipped), mapping=source.mapping, dry_run=dry_run)

  def converted(path, dst_key):
    key = source.keys[path]
    return ConvertedTensor(path, key, dst_key, *source.specs[key])

  if dst_fmt == KERAS_H5:
    paths, entries = h5_layout(model)
    names = {id(var): path for path, var in weights.items()}
    for dataset, value in entries:
      path = names.get(id(value))
      report.tensors.append(converted(path, dataset) if path else
                            ConvertedTensor("", "", dataset, _shape(value.shape), _dtype(value.dtype)))
  elif dst_fmt == OBJECT_BASED:
    plan, graph = object_plan(model, save_counter=save_counter)
    names = {id(var): path for path, var in weights.items()}
    extra = {}
    for obj, keys in plan:
      for key, read in keys.items():
        path = names.get(id(obj))
        if path:
          report.tensors.append(converted(path, key))
        else:
          extra[key] = read
          tensor = read()
          report.tensors.append(ConvertedTensor("", "", key, _shape(tensor.shape), _dtype(tensor.dtype)))
    if source.format == NAME_BASED:
      copy, why = _copy_plan(source.location, {t.src_key: t.dst_key for t in report.tensors if t.keras_path})
      if copy is not None:
        report.method, report.unreferenced_bytes = "copy", copy.data_bytes - copy.referenced_bytes
      else:
        report.stream_reason = why
  else:
    keys = {}
    for path in weights:
      keys.setdefault(_naming.apply_rules(path, rules), []).append(path)
    clashes = {k: v for k, v in keys.items() if len(v) > 1}
    if clashes:
      raise _errors.MappingError(
          "Several Keras weights would be written under the same TF1 key: " +
          "; ".join(f"{k!r} from {v}" for k, v in sorted(clashes.items())) +
          ". Change `rules` so that each key is written once. Nothing was written.")
    report.tensors = [converted(path, _naming.apply_rules(path, rules)) for path in weights]

  if dry_run:
    report.seconds = time.perf_counter() - start
    return report
  os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
  if dst_fmt == KERAS_H5:
    values = {id(weights[t.keras_path]): (t.dst_key, lambda k=t.src_key: source.read_numpy(k))
              for t in report.tensors if t.keras_path}
    _write_h5(dst, model, values, progress)
  else:
    items = []
    for t in report.tensors:
      if t.keras_path and copy is not None:
        continue  # Its bytes come with the copied data files.
      if t.keras_path:
        read = lambda k=t.src_key: source.read_tensor(k)
      else:
        read = extra[t.dst_key]
      items.append((t.dst_key, read, t.nbytes))
    if dst_fmt == OBJECT_BASED:
      items.append((OBJECT_GRAPH_KEY, lambda: tf.constant(graph, dtype=tf.string), len(graph)))
    _write_bundle(dst, items, progress, copy)
    if dst_fmt == NAME_BASED:
      _tf1_checkpoint._record_in_state(os.path.dirname(os.path.abspath(dst)), dst)  # pylint: disable=protected-access
  report.seconds = time.perf_counter() - start
  return report
