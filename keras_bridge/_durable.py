"""Writes that a crash cannot tear or leak: the writer lock, the sweep of what killed writers left, OS errors.

One promise holds for every output (a checkpoint prefix, a `.weights.h5` file, a training run's directory):
after a crash at any moment the output is absent or complete, and the next writer in its directory removes
(or, for a committed bundle, finishes) what the crash left. The pieces:

* `writer_lock(path)`: an advisory `fcntl.flock` on `<dir>/.<name>.lock`, taken without waiting, so a second
  writer of the same output fails with `OutputBusyError` instead of interleaving its files. The kernel drops
  the lock when its holder dies; the file is removed by the holder at the end or, if stale, by the next sweep.
* `sweep(directory)`: removes temporary files and directories (`.<name>.tmp-*` of this package, `<prefix>_temp/`
  and `*.tempstate*` of TensorFlow's own `Saver`) whose owner holds no live lock, after letting a caller finish
  those that were committed (see `keras_bridge._bundle.write_bundle`).
* `storage_errors(path, action)`: turns the operating system's refusals (EACCES, EROFS, ENOSPC, EIO, ...),
  raised as `OSError` or as TensorFlow's `OpError`, into one `StorageError` line naming the file and the fix.

Nothing here imports TensorFlow at module level, so the scripts' error handling can use it before TF loads.
"""

import contextlib
import errno
import fcntl
import os
import re
import shutil
import threading
from typing import Callable, Iterator, Optional

from keras_bridge import _errors

_held = {}  # (lock path, thread id) -> [fd, depth]: a lock already held is re-entered, not retaken.
_held_guard = threading.Lock()

# Leftovers of killed writers: `(regex on the entry name, group of the owner's name)`.
_LEFTOVERS = (
    re.compile(r"^\.(?P<owner>.+)\.tmp-[^/]*$"),  # This package's temporary bundles, weights files, state files.
    re.compile(r"^(?P<owner>.+)_temp$"),  # TensorFlow's sharded Saver: `<prefix>_temp/part-*`.
    re.compile(r"^(?P<owner>.+?)\.(index|data-\d{5}-of-\d{5}|meta)\.tempstate\d+$"),  # TensorFlow's BundleWriter.
    re.compile(r"^(?P<owner>.+)\.tmp[0-9a-f]{32}$"),  # TensorFlow's atomic_write_string_to_file (the state file).
)
_LOCK_RE = re.compile(r"^\.(?P<owner>.+)\.lock$")

_REASONS = {
    errno.EACCES: ("permission was denied", "run as a user who may write there, or choose another output path"),
    errno.EPERM: ("the operation is not permitted", "run as a user who may write there, or choose another path"),
    errno.EROFS: ("the filesystem is read-only", "choose an output path on a writable filesystem"),
    errno.ENOSPC: ("the device is full", "free space on that device, or choose an output path on another one"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space within your quota, or choose another output path"),
    errno.EIO: ("the device reported an I/O error", "check the disk (dmesg, smartctl) and copy the files to a "
                "healthy device"),
}
# TensorFlow's OpErrors carry the strerror text, not the errno.
_TF_MESSAGES = {"Permission denied": errno.EACCES, "Read-only file system": errno.EROFS,
                "No space left on device": errno.ENOSPC, "Disk quota exceeded": errno.EDQUOT,
                "Input/output error": errno.EIO}


def lock_path(path: str) -> str:
  """The lock file of output `path`: `<dir>/.<name>.lock`."""
  directory, name = os.path.split(os.path.abspath(path))
  return os.path.join(directory, f".{name}.lock")


def _try_lock(path: str, wait: bool = False) -> Optional[int]:
  """An fd holding `path`'s exclusive lock, or None when a live process holds it (and `wait` is False)."""
  while True:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
      os.close(fd)
      return None
    # The last holder may have removed the file between our open and our lock: lock the file that is there.
    try:
      if os.path.samestat(os.fstat(fd), os.stat(path)):
        return fd
    except FileNotFoundError:
      pass
    os.close(fd)


def _release(path: str, fd: int) -> None:
  with contextlib.suppress(FileNotFoundError):
    os.remove(path)  # While still locked, so that nobody locks a file that is about to vanish.
  os.close(fd)


@contextlib.contextmanager
def writer_lock(path: str, wait: bool = False) -> Iterator[None]:
  """Holds the lock of output `path` (a checkpoint prefix or a file) for the duration of the block.

  `wait=True` waits for the holder instead of failing (for the short update of a directory's state file).
  Re-entered by the same thread (a writer calling another writer of the same output) without retaking it.

  Raises:
    OutputBusyError: another live process (or thread) holds it.
    StorageError: the lock file cannot be created (read-only or full disk, no permission).
  """
  lock = lock_path(path)
  key = (lock, threading.get_ident())
  with _held_guard:
    if key in _held:
      _held[key][1] += 1
      entered = True
    else:
      entered = False
  if not entered:
    with storage_errors(lock, "lock the output"):
      fd = _try_lock(lock, wait)
    if fd is None:
      pid = _holder(lock)
      raise _errors.OutputBusyError(
          f"Output {path!r} is being written by another process{f' (pid {pid})' if pid else ''}: it holds the "
          f"lock {lock!r}. Wait for it to finish, or write to another path. Nothing was written.")
    os.write(fd, f"{os.getpid()}\n".encode())
    with _held_guard:
      _held[key] = [fd, 1]
  try:
    yield
  finally:
    with _held_guard:
      _held[key][1] -= 1
      done = _held[key][1] == 0
      fd = _held.pop(key)[0] if done else None
    if done:
      _release(lock, fd)


def _holder(lock: str) -> str:
  with contextlib.suppress(OSError, ValueError):
    with open(lock, encoding="ascii") as f:
      return str(int(f.read().strip()))
  return ""


def _held_here(owner_lock: str) -> bool:
  with _held_guard:
    return (owner_lock, threading.get_ident()) in _held


def _owners(directory: str, name: str):
  # A training run locks its base prefix ("model") while its Saver writes "model-<step>".
  return {os.path.join(directory, name), os.path.join(directory, re.sub(r"-\d+$", "", name))}


@contextlib.contextmanager
def _owners_idle(directory: str, name: str) -> Iterator[bool]:
  """Yields whether no live writer owns `name`; the owners' locks are held meanwhile."""
  taken, idle = [], True
  try:
    for owner in sorted(_owners(directory, name)):
      lock = lock_path(owner)
      if _held_here(lock):
        continue  # This process's own writer: its leftovers are from an earlier, dead run.
      fd = _try_lock(lock)
      if fd is None:
        idle = False
        break
      taken.append((lock, fd))
    yield idle
  finally:
    for lock, fd in taken:
      _release(lock, fd)


def sweep(directory: str, finish: Optional[Callable[[str], bool]] = None) -> int:
  """Removes what killed writers left in `directory`; returns the number of entries removed.

  Args:
    directory: the output directory.
    finish: called first with each of this package's temporary directories whose owner is idle; returns
      True when it finished (rolled forward) a committed write there, which then is not counted.
  """
  removed = 0
  try:
    names = os.listdir(directory)
  except OSError:
    return 0
  for name in sorted(names):
    path = os.path.join(directory, name)
    lock = _LOCK_RE.match(name)
    if lock:
      if not _held_here(path):
        fd = _try_lock(path)
        if fd is not None:
          _release(path, fd)  # A stale lock: its holder died.
      continue
    match = next((m for m in (r.match(name) for r in _LEFTOVERS) if m), None)
    if not match or (name.endswith("_temp") and not _is_saver_temp(path)):
      continue
    with _owners_idle(directory, match.group("owner")) as idle:
      if not idle:
        continue
      if finish is not None and os.path.isdir(path) and finish(path):
        continue
      if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
      else:
        with contextlib.suppress(FileNotFoundError):
          os.remove(path)
      removed += 1
  return removed


def _is_saver_temp(path: str) -> bool:
  """Whether `path` is a `Saver`'s `<prefix>_temp/` directory: `part-*` files only, never a user's folder."""
  try:
    return os.path.isdir(path) and all(n.startswith("part-") for n in os.listdir(path))
  except OSError:
    return False


def replace_text(path: str, text: str) -> None:
  """Writes `text` as file `path`: into `.<name>.tmp-<pid>` beside it (removed by `sweep` if the writer dies),
  synced, then renamed into place, so `path` is always either the old file or the whole new one."""
  directory, name = os.path.split(os.path.abspath(path))
  tmp = os.path.join(directory, f".{name}.tmp-{os.getpid()}-{threading.get_ident()}")
  with open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
    f.flush()
    os.fsync(f.fileno())
  os.replace(tmp, path)


def describe(e: BaseException) -> Optional[tuple]:
  """`(what happened, how to fix it)` for an OS refusal (OSError or TensorFlow OpError), else None."""
  code = getattr(e, "errno", None) if isinstance(e, OSError) else None
  if code is None:
    text = str(getattr(e, "message", "") or e)
    code = next((c for m, c in _TF_MESSAGES.items() if m in text), None)
  if code in _REASONS:
    return _REASONS[code]
  if isinstance(e, OSError):
    return (e.strerror or str(e)), "check the path and its directory, then run again"
  return None


def storage_error(e: BaseException, path: str, action: str) -> Optional[_errors.StorageError]:
  """The `StorageError` for OS refusal `e` while doing `action` on `path`, or None if `e` is no such error."""
  described = describe(e)
  if described is None:
    return None
  what, fix = described
  where = getattr(e, "filename", None) or path
  error = _errors.StorageError(f"Cannot {action} {where!r}: {what}; {fix}. A partly written output was not "
                               f"left in place.")
  error.errno = getattr(e, "errno", None)
  return error


@contextlib.contextmanager
def storage_errors(path: str, action: str = "write") -> Iterator[None]:
  """Re-raises OS refusals inside the block (OSError, TensorFlow's OpError) as one-line `StorageError`s."""
  try:
    yield
  except _errors.Error:
    raise
  except Exception as e:  # OSError, or a TensorFlow OpError (PermissionDenied, ResourceExhausted, Unknown...).
    if not isinstance(e, OSError) and type(e).__module__.split(".")[0] != "tensorflow":
      raise
    error = storage_error(e, path, action)
    if error is None:
      raise
    raise error from e
