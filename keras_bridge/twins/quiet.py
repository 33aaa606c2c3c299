"""Quiet TensorFlow for the command line: a script prints its own output and nothing of TensorFlow's.

On a CPU machine TensorFlow 2.21 writes a dozen lines to file descriptor 2 while it is imported and while it
looks for devices (`I0000 ... cudart_stub`, `E0000 ... failed call to cuInit`), before its C++ logging reads
`TF_CPP_MIN_LOG_LEVEL`; later C++ lines (colocation dumps, TFLite converter chatter) do honour it, and its
Python logger adds deprecation warnings and `Restoring parameters` lines. `enable` sets the level in-process,
before the import, and mutes the `tensorflow` logger; `tensorflow_imported` imports TensorFlow and sets up its
devices with descriptor 2 sent to a buffer, which is shown only if the import fails; `captured_chatter` does the
same around library calls that print (the TFLite converter and interpreter).

Nothing is muted until a script calls `enable` (library users and tests see everything), and absl's own
`-v`/`--verbosity` (0 or more) brings it all back. This module imports TensorFlow only in `tensorflow_imported`.
"""

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings

_enabled = False


#: Packages whose records below ERROR are dropped, when they log through absl directly.
_LIBRARIES = frozenset({"tensorflow", "keras", "tf_keras", "tensorflow_datasets", "tensorboard"})


def _errors_only(record: logging.LogRecord) -> bool:
  return record.levelno >= logging.ERROR


def _errors_only_from_libraries(record: logging.LogRecord) -> bool:
  # Some TensorFlow modules log through `absl.logging` ("Sharding callback duration"); the scripts' own
  # absl records stay.
  return record.levelno >= logging.ERROR or not _LIBRARIES.intersection(record.pathname.split(os.sep))


def enable(verbose: bool = False):
  """Mutes TensorFlow's logging for the rest of the process, unless `verbose` (absl's `-v 0` or more).

  Must run before TensorFlow is imported for the C++ level to apply, whatever `TF_CPP_MIN_LOG_LEVEL` the
  environment holds.
  """
  global _enabled
  _enabled = not verbose
  if verbose:
    return
  os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"  # Errors stay; INFO and WARNING lines go.
  # A filter, not a level: TensorFlow resets its logger's level (the TFLite converter does).
  for name, keep in (("tensorflow", _errors_only), ("absl", _errors_only_from_libraries)):
    logger = logging.getLogger(name)
    if keep not in logger.filters:
      logger.addFilter(keep)
  for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
    warnings.filterwarnings("ignore", category=category)
  warnings.filterwarnings("ignore", message=r".*(deprecated|will be removed)", category=UserWarning)


def enabled() -> bool:
  """Whether `enable` muted TensorFlow in this process."""
  return _enabled


@contextlib.contextmanager
def _held_back(stdout: bool = True):
  """Runs the block with descriptor 2 (where C++ logging writes) and, if `stdout`, `sys.stdout` sent to buffers.

  If the block raises, what was held back is written to descriptor 2, restored, before the exception goes on.
  """
  sys.stdout.flush()
  sys.stderr.flush()
  saved = os.dup(2)
  out = io.StringIO()
  with tempfile.TemporaryFile() as buffer:
    os.dup2(buffer.fileno(), 2)
    try:
      with contextlib.redirect_stdout(out) if stdout else contextlib.nullcontext():
        yield
    except BaseException:
      sys.stderr.flush()
      os.dup2(saved, 2)
      buffer.seek(0)
      os.write(2, out.getvalue().encode("utf-8") + buffer.read())
      raise
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)


@contextlib.contextmanager
def captured_chatter():
  """Runs the block with TensorFlow's prints and descriptor-2 lines held back; shown if the block fails.

  A no-op unless `enable` muted TensorFlow, so library users keep every line.
  """
  if not _enabled:
    yield
    return
  with _held_back():
    yield


@contextlib.contextmanager
def tensorflow_imported():
  """Imports TensorFlow and lists its devices with descriptor 2 held back, when `enable` muted it.

  The block runs the imports the caller needs (e.g. `from keras_bridge.twins import migration`) under the same
  hold. If anything fails, what TensorFlow wrote is shown before the exception.
  """
  if not _enabled:
    yield
    return
  # Not stdout: modules imported in the block may bind `sys.stdout` as a default argument.
  with _held_back(stdout=False):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top

    tf.config.list_physical_devices()  # Where the CUDA probe (`cuInit`) runs and complains.
    yield
