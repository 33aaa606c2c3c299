"""Every private Keras 3 API the bridge uses, each behind one named function or class.

Keras is pinned in pyproject.toml to the versions the suite has passed on; `saving_lib`'s store changed shape
within Keras 3.x, and optimizer slot lists are private attributes. Each name here is exercised by
tests/conformance/test_keras_private.py, so a new Keras version that moves one fails there, by name, before
anything else. See BUILD.md, "Checking a new TF/Keras version".
"""

from typing import List

import keras
from keras.src.saving import saving_lib
import numpy as np

#: (TF1 optimizer kind, TF1 slot name) -> the Keras optimizer attribute holding the same state, one variable per
#: trainable variable in `optimizer.variables` order (`SGD.momentums` is public; the others are private).
SLOT_ATTRS = {
    ("Momentum", "momentum"): "momentums",
    ("Adam", "m"): "_momentums",
    ("Adam", "v"): "_velocities",
    ("RMSProp", "rms"): "_velocities",
    ("RMSProp", "mg"): "_average_gradients",
    ("RMSProp", "momentum"): "_momentums",
    ("Adagrad", "accumulator"): "_accumulators",
}


# Layers.


def own_variables(layer) -> List[keras.Variable]:
  """The variables `layer` itself tracks (not its sublayers'): `_trainable_variables + _non_trainable_variables`."""
  return list(layer._trainable_variables) + list(layer._non_trainable_variables)  # pylint: disable=protected-access


def sublayers(layer) -> List[keras.layers.Layer]:
  """The layers `layer` tracks directly, in tracking order: `layer._layers`."""
  return list(layer._layers)  # pylint: disable=protected-access


# Optimizers.


def slot_variables(optimizer, attr: str) -> List[keras.Variable]:
  """The slot list `attr` (a value of `SLOT_ATTRS`) of a built optimizer; empty where it keeps none."""
  return getattr(optimizer, attr)


def variable_index(optimizer, variable) -> int:
  """The index of `variable` in every slot list of a built optimizer: `optimizer._get_variable_index`."""
  return optimizer._get_variable_index(variable)  # pylint: disable=protected-access


def tracks(optimizer, variable) -> bool:
  """Whether a built optimizer was built for `variable`: `_var_key(v) in _trainable_variables_indices`."""
  return optimizer._var_key(variable) in optimizer._trainable_variables_indices  # pylint: disable=protected-access


def learning_rate_value(optimizer):
  """The stored learning rate: a `keras.Variable`, or the schedule object: `optimizer._learning_rate`."""
  return optimizer._learning_rate  # pylint: disable=protected-access


# The `.weights.h5` writer (keras.src.saving.saving_lib).


def save_state(model, store) -> None:
  """Keras's own traversal (what `save_weights` runs), so the layout is exactly the one `load_weights` reads."""
  saving_lib._save_state(model, weights_store=store, assets_store=None, inner_path="",  # pylint: disable=protected-access
                         visited_saveables=set())


class LayoutStore(saving_lib.H5IOStore):
  """Records what Keras's `.weights.h5` writer would write, without a file.

  `entries` lists `(dataset, value)`; `groups` lists `(path, metadata)` of each `<path>/vars` group in the order
  `H5IOStore` creates it (at `make` when it has metadata, else at its first dataset), so that replaying both
  (`keras_bridge._keras_h5.write_h5`) writes the file `save_weights` writes.
  """

  def __init__(self):  # pylint: disable=super-init-not-called
    self.mode = "w"
    self.archive = None
    self.io_file = None
    self.entries = []
    self.groups = []
    self._path = ""
    self._created = True

  def __bool__(self):
    return True

  def make(self, path, metadata=None):
    self._path, self._created = path, bool(metadata)
    if metadata:
      self.groups.append((path, dict(metadata)))
    return self

  def __setitem__(self, key, value):
    if not self._created:
      self.groups.append((self._path, None))
      self._created = True
    self.entries.append((f"{self._path}/vars/{key}" if self._path else f"vars/{key}", value))

  def close(self):
    pass


def put_array(group, key: str, array: np.ndarray) -> None:
  """Writes `array` as dataset `key` of `group` as `H5IOStore.__setitem__` does (bfloat16 tagged so)."""
  if keras.backend.standardize_dtype(array.dtype) == "bfloat16":
    group.create_dataset(key, data=array).attrs["dtype"] = "bfloat16"
  else:
    group[key] = array


def to_numpy(value) -> np.ndarray:
  """A variable's value as `H5IOStore` writes it."""
  return np.asarray(keras.ops.convert_to_numpy(value))
