"""Golden name-based checkpoints (tests/golden/, see its README) restore strictly into the reference graphs.

Key lists are pinned literally: renaming any scope, layer or variable of 003_edbfd8374a89a122.txt (v1/v2,
GAN) or 002_9773991e7c1a2830.txt (DNN) fails here.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from tests.golden import make_golden

v1 = tf.compat.v1

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden")

GOLDEN_KEYS = {
    "v1_v2": [("v1", [3]), ("v2", [5])],
    "dnn_tiny": [
        ("hidden1/bias", [3]), ("hidden1/kernel", [4, 3]),
        ("hidden2/bias", [3]), ("hidden2/kernel", [3, 3]),
        ("hidden3/bias", [3]), ("hidden3/kernel", [3, 3]),
        ("hidden4/bias", [3]), ("hidden4/kernel", [3, 3]),
        ("hidden5/bias", [3]), ("hidden5/kernel", [3, 3]),
        ("outputs/bias", [2]), ("outputs/kernel", [3, 2]),
    ],
    "gan_tiny": [
        ("discriminator/hidden/bias", [3]), ("discriminator/hidden/kernel", [2, 3]),
        ("discriminator/output/bias", [1]), ("discriminator/output/kernel", [3, 1]),
        ("generator/hidden/bias", [3]), ("generator/hidden/kernel", [1, 3]),
        ("generator/output/bias", [2]), ("generator/output/kernel", [3, 2]),
    ],
}


def _path(name):
  return make_golden.checkpoint_path(GOLDEN_DIR, name)


def test_golden_set_is_complete():
  """Every golden the generator knows is checked in and pinned here."""
  assert list(make_golden.BUILDERS) == list(GOLDEN_KEYS)
  for name in GOLDEN_KEYS:
    assert os.path.exists(_path(name) + ".index"), name


@pytest.mark.parametrize("name", list(GOLDEN_KEYS))
def test_golden_keys_are_pinned(name):
  """The checked-in checkpoint's keys and shapes are exactly the literal list."""
  assert tf.train.list_variables(_path(name)) == GOLDEN_KEYS[name]


def test_v1_v2_values_literal():
  """003 v1/v2 golden: sorted keys filled 0, 1, 2, ...: v1 = [0, 1, 2], v2 = [3, 4, 5, 6, 7]."""
  reader = tf.train.load_checkpoint(_path("v1_v2"))
  np.testing.assert_array_equal(reader.get_tensor("v1"), [0.0, 1.0, 2.0])
  np.testing.assert_array_equal(reader.get_tensor("v2"), [3.0, 4.0, 5.0, 6.0, 7.0])


@pytest.mark.parametrize("name", list(GOLDEN_KEYS))
def test_golden_restores_strictly_into_reference(name):
  """Every checkpoint key is consumed by the reference graph's Saver, every variable restored, values exact."""
  net = make_golden.BUILDERS[name]()
  variables = net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)
  graph_keys = sorted(v.op.name for v in variables)
  checkpoint_keys = [key for key, _ in GOLDEN_KEYS[name]]
  assert graph_keys == checkpoint_keys, "unconsumed checkpoint keys or unrestored variables"
  expected = make_golden.fill_values(dict(GOLDEN_KEYS[name]))
  with v1.Session(graph=net.graph) as sess:
    net.saver.restore(sess, _path(name))
    values = dict(zip([v.op.name for v in variables], sess.run(variables)))
  for key in checkpoint_keys:
    np.testing.assert_array_equal(values[key], expected[key], err_msg=key)


def test_make_golden_reproduces_checked_in_files(tmp_path):
  """The generator still writes what is checked in (same keys, same values), so regeneration is a no-op."""
  make_golden.write_all(str(tmp_path))
  for name in GOLDEN_KEYS:
    fresh = tf.train.load_checkpoint(make_golden.checkpoint_path(str(tmp_path), name))
    golden = tf.train.load_checkpoint(_path(name))
    assert fresh.get_variable_to_shape_map() == golden.get_variable_to_shape_map()
    for key in golden.get_variable_to_shape_map():
      np.testing.assert_array_equal(fresh.get_tensor(key), golden.get_tensor(key), err_msg=f"{name}:{key}")


def test_make_golden_refuses_to_overwrite(tmp_path):
  """Golden checkpoints are replaced only with --golden_overwrite."""
  make_golden.write(str(tmp_path), "v1_v2")
  with pytest.raises(FileExistsError, match=r"pass --golden_overwrite"):
    make_golden.write(str(tmp_path), "v1_v2")
