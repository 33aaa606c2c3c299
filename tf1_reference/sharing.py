"""Variable sharing with `tf.variable_scope` / `tf.get_variable`, from 000, 001, 003 and 004.

Public builders (the Keras twins in keras_bridge mirror these; inputs are placeholders so both can be fed the
same numpy arrays):

* `conv_relu`, `my_image_filter`, `build_image_filter` -- 001_504de2624905c75a.txt: two conv layers in
  `conv1`/`conv2`, the whole filter shared three ways ("reuse_true", "reuse_variables", "scope_object").
* `affine_reuseable`, `build_affine_reuseable` -- 003_edbfd8374a89a122.txt "变量共享": `n2/W`, `n2/b` shared.
* `shared_layer`, `build_auto_reuse` -- 004_6270d8d9c47d861f.txt §3.1: `reuse=tf.AUTO_REUSE`.
* `build_shared_fc` -- 000_4e63901589b71580.txt: the corrected "shared fully-connected layers"
  (E-SHARED-FC): both layers use `fully_connected_1/weights`, which must be square.

The remaining functions reproduce the other sharing snippets of 001 and 003, literally where the document is
wrong (see docs/errata/variables_sharing.md).
"""

import dataclasses
from typing import List, Optional, Sequence

import tensorflow as tf

from tf1_reference._registry import example
from tf1_reference._registry import expect

v1 = tf.compat.v1

SEED_000 = "000_4e63901589b71580.txt"
SEED_001 = "001_504de2624905c75a.txt"
SEED_003 = "003_edbfd8374a89a122.txt"
SEED_004 = "004_6270d8d9c47d861f.txt"

SHARE_MODES = ("reuse_true", "reuse_variables", "scope_object")


# ---------------------------------------------------------------------------------------------------------
# 001: conv_relu / my_image_filter


def conv_relu(input, kernel_shape, bias_shape):  # pylint: disable=redefined-builtin
  """001_504de2624905c75a.txt: a 'SAME' stride-1 conv with "weights" (random normal) and "biases" (zeros), ReLU.

  Args:
    input: NHWC tensor.
    kernel_shape: [h, w, in_channels, out_channels].
    bias_shape: [out_channels].

  Returns:
    `relu(conv2d(input, weights) + biases)`. The variables are `<scope>/weights` and `<scope>/biases`.
  """
  weights = v1.get_variable("weights", kernel_shape, initializer=v1.random_normal_initializer())
  biases = v1.get_variable("biases", bias_shape, initializer=v1.constant_initializer(0.0))
  conv = tf.nn.conv2d(input, weights, strides=[1, 1, 1, 1], padding="SAME")
  return tf.nn.relu(conv + biases)


def my_image_filter(input_images):
  """001_504de2624905c75a.txt: two `conv_relu` layers (5x5, 32 -> 32) in `conv1` and `conv2`.

  This is the document's function with its indentation repaired (as printed it is an `IndentationError`, see
  `LITERAL_MY_IMAGE_FILTER`).

  Args:
    input_images: NHWC tensor with 32 channels.

  Returns:
    The output of `conv2`; variables `conv1/weights`, `conv1/biases`, `conv2/weights`, `conv2/biases`
    under the enclosing variable scope.
  """
  with v1.variable_scope("conv1"):
    # Variables created here will be named "conv1/weights", "conv1/biases".
    relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
  with v1.variable_scope("conv2"):
    # Variables created here will be named "conv2/weights", "conv2/biases".
    return conv_relu(relu1, [5, 5, 32, 32], [32])


@dataclasses.dataclass
class ImageFilterGraph:
  """Handles of `build_image_filter`: two applications of `my_image_filter` sharing one set of variables."""

  graph: tf.Graph
  input1: tf.Tensor
  input2: tf.Tensor
  output1: tf.Tensor
  output2: tf.Tensor
  variables: List[tf.Variable]
  init: tf.Operation


def build_image_filter(share: str,
                       input1_shape: Sequence[int] = (1, 10, 10, 32),
                       input2_shape: Sequence[int] = (1, 20, 20, 32),
                       seed: Optional[int] = None) -> ImageFilterGraph:
  """001_504de2624905c75a.txt: `my_image_filter` applied to two inputs in scope "model", sharing its variables.

  Args:
    share: how the second call reuses the variables of the first:
      "reuse_true": `variable_scope("model")`, then `variable_scope("model", reuse=True)`;
      "reuse_variables": one `variable_scope("model") as scope`, `scope.reuse_variables()` in between;
      "scope_object": `variable_scope("model") as scope`, then `variable_scope(scope, reuse=True)`.
    input1_shape: shape of the `input1` placeholder (the document's `tf.random_normal([1,10,10,32])`).
    input2_shape: shape of the `input2` placeholder (the document's `[1,20,20,32]`).
    seed: graph-level random seed.

  Returns:
    An `ImageFilterGraph` whose `variables` are `model/conv1/weights:0`, `model/conv1/biases:0`,
    `model/conv2/weights:0`, `model/conv2/biases:0`, used by both outputs.

  Raises:
    ValueError: `share` is not one of `SHARE_MODES`.
  """
  if share not in SHARE_MODES:
    raise ValueError(f"build_image_filter: unknown share mode. Expected one of {SHARE_MODES}. "
                     f"Received: share={share!r}")
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    input1 = v1.placeholder(tf.float32, input1_shape, name="input1")
    input2 = v1.placeholder(tf.float32, input2_shape, name="input2")
    if share == "reuse_true":
      with v1.variable_scope("model"):
        output1 = my_image_filter(input1)
      with v1.variable_scope("model", reuse=True):
        output2 = my_image_filter(input2)
    elif share == "reuse_variables":
      with v1.variable_scope("model") as scope:
        output1 = my_image_filter(input1)
        scope.reuse_variables()
        output2 = my_image_filter(input2)
    else:
      with v1.variable_scope("model") as scope:
        output1 = my_image_filter(input1)
      with v1.variable_scope(scope, reuse=True):
        output2 = my_image_filter(input2)
    variables = v1.global_variables()
    init = v1.global_variables_initializer()
  return ImageFilterGraph(graph=graph, input1=input1, input2=input2, output1=output1, output2=output2,
                          variables=variables, init=init)


# ---------------------------------------------------------------------------------------------------------
# 003: affine_reuseable


def affine_reuseable(x, shape):
  """003_edbfd8374a89a122.txt "变量共享": `relu(x @ W + b)` with `get_variable` "W" (random normal), "b" (zeros).

  Args:
    x: [batch, shape[0]] tensor.
    shape: [n_inputs, n_units].

  Returns:
    The ReLU output; the variables are `<scope>/W` and `<scope>/b`.
  """
  W = v1.get_variable("W", shape, initializer=v1.random_normal_initializer())  # pylint: disable=invalid-name
  b = v1.get_variable("b", [shape[1]], initializer=v1.constant_initializer(0.0))
  return tf.nn.relu(tf.matmul(x, W) + b)


@dataclasses.dataclass
class AffineGraph:
  """Handles of `build_affine` / `build_affine_reuseable`: `nn1`, `nn2` are the two applications to `x`."""

  graph: tf.Graph
  x: tf.Tensor
  nn1: tf.Tensor
  nn2: tf.Tensor
  variables: List[tf.Variable]
  init: tf.Operation


def build_affine_reuseable(n_inputs: int = 784, n_units: int = 500, seed: Optional[int] = None) -> AffineGraph:
  """003_edbfd8374a89a122.txt "变量共享": `affine_reuseable` in `n2`, then again in `n2` with `reuse=True`.

  Args:
    n_inputs: width of the `x` placeholder.
    n_units: output units.
    seed: graph-level random seed.

  Returns:
    An `AffineGraph` with the single pair of variables `n2/W:0` [n_inputs, n_units] and `n2/b:0` [n_units];
    `nn1` and `nn2` are equal for the same `x`.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    x = v1.placeholder(tf.float32, [None, n_inputs], name="x")
    with v1.variable_scope("n2"):
      nn1 = affine_reuseable(x, [n_inputs, n_units])
    with v1.variable_scope("n2", reuse=True):
      nn2 = affine_reuseable(x, [n_inputs, n_units])
    variables = v1.global_variables()
    init = v1.global_variables_initializer()
  return AffineGraph(graph=graph, x=x, nn1=nn1, nn2=nn2, variables=variables, init=init)


# ---------------------------------------------------------------------------------------------------------
# 004 §3.1: AUTO_REUSE


def shared_layer(input_tensor, scope_name):
  """004_6270d8d9c47d861f.txt §3.1: `input @ weights + bias` in `variable_scope(scope_name, reuse=AUTO_REUSE)`.

  Args:
    input_tensor: [batch, 10] tensor.
    scope_name: the variable scope; the first call creates `<scope_name>/weights` [10, 5] (random normal) and
      `<scope_name>/bias` [5] (zeros), later calls reuse them.

  Returns:
    The linear output, [batch, 5].
  """
  with v1.variable_scope(scope_name, reuse=v1.AUTO_REUSE):
    weights = v1.get_variable("weights", shape=[10, 5], initializer=v1.random_normal_initializer())
    bias = v1.get_variable("bias", shape=[5], initializer=v1.zeros_initializer())
    return tf.matmul(input_tensor, weights) + bias


@dataclasses.dataclass
class AutoReuseGraph:
  graph: tf.Graph
  input_data: tf.Tensor
  output1: tf.Tensor
  output2: tf.Tensor
  variables: List[tf.Variable]
  init: tf.Operation


def build_auto_reuse(n_inputs: int = 10, n_units: int = 5, seed: Optional[int] = None) -> AutoReuseGraph:
  """004_6270d8d9c47d861f.txt §3.1 "共享权重实现": `shared_layer(input_data, 'shared')` twice.

  Args:
    n_inputs: must be 10 and `n_units` must be 5, the shapes `shared_layer` hard-codes as in the document;
      they are parameters so a Keras twin can be called with the same signature.
    n_units: see `n_inputs`.
    seed: graph-level random seed.

  Returns:
    An `AutoReuseGraph`; `variables` are `shared/weights:0` [10, 5] and `shared/bias:0` [5].

  Raises:
    ValueError: other sizes than the document's.
  """
  if (n_inputs, n_units) != (10, 5):
    raise ValueError("build_auto_reuse: shared_layer of 004_6270d8d9c47d861f.txt hard-codes weights of shape "
                     f"[10, 5]. Expected n_inputs=10, n_units=5. Received: n_inputs={n_inputs}, "
                     f"n_units={n_units}")
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    input_data = v1.placeholder(tf.float32, shape=[None, n_inputs], name="input_data")
    output1 = shared_layer(input_data, "shared")
    output2 = shared_layer(input_data, "shared")
    variables = v1.global_variables()
    init = v1.global_variables_initializer()
  return AutoReuseGraph(graph=graph, input_data=input_data, output1=output1, output2=output2,
                        variables=variables, init=init)


# ---------------------------------------------------------------------------------------------------------
# 000: shared fully-connected layers


@dataclasses.dataclass
class SharedFCGraph:
  """Handles of `build_shared_fc`: `fc1 = relu(x @ W + b)`, `fc2 = fc1 @ W + b` with the same W and b."""

  graph: tf.Graph
  x: tf.Tensor
  fc1: tf.Tensor
  fc2: tf.Tensor
  variables: List[tf.Variable]
  init: tf.Operation


def build_shared_fc(n_inputs: int = 256, n_units: int = 256, seed: Optional[int] = None) -> SharedFCGraph:
  """000_4e63901589b71580.txt "使用variable_scope进行...参数共享": the two fully-connected layers, corrected.

  As printed, `fully_connected_2` calls `reuse_variables()` on its own scope and looks up
  `fully_connected_2/weights`, which does not exist (ValueError); and the [784, 256] weights could not be
  applied to the [N, 256] `fc1` anyway. The corrected model keeps the document's structure and scopes but
  reopens the scope *object* of the first layer with `reuse=True` inside `fully_connected_2`, and uses a
  square weight matrix, the only shape two chained layers can share. The Keras twin is one `Dense(n_units)`
  layer named "fully_connected_1" called twice, ReLU applied to the first output only.

  Args:
    n_inputs: width of `x`; must equal `n_units`.
    n_units: units of both layers.
    seed: graph-level random seed.

  Returns:
    A `SharedFCGraph`; `variables` are `fully_connected_1/weights:0` [n_units, n_units] (random normal) and
    `fully_connected_1/biases:0` [n_units] (zeros). `fc1` is `fully_connected_1/Relu:0`, `fc2` is
    `fully_connected_2/fully_connected_1/add:0`.

  Raises:
    ValueError: `n_inputs != n_units`.
  """
  if n_inputs != n_units:
    raise ValueError("build_shared_fc: fully_connected_2 applies the shared weights [n_inputs, n_units] to fc1 "
                     "of width n_units, so they must be square. Expected n_inputs == n_units. Received: "
                     f"n_inputs={n_inputs}, n_units={n_units}")
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    x = v1.placeholder(tf.float32, [None, n_inputs], name="x")
    with v1.variable_scope("fully_connected_1") as fc1_scope:
      W = v1.get_variable("weights", shape=[n_inputs, n_units],  # pylint: disable=invalid-name
                          initializer=v1.random_normal_initializer())
      b = v1.get_variable("biases", shape=[n_units], initializer=v1.zeros_initializer())
      fc1 = tf.nn.relu(tf.matmul(x, W) + b)
    with v1.variable_scope("fully_connected_2"):
      with v1.variable_scope(fc1_scope, reuse=True):
        W = v1.get_variable("weights")  # pylint: disable=invalid-name
        b = v1.get_variable("biases")
        fc2 = tf.matmul(fc1, W) + b
    variables = v1.global_variables()
    init = v1.global_variables_initializer()
  return SharedFCGraph(graph=graph, x=x, fc1=fc1, fc2=fc2, variables=variables, init=init)


def build_shared_fc_literal(reuse_first_scope: bool = False, n_inputs: int = 784, n_units: int = 256):
  """000_4e63901589b71580.txt: the `model(x)` listing as printed; it always raises.

  Args:
    reuse_first_scope: False runs the listing as printed: `tf.get_variable_scope().reuse_variables()` inside
      `fully_connected_2` makes `get_variable("weights")` look for `fully_connected_2/weights`. True reopens
      `fully_connected_1` instead, which finds the weights but cannot multiply [N, n_units] by
      [n_inputs, n_units].
    n_inputs: the document's 784.
    n_units: the document's 256.

  Raises:
    ValueError: "Variable fully_connected_2/weights does not exist" (as printed), or "Dimensions must be
      equal, but are 256 and 784" (`reuse_first_scope=True`).
  """
  graph = tf.Graph()
  with graph.as_default():
    x = v1.placeholder(tf.float32, [None, n_inputs])
    with v1.variable_scope("fully_connected_1") as fc1_scope:
      W = v1.get_variable("weights", shape=[n_inputs, n_units],  # pylint: disable=invalid-name
                          initializer=v1.random_normal_initializer())
      b = v1.get_variable("biases", shape=[n_units], initializer=v1.zeros_initializer())
      fc1 = tf.nn.relu(tf.matmul(x, W) + b)
    with v1.variable_scope("fully_connected_2"):
      if reuse_first_scope:
        with v1.variable_scope(fc1_scope, reuse=True):
          W = v1.get_variable("weights")  # pylint: disable=invalid-name
          b = v1.get_variable("biases")
      else:
        v1.get_variable_scope().reuse_variables()
        W = v1.get_variable("weights")  # pylint: disable=invalid-name
        b = v1.get_variable("biases")
      return tf.matmul(fc1, W) + b


# ---------------------------------------------------------------------------------------------------------
# 001: the literal snippets that fail


#: 001_504de2624905c75a.txt's `my_image_filter`, exactly as printed (the `with` bodies are not indented).
LITERAL_MY_IMAGE_FILTER = '''def my_image_filter(input_images):
    with tf.variable_scope("conv1"):
    # Variables created here will be named "conv1/weights","conv1/biases".
    relu1 = conv_relu(input_images, [5,5,32,32], [32])
    with tf.variable_scope("conv2"):
    # Variables created here will be named "conv2/weights", "conv2/biases"
    return conv_relu (relu1, [5,5,32,32], [32])
'''


def compile_literal_my_image_filter():
  """Compiles `LITERAL_MY_IMAGE_FILTER`; raises `IndentationError` ("expected an indented block ...")."""
  return compile(LITERAL_MY_IMAGE_FILTER, SEED_001, "exec")


def conv_relu_twice(fix_typo: bool = True):
  """001_504de2624905c75a.txt: `conv_relu` called twice in the same scope "fails"; always raises.

  Args:
    fix_typo: False runs the listing as printed, whose second line `tf.random_normao(...)` raises
      AttributeError before `conv_relu` is ever called. True uses `tf.random_normal`.

  Raises:
    AttributeError: `fix_typo=False`: "module ... has no attribute 'random_normao'".
    ValueError: `fix_typo=True`: "Variable weights already exists, disallowed", the failure the text means.
  """
  graph = tf.Graph()
  with graph.as_default():
    input1 = v1.random_normal([1, 10, 10, 32])
    # The document's line as printed: `tf.random_normao`. Looked up by name so linters accept the typo.
    getattr(v1, "random_normal" if fix_typo else "random_normao")([1, 20, 20, 32])
    x = conv_relu(input1, kernel_shape=[5, 5, 32, 32], bias_shape=[32])
    return conv_relu(x, kernel_shape=[5, 5, 32, 32], bias_shape=[32])  # This fails.


@dataclasses.dataclass
class ScopedGraph:
  """A graph plus the named tensors and variables of a snippet, in the document's order."""

  graph: tf.Graph
  tensors: dict
  variables: dict


def build_image_filter_unscoped() -> ScopedGraph:
  """001_504de2624905c75a.txt: `my_image_filter` at the root: "conv1/weights", "conv1/biases", ... as commented."""
  graph = tf.Graph()
  with graph.as_default():
    images = v1.placeholder(tf.float32, [1, 10, 10, 32], name="input_images")
    output = my_image_filter(images)
    variables = {v.op.name: v for v in v1.global_variables()}
  return ScopedGraph(graph=graph, tensors={"input_images": images, "output": output}, variables=variables)


# ---------------------------------------------------------------------------------------------------------
# 003: scoping, uniquification, affine, reuse rules, nested scopes, name_scope vs variable_scope


def conv2d(input, output_dim, filter_h=5, filter_w=5, stride_h=2, stride_w=2,  # pylint: disable=redefined-builtin
           stddev=0.02):
  """003_edbfd8374a89a122.txt "作用域(scoping)": a 'SAME' conv with "w" (truncated normal) and "biases"."""
  w = v1.get_variable("w", [filter_h, filter_w, input.get_shape()[-1], output_dim],
                      initializer=v1.truncated_normal_initializer(stddev=stddev))
  conv = tf.nn.conv2d(input, w, strides=[1, stride_h, stride_w, 1], padding="SAME")
  biases = v1.get_variable("biases", [output_dim], initializer=v1.constant_initializer(0.0))
  return tf.reshape(tf.nn.bias_add(conv, biases), conv.get_shape())


def build_conv_scopes(input1_shape: Sequence[int] = (1, 10, 10, 32),
                      input2_shape: Sequence[int] = (1, 20, 20, 32),
                      seed: Optional[int] = None) -> ScopedGraph:
  """003_edbfd8374a89a122.txt "作用域(scoping)": `conv2d` in `conv1` and in `conv2`, two separate layers.

  The document assigns both outputs to `cnn1`; here they are `cnn1` and `cnn2`.

  Returns:
    A `ScopedGraph` with tensors input1, input2 (placeholders), cnn1 ([1, 5, 5, 16]), cnn2 ([1, 10, 10, 16])
    and variables conv1/w, conv1/biases, conv2/w, conv2/biases.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    input1 = v1.placeholder(tf.float32, input1_shape, name="input1")
    input2 = v1.placeholder(tf.float32, input2_shape, name="input2")
    with v1.variable_scope("conv1"):
      cnn1 = conv2d(input1, 16)
    with v1.variable_scope("conv2"):
      cnn2 = conv2d(input2, 16)
    variables = {v.op.name: v for v in v1.global_variables()}
  return ScopedGraph(graph=graph, tensors={"input1": input1, "input2": input2, "cnn1": cnn1, "cnn2": cnn2},
                     variables=variables)


def build_variable_uniquification() -> ScopedGraph:
  """003 "变量共享": `tf.Variable(10, name="name1")` twice gives two variables, name1:0 and name1_1:0."""
  graph = tf.Graph()
  with graph.as_default():
    variables = {"v1": v1.Variable(10, name="name1"), "v2": v1.Variable(10, name="name1")}
  return ScopedGraph(graph=graph, tensors={}, variables=variables)


def affine(x, shape):
  """003 "变量共享": `relu(x @ W + b)` with `tf.Variable`s; every call creates new W and b (no sharing)."""
  W = v1.Variable(v1.truncated_normal(shape))  # pylint: disable=invalid-name
  b = v1.Variable(tf.zeros([shape[1]]))
  return tf.nn.relu(tf.matmul(x, W) + b)


def build_affine(n_inputs: int = 784, n_units: int = 500, seed: Optional[int] = None) -> AffineGraph:
  """003_edbfd8374a89a122.txt "变量共享": `affine` twice in `variable_scope("n1")`; nothing is shared.

  `tf.Variable` takes its name from the name scope, and the second `variable_scope("n1")` opens the name
  scope "n1_1", so the variables are `n1/Variable:0`, `n1/Variable_1:0`, `n1_1/Variable:0`,
  `n1_1/Variable_1:0`.

  Returns:
    An `AffineGraph` (`nn1`, `nn2` are the document's `n1`, `n2`).
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    x = v1.placeholder(tf.float32, [None, n_inputs], name="x")
    with v1.variable_scope("n1"):
      nn1 = affine(x, [n_inputs, n_units])
    with v1.variable_scope("n1"):
      nn2 = affine(x, [n_inputs, n_units])
    variables = v1.global_variables()
    init = v1.global_variables_initializer()
  return AffineGraph(graph=graph, x=x, nn1=nn1, nn2=nn2, variables=variables, init=init)


@dataclasses.dataclass
class ReuseRules:
  """What 003's two "重用(Reuse)" snippets raise (None: did not raise)."""

  exists_error: Optional[ValueError]
  missing_error: Optional[ValueError]
  missing_variable: Optional[tf.Variable]


def reuse_rules(one_graph: bool = True) -> ReuseRules:
  """003_edbfd8374a89a122.txt "重用(Reuse)": the two situations in which `get_variable` raises ValueError.

  Args:
    one_graph: run both snippets in one graph, as a reader pasting the listing would (catching the first
      error). The first snippet has already created `foo/v` before it raises, so the second,
      `variable_scope("foo", reuse=True)` + `get_variable("v")`, finds it and does NOT raise. False runs each
      snippet in its own graph, where each raises.

  Returns:
    A `ReuseRules`.
  """
  graph = tf.Graph()
  exists_error = missing_error = missing_variable = None
  with graph.as_default():
    try:
      with v1.variable_scope("foo"):
        v1.get_variable("v", [1])
        v1.get_variable("v")  # Raises ValueError("... v already exists ...").
    except ValueError as e:
      exists_error = e
  if not one_graph:
    graph = tf.Graph()
  with graph.as_default():
    try:
      with v1.variable_scope("foo", reuse=True):
        missing_variable = v1.get_variable("v")  # Raises ValueError("... v does not exists ...").
    except ValueError as e:
      missing_error = e
  return ReuseRules(exists_error=exists_error, missing_error=missing_error, missing_variable=missing_variable)


@dataclasses.dataclass
class ReuseUsage:
  """Handles of 003's reuse usage; `v2_equal`, `v3_equal` are the document's `v1 == v`, evaluated in the graph."""

  graph: tf.Graph
  v2: tf.Variable
  v2_reused: tf.Variable
  v3: tf.Variable
  v3_reused: tf.Variable
  v2_equal: object
  v3_equal: object


def build_reuse_usage() -> ReuseUsage:
  """003_edbfd8374a89a122.txt "重用(Reuse)": `foo/v2` shared with reuse=True, `foo/v3` with reuse_variables().

  Returns:
    A `ReuseUsage`. The pairs are the same Python objects, and the document's `assert v1 == v` holds: inside
    a (non-eager) graph, `==` on variables falls back to identity and returns a Python bool. Outside the graph
    (eagerly) the same `==` raises TypeError "... is out of scope and cannot be used here".
  """
  graph = tf.Graph()
  with graph.as_default():
    with v1.variable_scope("foo"):
      v2 = v1.get_variable("v2", [1])
    with v1.variable_scope("foo", reuse=True):
      v2_reused = v1.get_variable("v2")
    v2_equal = v2_reused == v2
    with v1.variable_scope("foo") as scope:
      v3 = v1.get_variable("v3", [1])
      scope.reuse_variables()
      v3_reused = v1.get_variable("v3")
    v3_equal = v3_reused == v3
  return ReuseUsage(graph=graph, v2=v2, v2_reused=v2_reused, v3=v3, v3_reused=v3_reused, v2_equal=v2_equal,
                    v3_equal=v3_equal)


def build_nested_scopes() -> ScopedGraph:
  """003_edbfd8374a89a122.txt "嵌套范围": `get_variable("v")` in foo/bar is named "foo/bar/v:0"."""
  graph = tf.Graph()
  with graph.as_default():
    with v1.variable_scope("foo"):
      with v1.variable_scope("bar"):
        v = v1.get_variable("v", [1])
  return ScopedGraph(graph=graph, tensors={}, variables={"v": v})


def build_name_scope_vs_variable_scope() -> ScopedGraph:
  """003_edbfd8374a89a122.txt "警告变量共享": `get_variable` ignores `name_scope`, `tf.Variable` does not.

  Returns:
    A `ScopedGraph` with variables v1 ("v:0"), v2 ("foo1/v2:0"), v3 ("foo2/v:0"), v4 ("foo2/v2:0").
  """
  graph = tf.Graph()
  with graph.as_default():
    with tf.name_scope("foo1"):
      var1 = v1.get_variable("v", [1])
      var2 = v1.Variable(1, name="v2")
    with v1.variable_scope("foo2"):
      var3 = v1.get_variable("v", [1])
      var4 = v1.Variable(1, name="v2")
  return ScopedGraph(graph=graph, tensors={}, variables={"v1": var1, "v2": var2, "v3": var3, "v4": var4})


# ---------------------------------------------------------------------------------------------------------
# Demos for the printed report (scripts/reproduce_seeds.py).


def _names(variables):
  return [v.name for v in variables]


_MODEL_VARS = ["model/conv1/weights:0", "model/conv1/biases:0", "model/conv2/weights:0", "model/conv2/biases:0"]


@example(SEED_001, "conv_relu twice in one scope fails", erratum="E-RANDOM-NORMAO")
def demo_conv_relu_twice():
  seen = []
  for fix in (False, True):
    try:
      conv_relu_twice(fix_typo=fix)
    except (AttributeError, ValueError) as e:
      seen.append(f"{type(e).__name__}: {str(e).split('.')[0]}")
    else:
      raise RuntimeError("calling conv_relu twice did not fail")
  return f"literal: {seen[0]}; typo fixed: {seen[1]}"


@example(SEED_001, "my_image_filter (conv1/conv2) as printed", erratum="E-MY-IMAGE-FILTER-INDENT")
def demo_my_image_filter():
  try:
    compile_literal_my_image_filter()
  except IndentationError as e:
    literal = f"IndentationError line {e.lineno}: {e.msg}"
  else:
    raise RuntimeError("the printed my_image_filter compiled")
  names = sorted(build_image_filter_unscoped().variables)
  expect(names, ["conv1/biases", "conv1/weights", "conv2/biases", "conv2/weights"], "variables")
  return f"{literal}; repaired: {', '.join(names)}"


def _demo_share(share):
  net = build_image_filter(share)
  expect(_names(net.variables), _MODEL_VARS, f"{share} variables")
  return f"{len(net.variables)} variables {_MODEL_VARS[0]}, ... shared by {net.output1.name}, {net.output2.name}"


@example(SEED_001, "sharing by variable_scope('model', reuse=True)")
def demo_share_reuse_true():
  return _demo_share("reuse_true")


@example(SEED_001, "sharing by scope.reuse_variables()")
def demo_share_reuse_variables():
  return _demo_share("reuse_variables")


@example(SEED_001, "sharing by variable_scope(scope, reuse=True)")
def demo_share_scope_object():
  return _demo_share("scope_object")


@example(SEED_003, "作用域(scoping): conv2d in conv1 / conv2")
def demo_conv_scopes():
  names = sorted(build_conv_scopes().variables)
  expect(names, ["conv1/biases", "conv1/w", "conv2/biases", "conv2/w"], "variables")
  return ", ".join(names)


@example(SEED_003, "变量共享: tf.Variable uniquification")
def demo_variable_uniquification():
  names = _names(build_variable_uniquification().variables.values())
  expect(names, ["name1:0", "name1_1:0"], "names")
  return ", ".join(names)


@example(SEED_003, "变量共享: affine (tf.Variable, not shared)")
def demo_affine():
  names = _names(build_affine(n_inputs=4, n_units=3).variables)
  expect(names, ["n1/Variable:0", "n1/Variable_1:0", "n1_1/Variable:0", "n1_1/Variable_1:0"], "names")
  return f"4 variables, not shared: {', '.join(names)}"


@example(SEED_003, "变量共享: affine_reuseable (n2, reuse=True)")
def demo_affine_reuseable():
  names = _names(build_affine_reuseable().variables)
  expect(names, ["n2/W:0", "n2/b:0"], "names")
  return f"shared: {', '.join(names)}"


@example(SEED_003, "重用(Reuse): the two ValueError rules", erratum="E-REUSE-RULES-ONE-GRAPH")
def demo_reuse_rules():
  pasted = reuse_rules(one_graph=True)
  separate = reuse_rules(one_graph=False)
  if pasted.missing_error is not None or separate.missing_error is None or separate.exists_error is None:
    raise RuntimeError("the reuse rules did not behave as pinned")
  return (f"{str(separate.exists_error).split(',')[0]}; {str(separate.missing_error).split(',')[0]}; "
          f"in one graph the second returns {pasted.missing_variable.name}")


@example(SEED_003, "重用(Reuse): foo/v2 and foo/v3 shared, assert v1 == v")
def demo_reuse_usage():
  net = build_reuse_usage()
  expect((net.v2_equal, net.v3_equal), (True, True), "v1 == v")
  return f"{net.v2.name}, {net.v3.name}: the same objects (== is identity in graph mode)"


@example(SEED_003, "嵌套范围: foo/bar/v:0")
def demo_nested_scopes():
  name = build_nested_scopes().variables["v"].name
  expect(name, "foo/bar/v:0", "name")
  return name


@example(SEED_003, "警告变量共享: name_scope vs variable_scope")
def demo_name_scope_vs_variable_scope():
  names = _names(build_name_scope_vs_variable_scope().variables.values())
  expect(names, ["v:0", "foo1/v2:0", "foo2/v:0", "foo2/v2:0"], "names")
  return ", ".join(names)


@example(SEED_004, "§3.1 shared_layer with reuse=tf.AUTO_REUSE")
def demo_auto_reuse():
  net = build_auto_reuse()
  expect(_names(net.variables), ["shared/weights:0", "shared/bias:0"], "names")
  return f"shared/weights:0, shared/bias:0 used by {net.output1.name} and {net.output2.name}"


@example(SEED_000, "shared fully-connected layers (fully_connected_1/2)", erratum="E-SHARED-FC")
def demo_shared_fc():
  errors = []
  for reuse_first_scope in (False, True):
    try:
      build_shared_fc_literal(reuse_first_scope=reuse_first_scope)
    except ValueError as e:
      errors.append(str(e).split(" for ")[0].split(" or ")[0])
    else:
      raise RuntimeError("the literal shared-FC model built")
  net = build_shared_fc(n_inputs=8, n_units=8)
  expect(_names(net.variables), ["fully_connected_1/weights:0", "fully_connected_1/biases:0"], "names")
  return f"literal: {errors[0]}; reusing fully_connected_1: {errors[1]}; fixed: square weights shared"
