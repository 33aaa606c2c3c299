"""tf1_reference.sharing: variable_scope / get_variable sharing of 000, 001, 003 and 004, with their errata."""

import numpy as np
import pytest
import tensorflow as tf

from tf1_reference import _snippets
from tf1_reference import sharing

v1 = tf.compat.v1

_MODEL_VARS = [
    ("model/conv1/weights:0", (5, 5, 32, 32)),
    ("model/conv1/biases:0", (32,)),
    ("model/conv2/weights:0", (5, 5, 32, 32)),
    ("model/conv2/biases:0", (32,)),
]


def _meta(variables):
  return [(v.name, tuple(v.shape.as_list())) for v in variables]


# ---------------------------------------------------------------------------------------------------------
# 001


def test_001_conv_relu_twice_literal_typo():
  """001: the listing's `tf.random_normao(...)` raises AttributeError before conv_relu runs (E-RANDOM-NORMAO)."""
  with pytest.raises(AttributeError, match="has no attribute 'random_normao'"):
    sharing.conv_relu_twice(fix_typo=False)


def test_001_conv_relu_twice_fails():
  """001: "重复调用此函数将不起作用(报错)" -- the second conv_relu in the same scope raises ValueError."""
  with pytest.raises(ValueError, match=r"Variable weights already exists, disallowed"):
    sharing.conv_relu_twice(fix_typo=True)


def test_001_my_image_filter_literal_indentation():
  """001: `my_image_filter` as printed does not compile (E-MY-IMAGE-FILTER-INDENT)."""
  with pytest.raises(IndentationError, match=r"expected an indented block after 'with' statement on line 2") as e:
    sharing.compile_literal_my_image_filter()
  assert e.value.lineno == 4


def test_001_my_image_filter_variable_names():
  """001: "Variables created here will be named "conv1/weights","conv1/biases"" (and conv2/...)."""
  net = sharing.build_image_filter_unscoped()
  assert [(k, tuple(v.shape.as_list())) for k, v in net.variables.items()] == [
      ("conv1/weights", (5, 5, 32, 32)),
      ("conv1/biases", (32,)),
      ("conv2/weights", (5, 5, 32, 32)),
      ("conv2/biases", (32,)),
  ]
  assert net.tensors["output"].name == "conv2/Relu:0"


def test_001_my_image_filter_twice_without_reuse_fails():
  """001: calling my_image_filter twice in one scope without reuse raises for conv1/weights."""
  with tf.Graph().as_default():
    images = v1.placeholder(tf.float32, [1, 10, 10, 32])
    sharing.my_image_filter(images)
    with pytest.raises(ValueError, match="Variable conv1/weights already exists, disallowed"):
      sharing.my_image_filter(images)


_OUTPUT_NAMES = {
    "reuse_true": ("model/conv2/Relu:0", "model_1/conv2/Relu:0"),
    "reuse_variables": ("model/conv2/Relu:0", "model/conv2_1/Relu:0"),
    "scope_object": ("model/conv2/Relu:0", "model_1/conv2/Relu:0"),
}


@pytest.mark.parametrize("share", sharing.SHARE_MODES)
def test_001_image_filter_shares_variables(share):
  """001: reuse=True, scope.reuse_variables() and variable_scope(scope, reuse=True) all share one filter."""
  net = sharing.build_image_filter(share)
  assert _meta(net.variables) == _MODEL_VARS
  assert _meta(net.graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)) == _MODEL_VARS
  assert (net.output1.name, net.output2.name) == _OUTPUT_NAMES[share]
  assert net.output1.shape.as_list() == [1, 10, 10, 32]
  assert net.output2.shape.as_list() == [1, 20, 20, 32]


@pytest.mark.parametrize("share", sharing.SHARE_MODES)
def test_001_image_filter_same_input_same_output(share):
  """001: output1 and output2 are one function: equal inputs give identical outputs."""
  net = sharing.build_image_filter(share, input1_shape=(1, 4, 4, 32), input2_shape=(1, 4, 4, 32), seed=1)
  x = np.random.default_rng(0).normal(size=(1, 4, 4, 32)).astype(np.float32)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    out1, out2 = sess.run([net.output1, net.output2], {net.input1: x, net.input2: x})
  assert out1.any()
  np.testing.assert_array_equal(out1, out2)


def test_001_build_image_filter_unknown_share():
  """build_image_filter names the valid modes and the received one."""
  with pytest.raises(ValueError, match=r"Expected one of \('reuse_true', 'reuse_variables', 'scope_object'\)\. "
                     r"Received: share='none'"):
    sharing.build_image_filter("none")


# ---------------------------------------------------------------------------------------------------------
# 003


def test_003_conv_scopes_are_separate():
  """003 "作用域(scoping)": conv2d in conv1 and conv2 gives each its own w and biases."""
  net = sharing.build_conv_scopes(seed=0)
  assert [(k, tuple(v.shape.as_list())) for k, v in net.variables.items()] == [
      ("conv1/w", (5, 5, 32, 16)),
      ("conv1/biases", (16,)),
      ("conv2/w", (5, 5, 32, 16)),
      ("conv2/biases", (16,)),
  ]
  assert net.tensors["cnn1"].shape.as_list() == [1, 5, 5, 16]
  assert net.tensors["cnn2"].shape.as_list() == [1, 10, 10, 16]


def test_003_variable_uniquification():
  """003 "变量共享": tf.Variable always creates a new variable: print(v1.name) name1:0, print(v2.name) name1_1:0."""
  net = sharing.build_variable_uniquification()
  assert net.variables["v1"] is not net.variables["v2"]
  assert net.variables["v1"].name == "name1:0"
  assert net.variables["v2"].name == "name1_1:0"


def test_003_affine_does_not_share():
  """003 "变量共享": `affine` (tf.Variable) twice in variable_scope("n1") creates two W and two b."""
  net = sharing.build_affine(n_inputs=6, n_units=4, seed=0)
  assert _meta(net.variables) == [
      ("n1/Variable:0", (6, 4)),
      ("n1/Variable_1:0", (4,)),
      ("n1_1/Variable:0", (6, 4)),
      ("n1_1/Variable_1:0", (4,)),
  ]
  assert (net.nn1.name, net.nn2.name) == ("n1/Relu:0", "n1_1/Relu:0")
  x = np.ones((2, 6), np.float32)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    a, b = sess.run([net.nn1, net.nn2], {net.x: x})
  assert not np.array_equal(a, b)


def test_003_affine_reuseable_shares():
  """003 "变量共享": affine_reuseable in n2 then n2 with reuse=True uses the one pair n2/W:0, n2/b:0."""
  net = sharing.build_affine_reuseable(n_inputs=6, n_units=4, seed=0)
  assert _meta(net.variables) == [("n2/W:0", (6, 4)), ("n2/b:0", (4,))]
  assert (net.nn1.name, net.nn2.name) == ("n2/Relu:0", "n2_1/Relu:0")
  x = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    a, b = sess.run([net.nn1, net.nn2], {net.x: x})
  assert a.any()
  np.testing.assert_array_equal(a, b)


def test_003_affine_reuseable_documented_shapes():
  """003: the document's affine_reuseable(x, [784, 500]) gives n2/W:0 [784, 500] and n2/b:0 [500]."""
  assert _meta(sharing.build_affine_reuseable().variables) == [("n2/W:0", (784, 500)), ("n2/b:0", (500,))]


def test_003_get_variable_existing_without_reuse_raises():
  """003: "如果一个变量给定的 scope/name 存在,则 tf.get_variable 将会返回现在存在的变量" only holds with reuse."""
  with tf.Graph().as_default():
    x = v1.placeholder(tf.float32, [None, 6])
    with v1.variable_scope("n2"):
      sharing.affine_reuseable(x, [6, 4])
    with v1.variable_scope("n2"), pytest.raises(ValueError, match="Variable n2/W already exists, disallowed"):
      sharing.affine_reuseable(x, [6, 4])


def test_003_reuse_rules_each_in_its_own_graph():
  """003 "重用(Reuse)": reuse=False + existing -> "already exists"; reuse=True + missing -> "does not exist"."""
  rules = sharing.reuse_rules(one_graph=False)
  assert str(rules.exists_error).startswith(
      "Variable foo/v already exists, disallowed. Did you mean to set reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
  assert str(rules.missing_error).startswith(
      "Variable foo/v does not exist, or was not created with tf.get_variable(). Did you mean to set "
      "reuse=tf.AUTO_REUSE in VarScope?")
  assert rules.missing_variable is None


def test_003_reuse_rules_pasted_in_one_graph():
  """003 "重用(Reuse)": run as one listing, the second snippet does NOT raise (E-REUSE-RULES-ONE-GRAPH).

  The first snippet created foo/v before raising, so `variable_scope("foo", reuse=True)` finds it.
  """
  rules = sharing.reuse_rules(one_graph=True)
  assert "Variable foo/v already exists, disallowed" in str(rules.exists_error)
  assert rules.missing_error is None
  assert rules.missing_variable.name == "foo/v:0"


def test_003_reuse_usage_shares_and_assert_holds():
  """003 "重用(Reuse)": foo/v2 (reuse=True) and foo/v3 (reuse_variables()) are shared; `assert v1 == v` holds."""
  net = sharing.build_reuse_usage()
  assert (net.v2.name, net.v3.name) == ("foo/v2:0", "foo/v3:0")
  assert net.v2_reused is net.v2 and net.v3_reused is net.v3
  # In graph mode `==` on variables is identity and returns a plain bool.
  assert net.v2_equal is True and net.v3_equal is True
  with net.graph.as_default():
    assert (net.v2 == net.v3) is False
  # Eagerly (outside the graph), the same comparison cannot touch the graph's tensors.
  with pytest.raises(TypeError, match="is out of scope and cannot be used here"):
    _ = net.v2 == net.v2_reused


def test_003_nested_scopes():
  """003 "嵌套范围": `assert v.name == "foo/bar/v:0"`."""
  assert sharing.build_nested_scopes().variables["v"].name == "foo/bar/v:0"


@pytest.mark.parametrize("key,name", [("v1", "v:0"), ("v2", "foo1/v2:0"), ("v3", "foo2/v:0"), ("v4", "foo2/v2:0")],
                         ids=["get_variable_in_name_scope", "Variable_in_name_scope", "get_variable_in_variable_scope",
                              "Variable_in_variable_scope"])
def test_003_name_scope_vs_variable_scope(key, name):
  """003 "警告变量共享": print(v1.name) v:0 (Unexpected!), foo1/v2:0, foo2/v:0, foo2/v2:0."""
  assert sharing.build_name_scope_vs_variable_scope().variables[key].name == name


# ---------------------------------------------------------------------------------------------------------
# 004 §3.1


def test_004_auto_reuse_shared_layer():
  """004 §3.1: shared_layer(input_data, 'shared') twice "复用同一变量": shared/weights:0 and shared/bias:0 only."""
  net = sharing.build_auto_reuse(seed=0)
  assert _meta(net.variables) == [("shared/weights:0", (10, 5)), ("shared/bias:0", (5,))]
  assert (net.output1.name, net.output2.name) == ("shared/add:0", "shared_1/add:0")
  x = np.random.default_rng(0).normal(size=(4, 10)).astype(np.float32)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    a, b = sess.run([net.output1, net.output2], {net.input_data: x})
  assert a.shape == (4, 5) and a.any()
  np.testing.assert_array_equal(a, b)


def test_004_auto_reuse_rejects_other_sizes():
  """build_auto_reuse: shared_layer hard-codes [10, 5]; other sizes are refused with both values named."""
  with pytest.raises(ValueError, match=r"Expected n_inputs=10, n_units=5\. Received: n_inputs=8, n_units=5"):
    sharing.build_auto_reuse(n_inputs=8)


# ---------------------------------------------------------------------------------------------------------
# 000


def test_000_shared_fc_literal_does_not_exist():
  """000: reuse_variables() in fully_connected_2 looks up fully_connected_2/weights (E-SHARED-FC)."""
  with pytest.raises(ValueError, match=r"Variable fully_connected_2/weights does not exist, or was not created "
                     r"with tf.get_variable\(\)"):
    sharing.build_shared_fc_literal(reuse_first_scope=False)


def test_000_shared_fc_literal_shapes_cannot_share():
  """000: even reusing fully_connected_1, [N, 256] @ [784, 256] fails (E-SHARED-FC)."""
  with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 256 and 784"):
    sharing.build_shared_fc_literal(reuse_first_scope=True)


def test_000_shared_fc_fixed_shares_square_weights():
  """000, corrected: fully_connected_2 reuses fully_connected_1/weights and biases; fc2 = fc1 @ W + b."""
  net = sharing.build_shared_fc(n_inputs=8, n_units=8, seed=0)
  assert _meta(net.variables) == [("fully_connected_1/weights:0", (8, 8)), ("fully_connected_1/biases:0", (8,))]
  assert (net.fc1.name, net.fc2.name) == ("fully_connected_1/Relu:0", "fully_connected_2/fully_connected_1/add:0")
  x = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    fc1, fc2, (w, b) = sess.run([net.fc1, net.fc2, net.variables], {net.x: x})
  np.testing.assert_allclose(fc1, np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(fc2, fc1 @ w + b, rtol=1e-5, atol=1e-5)


def test_000_shared_fc_documented_width():
  """000, corrected: with the document's 256 units both layers use fully_connected_1/weights:0 [256, 256]."""
  net = sharing.build_shared_fc()
  assert _meta(net.variables) == [("fully_connected_1/weights:0", (256, 256)), ("fully_connected_1/biases:0", (256,))]
  assert net.fc2.shape.as_list() == [None, 256]


def test_000_shared_fc_rejects_non_square():
  """build_shared_fc: 784 inputs cannot feed a layer that is reused on its own 256-wide output."""
  with pytest.raises(ValueError, match=r"Expected n_inputs == n_units\. Received: n_inputs=784, n_units=256"):
    sharing.build_shared_fc(n_inputs=784)


_NAME_SCOPE_LISTING = """import tensorflow as tf
with tf.name_scope("foo1"):
    v1 = tf.get_variable("v", [1])
    v2 = tf.Variable(1, name="v2")

with tf.variable_scope("foo2"):
    v3 = tf.get_variable("v", [1])
    v4 = tf.Variable(1, name="v2")

print(v1.name)  # v:0 (Unexpected!)
print(v2.name)  # foo1/v2:0
print(v3.name)  # foo2/v:0
print(v4.name)  # foo2/v2:0
"""

_UNIQUIFICATION_LISTING = """import tensorflow as tf
v1 = tf.Variable(10, name="name1")
v2 = tf.Variable(10, name="name1")
assert(v1 is not v2)
print(v1.name)  # name1:0
print(v2.name)  # name1_1:0
"""


@pytest.mark.parametrize("listing,printed", [
    (_NAME_SCOPE_LISTING, ["v:0", "foo1/v2:0", "foo2/v:0", "foo2/v2:0"]),
    (_UNIQUIFICATION_LISTING, ["name1:0", "name1_1:0"]),
], ids=["name_scope_vs_variable_scope", "variable_uniquification"])
def test_003_verbatim_listing_prints_documented_names(listing, printed):
  """003 "警告变量共享" / "变量共享", run verbatim: every print matches its comment."""
  assert _snippets.run(listing, "003_edbfd8374a89a122.txt").printed == printed
