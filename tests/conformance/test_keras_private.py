"""Every private Keras API of keras_bridge._keras_private behaves as the bridge assumes.

One test per fenced name (and per Keras optimizer class for the slot lists), so a Keras release that moves one
fails here by name. See BUILD.md, "Checking a new TF/Keras version".
"""

import keras
import numpy as np
import pytest

from keras_bridge import _keras_private as kp


def _model():
  return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")],
                          name="m")


def test_own_variables_and_sublayers():
  model = _model()
  assert [layer.name for layer in kp.sublayers(model)][-2:] == ["a", "b"]
  dense = model.get_layer("a")
  assert [v.name for v in kp.own_variables(dense)] == ["kernel", "bias"]
  assert kp.own_variables(model) == []


@pytest.mark.parametrize("make, attrs", [
    pytest.param(lambda: keras.optimizers.SGD(0.1, momentum=0.9), ["momentums"], id="SGD"),
    pytest.param(lambda: keras.optimizers.Adam(0.1), ["_momentums", "_velocities"], id="Adam"),
    pytest.param(lambda: keras.optimizers.RMSprop(0.1, momentum=0.9, centered=True),
                 ["_velocities", "_average_gradients", "_momentums"], id="RMSprop"),
    pytest.param(lambda: keras.optimizers.Adagrad(0.1), ["_accumulators"], id="Adagrad"),
])
def test_optimizer_slots_index_and_tracking(make, attrs):
  """Each slot list holds one variable per trainable variable, at `variable_index`, with its shape."""
  model, other = _model(), keras.Variable(np.zeros((5,), np.float32))
  optimizer = make()
  optimizer.build(model.trainable_variables)
  assert set(attrs) <= set(kp.SLOT_ATTRS.values())
  for var in model.trainable_variables:
    assert kp.tracks(optimizer, var)
    for attr in attrs:
      slot = kp.slot_variables(optimizer, attr)[kp.variable_index(optimizer, var)]
      assert tuple(slot.shape) == tuple(var.shape)
  assert not kp.tracks(optimizer, other)
  assert isinstance(kp.learning_rate_value(optimizer), keras.Variable)


def test_schedule_learning_rate_is_not_a_variable():
  schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
  assert kp.learning_rate_value(keras.optimizers.SGD(schedule)) is schedule


def test_layout_store_records_what_save_weights_writes(tmp_path):
  model = _model()
  store = kp.LayoutStore()
  kp.save_state(model, store)
  path = str(tmp_path / "m.weights.h5")
  model.save_weights(path)
  import h5py  # pylint: disable=g-import-not-at-top
  with h5py.File(path, "r") as f:
    written = []
    f.visititems(lambda name, obj: written.append(name) if isinstance(obj, h5py.Dataset) else None)
  assert sorted(d for d, _ in store.entries) == sorted(written)


def _h5_tree(path):
  """`{name: (kind, attrs, shape, values)}` of every group and dataset in an HDF5 file."""
  import h5py  # pylint: disable=g-import-not-at-top
  tree = {}
  with h5py.File(path, "r") as f:
    def visit(name, obj):
      dataset = isinstance(obj, h5py.Dataset)
      tree[name] = ("dataset" if dataset else "group", dict(obj.attrs), obj.shape if dataset else None,
                    obj[()].tolist() if dataset else None)
    f.visititems(visit)
  return tree


def test_layout_store_groups_replay_to_the_file_save_weights_writes(tmp_path):
  """`LayoutStore.groups` and `entries`, replayed by `_keras_h5.write_h5`, give the groups, attributes and
  datasets `save_weights` writes (a built optimizer's state included)."""
  from keras_bridge import _keras_h5  # pylint: disable=g-import-not-at-top
  model = _model()
  model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
  model.optimizer.build(model.trainable_variables)
  reference, replayed = str(tmp_path / "ref.weights.h5"), str(tmp_path / "replayed.weights.h5")
  model.save_weights(reference)
  _keras_h5.write_h5(replayed, _keras_h5.h5_layout(model), {}, progress=False)
  assert _h5_tree(replayed) == _h5_tree(reference)
  assert "optimizer/vars/0" in _h5_tree(reference)
