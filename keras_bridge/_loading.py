"""Loading with one copy of the model: check every tensor first, then assign them one at a time.

`load_tf1_checkpoint` and `load_tf1_training_state` promise that a failed load assigns nothing, without
reading the checkpoint into memory first (a second copy of the model). They load in two passes:

1. `Bundle.verify(keys)` (in `keras_bridge._bundle`): the mapping has already checked keys, shapes and
   dtypes; this pass streams every needed tensor's bytes through its index CRC-32C, 1 MiB at a time.
2. `assign(bundle, assignments)`: one tensor at a time, so at most one is held beyond the model.
   * A tensor stored whole with a numeric dtype, for an ordinary variable on the CPU (`_Direct`): its bytes are
     read (two halves at once) into one reused, 64-byte-aligned buffer from the shards pass 1 checked, which
     must still be the same files (device, inode, size, times), and copied into the variable's own memory
     (`ResourceStridedSliceAssign` over the whole tensor, from a zero-copy DLPack view of the buffer). No memory
     is mapped per tensor, which is most of the cost of a fresh `RestoreV2` result (benchmarks/load.py), and
     the CRC-32C pass 1 summed is not summed again.
   * Otherwise TensorFlow's `RestoreV2` reads it (a sliced key, TF1's partitioned variable, comes back whole)
     and `assign` takes it: string, bool and bfloat16 tensors, variables on a GPU or under a `tf.distribute`
     strategy (the caller assigns in its scope, so every replica gets the value).
   * Weights built by a transform (`keras_bridge._transforms`: an RNN kernel's gates) go through NumPy, their
     source tensors kept only until the last weight that reads them.

A failure in pass 2 (the files changed or failed after a clean pass 1) raises `PartialLoadError` naming the
weights already assigned.
"""

import concurrent.futures
import os
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import tensorflow as tf

from keras_bridge import _bundle
from keras_bridge import _errors
from keras_bridge import _tf_private
from keras_bridge import _transforms

# The stored dtypes `_Direct` reads itself: those NumPy and DLPack both carry.
_DIRECT_DTYPES = frozenset(tf.as_dtype(d) for d in (
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "complex64", "complex128"))
# Below this a tensor is copied into a TensorFlow-owned tensor and assigned (one small copy more).
_SLICE_ASSIGN_BYTES = 1 << 16


class Assignment(NamedTuple):
  """One variable to fill: `what` names it in errors, `spec` is a TF1 key or a transform."""

  what: str
  variable: object
  spec: object
  slot: bool = False  # An optimizer slot: a transform's `add` does not apply.
  scale: Optional[float] = None  # Multiply the value by this (TF1 Momentum's accumulator -> Keras momentum).


def keys(assignments: Sequence[Assignment]) -> List[str]:
  """Every TF1 key the assignments read, sorted."""
  return sorted(set(_transforms.all_keys(a.spec for a in assignments)))


def assign(bundle, assignments: Sequence[Assignment]) -> None:
  """Pass 2: reads each assignment's tensor(s) and assigns it, one at a time (see the module docstring).

  Raises:
    PartialLoadError: a tensor cannot be read or assigned although pass 1 passed; the message and
      `error.assigned` name what was assigned before.
  """
  last_use = {}
  for i, a in enumerate(assignments):
    if _transforms.is_transform(a.spec):
      for key in _transforms.keys(a.spec):
        last_use[key] = i
  cache, done = {}, []
  direct = _Direct(bundle, assignments)  # Raises, before any assignment, if a checked shard has changed.
  try:
    for i, a in enumerate(assignments):
      try:
        _assign_one(bundle, direct, a, i, cache, last_use)
      except (_errors.Error, tf.errors.OpError, OSError, ValueError) as e:
        raise _partial(bundle.prefix, a, assignments, done, e) from e
      done.append(a.what)
  finally:
    direct.close()


def _assign_one(bundle, direct: "_Direct", a: Assignment, i: int, cache: Dict[str, np.ndarray],
                last_use: Dict[str, int]) -> None:
  if _transforms.is_transform(a.spec):
    for key in _transforms.keys(a.spec):
      if key not in cache:
        cache[key] = bundle.read_tensor(key).numpy()  # A view of the tensor's buffer, not a copy.
    value = _transforms.to_keras(a.spec, cache, slot=a.slot)
    if a.scale is not None:
      value = value * np.asarray(a.scale, value.dtype)
    a.variable.assign(value)
    for key in [k for k in cache if last_use[k] <= i]:
      del cache[key]
    return
  target = direct.target(a)
  if target is not None:
    direct.copy_into(target, direct.read(a.spec))
  else:
    a.variable.assign(bundle.read_tensor(a.spec))
  if a.scale is not None:  # In place, so that only one tensor is held beyond the model.
    a.variable.assign(tf.convert_to_tensor(a.variable) * tf.constant(a.scale, a.variable.dtype))


class _Direct:
  """Pass 2's own reader: each tensor stored whole into one reused buffer, then copied into its variable.

  It reads only shards that pass 1 checked (`Bundle.verified_files`), and opens each once at the start, where
  its identity must still be the one pass 1 recorded: a shard replaced or rewritten in between stops the load
  before anything is assigned. A short read or an I/O error later still fails the load (`PartialLoadError`).
  `target(a)` says whether an assignment qualifies (its tf.Variable, or None); `read(key)` returns the tensor as
  a view of the buffer, valid until the next read; `copy_into(variable, array)` writes it into the variable's
  memory. The buffer is as large as the largest qualifying tensor.
  """

  def __init__(self, bundle, assignments: Sequence[Assignment]):
    self._bundle = bundle
    self._fds: Dict[str, int] = {}
    self._pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="keras_bridge-read")
    plain = [a.spec for a in assignments if not _transforms.is_transform(a.spec)]
    try:
      found = _bundle.extents(bundle, plain)
    except (_errors.CheckpointFormatError, OSError):  # Cut or gone since pass 1: RestoreV2 names it per tensor.
      found = {}
    specs = bundle.specs
    self._extents = {k: e for k, e in found.items()
                     if tf.as_dtype(specs[k][1]) in _DIRECT_DTYPES and e.path in bundle.verified_files}
    try:
      for path in sorted({e.path for e in self._extents.values()}):
        try:
          self._fds[path] = fd = os.open(path, os.O_RDONLY)
        except OSError as e:
          raise _errors.CheckpointFormatError(
              f"Checkpoint {bundle.prefix!r}: data file {path!r} cannot be opened after its CRC-32C check "
              f"({e.strerror}). Nothing was assigned. Restore the file, then load again.") from e
        if _bundle.file_identity(os.fstat(fd)) != bundle.verified_files[path]:
          raise _errors.CheckpointFormatError(
              f"Checkpoint {bundle.prefix!r}: data file {path!r} changed after its CRC-32C check (another "
              f"program replaced or wrote it). Nothing was assigned. Let the writer finish, then load again.")
    except BaseException:
      self.close()
      raise
    self._buffer = _bundle.aligned_buffer(max((e.size for e in self._extents.values()), default=0))

  def target(self, a: Assignment):
    """The tf.Variable to copy `a`'s tensor into, or None when `RestoreV2` and `assign` must do it."""
    if a.spec not in self._extents:
      return None
    variable = a.variable if isinstance(a.variable, tf.Variable) else getattr(a.variable, "value", None)
    shape, dtype = self._bundle.specs[a.spec]
    if (not _tf_private.is_resource_variable(variable) or "GPU" in variable.device.upper()
        or variable.dtype != tf.as_dtype(dtype) or tuple(variable.shape) != tuple(shape)):
      return None
    return variable

  def read(self, key: str) -> np.ndarray:
    """Tensor `key` read into the buffer, as stored (pass 1 checked its CRC-32C in these same files)."""
    e = self._extents[key]
    got = _bundle.pread_into(self._fds[e.path], e.offset, self._buffer[:e.size], self._pool)
    if got < e.size:
      raise _errors.CheckpointFormatError(
          f"bytes {e.offset}..{e.offset + e.size} of {e.path!r}: the file ends {e.size - got} bytes early")
    shape, dtype = self._bundle.specs[key]
    return self._buffer[:e.size].view(tf.as_dtype(dtype).as_numpy_dtype).reshape(shape)

  @staticmethod
  def copy_into(variable, array: np.ndarray) -> None:
    """Copies `array` (a view of the reused buffer) into `variable`'s memory; the variable never keeps a
    reference to the buffer. A plain `assign` of a DLPack view adopts the buffer itself (measured), so the
    large ones go through a whole-tensor strided-slice assignment, which always copies."""
    if array.ndim == 0 or array.shape[0] == 0 or array.nbytes < _SLICE_ASSIGN_BYTES:
      variable.assign(tf.constant(array.copy()))
      return
    value = tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    tf.raw_ops.ResourceStridedSliceAssign(ref=variable.handle, begin=[0], end=[array.shape[0]], strides=[1],
                                          value=value)

  def close(self) -> None:
    self._pool.shutdown()
    for fd in self._fds.values():
      os.close(fd)
    self._fds.clear()


def _partial(prefix, failed, assignments, done, error) -> _errors.PartialLoadError:
  error = error.__cause__ or error  # TensorFlow's own error, not `read_error`'s advice for converters.
  detail = " ".join(str(getattr(error, "message", None) or error).split())  # One line.
  rest = [a.what for a in assignments if a.what not in done]
  return _errors.PartialLoadError(
      f"Loading checkpoint {prefix!r} failed at {failed.what} ({_transforms.describe(failed.spec)!r}: "
      f"{type(error).__name__}: {detail}) after its CRC check had passed, so the files changed or failed during "
      f"the load. Assigned already ({len(done)}): {', '.join(done) or 'none'}; not assigned ({len(rest)}): "
      f"{', '.join(rest)}. Copy the checkpoint again and load it again.", assigned=done)
