"""The error hierarchy of keras_bridge: one `Error` base, specific subclasses.

Every message says which file, key or weight is at fault, what was expected, what was found, and how to fix
it. Where several problems exist, all of them are listed in one error.
"""


class Error(Exception):
  """Base class of every error keras_bridge raises on bad input."""


class CheckpointNotFoundError(Error, FileNotFoundError):
  """A checkpoint path, prefix, state file or shard does not exist."""


class CheckpointFormatError(Error, ValueError):
  """A file is not a checkpoint, is truncated, or has the other format (name-based vs object-based)."""


class PartialLoadError(CheckpointFormatError):
  """A load whose checks passed failed while assigning (the files changed or failed in between); `assigned` lists
  the weights (and optimizer slots) that already hold the checkpoint's values."""

  def __init__(self, message, assigned=()):
    super().__init__(message)
    self.assigned = list(assigned)


class MappingError(Error, ValueError):
  """The TF1 keys and the Keras weights do not map one-to-one; carries the full report."""

  def __init__(self, message, report=None):
    super().__init__(message)
    self.report = report


class OptimizerStateError(Error, ValueError):
  """Optimizer slots are missing, belong to another optimizer, disagree on the step, or have wrong shapes."""


class OutputExistsError(Error, FileExistsError):
  """An output exists and `overwrite` was not given."""


class ArgumentError(Error, ValueError):
  """An argument is not one of the accepted choices, or does not fit the others (sizes, shapes, names)."""


class OutputBusyError(Error, BlockingIOError):
  """Another live process is writing the same output (it holds the output's lock file)."""


class StorageError(Error, OSError):
  """The operating system refused a read or write: no permission, a read-only or full disk, an I/O error."""

  @classmethod
  def from_os_error(cls, error: OSError, path: str = "", action: str = "write") -> "StorageError":
    """The one-line `StorageError` for `error` (what happened to which file, and the fix)."""
    from keras_bridge import _durable  # pylint: disable=g-import-not-at-top  (it imports this module)

    return _durable.storage_error(error, error.filename or path, action) or cls(f"Cannot {action} {path!r}: {error}")
