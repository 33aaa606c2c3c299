"""tf1_reference.variables: variables, initializers and assignment of 003 (and 004 §2.2), with their errata."""

import numpy as np
import pytest
import tensorflow as tf

from tf1_reference import _snippets
from tf1_reference import variables

v1 = tf.compat.v1


@pytest.mark.parametrize("name", ["variable_scope", "get_variable", "Session", "placeholder", "GraphKeys"])
def test_tf2_namespace_has_no_tf1_api(name):
  """All seeds, `import tensorflow as tf`: tf.<TF1 name> raises AttributeError in TF 2.21 (E-TF2-NAMESPACE)."""
  with pytest.raises(AttributeError, match=f"module 'tensorflow' has no attribute '{name}'"):
    getattr(tf, name)
  assert hasattr(v1, name)


def test_missing_tf2_names_lists_every_tf1_only_name():
  """E-TF2-NAMESPACE: every name in TF1_ONLY_NAMES is missing from `tensorflow`, present in `tf.compat.v1`."""
  assert variables.missing_tf2_names() == list(variables.TF1_ONLY_NAMES)
  assert all(hasattr(v1, n) for n in variables.TF1_ONLY_NAMES)


# name, variable name, literal dtype, shape, literal `.trainable` (the dtype passed positionally)
_RANKS = [
    ("fruit", "Variable:0", tf.string, (), tf.string),
    ("quantity", "Variable_1:0", tf.int32, (), tf.int16),
    ("price", "Variable_2:0", tf.float32, (), tf.float32),
    ("strings", "Variable_3:0", tf.string, (2,), tf.string),
    ("prices", "Variable_4:0", tf.float32, (2,), tf.float64),
    ("answers", "Variable_5:0", tf.bool, (2, 2), tf.bool),
]


@pytest.mark.parametrize("key,name,dtype,shape,trainable", _RANKS, ids=[r[0] for r in _RANKS])
def test_003_tensor_ranks_literal(key, name, dtype, shape, trainable):
  """003 "变量(Variables)": `tf.Variable(value, tf.<dtype>)` passes the dtype as `trainable`.

  E-VARIABLE-DTYPE-POSITIONAL: the dtype comes from the value: `tf.Variable(2, tf.int16)` is int32 and `tf.Variable([3.23, 4.02],
  tf.float64)` is float32; `.trainable` is the dtype object itself.
  """
  var = variables.build_tensor_ranks(literal=True).variables[key]
  assert var.name == name
  assert var.dtype == dtype
  assert tuple(var.shape.as_list()) == shape
  assert var.trainable is trainable


def test_003_tensor_ranks_literal_all_trainable_and_values():
  """003 "变量(Variables)": the literal listing puts even the string and bool variables in TRAINABLE_VARIABLES."""
  net = variables.build_tensor_ranks(literal=True)
  assert [v.name for v in net.graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)] == [
      "Variable:0", "Variable_1:0", "Variable_2:0", "Variable_3:0", "Variable_4:0", "Variable_5:0"]
  values = net.initial_values()
  assert values["fruit"] == b"Orange"
  assert values["quantity"] == 2
  assert values["strings"].tolist() == [b"Fruit", b"orange"]
  np.testing.assert_array_equal(values["prices"], np.array([3.23, 4.02], np.float32))
  assert values["answers"].tolist() == [[False, True], [False, False]]


def test_003_tensor_ranks_fixed_uses_dtype_keyword():
  """E-VARIABLE-DTYPE-POSITIONAL fix: `dtype=` gives int16 and float64; strings/bools are not trainable."""
  net = variables.build_tensor_ranks(literal=False)
  assert {k: v.dtype for k, v in net.variables.items()} == {
      "fruit": tf.string, "quantity": tf.int16, "price": tf.float32, "strings": tf.string,
      "prices": tf.float64, "answers": tf.bool}
  assert [v.name for v in net.graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)] == [
      "Variable_1:0", "Variable_2:0", "Variable_4:0"]
  assert net.initial_values()["prices"].tolist() == [3.23, 4.02]


def test_003_get_variable_v2_is_int32():
  """003: `get_variable("v2", initializer=tf.constant(2))  # 2, float32 scalar` is int32 (E-GET-VARIABLE-INT32)."""
  net = variables.build_get_variable_v1_v3(literal=True, seed=0)
  assert {k: (v.name, v.dtype, tuple(v.shape.as_list())) for k, v in net.variables.items()} == {
      "v1": ("v1:0", tf.float32, (5, 5, 3)),
      "v2": ("v2:0", tf.int32, ()),
      "v3": ("v3:0", tf.int32, (2, 2)),
  }
  values = net.initial_values()
  assert values["v2"] == 2 and values["v2"].dtype == np.int32
  assert values["v3"].tolist() == [[2, 3], [4, 5]]


def test_003_get_variable_v1_random_default_initializer():
  """003: `get_variable("v1", [5, 5, 3])` is "filled with random values": glorot_uniform (RandomUniform)."""
  net = variables.build_get_variable_v1_v3(literal=True, seed=0)
  assert net.graph.get_operation_by_name("v1/Initializer/random_uniform/RandomUniform").type == "RandomUniform"
  v1_value = net.initial_values()["v1"]
  limit = np.sqrt(6.0 / (5 * 5 + 3 * 5))  # receptive field 5: fan_in = 5 * 5, fan_out = 3 * 5
  assert np.abs(v1_value).max() <= limit
  assert len(np.unique(v1_value)) == 75


def test_003_get_variable_v2_fixed_is_float32():
  """E-GET-VARIABLE-INT32 fix: `tf.constant(2.0)` gives the float32 scalar the comment describes."""
  v2 = variables.build_get_variable_v1_v3(literal=False).variables["v2"]
  assert v2.dtype == tf.float32


def test_003_get_variable_listing_literal_duplicate_names():
  """003: v4..v6 are created as "v1".."v3" in the same scope and raise (E-GET-VARIABLE-DUPLICATE)."""
  with pytest.raises(ValueError, match=r"Variable v1 already exists, disallowed\. Did you mean to set reuse=True"):
    variables.build_get_variable_initializers(literal=True)


def test_003_get_variable_initializers_fixed():
  """003 "变量(Variables)": zeros, ones, constant ([[1, 2], [3, 4], [5, 6]]), truncated_normal, random_uniform."""
  net = variables.build_get_variable_initializers(literal=False, seed=0)
  assert [(k, v.name, tuple(v.shape.as_list()), v.dtype) for k, v in net.variables.items()] == [
      ("v1", "v1:0", (5, 5, 3), tf.float32),
      ("v2", "v2:0", (), tf.float32),
      ("v3", "v3:0", (2, 2), tf.int32),
      ("v4", "v4:0", (3, 2), tf.float32),
      ("v5", "v5:0", (3, 2), tf.float32),
      ("v6", "v6:0", (3, 2), tf.float32),
      ("W", "W:0", (784, 256), tf.float32),
      ("Z", "z:0", (4, 5), tf.float32),
  ]
  values = net.initial_values()
  assert values["v4"].tolist() == [[0.0, 0.0]] * 3
  assert values["v5"].tolist() == [[1.0, 1.0]] * 3
  assert values["v6"].tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
  # truncated_normal redraws beyond two standard deviations; its std is about 0.88 * stddev.
  assert np.abs(values["W"]).max() <= 2 * variables.W_STDDEV
  assert 0.8 * variables.W_STDDEV < values["W"].std() < 0.95 * variables.W_STDDEV
  assert values["Z"].min() >= -1.0 and values["Z"].max() < 1.0


def test_003_using_variables_biases_zero_and_counter_increments():
  """003 "Using variables": `print(sess.run(biases))` prints 256 zeros; `tf.assign(counter, counter + 1)` counts."""
  net = variables.build_using_variables(seed=0)
  assert [v.name for v in net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)] == ["W:0", "z:0", "counter:0"]
  assert net.counter.dtype == tf.int32
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    b = sess.run(net.biases)
    assert b.shape == (256,) and not b.any()
    assert sess.run(net.counter) == 0
    assert [sess.run(net.increment) for _ in range(3)] == [1, 2, 3]
    assert sess.run(net.counter) == 3


def test_003_assignment_literal_read_is_unordered():
  """003 "分配(Assignment)": `session.run([v, v1])` does not print "1.0 1.0" reliably (E-ASSIGN-READ-ORDER).

  `v1` (the assign_add) is 1.0, but the read of `v` has no dependency on it and may see 0.0 or 1.0; TF 2.21
  on CPU shows 0.0.
  """
  value, value1 = variables.run_assignment(literal=True)
  assert value1 == 1.0
  assert value in (0.0, 1.0)


def test_003_assignment_literal_assign_never_runs():
  """003 "分配(Assignment)": `v.assign(v1)  # 1.0` is built but never run; running it re-runs assign_add."""
  net = variables.build_assignment(literal=True)
  assert all(f is not net.assign for f in net.fetches)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    sess.run(net.fetches)
    assert sess.run(net.v) == 1.0
    sess.run(net.assign)
    assert sess.run(net.v) == 2.0


def test_003_assignment_fixed_prints_one_one():
  """E-ASSIGN-READ-ORDER fix: reading `v` under `control_dependencies([v1])` prints "1.0 1.0"."""
  for _ in range(3):
    assert variables.run_assignment(literal=False) == (1.0, 1.0)


def test_004_variables_initializer_and_assign_ones():
  """004 §2.2: `variables_initializer([weights, bias])`, then `tf.assign(weights, tf.ones_like(weights))`."""
  net = variables.build_assign_ones(seed=0)
  assert (net.weights.name, net.bias.name) == ("model/weights:0", "model/bias:0")
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    assert sess.run(v1.report_uninitialized_variables()).tolist() == []
    assert sess.run(net.weights_update).tolist() == np.ones((10, 5)).tolist()
    assert sess.run(net.weights).tolist() == np.ones((10, 5)).tolist()
    assert sess.run(net.bias).tolist() == [0.0] * 5


_RANKS_LISTING = """
fruit = tf.Variable("Orange", tf.string)
quantity = tf.Variable(2, tf.int16)
price = tf.Variable(3.23, tf.float32)

strings = tf.Variable(["Fruit", "orange"], tf.string)
prices  = tf.Variable([3.23, 4.02], tf.float64)

answers = tf.Variable([[False, True],[False, False]], tf.bool)
"""

_ASSIGNMENT_LISTING = """
v = tf.get_variable("v", shape=(), initializer=tf.zeros_initializer())

v1 = v.assign_add(1)  # 1.0
v.assign(v1)          # 1.0

with tf.Session() as session:
    tf.global_variables_initializer().run()
    value, value1 = session.run([v, v1])
    print(value, value1)
"""


def test_003_tensor_ranks_verbatim_listing():
  """003 "变量(Variables)", the listing text run verbatim: quantity is int32, prices float32."""
  ns = _snippets.run("import tensorflow as tf\n" + _RANKS_LISTING, "003_edbfd8374a89a122.txt").namespace
  assert (ns["quantity"].dtype, ns["prices"].dtype) == (tf.int32, tf.float32)
  assert ns["quantity"].trainable is tf.int16


def test_003_assignment_verbatim_listing_prints():
  """003 "分配(Assignment)", run verbatim: prints "<0.0 or 1.0> 1.0", not reliably "1.0 1.0"."""
  printed = _snippets.run("import tensorflow as tf\n" + _ASSIGNMENT_LISTING, "003_edbfd8374a89a122.txt").printed
  assert printed in (["0.0 1.0"], ["1.0 1.0"])
