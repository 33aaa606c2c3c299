"""The tensor bundle: the files of a TensorFlow checkpoint, name-based (TF1) or object-based (TF2) alike.

A bundle is a prefix P with `P.index` (an SSTable of `key -> (shard, offset, size, crc32c)`) and the data shards
`P.data-0000i-of-0000N`. This module is the one place that opens and writes them:

* `open_bundle(path)` resolves what a user passes (a prefix, a `-N` step prefix, a directory with a `checkpoint`
  state file, one of the checkpoint's files), checks that every file is there, and opens the index once; the
  returned `Bundle` serves every later question of the call (format, specs, tensors).
* `write_bundle(prefix, items)` is the one atomic writer: TensorFlow's own `SaveV2` per batch into a temporary
  directory next to P, `MergeV2Checkpoints` to join them, a `COMMIT` record, then a rename into place (the old
  index removed first, data next, the new index last), stale shards of an overwritten checkpoint removed, and
  optionally the directory's `checkpoint` state file updated. A crash before the `COMMIT` record leaves the old
  checkpoint (or none) and a temporary directory that the next writer removes; a crash after it is rolled
  forward by the next writer (`finish_commit`). The writer holds P's lock (`keras_bridge._durable`). A copy
  plan (`copy_plan`) adds a source's data files as they are, under a renamed index: reflinked where the
  filesystem can (`DATA_MODES`), else copied in the kernel, or hard-linked when asked; each copied tensor's
  CRC-32C is checked against the index before the commit (`check_crcs`; shared ones too if asked, none if the
  caller opts out).
* `check_unique_keys` refuses two values under one key before anything is written.
"""

import concurrent.futures
import errno
import fcntl
import functools
import contextlib
import glob
import json
import os
import re
import shutil
import struct
import sys
import tempfile
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

from google.protobuf import message
from google.protobuf import text_format
import google_crc32c
import numpy as np
import tensorflow as tf

from keras_bridge import _durable
from keras_bridge import _errors
from keras_bridge import _format_names
from keras_bridge import _specs
from keras_bridge import _sstable
from keras_bridge import _tf_private

NAME_BASED = _format_names.NAME_BASED
OBJECT_BASED = _format_names.OBJECT_BASED
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
STATE_FILE = "checkpoint"
COMMIT_FILE = "COMMIT"
_DT_STRING = 7  # tensorflow.DataType.DT_STRING: its bundle CRC covers lengths and bytes, not the raw extent.
# Reads of 1 MiB stay in malloc's reused heap; 4 MiB and more are fresh mappings each time, 1.5-2x slower.
_CRC_CHUNK = 1 << 20
#: From this size on, `pread_into` reads a range as two halves at once.
_PARALLEL_READ_BYTES = 4 << 20
_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int), clone a whole file (a reflink).
# What FICLONE fails with where sharing extents is impossible: no reflink support, another filesystem, a
# filesystem without the ioctl.
_NO_REFLINK = frozenset((errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY))
_NO_HARDLINK = frozenset((errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP))

#: How a copy plan carries the source's data files into the output:
#: "auto" reflinks (shared extents, copy-on-write: a separate file) where the filesystem can, else copies;
#: "copy" always copies the bytes; "reflink" reflinks or fails; "hardlink" links the source's files
#: themselves (one inode: writing to either changes both).
DATA_MODES = ("auto", "copy", "reflink", "hardlink")

# Tensors smaller than this are written together; larger ones alone, so the memory a write needs is
# max(largest tensor, BATCH_BYTES) plus TensorFlow's own overhead.
BATCH_BYTES = 16 << 20
# Below this share of the source's data bytes referenced by the output, the copy would mostly carry dead
# bytes (excluded keys, optimizer slots), so the tensors are streamed instead.
_COPY_MIN_REFERENCED = 0.5

#: `(key, read, nbytes)`: a tensor to write, read only when its batch is written.
Item = Tuple[str, Callable[[], object], int]


# ---------------------------------------------------------------------------------------------------------
# Finding and opening a checkpoint.

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


def _open_reader(prefix: str):
  try:
    return tf.train.load_checkpoint(prefix)
  except (tf.errors.OpError, ValueError, IndexError) as e:
    raise _errors.CheckpointFormatError(
        f"Cannot read the checkpoint index {prefix + '.index'!r}: it is truncated, corrupt, or not a "
        f"TensorFlow checkpoint ({type(e).__name__}: {e.message if hasattr(e, 'message') else e}). "
        f"Copy the '.index' file again from where the checkpoint was written.") from e


def _resolve(path) -> str:
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


def read_error(location, key, e):
  return _errors.CheckpointFormatError(
      f"Cannot read {key!r} from {location!r} ({type(e).__name__}: {getattr(e, 'message', e)}); the file is "
      f"truncated or corrupt. Copy it again. Nothing was written to the output.")


class Bundle:
  """An opened checkpoint: its prefix and index, read once, and its tensors on demand.

  Attributes:
    prefix: the checkpoint prefix.
    format: `NAME_BASED`, or `OBJECT_BASED` when it holds the object graph (`tf.train.Checkpoint`).
    specs: `{key: (shape, dtype name)}` of every tensor except the object graph, sorted by key.
  """

  def __init__(self, prefix: str):
    self.prefix = prefix
    self._reader = _open_reader(prefix)
    #: `{data shard: file_identity}` when `verify` last ran, taken before its reads.
    self.verified_files: Dict[str, tuple] = {}

  @property
  def format(self) -> str:
    return OBJECT_BASED if self._reader.has_tensor(OBJECT_GRAPH_KEY) else NAME_BASED

  @functools.cached_property
  def specs(self) -> Dict[str, _specs.Spec]:
    shapes = self._reader.get_variable_to_shape_map()
    dtypes = self._reader.get_variable_to_dtype_map()
    return {k: (_specs.shape_tuple(shapes[k]), _specs.dtype_name(dtypes[k]))
            for k in sorted(shapes) if k != OBJECT_GRAPH_KEY}

  @functools.cached_property
  def _index(self) -> Tuple[object, List[Tuple[bytes, object]]]:
    """`(BundleHeaderProto, [(key, BundleEntryProto)])` of the index, parsed here once (a parse error is raised
    again on each use, as it is not cached)."""
    records = _sstable.read_table(self.prefix + ".index")
    header = _tf_private.parse_bundle_header(records[0][1])
    return header, [(key, _tf_private.parse_bundle_entry(value)) for key, value in records[1:]]

  @functools.cached_property
  def _extents(self) -> Optional[Tuple[int, Dict[str, List[Tuple[str, object]]]]]:
    """`(num_shards, {key: [(label, BundleEntryProto)]})` from the index, parsed here: a key's own entry, or for a
    sliced key (a TF1 partitioned variable) one entry per slice, labelled `key[slice i]`; None when the index
    cannot be parsed here (TensorFlow's reader still reads it)."""
    try:
      header, entries = self._index
      extents: Dict[str, List[Tuple[str, object]]] = {}
      for key, entry in entries:
        if key.startswith(b"\x00"):
          name = slice_key_name(key)
          parts = extents.setdefault(name, [])
          parts.append((f"{name}[slice {len(parts)}]", entry))
        elif not entry.slices:
          extents[key.decode()] = [(key.decode(), entry)]
    except (ValueError, KeyError, IndexError, struct.error, UnicodeDecodeError):  # DecodeError is a ValueError.
      return None
    return header.num_shards, extents

  @functools.cached_property
  def sliced_keys(self) -> List[str]:
    """Keys stored as slices (TF1 partitioned variables: `get_variable(..., partitioner=...)`), sorted; they
    read as whole tensors. Empty when the index cannot be parsed here (it still reads through TensorFlow)."""
    if self._extents is None:
      return []
    return sorted(k for k, parts in self._extents[1].items() if parts[0][0] != k)

  def verify(self, keys: Sequence[str]) -> None:
    """Pass 1 of a load: checks that every byte of `keys` is there and matches its index CRC-32C, streaming.

    The data shards are read at each tensor's offset in 1 MiB chunks, so memory stays flat whatever the size
    (a sliced key: each of its slices). When the index cannot be parsed here, each tensor is read once through
    TensorFlow (which checks the CRC) and dropped. Each shard's identity (`file_identity`) is recorded first,
    in `verified_files`, so that pass 2 can tell the files it reads are the ones checked.

    Raises:
      CheckpointFormatError: naming every tensor that is short or corrupt and the data files; nothing has been
        assigned.
    """
    keys = sorted(set(keys))
    if self._extents is None:
      failures = []
      for key in keys:
        try:
          self.read_tensor(key)
        except _errors.CheckpointFormatError as e:
          detail = " ".join(str(getattr(e.__cause__, "message", e.__cause__)).split())
          failures.append(f"{key!r} ({type(e.__cause__).__name__}: {detail})")
    else:
      num_shards, extents = self._extents
      shards = [f"{self.prefix}.data-{i:05d}-of-{num_shards:05d}" for i in range(num_shards)]
      self.verified_files = {}
      for shard in shards:
        with contextlib.suppress(OSError):  # A missing shard is named by the scan below.
          self.verified_files[shard] = file_identity(os.stat(shard))
      items = [(label, entry) for key in keys for label, entry in extents.get(key, ())
               if entry.dtype != _DT_STRING]  # A string tensor's CRC is not over its extent; TF checks it.
      failures = crc_problems(items, shards, shards)
      strings = [k for k in keys if any(e.dtype == _DT_STRING for _, e in extents.get(k, ()))]
      for key in strings:
        try:
          self.read_tensor(key)
        except _errors.CheckpointFormatError as e:
          failures.append(f"{key!r} ({type(e.__cause__).__name__})")
    if failures:
      raise self._unreadable(failures)

  def _unreadable(self, failures: List[str]) -> _errors.CheckpointFormatError:
    data = sorted(glob.glob(glob.escape(self.prefix) + ".data-*"))
    return _errors.CheckpointFormatError(
        f"Cannot read {len(failures)} tensor(s) of checkpoint {self.prefix!r} from "
        f"{', '.join(repr(d) for d in data)}: {'; '.join(failures)}. The data file is truncated or corrupt; "
        f"copy it again. Nothing was assigned.")

  def check_extents(self) -> None:
    """Checks that each data shard is as long as the index says (the end of its last tensor).

    Raises:
      CheckpointFormatError: naming each short shard, its length and the length the index needs.
    """
    try:
      header, entries = self._index
      ends = [0] * header.num_shards
      for _, entry in entries:
        ends[entry.shard_id] = max(ends[entry.shard_id], entry.offset + entry.size)
    except (ValueError, KeyError, IndexError, struct.error, message.DecodeError) as e:
      raise _errors.CheckpointFormatError(
          f"Cannot read the checkpoint index {self.prefix + '.index'!r} ({type(e).__name__}: {e}); it is truncated "
          f"or corrupt. Copy the '.index' file again from where the checkpoint was written.") from e
    short = []
    for i, end in enumerate(ends):
      shard = f"{self.prefix}.data-{i:05d}-of-{header.num_shards:05d}"
      size = os.path.getsize(shard) if os.path.exists(shard) else 0
      if size < end:
        short.append(f"{shard!r} has {size} bytes, the index needs {end}")
    if short:
      raise _errors.CheckpointFormatError(
          f"Checkpoint {self.prefix!r} is truncated: {'; '.join(short)}. Copy the data file(s) again from where "
          f"the checkpoint was written.")

  def object_graph(self) -> bytes:
    """The serialized `TrackableObjectGraph` of an object-based checkpoint."""
    return self._reader.get_tensor(OBJECT_GRAPH_KEY)

  def read_numpy(self, key: str) -> np.ndarray:
    """One tensor as NumPy; a truncated shard raises `CheckpointFormatError` naming the key."""
    try:
      return self._reader.get_tensor(key)
    except (tf.errors.OpError, ValueError, IndexError) as e:  # A truncated shard raises IndexError.
      raise read_error(self.prefix, key, e) from e

  def read_tensor(self, key: str) -> tf.Tensor:
    """One tensor with TensorFlow's own `RestoreV2`, never through NumPy."""
    try:
      (value,) = tf.raw_ops.RestoreV2(prefix=self.prefix, tensor_names=[key], shape_and_slices=[""],
                                      dtypes=[tf.as_dtype(self.specs[key][1])])
    except tf.errors.OpError as e:
      raise read_error(self.prefix, key, e) from e
    return value

  def read_all(self, keys: Sequence[str]) -> Dict[str, np.ndarray]:
    """Reads every key into NumPy; one CheckpointFormatError lists every key that fails (truncated data)."""
    values, failures = {}, []
    for key in keys:
      try:
        values[key] = self._reader.get_tensor(key)
      except (tf.errors.OpError, IndexError, ValueError) as e:
        failures.append(f"{key!r} ({type(e).__name__}: {getattr(e, 'message', e)})")
    if failures:
      raise self._unreadable(failures)
    return values


def open_bundle(path) -> Bundle:
  """Resolves `path` (see `keras_bridge.resolve_checkpoint`), checks its files and opens its index, once.

  A `Bundle` is returned as it is, so that functions taking a path can be handed an opened checkpoint.

  Raises:
    CheckpointNotFoundError: nothing at `path`, a directory without a state file, a state file that names a
      missing checkpoint, or a missing `.data` shard.
    CheckpointFormatError: `path` is a file but not part of a checkpoint, or the index cannot be read.
  """
  if isinstance(path, Bundle):
    return path
  _roll_forward(path)
  return Bundle(_resolve(path))


def _roll_forward(path) -> None:
  """Finishes a committed write that a killed writer left next to `path` before reading it, as the next writer
  would (`recover`): its COMMIT record says the new checkpoint is complete, so a reader must see it, not a prefix
  whose index was already removed. Best effort: a directory the reader may not write is read as it is."""
  path = os.path.expanduser(os.fspath(path))
  directory = path if os.path.isdir(path) else os.path.dirname(path) or "."
  try:
    committed = any(name.startswith(".") and ".tmp-" in name
                    and os.path.exists(os.path.join(directory, name, COMMIT_FILE)) for name in os.listdir(directory))
  except OSError:
    return
  if committed:
    with contextlib.suppress(OSError):
      recover(directory)


# ---------------------------------------------------------------------------------------------------------
# The copy path (name-based -> object-based): the `.data` files are copied as they are and only the index is
# rewritten under the new keys.
#
# TensorFlow's restore cannot read a tensor under a name-based key: it looks each variable up by the
# `checkpoint_key` of the object graph, but requires that key to have the form `<path>/.ATTRIBUTES/<name>`
# (`restore._extract_saveable_name`), so pointing the graph at `hidden1/kernel` fails. The index, though, is
# a table of records that know nothing of the bytes around them (`keras_bridge._sstable`); one with the
# object-based keys over the copied data files is a valid bundle.


class CopyPlan(NamedTuple):
  """The renamed index of a name-based source: its header, `(new key, entry)` records, and its files.

  `data` (one of `DATA_MODES`) says how the data files are carried; `verify` whether each referenced tensor's
  CRC-32C is checked in the output before the commit: True in every file, None (the default) in the files
  carried by copying their bytes, False in none. A reflinked or hard-linked file holds no new bytes (it shares
  the source's blocks), and its index keeps the source's CRC-32C for every later reader.
  """

  header: bytes
  entries: List[Tuple[bytes, bytes]]
  shards: List[str]
  referenced_bytes: int
  data_bytes: int
  data: str = "auto"
  verify: Optional[bool] = None


class Extent(NamedTuple):
  """Where a tensor's bytes lie: `size` bytes at `offset` of file `path`, with the masked CRC-32C `crc32c`."""

  key: str
  path: str
  offset: int
  size: int
  crc32c: int


def copy_plan(prefix: str, rename: Dict[str, str]):
  """The index of `prefix` keeping only the keys in `rename`, renamed; or `(None, why)` to stream instead."""
  try:
    records = dict(_sstable.read_table(prefix + ".index"))
    header = _tf_private.parse_bundle_header(records[b""])
    entries = {new: _tf_private.parse_bundle_entry(records[old.encode()])
               for old, new in rename.items()}
  except (ValueError, KeyError, IndexError, struct.error, message.DecodeError) as e:
    return None, f"its index cannot be read here ({type(e).__name__}: {e})"
  if any(e.slices for e in entries.values()):
    return None, "it holds partitioned (sliced) variables"
  if any(e.dtype == _DT_STRING for e in entries.values()):
    return None, "it holds string tensors"
  shards, sizes = _shard_sizes(prefix, header.num_shards)
  _check_within(prefix, entries, sizes)
  plan = CopyPlan(records[b""], sorted((k.encode(), e.SerializeToString()) for k, e in entries.items()),
                  shards, sum(e.size for e in entries.values()), sum(sizes))
  if plan.referenced_bytes < _COPY_MIN_REFERENCED * plan.data_bytes:
    return None, (f"only {plan.referenced_bytes} of its {plan.data_bytes} data bytes are model weights "
                  f"(less than {_COPY_MIN_REFERENCED:.0%})")
  return plan, ""


def _shard_sizes(prefix: str, num_shards: int) -> Tuple[List[str], List[int]]:
  shards = [f"{prefix}.data-{i:05d}-of-{num_shards:05d}" for i in range(num_shards)]
  return shards, [os.path.getsize(s) for s in shards]


def _check_within(prefix: str, entries, sizes: Sequence[int]) -> None:
  """Raises naming every key of `{key: BundleEntryProto}` whose bytes lie beyond the end of its shard."""
  truncated = sorted(k for k, e in entries.items() if e.offset + e.size > sizes[e.shard_id])
  if truncated:
    raise _errors.CheckpointFormatError(
        f"Checkpoint {prefix!r}: the data of {', '.join(repr(k) for k in truncated)} lies beyond the end of "
        f"its shard; the data file is truncated or corrupt. Copy it again. Nothing was written.")


def extents(bundle: "Bundle", keys: Sequence[str]) -> Dict[str, Extent]:
  """Where the bytes of each of `keys` lie in `bundle`'s data files, for those read as they are stored.

  Left out: sliced and string tensors, keys of a big-endian bundle, and every key when the index cannot be
  parsed here; their readers go through TensorFlow instead.

  Raises:
    CheckpointFormatError: naming every key whose bytes lie beyond the end of its (truncated) data file.
  """
  try:
    header, records = bundle._index  # pylint: disable=protected-access
    by_key = dict(records)
    entries = {key: by_key[key.encode()] for key in keys}
  except (ValueError, KeyError, IndexError, struct.error, message.DecodeError):
    return {}
  if header.endianness != 0:  # BundleHeaderProto.LITTLE
    return {}
  entries = {k: e for k, e in entries.items() if not e.slices and e.dtype != _DT_STRING}
  shards, sizes = _shard_sizes(bundle.prefix, header.num_shards)
  _check_within(bundle.prefix, entries, sizes)
  return {k: Extent(k, shards[e.shard_id], e.offset, e.size, e.crc32c) for k, e in entries.items()}


def _reflink(src: str, dst: str) -> Optional[OSError]:
  """Clones `src` as the new file `dst` (FICLONE); the refusal where the filesystem cannot share extents."""
  with open(src, "rb") as f, open(dst, "wb") as g:
    try:
      fcntl.ioctl(g.fileno(), _FICLONE, f.fileno())
      return None
    except OSError as e:
      if e.errno not in _NO_REFLINK:
        raise
      return e


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


def copy_range(src_fd: int, dst_fd: int, src_offset: int, dst_offset: int, size: int) -> None:
  """Copies `size` bytes between open files in the kernel (`copy_file_range`, else `sendfile`)."""
  done = 0
  try:
    while done < size:
      n = os.copy_file_range(src_fd, dst_fd, size - done, src_offset + done, dst_offset + done)
      if not n:
        break
      done += n
  except OSError:
    pass
  os.lseek(dst_fd, dst_offset + done, os.SEEK_SET)
  while done < size:
    n = os.sendfile(dst_fd, src_fd, src_offset + done, size - done)
    if not n:
      raise _errors.CheckpointFormatError(
          f"Data file {os.readlink(f'/proc/self/fd/{src_fd}')!r} ended {size - done} bytes early while copying "
          f"{size} bytes at {src_offset}; it is truncated or corrupt. Copy it again. Nothing was written.")
    done += n


def _carry(src: str, dst: str, data: str, output: str) -> str:
  """Puts data file `src` at `dst` as `data` (one of `DATA_MODES`) asks; returns "reflink", "hardlink" or "copy"."""
  if data == "hardlink":
    try:
      os.link(src, dst)
    except OSError as e:
      if e.errno not in _NO_HARDLINK:
        raise
      raise _errors.ArgumentError(
          f"data='hardlink' (--data=hardlink): cannot hard-link {src!r} into the output {output!r} "
          f"({os.strerror(e.errno)}); a hard link needs both on one filesystem that allows it. Pass "
          f"data='auto' to reflink or copy instead, or write the output on the source's filesystem. Nothing "
          f"was written.") from e
    return "hardlink"
  if data == "copy":
    shutil.copyfile(src, dst)  # `sendfile`: never shares extents, where `copy_file_range` may (XFS, btrfs).
    return "copy"
  refused = _reflink(src, dst)
  if refused is None:
    return "reflink"
  if data == "reflink":
    raise _errors.ArgumentError(
        f"data='reflink' (--data=reflink): cannot reflink {src!r} into the output {output!r} "
        f"({os.strerror(refused.errno)}); reflinks need the source and the output on one filesystem that has "
        f"them (XFS made with reflink=1, btrfs). Pass data='auto' to copy where they are not possible, or "
        f"write the output on such a filesystem. Nothing was written.")
  _copy_file(src, dst)
  return "copy"


def _copy_bundle(plan: CopyPlan, part: str, output: str, progress) -> str:
  """Writes bundle `part`: the source's data files carried as `plan.data` asks, each referenced tensor's CRC-32C
  checked there as `plan.verify` says, and the renamed index; returns how the files were carried ("+"-joined).

  The output shares an inode with the source only with `data="hardlink"`.
  """
  os.makedirs(os.path.dirname(part), exist_ok=True)
  copies, hows = [], []
  # Each file is synced (for the commit) in the background while the next is carried and the CRCs are read: the
  # disk writes overlap the work in memory.
  with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
    synced = []
    for i, shard in enumerate(plan.shards):
      report_progress(progress, i + 1, len(plan.shards), f"{plan.data} {shard}", os.path.getsize(shard))
      copies.append(part + shard[len(shard) - len(".data-00000-of-00000"):])
      hows.append(_carry(shard, copies[-1], plan.data, output))
      synced.append(pool.submit(fsync, copies[-1]))
    checked = {i for i, how in enumerate(hows) if plan.verify or plan.verify is None and how == "copy"}
    if checked:
      verify_crcs(plan, copies, checked)
    for done in synced:
      done.result()
  _sstable.write_table(part + ".index", [(b"", plan.header)] + plan.entries)
  return "+".join(sorted(set(hows)))


def slice_key_name(key: bytes) -> str:
  """The variable name of a slice's index key (`checkpoint::EncodeTensorNameSlice`: a 0 byte, then the name in
  OrderedCode, where 0x00 is written 0x00 0xFF and 0xFF is written 0xFF 0x00, ended by 0x00 0x01)."""
  name, i = bytearray(), 1
  while key[i:i + 2] != b"\x00\x01":
    name.append(key[i])
    i += 2 if key[i] in (0x00, 0xFF) else 1
  return name.decode()


def file_identity(st: os.stat_result) -> tuple:
  """What changes when a file is replaced, rewritten, truncated or extended: device, inode, size, modification
  and status-change times (ns)."""
  return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def aligned_buffer(size: int, alignment: int = 64) -> np.ndarray:
  """A uint8 NumPy array of `size` bytes whose data starts on an `alignment`-byte boundary (TensorFlow's CPU
  kernels expect 64)."""
  raw = np.empty(size + alignment, np.uint8)
  start = -raw.ctypes.data % alignment
  return raw[start:start + size]


def pread_into(fd: int, offset: int, out: np.ndarray, pool: concurrent.futures.Executor) -> int:
  """Fills `out` (a uint8 array) with the bytes at `offset` of the open file `fd`; returns how many were read
  (fewer than `out.nbytes`: the file ends early). From `_PARALLEL_READ_BYTES` on, the two halves are read at
  once on `pool` (two workers; `preadv` releases the GIL), about twice as fast from the page cache."""
  def read(start, end):
    got = 0
    while start + got < end:
      n = os.preadv(fd, [out[start + got:end]], offset + start + got)
      if n == 0:
        break
      got += n
    return got

  size = out.nbytes
  if size < _PARALLEL_READ_BYTES:
    return read(0, size)
  half = size // 2 // 4096 * 4096
  first, second = pool.submit(read, 0, half), pool.submit(read, half, size)
  concurrent.futures.wait((first, second))  # Both stopped, even on an error: neither writes into `out` later.
  got = first.result()
  return got if got < half else got + second.result()


def _scan_crcs(records) -> List[str]:
  """`records` of `(label, path, offset, size, crc32c, origin)` read and checked in file order, streaming in 1 MiB
  chunks (google-crc32c); returns one line per short or mismatching tensor, naming its bytes in `origin` (the file
  the bytes came from)."""
  bad, handles = [], {}
  try:
    for label, path, offset, size, expected, origin in sorted(records, key=lambda r: (r[1], r[2])):
      f = handles.get(path)
      if f is None:
        f = handles[path] = open(path, "rb", buffering=0)  # pylint: disable=consider-using-with
      f.seek(offset)
      crc, left = 0, size
      while left:
        chunk = f.read(min(left, _CRC_CHUNK))  # google_crc32c takes bytes only, not a view of a reused buffer.
        if not chunk:
          break
        crc, left = google_crc32c.extend(crc, chunk), left - len(chunk)
      where = f"bytes {offset}..{offset + size} of {origin!r}"
      if left:
        bad.append(f"{label!r} ({where}: the file ends {left} bytes early)")
      elif _sstable.mask(crc) != expected:
        bad.append(f"{label!r} ({where}: CRC-32C mismatch)")
  finally:
    for f in handles.values():
      f.close()
  return bad


def crc_problems(items: Sequence[Tuple[str, object]], files: Sequence[str], sources: Sequence[str]) -> List[str]:
  """Each `(label, BundleEntryProto)`'s bytes in `files[entry.shard_id]` checked against its index CRC-32C
  (`_scan_crcs`), named in `sources[entry.shard_id]`."""
  return _scan_crcs([(label, files[e.shard_id], e.offset, e.size, e.crc32c, sources[e.shard_id])
                     for label, e in items])


def verify_crcs(plan: CopyPlan, copies: Sequence[str], shards: Optional[Set[int]] = None) -> None:
  """Checks each referenced tensor's bytes in `copies` (those in `shards`, default all) against its index
  CRC-32C; see `check_crcs`."""
  found = []
  for key, value in plan.entries:
    entry = _tf_private.parse_bundle_entry(value)
    if shards is not None and entry.shard_id not in shards:
      continue
    found.append((Extent(key.decode(), copies[entry.shard_id], entry.offset, entry.size, entry.crc32c),
                  plan.shards[entry.shard_id]))
  check_crcs(found)


def check_crcs(found: Sequence[Tuple[Extent, str]]) -> None:
  """Checks the bytes of each `(extent, origin)` against its CRC-32C (google-crc32c), streaming in 1 MiB reads.

  Raises:
    CheckpointFormatError: naming every key whose bytes do not match, and the source file (`origin`) they came
      from.
  """
  bad = _scan_crcs([(x.key, x.path, x.offset, x.size, x.crc32c, origin) for x, origin in found])
  if bad:
    raise _errors.CheckpointFormatError(
        f"The data of {len(bad)} tensor(s) does not match the CRC-32C in the source's index: {'; '.join(bad)}. "
        f"The source data file is corrupt; copy it again from where the checkpoint was written. Nothing was "
        f"written.")


# ---------------------------------------------------------------------------------------------------------
# Writing.


def bundle_files(prefix: str) -> List[str]:
  """The files of the checkpoint at `prefix` that exist: its data shards and its index."""
  return sorted(glob.glob(glob.escape(prefix) + ".data-?????-of-?????") +
                [p for p in (prefix + ".index",) if os.path.exists(p)])


def check_unique_keys(sources: Dict[str, List[str]], what: str, fix: str) -> None:
  """Refuses two values under one key: `sources` maps each key to the values that would go there.

  Raises:
    MappingError: naming every clashing key and its values; `fix` says what to change.
  """
  clashes = {k: v for k, v in sources.items() if len(v) > 1}
  if clashes:
    raise _errors.MappingError(
        f"Several {what} would be written under the same TF1 key: " +
        "; ".join(f"{k!r} from {', '.join(v)}" for k, v in sorted(clashes.items())) +
        f". {fix} so that each key is written once. Nothing was written.")


def _batches(items, batch_bytes):
  """Splits `(key, read, nbytes)` items into runs of at most `batch_bytes` (a larger item alone)."""
  batch, size = [], 0
  for item in items:
    if batch and batch_bytes is not None and size + item[2] > batch_bytes:
      yield batch
      batch, size = [], 0
    batch.append(item)
    size += item[2]
  if batch:
    yield batch


def report_progress(progress, i, n, key, nbytes):
  if callable(progress):
    progress(i, n, key, nbytes)
  elif progress:
    print(f"[{i}/{n}] {key} ({nbytes} bytes)", file=sys.stderr, flush=True)


def write_bundle(prefix: str, items: Sequence[Item], progress=False, copy: Optional[CopyPlan] = None, *,
                 one_batch: bool = False, record_state: bool = False) -> str:
  """Writes `(key, read, nbytes)` items (and the bundle of `copy`) as a checkpoint at `prefix`, atomically.

  Each batch of items is saved by `SaveV2` as its own bundle in a temporary directory next to `prefix`;
  `MergeV2Checkpoints` joins them, the files are synced, a `COMMIT` record is written, and the result is moved
  into place by `finish_commit`: the old index removed first (so old data files are never read with a new
  index, nor new ones with the old), the data files, the new index last, then the data shards of an
  overwritten checkpoint that the new one does not replace. A crash at any moment leaves `prefix` absent or
  complete once the next writer in the directory has run (`recover`). The writer holds `prefix`'s lock.

  Args:
    prefix: the checkpoint prefix; its directory must exist.
    items: `(key, read, nbytes)`; `read()` returns the tensor (or array) and is called once, in its batch.
    progress: see `keras_bridge.convert_checkpoint`.
    copy: a `CopyPlan` whose data files join the output as they are.
    one_batch: write every item with one `SaveV2` (one data shard) instead of batches of `BATCH_BYTES`.
    record_state: make `prefix` the latest checkpoint of its directory's `checkpoint` state file.

  Returns:
    How `copy`'s data files were carried: "copy", "reflink" or "hardlink" ("" without `copy`).

  Raises:
    OutputBusyError: another process is writing `prefix`.
    StorageError: the operating system refused a write (no permission, read-only or full disk, I/O error).
    CheckpointFormatError: a copied tensor fails its CRC-32C check.
    ArgumentError: `copy.data` asks for a reflink or hard link that the filesystem refuses.
  """
  directory = os.path.dirname(os.path.abspath(prefix))
  with _durable.writer_lock(prefix), _durable.storage_errors(prefix, "write the checkpoint"):
    recover(directory)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(prefix)}.tmp-", dir=directory)
    committed = False
    try:
      merged, carried = _write_parts(prefix, tmp, items, progress, copy, one_batch)
      new = [prefix + data[len(merged):] for data in glob.glob(glob.escape(merged) + ".data-*")]
      stale = sorted(set(bundle_files(prefix)) - set(new) - {prefix + ".index"})
      _fsync_all(glob.glob(glob.escape(merged) + ".*"))
      _write_synced(os.path.join(tmp, COMMIT_FILE), json.dumps(
          {"prefix": os.path.basename(prefix), "stale": [os.path.basename(p) for p in stale],
           "record_state": record_state}))
      fsync(tmp)
      committed = True
      finish_commit(tmp)
      return carried
    finally:
      if not committed:  # A committed write that failed halfway stays, for the next writer to roll forward.
        shutil.rmtree(tmp, ignore_errors=True)


def _write_parts(prefix: str, tmp: str, items, progress, copy, one_batch) -> Tuple[str, str]:
  """Writes every item (and the copy) as one merged bundle in `tmp`; returns its prefix and how the copy went."""
  parts, done, carried = [], 0, ""
  if copy is not None:
    parts.append(os.path.join(tmp, "copied", "part"))
    carried = _copy_bundle(copy, parts[0], prefix, progress)
  for j, batch in enumerate(_batches(items, None if one_batch else BATCH_BYTES)):
    tensors = []
    for key, read, nbytes in batch:
      done += 1
      report_progress(progress, done, len(items), key, nbytes)
      tensors.append(tf.convert_to_tensor(read()))
    part = os.path.join(tmp, "parts", f"part-{j:05d}")
    tf.raw_ops.SaveV2(prefix=part, tensor_names=[k for k, _, _ in batch], shape_and_slices=[""] * len(batch),
                      tensors=tensors)
    del tensors
    parts.append(part)
  merged = os.path.join(tmp, "merged")
  tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=parts, destination_prefix=merged, delete_old_dirs=True)
  return merged, carried


def _fsync_all(paths: Sequence[str]) -> None:
  """Syncs `paths` concurrently: the filesystem commits its journal for all of them at once, not once each."""
  with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(16, len(paths)))) as pool:
    list(pool.map(fsync, paths))


def fsync(path: str) -> None:
  """Flushes the file or directory at `path` to the device."""
  fd = os.open(path, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def _write_synced(path: str, text: str) -> None:
  with open(path, "w", encoding="utf-8") as f:
    f.write(text)
    f.flush()
    os.fsync(f.fileno())


def finish_commit(tmp: str) -> bool:
  """Moves the committed bundle in temporary directory `tmp` into place; False when `tmp` holds no commit.

  Idempotent, so that a writer killed halfway is finished by the next one: each step checks what is done.
  """
  try:
    with open(os.path.join(tmp, COMMIT_FILE), encoding="utf-8") as f:
      commit = json.load(f)
  except (OSError, ValueError):
    return False  # Killed before the commit: the old checkpoint is untouched; the caller removes `tmp`.
  directory = os.path.dirname(tmp)
  prefix, merged = os.path.join(directory, commit["prefix"]), os.path.join(tmp, "merged")
  if os.path.exists(merged + ".index"):
    if os.path.exists(prefix + ".index"):
      os.remove(prefix + ".index")  # First: old data files are never read with the new index, nor the reverse.
    for data in glob.glob(glob.escape(merged) + ".data-*"):
      os.replace(data, prefix + data[len(merged):])
    os.replace(merged + ".index", prefix + ".index")
  for name in commit["stale"]:
    if os.path.exists(os.path.join(directory, name)):
      os.remove(os.path.join(directory, name))
  fsync(directory)
  if commit["record_state"]:
    record_in_state(directory, prefix)
  shutil.rmtree(tmp, ignore_errors=True)
  return True


def recover(directory: str) -> int:
  """Finishes committed writes and removes what killed writers left in `directory` (see `_durable.sweep`)."""
  return _durable.sweep(directory, finish_commit)


def record_in_state(directory: str, prefix: str) -> None:
  """Makes `prefix` the latest checkpoint in `directory`'s state file, keeping the earlier entries."""
  with _durable.writer_lock(os.path.join(directory, STATE_FILE), wait=True):
    _record_in_state(directory, prefix)


def _record_in_state(directory: str, prefix: str) -> None:
  name = os.path.basename(prefix)
  try:
    state = tf.train.get_checkpoint_state(directory)
  except Exception:  # A corrupt state file is replaced; the checkpoint files themselves are fine.
    state = None
  earlier = [os.path.basename(p) if os.path.dirname(p) in ("", directory) else p
             for p in (state.all_model_checkpoint_paths if state else [])]
  paths = [p for p in earlier if p != name] + [name]
  state = tf.compat.v1.train.generate_checkpoint_state_proto(directory, name, all_model_checkpoint_paths=paths)
  _durable.replace_text(os.path.join(directory, STATE_FILE), text_format.MessageToString(state))
