"""Graph-level parameter management of 004_6270d8d9c47d861f.txt: collections by scope, check_numerics, devices.

* §1.2 `tf.get_collection(GLOBAL_VARIABLES, scope='model/weights')`: `scope` is a regular expression applied
  with `re.match` to `variable.name`, so it is a *prefix* match: it also returns `model/weights_1:0`, and the
  `.` of `'model.weights'` matches any character (E-COLLECTION-PREFIX). `get_collection_exact` is the fix.
* §4.2 `tf.debugging.check_numerics`: in graph mode it only builds an op; the check happens when a
  `sess.run` executes that op, and then raises `InvalidArgumentError` "<message> : Tensor had NaN values"
  (E-CHECK-NUMERICS-GRAPH).
* §6 "明确指定变量设备(tf.device('/GPU:0'))": `var.device` records the request ("/device:GPU:0"); without a
  GPU, `sess.run` fails unless the session allows soft placement.
"""

import dataclasses
from typing import List, Optional

import numpy as np
import tensorflow as tf

from tf1_reference._registry import example
from tf1_reference._registry import expect

v1 = tf.compat.v1

SEED_004 = "004_6270d8d9c47d861f.txt"
CHECK_MESSAGE = "权重异常检测"


def model_scope_variables():
  """004 §1.2: creates `model/weights` [10, 5] (random normal) and `model/bias` [5] (zeros) in the default graph.

  Returns:
    `(weights, bias)`.
  """
  with v1.variable_scope("model"):
    weights = v1.get_variable("weights", shape=[10, 5], initializer=v1.random_normal_initializer())
    bias = v1.get_variable("bias", shape=[5], initializer=v1.zeros_initializer())
  return weights, bias


@dataclasses.dataclass
class CollectionGraph:
  """Handles of 004 §1.2. `scope_weights` is `get_collection(GLOBAL_VARIABLES, scope=scope)`, as printed."""

  graph: tf.Graph
  weights: tf.Variable
  bias: tf.Variable
  scope_weights: List[tf.Variable]
  neighbour: Optional[tf.Variable] = None


def build_collection_by_scope(scope: str = "model/weights", with_neighbour: bool = False) -> CollectionGraph:
  """004_6270d8d9c47d861f.txt §1.2 "通过变量作用域访问参数": `get_collection` by scope.

  Args:
    scope: the `scope` argument of `get_collection`; the document's is 'model/weights'.
    with_neighbour: also create `tf.Variable(..., name="weights")` in the name scope "model/". The name is
      taken, so it becomes `model/weights_1:0`, and the prefix match selects it too.

  Returns:
    A `CollectionGraph`.
  """
  graph = tf.Graph()
  with graph.as_default():
    weights, bias = model_scope_variables()
    neighbour = None
    if with_neighbour:
      with tf.name_scope("model/"):
        neighbour = v1.Variable(tf.zeros([10, 5]), name="weights")
    scope_weights = v1.get_collection(v1.GraphKeys.GLOBAL_VARIABLES, scope=scope)
  return CollectionGraph(graph=graph, weights=weights, bias=bias, scope_weights=scope_weights,
                         neighbour=neighbour)


def get_collection_exact(graph: tf.Graph, scope: str, key: str = v1.GraphKeys.GLOBAL_VARIABLES) -> list:
  """The fix for §1.2: the variable named exactly `scope`, or those inside the scope `scope`, no prefix match.

  Args:
    graph: the graph to search.
    scope: a variable name without ":0" ("model/weights") or a scope name ("model").
    key: the collection.

  Returns:
    The variables whose `op.name` equals `scope` or starts with `scope + "/"`, in collection order.
  """
  return [v for v in graph.get_collection(key) if v.op.name == scope or v.op.name.startswith(scope + "/")]


@dataclasses.dataclass
class CheckNumericsGraph:
  """Handles of 004 §4.2 in graph mode.

  `check` is `tf.debugging.check_numerics(weights, CHECK_MESSAGE)`; `set_nan`/`set_inf` write a NaN/Inf into
  `weights`.
  """

  graph: tf.Graph
  weights: tf.Variable
  check: tf.Tensor
  set_nan: tf.Tensor
  set_inf: tf.Tensor
  init: tf.Operation


def build_check_numerics() -> CheckNumericsGraph:
  """004_6270d8d9c47d861f.txt §4.2 "使用tf.debugging模块检查参数异常", in graph mode.

  Returns:
    A `CheckNumericsGraph`. `sess.run(check)` raises `tf.errors.InvalidArgumentError` with
    "权重异常检测 : Tensor had NaN values" (or "Inf values") once `weights` holds one; reading `weights`
    without fetching `check` does not.
  """
  graph = tf.Graph()
  with graph.as_default():
    weights = v1.get_variable("weights", [3], initializer=v1.zeros_initializer())
    check = tf.debugging.check_numerics(weights, CHECK_MESSAGE)
    set_nan = v1.assign(weights, [0.0, np.nan, 1.0])
    set_inf = v1.assign(weights, [0.0, np.inf, 1.0])
    init = v1.global_variables_initializer()
  return CheckNumericsGraph(graph=graph, weights=weights, check=check, set_nan=set_nan, set_inf=set_inf,
                            init=init)


@dataclasses.dataclass
class DeviceGraph:
  """Handles of 004 §6: `cpu_var` under `tf.device('/CPU:0')`, `gpu_var` and `total` under '/GPU:0'."""

  graph: tf.Graph
  cpu_var: tf.Variable
  gpu_var: tf.Variable
  total: tf.Tensor
  init: tf.Operation


def build_device_placement() -> DeviceGraph:
  """004_6270d8d9c47d861f.txt §6 "设备分配: 明确指定变量设备(tf.device('/GPU:0'))", in graph mode.

  Returns:
    A `DeviceGraph`. `cpu_var.device` is "/device:CPU:0" and `gpu_var.device` "/device:GPU:0" whether or not
    a GPU exists: the string is the request. Run it with `session_config(allow_soft_placement=True)` to fall
    back to the CPU when there is no GPU.
  """
  graph = tf.Graph()
  with graph.as_default():
    with tf.device("/CPU:0"):
      cpu_var = v1.get_variable("cpu_var", [2], initializer=v1.ones_initializer())
    with tf.device("/GPU:0"):
      gpu_var = v1.get_variable("gpu_var", [2], initializer=v1.ones_initializer())
      total = cpu_var + gpu_var
    init = v1.global_variables_initializer()
  return DeviceGraph(graph=graph, cpu_var=cpu_var, gpu_var=gpu_var, total=total, init=init)


def session_config(allow_soft_placement: bool = True) -> "v1.ConfigProto":
  """A `ConfigProto` for `build_device_placement`; soft placement runs '/GPU:0' ops on the CPU if needed."""
  return v1.ConfigProto(allow_soft_placement=allow_soft_placement)


# ---------------------------------------------------------------------------------------------------------
# Demos for the printed report (scripts/reproduce_seeds.py).


@example(SEED_004, "§1.2 get_collection(GLOBAL_VARIABLES, scope='model/weights')", erratum="E-COLLECTION-PREFIX")
def demo_collection_by_scope():
  plain = [v.name for v in build_collection_by_scope().scope_weights]
  expect(plain, ["model/weights:0"], "scope='model/weights'")
  net = build_collection_by_scope(with_neighbour=True)
  prefix = [v.name for v in net.scope_weights]
  expect(prefix, ["model/weights:0", "model/weights_1:0"], "prefix match")
  exact = [v.name for v in get_collection_exact(net.graph, "model/weights")]
  expect(exact, ["model/weights:0"], "get_collection_exact")
  return f"{plain}; with a neighbour: {prefix}; exact: {exact}"


@example(SEED_004, "§4.2 tf.debugging.check_numerics (graph mode)", erratum="E-CHECK-NUMERICS-GRAPH")
def demo_check_numerics():
  net = build_check_numerics()
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    sess.run(net.set_nan)
    sess.run(net.weights)  # A plain read does not check.
    try:
      sess.run(net.check)
    except tf.errors.InvalidArgumentError as e:
      line = next(l for l in str(e).splitlines() if CHECK_MESSAGE in l)
      return f"unchecked read passes; sess.run(check) raises InvalidArgumentError: {line.strip()}"
  raise RuntimeError("check_numerics did not raise on a NaN")


@example(SEED_004, "§6 tf.device('/CPU:0') / tf.device('/GPU:0') (graph mode)")
def demo_device_placement():
  net = build_device_placement()
  expect((net.cpu_var.device, net.gpu_var.device), ("/device:CPU:0", "/device:GPU:0"), "var.device")
  with v1.Session(graph=net.graph, config=session_config(allow_soft_placement=True)) as sess:
    sess.run(net.init)
    total = sess.run(net.total).tolist()
  expect(total, [2.0, 2.0], "cpu_var + gpu_var")
  gpus = len(tf.config.list_physical_devices("GPU"))
  return f"devices {net.cpu_var.device}, {net.gpu_var.device}; soft placement runs ({gpus} GPU): {total}"
