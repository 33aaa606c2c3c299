"""The Keras 3 `.weights.h5` layout: where `model.save_weights` puts each weight, and writing one atomically.

Keras decides the dataset of each variable (`layers/dense/vars/0`) by walking the model; `h5_layout` runs that
same walk (`saving_lib`, through `keras_bridge._keras_private`) into a store that only records, so the layout is
exactly the one `model.load_weights` reads. `write_h5` replays that record with h5py (the `vars` groups with
their metadata, then the datasets) with other values substituted, under a temporary name that is renamed into
place; Keras's walk, slow on large models, runs once.

A value whose bytes lie in a checkpoint's data file as HDF5 stores them (`H5Value.extent`: a little-endian
numeric tensor) never enters memory: its dataset is created contiguous, unfilled and allocated at once, and after
the HDF5 file is closed the bytes are copied into the dataset's place in the file by the kernel
(`copy_file_range`), then checked there against the checkpoint's CRC-32C.
"""

import concurrent.futures
import os
import uuid
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import h5py
import numpy as np

from keras_bridge import _bundle
from keras_bridge import _durable
from keras_bridge import _errors
from keras_bridge import _format_names
from keras_bridge import _keras_private
from keras_bridge import _naming
from keras_bridge import _specs

KERAS_H5 = _format_names.KERAS_H5
#: Keras 3's `save_weights` / `load_weights` accept only this suffix for an HDF5 weights file.
H5_SUFFIX = ".weights.h5"

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Dtypes whose checkpoint bytes are the HDF5 dataset's bytes (little-endian, as Keras's writer stores them).
DIRECT_DTYPES = frozenset(("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
                           "uint32", "uint64"))


def is_hdf5(path: str) -> bool:
  """Whether the file at `path` starts with the HDF5 signature."""
  with open(path, "rb") as f:
    return f.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE


class Layout(NamedTuple):
  """What `model.save_weights("x.weights.h5")` writes.

  `paths` maps each canonical Keras path to its HDF5 dataset path (for example `"hidden1/kernel" ->
  "layers/dense/vars/0"`); `entries` lists every `(dataset path, value)` Keras writes, in order, model weights
  and other state (a built optimizer's variables) alike; `groups` every `(path, metadata)` whose `<path>/vars`
  group Keras creates, in order (metadata: the group's attributes, or None).
  """

  paths: Dict[str, str]
  entries: List[Tuple[str, object]]
  groups: List[Tuple[str, Optional[dict]]]


def h5_layout(model) -> Layout:
  """Where `model.save_weights("x.weights.h5")` puts each weight; see `Layout`.

  Raises:
    CheckpointFormatError: a weight is not written as itself (a LoRA-merged or quantized kernel is written
      as a computed value), so a converted file could not hold the source's tensor for it.
  """
  if not model.built:
    raise _errors.CheckpointFormatError(
        f"Model {model.name!r} is not built; build it (call it on data or model.build(shape)) so that its "
        f"weights exist before converting to or from '{H5_SUFFIX}'.")
  store = _keras_private.LayoutStore()
  _keras_private.save_state(model, store)
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
  return Layout(paths, store.entries, store.groups)


def h5_datasets(path) -> Dict[str, Tuple[Tuple[int, ...], str]]:
  """`{dataset path: (shape, dtype name)}` of every dataset in an HDF5 file, without reading the data."""
  out = {}

  def visit(name, obj):
    if isinstance(obj, h5py.Dataset):
      dtype = obj.attrs.get("dtype", obj.dtype)  # Keras tags bfloat16 datasets with a "dtype" attribute.
      out[name] = (_specs.shape_tuple(obj.shape), _specs.dtype_name(dtype))

  try:
    with h5py.File(path, "r") as f:
      f.visititems(visit)
  except OSError as e:
    raise _errors.CheckpointFormatError(
        f"Cannot read the HDF5 file {path!r} ({e}); it is truncated or not a Keras weights file.") from e
  return dict(sorted(out.items()))


class H5Value(NamedTuple):
  """A value to write in place of a variable: `read()` returns it, or `extent` says where its bytes lie."""

  read: Callable[[], np.ndarray]
  extent: Optional[_bundle.Extent] = None  # With `shape` and `dtype` (one of DIRECT_DTYPES): copied as it is.
  shape: Tuple[int, ...] = ()
  dtype: str = ""


def _direct_dcpl():
  """A contiguous layout allocated at creation and never filled, so the dataset has its bytes' offset at once."""
  dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
  dcpl.set_layout(h5py.h5d.CONTIGUOUS)
  dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
  dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
  return dcpl


def write_h5(path, layout: Layout, values: Dict[str, H5Value], progress, verify: bool = True) -> None:
  """Writes `layout` to `path`, with `values` (`{dataset: H5Value}`) in place of those datasets' variables.

  The file is written under a temporary name, synced and renamed into place, holding `path`'s lock; the
  temporary files of killed writers in the directory are removed first (`keras_bridge._durable`). Values with an
  `extent` are copied into place after the HDF5 file is closed and, with `verify`, checked against their
  CRC-32C before the rename.

  Raises:
    CheckpointFormatError: a copied value fails its CRC-32C check, or its data file is truncated.
  """
  directory = os.path.dirname(os.path.abspath(path))
  with _durable.writer_lock(path), _durable.storage_errors(path, "write the weights file"):
    _bundle.recover(directory)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{uuid.uuid4().hex}{H5_SUFFIX}")
    copies = []  # (extent, offset of the dataset's bytes in the file)
    try:
      with h5py.File(tmp, "w") as f:
        for group, metadata in layout.groups:
          created = f.create_group(f"{group}/vars" if group else "vars")
          for k, v in (metadata or {}).items():
            created.attrs[k] = v
        for i, (name, variable) in enumerate(layout.entries):
          value = values.get(name)
          if value is not None and value.extent is not None:
            dataset = f.create_dataset(name, shape=value.shape, dtype=np.dtype(value.dtype).newbyteorder("<"),
                                       dcpl=_direct_dcpl())
            if value.extent.size:
              copies.append((value.extent, dataset.id.get_offset()))
            nbytes = value.extent.size
          else:
            array = value.read() if value is not None else _keras_private.to_numpy(variable)
            group, key = name.rsplit("/", 1)
            _keras_private.put_array(f[group], key, array)
            nbytes = array.nbytes
          _bundle.report_progress(progress, i + 1, len(layout.entries), name, nbytes)
      _copy_extents(tmp, copies)
      with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        synced = pool.submit(_bundle.fsync, tmp)  # The disk writes overlap the CRC reads.
        if verify:
          _bundle.check_crcs([(e._replace(path=tmp, offset=offset), e.path) for e, offset in copies])
        synced.result()
      os.replace(tmp, path)
    finally:
      if os.path.exists(tmp):
        os.remove(tmp)


def _copy_extents(path: str, copies) -> None:
  """Copies each `(extent, offset)`'s bytes from its data file into file `path` at `offset`, in the kernel."""
  handles = {}
  fd = os.open(path, os.O_WRONLY)
  try:
    for extent, offset in sorted(copies, key=lambda c: (c[0].path, c[0].offset)):
      src = handles.get(extent.path)
      if src is None:
        src = handles[extent.path] = os.open(extent.path, os.O_RDONLY)
      _bundle.copy_range(src, fd, extent.offset, offset, extent.size)
  finally:
    os.close(fd)
    for src in handles.values():
      os.close(src)
