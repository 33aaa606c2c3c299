"""Variables, initializers and assignment of 003_edbfd8374a89a122.txt, plus the assignment of 004 §2.2.

Every builder makes its own `tf.Graph` and returns the handles a caller needs. Builders with a `literal` flag
reproduce the document's code as printed (`literal=True`) or the corrected version (`literal=False`); the
differences are the errata in docs/errata/variables_sharing.md:

* `tf.Variable(2, tf.int16)` passes `tf.int16` as `trainable`, not as the dtype (E-VARIABLE-DTYPE-POSITIONAL).
* `tf.get_variable("v2", initializer=tf.constant(2))` is int32, not "float32 scalar" (E-GET-VARIABLE-INT32).
* v4..v6 re-use the names v1..v3 in the same scope and raise `ValueError` (E-GET-VARIABLE-DUPLICATE).
* "分配(Assignment)": reading `v` and `v1` in one `sess.run` has no order (E-ASSIGN-READ-ORDER).
"""

import collections
import dataclasses
from typing import Dict, Optional

import numpy as np
import tensorflow as tf

from tf1_reference import params
from tf1_reference._registry import example
from tf1_reference._registry import expect

v1 = tf.compat.v1

SEED_003 = "003_edbfd8374a89a122.txt"
SEED_004 = "004_6270d8d9c47d861f.txt"

#: The stddev of the document's `W` (He initialization for 784 inputs).
W_STDDEV = float(np.sqrt(2.0 / 784))


#: TF1 names the seed listings call as `tf.<name>`; `import tensorflow as tf` (2.21) has none of them, only
#: `tf.compat.v1` does. (`tf.zeros_initializer`, `tf.random_normal_initializer` and
#: `tf.random_uniform_initializer` exist in both, as the TF2 initializer classes.)
TF1_ONLY_NAMES = ("variable_scope", "get_variable", "get_variable_scope", "Session", "placeholder", "assign",
                  "random_normal", "truncated_normal", "global_variables_initializer", "variables_initializer",
                  "get_collection", "GraphKeys", "AUTO_REUSE", "truncated_normal_initializer", "ConfigProto")


def missing_tf2_names(names=TF1_ONLY_NAMES) -> list:
  """The names in `names` that the TF2 `tensorflow` module lacks (`tf.<name>` raises AttributeError).

  Every seed listing starts with `import tensorflow as tf` and calls `tf.variable_scope`, `tf.Session`, ...;
  with TF 2.21 they must use `tf = tf.compat.v1` (E-TF2-NAMESPACE).
  """
  return [n for n in names if not hasattr(tf, n)]


@dataclasses.dataclass
class VariablesGraph:
  """A graph and its variables, keyed by the Python name the document gives them ("v1", "W", "Z", ...)."""

  graph: tf.Graph
  variables: Dict[str, tf.Variable]
  init: tf.Operation

  def initial_values(self) -> Dict[str, np.ndarray]:
    """Runs `init` in a new session and returns every variable's value, keyed like `variables`."""
    with v1.Session(graph=self.graph) as sess:
      sess.run(self.init)
      return dict(zip(self.variables, sess.run(list(self.variables.values()))))


def build_tensor_ranks(literal: bool = True) -> VariablesGraph:
  """003_edbfd8374a89a122.txt "变量(Variables)": `tf.Variable` of rank 0, 1 and 2.

  Args:
    literal: pass the dtype positionally as the document does. `tf.compat.v1.Variable`'s second positional
      parameter is `trainable`, so the dtype is ignored (the value's own dtype wins: `quantity` is int32,
      `prices` float32) and `v.trainable` is the dtype object. False passes `dtype=` (the fix).

  Returns:
    A `VariablesGraph` with fruit, quantity, price (rank 0), strings, prices (rank 1) and answers (rank 2).
  """
  graph = tf.Graph()
  with graph.as_default():
    specs = collections.OrderedDict([
        ("fruit", ("Orange", tf.string)),
        ("quantity", (2, tf.int16)),
        ("price", (3.23, tf.float32)),
        ("strings", (["Fruit", "orange"], tf.string)),
        ("prices", ([3.23, 4.02], tf.float64)),
        ("answers", ([[False, True], [False, False]], tf.bool)),
    ])
    if literal:
      variables = collections.OrderedDict((k, v1.Variable(value, dtype)) for k, (value, dtype) in specs.items())
    else:
      # Strings and booleans cannot be trained; keep them out of TRAINABLE_VARIABLES.
      variables = collections.OrderedDict(
          (k, v1.Variable(value, dtype=dtype, trainable=dtype.is_floating or dtype.is_integer))
          for k, (value, dtype) in specs.items())
    init = v1.global_variables_initializer()
  return VariablesGraph(graph=graph, variables=variables, init=init)


def _v1_to_v3(literal):
  # The document's comment says v2 is a "float32 scalar"; tf.constant(2) is int32, tf.constant(2.0) is not.
  return collections.OrderedDict([
      ("v1", v1.get_variable("v1", [5, 5, 3])),
      ("v2", v1.get_variable("v2", initializer=tf.constant(2 if literal else 2.0))),
      ("v3", v1.get_variable("v3", initializer=tf.constant([[2, 3], [4, 5]]))),
  ])


def build_get_variable_v1_v3(literal: bool = True, seed: Optional[int] = None) -> VariablesGraph:
  """003_edbfd8374a89a122.txt "变量(Variables)": `get_variable` v1 (random, default initializer), v2, v3.

  Args:
    literal: `tf.constant(2)` as printed (int32) or `tf.constant(2.0)` (float32, what the comment claims).
    seed: graph-level random seed.

  Returns:
    A `VariablesGraph` with v1 (shape (5, 5, 3), glorot_uniform), v2 (scalar 2) and v3 ([[2, 3], [4, 5]]).
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    variables = _v1_to_v3(literal)
    init = v1.global_variables_initializer()
  return VariablesGraph(graph=graph, variables=variables, init=init)


def build_get_variable_initializers(literal: bool = False, seed: Optional[int] = None) -> VariablesGraph:
  """003_edbfd8374a89a122.txt "变量(Variables)": the whole `get_variable` listing, v1..v6, W and Z.

  Args:
    literal: True runs the listing as printed: v4, v5 and v6 are created as "v1", "v2", "v3" in the same
      (root) scope, which raises `ValueError: Variable v1 already exists, disallowed`. False names them
      "v4", "v5", "v6" and makes v2 float32.
    seed: graph-level random seed.

  Returns:
    A `VariablesGraph` with v1..v6, W (784x256, truncated normal, stddev sqrt(2/784)) and Z (4x5, uniform in
    [-1, 1)); `Z` is the Python name, "z" the variable name.

  Raises:
    ValueError: with `literal=True`.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    variables = _v1_to_v3(literal)
    names = ("v1", "v2", "v3") if literal else ("v4", "v5", "v6")
    variables["v4"] = v1.get_variable(names[0], [3, 2], initializer=v1.zeros_initializer)
    variables["v5"] = v1.get_variable(names[1], [3, 2], initializer=v1.ones_initializer)
    variables["v6"] = v1.get_variable(names[2], [3, 2], initializer=v1.constant_initializer([1, 2, 3, 4, 5, 6]))
    variables["W"] = v1.get_variable("W", [784, 256],
                                     initializer=v1.truncated_normal_initializer(stddev=W_STDDEV))
    variables["Z"] = v1.get_variable("z", [4, 5], initializer=v1.random_uniform_initializer(-1, 1))
    init = v1.global_variables_initializer()
  return VariablesGraph(graph=graph, variables=variables, init=init)


@dataclasses.dataclass
class UsingVariablesGraph:
  """Handles of 003's "Using variables" listing."""

  graph: tf.Graph
  weights: tf.Variable
  biases: tf.Variable
  counter: tf.Variable
  increment: tf.Tensor
  init: tf.Operation


def build_using_variables(seed: Optional[int] = None) -> UsingVariablesGraph:
  """003_edbfd8374a89a122.txt "Using variables": W, z (zeros), an int32 counter and `tf.assign` increment.

  Args:
    seed: graph-level random seed.

  Returns:
    A `UsingVariablesGraph`. `sess.run(biases)` after `init` prints 256 zeros; each `sess.run(increment)`
    adds 1 to `counter`, which is int32 because its initializer is `tf.constant(0)`.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    weights = v1.get_variable("W", [784, 256], initializer=v1.truncated_normal_initializer(stddev=W_STDDEV))
    biases = v1.get_variable("z", [256], initializer=v1.zeros_initializer)
    counter = v1.get_variable("counter", initializer=tf.constant(0))
    increment = v1.assign(counter, counter + 1)
    init = v1.global_variables_initializer()
  return UsingVariablesGraph(graph=graph, weights=weights, biases=biases, counter=counter, increment=increment,
                             init=init)


@dataclasses.dataclass
class AssignmentGraph:
  """Handles of 003's "分配(Assignment)" listing.

  `fetches` is what the listing passes to `session.run` (`[v, v1]` when literal, ordered reads when fixed).
  """

  graph: tf.Graph
  v: tf.Variable
  v1: tf.Tensor
  assign: tf.Tensor
  fetches: list
  init: tf.Operation


def build_assignment(literal: bool = True) -> AssignmentGraph:
  """003_edbfd8374a89a122.txt "分配(Assignment)": `v.assign_add(1)`, `v.assign(v1)`, print "1.0 1.0".

  Literally, `session.run([v, v1])` fetches the variable `v` and the result of `assign_add` in one step. The
  read of `v` has no dependency on the `assign_add`, so it may see 0.0 or 1.0 (0.0 is what TF 2.21 on CPU
  shows); `v.assign(v1)` is built but never run. Running it later would run `assign_add` again.

  Args:
    literal: True fetches `[v, v1]` as printed. False reads `v` under `tf.control_dependencies([v1])`, so
      both values are 1.0 as the document prints.

  Returns:
    An `AssignmentGraph`.
  """
  graph = tf.Graph()
  with graph.as_default():
    v = v1.get_variable("v", shape=(), initializer=v1.zeros_initializer())
    inc = v.assign_add(1)
    assign = v.assign(inc)
    if literal:
      fetches = [v, inc]
    else:
      with tf.control_dependencies([inc]):
        fetches = [v.read_value(), inc]
    init = v1.global_variables_initializer()
  return AssignmentGraph(graph=graph, v=v, v1=inc, assign=assign, fetches=fetches, init=init)


def run_assignment(literal: bool = True):
  """Runs `build_assignment(literal)` as the document does and returns `(value, value1)` as floats."""
  net = build_assignment(literal)
  with v1.Session(graph=net.graph) as session:
    session.run(net.init)
    value, value1 = session.run(net.fetches)
  return float(value), float(value1)


@dataclasses.dataclass
class AssignOnesGraph:
  graph: tf.Graph
  weights: tf.Variable
  bias: tf.Variable
  init: tf.Operation
  weights_update: tf.Tensor


def build_assign_ones(seed: Optional[int] = None) -> AssignOnesGraph:
  """004_6270d8d9c47d861f.txt §2.2: `variables_initializer([weights, bias])`, then `assign(weights, ones)`.

  The variables are those of §1.2 (`model/weights` [10, 5], `model/bias` [5]).

  Args:
    seed: graph-level random seed.

  Returns:
    An `AssignOnesGraph`; `init` is `tf.variables_initializer([weights, bias])`.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    weights, bias = params.model_scope_variables()
    init = v1.variables_initializer([weights, bias])
    weights_update = v1.assign(weights, tf.ones_like(weights))
  return AssignOnesGraph(graph=graph, weights=weights, bias=bias, init=init, weights_update=weights_update)


# ---------------------------------------------------------------------------------------------------------
# Demos for the printed report (scripts/reproduce_seeds.py).


@example(SEED_003, "import tensorflow as tf: tf.variable_scope / tf.get_variable / tf.Session",
         erratum="E-TF2-NAMESPACE")
def demo_tf2_namespace():
  missing = missing_tf2_names()
  expect(missing, list(TF1_ONLY_NAMES), "names missing from the TF2 namespace")
  return f"AttributeError for tf.{', tf.'.join(missing[:4])}, ... ({len(missing)} names); use tf.compat.v1"


@example(SEED_003, "变量(Variables): tf.Variable ranks 0-2", erratum="E-VARIABLE-DTYPE-POSITIONAL")
def demo_tensor_ranks():
  literal = build_tensor_ranks(literal=True).variables
  fixed = build_tensor_ranks(literal=False).variables
  expect(literal["quantity"].dtype, tf.int32, "tf.Variable(2, tf.int16).dtype")
  expect(literal["prices"].dtype, tf.float32, "tf.Variable([3.23, 4.02], tf.float64).dtype")
  expect((fixed["quantity"].dtype, fixed["prices"].dtype), (tf.int16, tf.float64), "dtype= keyword")
  return (f"literal: quantity {literal['quantity'].dtype.name}, prices {literal['prices'].dtype.name}; "
          f"dtype=: {fixed['quantity'].dtype.name}, {fixed['prices'].dtype.name}")


@example(SEED_003, "变量(Variables): get_variable v1..v6, W, z", erratum="E-GET-VARIABLE-DUPLICATE")
def demo_get_variable_initializers():
  try:
    build_get_variable_initializers(literal=True)
  except ValueError as e:
    literal = str(e).split(".")[0]
  else:
    raise RuntimeError("the literal v1..v6 listing did not raise ValueError")
  values = build_get_variable_initializers(literal=False, seed=0).initial_values()
  expect(values["v6"].tolist(), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "v6")
  return f"literal: {literal}; fixed (v4..v6): v6={values['v6'].tolist()}"


@example(SEED_003, "变量(Variables): v2 = get_variable(initializer=tf.constant(2))",
         erratum="E-GET-VARIABLE-INT32")
def demo_v2_dtype():
  dtype = build_get_variable_v1_v3(literal=True).variables["v2"].dtype
  expect(dtype, tf.int32, "v2 dtype")
  return f"v2 is {dtype.name}, not float32"


@example(SEED_003, "Using variables: biases and counter")
def demo_using_variables():
  net = build_using_variables(seed=0)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    b = sess.run(net.biases)
    counts = [int(sess.run(net.increment)) for _ in range(2)]
  expect(b.tolist(), [0.0] * 256, "biases")
  expect(counts, [1, 2], "counter increments")
  return f"biases: {b.shape[0]} zeros; counter ({net.counter.dtype.name}) -> {counts}"


@example(SEED_003, "分配(Assignment): assign_add / assign", erratum="E-ASSIGN-READ-ORDER")
def demo_assignment():
  value, value1 = run_assignment(literal=True)
  if value1 != 1.0 or value not in (0.0, 1.0):
    raise RuntimeError(f"unexpected literal assignment result {value} {value1}")
  fixed = run_assignment(literal=False)
  expect(fixed, (1.0, 1.0), "ordered read")
  return f"literal prints {value} {value1} (unordered read); fixed prints {fixed[0]} {fixed[1]}"


@example(SEED_004, "§2.2 variables_initializer + tf.assign(weights, ones_like)")
def demo_assign_ones():
  net = build_assign_ones(seed=0)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    sess.run(net.weights_update)
    w = sess.run(net.weights)
  expect(w.tolist(), np.ones((10, 5)).tolist(), "model/weights after assign")
  return "model/weights is all ones after sess.run(weights_update)"
