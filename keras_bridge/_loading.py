"""Loading with one copy of the model: check every tensor first, then assign them one at a time.

`load_tf1_checkpoint` and `load_tf1_training_state` promise that a failed load assigns nothing, without
reading the checkpoint into memory first (a second copy of the model). They load in two passes:

1. `Bundle.verify(keys)` (in `keras_bridge._bundle`): the mapping has already checked keys, shapes and
   dtypes; this pass streams every needed tensor's bytes through its index CRC-32C, 1 MiB at a time.
2. `assign(bundle, assignments)`: each tensor is read by TensorFlow's `RestoreV2` (a sliced key, TF1's
   partitioned variable, comes back whole) and assigned, so at most one tensor is held beyond the model.
   Weights built by a transform (`keras_bridge._transforms`: an RNN kernel's gates) go through NumPy, their
   source tensors kept only until the last weight that reads them. Under a `tf.distribute` strategy the
   caller assigns in its scope, so every replica gets the value.

A failure in pass 2 (the files changed or failed after a clean pass 1) raises `PartialLoadError` naming the
weights already assigned.
"""

from typing import List, NamedTuple, Optional, Sequence

import numpy as np
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _transforms


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
  """Pass 2: reads each assignment's tensor(s) with `RestoreV2` and assigns it, one at a time.

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
  for i, a in enumerate(assignments):
    try:
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
      else:
        a.variable.assign(bundle.read_tensor(a.spec))
        if a.scale is not None:  # In place, so that only one tensor is held beyond the model.
          a.variable.assign(tf.convert_to_tensor(a.variable) * tf.constant(a.scale, a.variable.dtype))
    except (_errors.Error, tf.errors.OpError, OSError, ValueError) as e:
      raise _partial(bundle.prefix, a, assignments, done, e) from e
    done.append(a.what)


def _partial(prefix, failed, assignments, done, error) -> _errors.PartialLoadError:
  error = error.__cause__ or error  # TensorFlow's own error, not `read_error`'s advice for converters.
  detail = " ".join(str(getattr(error, "message", None) or error).split())  # One line.
  rest = [a.what for a in assignments if a.what not in done]
  return _errors.PartialLoadError(
      f"Loading checkpoint {prefix!r} failed at {failed.what} ({_transforms.describe(failed.spec)!r}: "
      f"{type(error).__name__}: {detail}) after its CRC check had passed, so the files changed or failed during "
      f"the load. Assigned already ({len(done)}): {', '.join(done) or 'none'}; not assigned ({len(rest)}): "
      f"{', '.join(rest)}. Copy the checkpoint again and load it again.", assigned=done)
