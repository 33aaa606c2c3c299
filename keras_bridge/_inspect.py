"""Inspecting and diffing checkpoints: name-based (TF1), object-based (TF2) and Keras `.weights.h5`.

`inspect_checkpoint(path)` lists every tensor (key, shape, dtype, bytes) without reading the values, plus
the format and, for object-based checkpoints, each tensor's object path from the root.

`diff_checkpoints(a, b)` compares two of them one tensor at a time. Without a model it compares raw keys,
which is only meaningful for two files of the same format. With `model=`, each side's tensors are named by
the canonical Keras path of the weight they fill (`keras_bridge._naming`; for `tf.layers` models that is the
TF1 name, `hidden1/kernel`), so a TF1 checkpoint, an object-based one and a `.weights.h5` file of the same
model can be compared; tensors that fill no weight (optimizer slots, `global_step`, `save_counter`) keep
their raw key.

Example:

  >>> info = inspect_checkpoint("run/model.ckpt-100")
  >>> print(info)          # a table: key, shape, dtype, bytes
  >>> info.total_bytes, info.format
  (1061160, 'name-based')
  >>> diff = diff_checkpoints("run/model.ckpt-100", "keras/model.weights.h5", model=model)
  >>> diff.identical
  True
"""

import dataclasses
from typing import Dict, List, NamedTuple, Optional, Tuple

import h5py
import numpy as np
import tensorflow as tf

from keras_bridge import _bundle
from keras_bridge import _convert
from keras_bridge import _keras_h5
from keras_bridge import _object_graph
from keras_bridge import _tables


class TensorInfo(NamedTuple):
  """One tensor of a checkpoint.

  `object_path` (object-based only) is the path of the owning object from the checkpoint root, e.g.
  `model/_operations/1/_kernel`. `layer` (`.weights.h5` only) is the name Keras stored for the owning layer.
  """

  key: str
  shape: Tuple[int, ...]
  dtype: str
  nbytes: int
  object_path: Optional[str] = None
  layer: Optional[str] = None


@dataclasses.dataclass
class CheckpointInfo:
  """What `inspect_checkpoint` found. `str(info)` is a table; `info.to_dict()` is JSON-serialisable.

  Attributes:
    path: the path given.
    location: the checkpoint prefix, or the `.weights.h5` file.
    format: "name-based", "object-based" or "keras-h5".
    tensors: one `TensorInfo` per tensor, sorted by key. The object graph of an object-based checkpoint
      (`_CHECKPOINTABLE_OBJECT_GRAPH`) is metadata, not listed.
  """

  path: str
  location: str
  format: str
  tensors: List[TensorInfo] = dataclasses.field(default_factory=list)

  @property
  def total_bytes(self) -> int:
    return sum(t.nbytes for t in self.tensors)

  def keys(self) -> List[str]:
    return [t.key for t in self.tensors]

  def __getitem__(self, key) -> TensorInfo:
    for t in self.tensors:
      if t.key == key:
        return t
    raise KeyError(f"{key!r} is not a key of {self.location!r}; keys: {self.keys()}")

  def __str__(self):
    extra = {"object-based": ("object path", "object_path"), "keras-h5": ("layer", "layer")}.get(self.format)
    header = ("key", "shape", "dtype", "bytes") + ((extra[0],) if extra else ())
    rows = [(t.key, str(t.shape), t.dtype, str(t.nbytes)) + ((getattr(t, extra[1]) or "",) if extra else ())
            for t in self.tensors]
    return "\n".join([f"{self.format} {self.location!r}: {len(self.tensors)} tensor(s), {self.total_bytes} bytes"]
                     + [_tables.format_table(rows, header)])

  def to_dict(self) -> dict:
    return {"path": self.path, "location": self.location, "format": self.format,
            "total_bytes": self.total_bytes,
            "tensors": [dict(t._asdict(), shape=list(t.shape)) for t in self.tensors]}


def _nbytes(shape, dtype, read) -> int:
  dtype = tf.as_dtype(dtype)
  if dtype == tf.string:  # Variable-length: only the values know their size.
    return int(sum(len(x) for x in np.asarray(read()).ravel()))
  return int(np.prod(shape, dtype=np.int64)) * dtype.size


def _object_paths(bundle) -> Dict[str, str]:
  """`{checkpoint key: object path}` from the object graph of an object-based checkpoint."""
  graph = _object_graph.object_graph_keys(bundle.object_graph())
  return {key: path for (path, _), key in graph.items()}


def inspect_checkpoint(path) -> CheckpointInfo:
  """Lists the tensors of a checkpoint or `.weights.h5` file, without reading their values.

  Args:
    path: a checkpoint prefix, `-N` step prefix, directory with a `checkpoint` state file, one of the
      checkpoint's files, or a `.weights.h5` file.

  Returns:
    A `CheckpointInfo`.

  Raises:
    CheckpointNotFoundError: nothing at `path`.
    CheckpointFormatError: not a checkpoint or HDF5 file, or unreadable, or a data shard shorter than its
      index says (truncated).
  """
  fmt, location, bundle = _convert.open_path(path)
  info = CheckpointInfo(path=str(path), location=location, format=fmt)
  if fmt == _keras_h5.KERAS_H5:
    datasets = _keras_h5.h5_datasets(location)
    try:
      with h5py.File(location, "r") as f:
        for key, (shape, dtype) in datasets.items():
          parent = f[key].parent
          layer = parent.attrs.get("name") if parent.name.endswith("/vars") else None
          info.tensors.append(TensorInfo(key, shape, dtype, _nbytes(shape, dtype, lambda k=key: f[k][()]),
                                         layer=layer))
    except (OSError, KeyError) as e:
      raise _bundle.read_error(location, "the datasets", e) from e
    return info
  bundle.check_extents()
  objects = _object_paths(bundle) if fmt == _bundle.OBJECT_BASED else {}
  for key, (shape, dtype) in bundle.specs.items():
    info.tensors.append(TensorInfo(key, shape, dtype, _nbytes(shape, dtype, lambda k=key: bundle.read_numpy(k)),
                                   object_path=objects.get(key)))
  return info


class Change(NamedTuple):
  """A tensor present on both sides whose shape, dtype or values differ."""

  name: str
  a: object  # shape, dtype, or None for a value change
  b: object
  max_abs_diff: Optional[float] = None  # value changes of numeric tensors


@dataclasses.dataclass
class CheckpointDiff:
  """What `diff_checkpoints` found. `identical` is True when nothing differs.

  Attributes:
    a, b: the two locations; a_format, b_format: their formats.
    compared_by: "raw keys", or "canonical Keras paths" when a model was given.
    only_in_a, only_in_b: names present on one side only.
    shape_changes, dtype_changes: `Change(name, a, b)`; their values are not compared.
    value_changes: `Change(name, None, None, max_abs_diff)` (max_abs_diff None for strings).
    equal: names whose values are bit-identical.
  """

  a: str
  b: str
  a_format: str
  b_format: str
  compared_by: str
  only_in_a: List[str] = dataclasses.field(default_factory=list)
  only_in_b: List[str] = dataclasses.field(default_factory=list)
  shape_changes: List[Change] = dataclasses.field(default_factory=list)
  dtype_changes: List[Change] = dataclasses.field(default_factory=list)
  value_changes: List[Change] = dataclasses.field(default_factory=list)
  equal: List[str] = dataclasses.field(default_factory=list)

  @property
  def identical(self) -> bool:
    return not (self.only_in_a or self.only_in_b or self.shape_changes or self.dtype_changes or
                self.value_changes)

  def __str__(self):
    lines = [f"a: {self.a_format} {self.a!r}", f"b: {self.b_format} {self.b!r}",
             f"compared by {self.compared_by}: {len(self.equal)} equal, "
             + ("identical" if self.identical else "differences below")]
    if self.a_format != self.b_format and self.compared_by == "raw keys":
      lines.append("note: the formats differ, so raw keys differ; pass model= to compare by Keras weight")
    for title, names in (("only in a", self.only_in_a), ("only in b", self.only_in_b)):
      lines += [f"{title}: {n}" for n in names]
    lines += [f"shape changed: {c.name}: {c.a} -> {c.b}" for c in self.shape_changes]
    lines += [f"dtype changed: {c.name}: {c.a} -> {c.b}" for c in self.dtype_changes]
    lines += [f"values changed: {c.name}: max |a - b| = {c.max_abs_diff}" for c in self.value_changes]
    return "\n".join(lines)

  def to_dict(self) -> dict:
    def change(c):
      return {"name": c.name, "a": list(c.a) if isinstance(c.a, tuple) else c.a,
              "b": list(c.b) if isinstance(c.b, tuple) else c.b, "max_abs_diff": c.max_abs_diff}
    return {"a": self.a, "b": self.b, "a_format": self.a_format, "b_format": self.b_format,
            "compared_by": self.compared_by, "identical": self.identical,
            "only_in_a": list(self.only_in_a), "only_in_b": list(self.only_in_b),
            "shape_changes": [change(c) for c in self.shape_changes],
            "dtype_changes": [change(c) for c in self.dtype_changes],
            "value_changes": [change(c) for c in self.value_changes], "equal": list(self.equal)}


class _Side(NamedTuple):
  format: str
  location: str
  specs: Dict[str, Tuple[Tuple[int, ...], str]]  # By name.
  read: Dict[str, object]  # name -> zero-argument function returning a NumPy array.


def _side(path, model, rules) -> _Side:
  if model is None:
    info = inspect_checkpoint(path)
    fmt, location = info.format, info.location
    if fmt == _keras_h5.KERAS_H5:
      def read_h5(key):
        with h5py.File(location, "r") as f:
          return f[key][()]
      read = read_h5
    else:
      read = _bundle.open_bundle(location).read_numpy
    return _Side(fmt, location, {t.key: (t.shape, t.dtype) for t in info.tensors},
                 {t.key: (lambda k=t.key: read(k)) for t in info.tensors})
  source = _convert.open_source(path, model, rules=rules, strict=False)
  name_of = {key: path for path, key in source.keys.items()}
  specs, read = {}, {}
  for key, spec in source.specs.items():
    name = name_of.get(key, key)
    specs[name] = spec
    read[name] = lambda k=key: source.read_numpy(k)
  return _Side(source.format, source.location, specs, read)


def diff_checkpoints(a, b, *, model=None, rules=()) -> CheckpointDiff:
  """Compares two checkpoints (or `.weights.h5` files), one tensor at a time.

  Args:
    a, b: anything `inspect_checkpoint` accepts.
    model: optional Keras 3 model both sides belong to; then tensors are compared by the canonical Keras
      path of the weight they fill, which works across formats (see the module docstring). Without it,
      raw keys are compared.
    rules: with `model`, `(regex, replacement)` rules for a name-based side, as in `load_tf1_checkpoint`.

  Returns:
    A `CheckpointDiff`.

  Raises:
    CheckpointNotFoundError, CheckpointFormatError: as `inspect_checkpoint`.
  """
  side_a, side_b = _side(a, model, rules), _side(b, model, rules)
  diff = CheckpointDiff(a=side_a.location, b=side_b.location, a_format=side_a.format, b_format=side_b.format,
                        compared_by="canonical Keras paths" if model is not None else "raw keys")
  diff.only_in_a = sorted(set(side_a.specs) - set(side_b.specs))
  diff.only_in_b = sorted(set(side_b.specs) - set(side_a.specs))
  for name in sorted(set(side_a.specs) & set(side_b.specs)):
    (shape_a, dtype_a), (shape_b, dtype_b) = side_a.specs[name], side_b.specs[name]
    if shape_a != shape_b:
      diff.shape_changes.append(Change(name, shape_a, shape_b))
    elif dtype_a != dtype_b:
      diff.dtype_changes.append(Change(name, dtype_a, dtype_b))
    else:
      value_a, value_b = np.asarray(side_a.read[name]()), np.asarray(side_b.read[name]())
      if np.array_equal(value_a, value_b):
        diff.equal.append(name)
      elif value_a.dtype.kind in "biufc":
        delta = np.abs(value_a.astype(np.float64) - value_b.astype(np.float64))
        diff.value_changes.append(Change(name, None, None, float(np.max(delta))))
      else:
        diff.value_changes.append(Change(name, None, None, None))
  return diff
