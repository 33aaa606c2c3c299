"""tf1_reference.params: 004's graph-level parameter management (collections by scope, check_numerics, devices)."""

import numpy as np
import pytest
import tensorflow as tf

from tf1_reference import params

v1 = tf.compat.v1


def test_004_get_collection_by_scope_prints_weights():
  """004 §1.2: `print(f"作用域内变量: {[v.name for v in scope_weights]}")` prints ['model/weights:0']."""
  net = params.build_collection_by_scope()
  assert (net.weights.name, net.bias.name) == ("model/weights:0", "model/bias:0")
  assert f"作用域内变量: {[v.name for v in net.scope_weights]}" == "作用域内变量: ['model/weights:0']"


def test_004_get_collection_scope_is_a_prefix_match():
  """004 §1.2: scope='model/weights' is a re.match prefix: it also returns model/weights_1:0 (E-COLLECTION-PREFIX)."""
  net = params.build_collection_by_scope(with_neighbour=True)
  assert net.neighbour.name == "model/weights_1:0"
  assert [v.name for v in net.scope_weights] == ["model/weights:0", "model/weights_1:0"]


@pytest.mark.parametrize("scope,names", [
    ("model", ["model/weights:0", "model/bias:0", "model/weights_1:0"]),
    ("model.weights", ["model/weights:0", "model/weights_1:0"]),
    ("model/w", ["model/weights:0", "model/weights_1:0"]),
    ("weights", []),
], ids=["scope_prefix", "regex_dot", "partial_name", "not_searched"])
def test_004_get_collection_scope_regex(scope, names):
  """004 §1.2: `scope` is a regular expression matched at the start of the name (E-COLLECTION-PREFIX)."""
  net = params.build_collection_by_scope(scope=scope, with_neighbour=True)
  assert [v.name for v in net.scope_weights] == names


@pytest.mark.parametrize("scope,names", [
    ("model/weights", ["model/weights:0"]),
    ("model", ["model/weights:0", "model/bias:0", "model/weights_1:0"]),
    ("model/w", []),
], ids=["variable", "scope", "partial_name"])
def test_004_get_collection_exact(scope, names):
  """E-COLLECTION-PREFIX fix: get_collection_exact selects a variable or a whole scope, never a prefix."""
  net = params.build_collection_by_scope(with_neighbour=True)
  assert [v.name for v in params.get_collection_exact(net.graph, scope)] == names


def test_004_check_numerics_passes_finite():
  """004 §4.2: check_numerics on finite weights returns them unchanged."""
  net = params.build_check_numerics()
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    assert sess.run(net.check).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("poison,what", [("set_nan", "NaN"), ("set_inf", "Inf")], ids=["nan", "inf"])
def test_004_check_numerics_raises_in_sess_run(poison, what):
  """004 §4.2 "检查NaN或Inf": in graph mode `sess.run(check)` raises InvalidArgumentError with the message.

  The check runs only when fetched: reading the weights themselves passes (E-CHECK-NUMERICS-GRAPH).
  """
  net = params.build_check_numerics()
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    sess.run(getattr(net, poison))
    assert np.isfinite(sess.run(net.weights)).tolist() == [True, False, True]
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"权重异常检测 : Tensor had {what} values"):
      sess.run(net.check)


def test_004_check_numerics_building_does_not_check():
  """E-CHECK-NUMERICS-GRAPH: building check_numerics on a NaN constant raises nothing; only running it does."""
  with tf.Graph().as_default():
    check = tf.debugging.check_numerics(tf.constant([np.nan]), params.CHECK_MESSAGE)
    with v1.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="Tensor had NaN values"):
      sess.run(check)


def test_004_device_strings():
  """004 §6: tf.device('/CPU:0') / '/GPU:0' record "/device:CPU:0" / "/device:GPU:0" on the variables."""
  net = params.build_device_placement()
  assert (net.cpu_var.name, net.gpu_var.name) == ("cpu_var:0", "gpu_var:0")
  assert net.cpu_var.device == "/device:CPU:0"
  assert net.gpu_var.device == "/device:GPU:0"
  assert net.total.device == "/device:GPU:0"


def test_004_device_soft_placement_runs():
  """004 §6: with allow_soft_placement=True the '/GPU:0' ops run with or without a GPU."""
  net = params.build_device_placement()
  with v1.Session(graph=net.graph, config=params.session_config(allow_soft_placement=True)) as sess:
    sess.run(net.init)
    assert sess.run(net.total).tolist() == [2.0, 2.0]


def test_004_device_hard_placement_needs_a_gpu():
  """004 §6: without soft placement, '/GPU:0' fails on a machine without a GPU ("Cannot assign a device")."""
  net = params.build_device_placement()
  with v1.Session(graph=net.graph, config=params.session_config(allow_soft_placement=False)) as sess:
    if tf.config.list_physical_devices("GPU"):
      sess.run(net.init)
      assert sess.run(net.total).tolist() == [2.0, 2.0]
    else:
      with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot assign a device for operation"):
        sess.run(net.init)
