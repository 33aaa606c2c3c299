"""Proof by the original graph: a write-back restores in the source's own MetaGraph and continues exactly.

A TF1 graph written the way TF1 code was (`tf.get_variable("w")` under `h1/`, so its keys are `h1/w`, not
Keras's `h1/kernel`; an int32 or int64 `global_step`; one or two optimizers) is trained N steps and saved by its
`Saver`, with its `.meta`. Then, in both directions and against the graph itself:

* TF1 -> Keras: `load_tf1_training_state` (hyperparameters read from the `.meta`), K Keras steps == K steps of
  the graph's own train op from the checkpoint (`import_meta_graph`, unchanged);
* Keras -> TF1: `save_tf1_training_state(..., names=report)` writes back under the source's keys, dtypes and
  beta-power keys; the ORIGINAL MetaGraph's own `Saver` restores it and its train op runs K more steps == K more
  Keras steps.

Weights agree to 1e-6 in both directions. N = 2, K = 3, float32, CPU.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _naming
from keras_bridge import _optimizers

v1 = tf.compat.v1
N, K = 2, 3
RULES = [(r"/w$", "/kernel"), (r"/b$", "/bias")]
TOL = 1e-6
TF1_KEYS = ("h1/w", "h1/b", "out/w", "out/b")


def _batches(n, seed):
  rng = np.random.default_rng(seed)
  return [(rng.normal(size=(8, 5)).astype(np.float32), rng.integers(0, 3, 8)) for _ in range(n)]


def _build(optimizers, step_dtype):
  """The TF1 graph: x -> h1 (relu) -> out, mean sparse softmax cross entropy; `optimizers` is one TF1
  optimizer for all variables, or two: the first trains h1, the second out. Its train op is named "train"."""
  graph = tf.Graph()
  with graph.as_default():
    x = v1.placeholder(tf.float32, [None, 5], name="x")
    y = v1.placeholder(tf.int64, [None], name="y")
    layers = []
    for scope, shape, seed in (("h1", (5, 4), 1), ("out", (4, 3), 2)):
      with v1.variable_scope(scope, use_resource=False):  # TF 1.x graphs hold ref variables (VariableV2).
        layers.append((v1.get_variable("w", shape, initializer=v1.glorot_uniform_initializer(seed=seed)),
                       v1.get_variable("b", shape[-1:], initializer=v1.constant_initializer(0.1))))
    h = tf.nn.relu(tf.matmul(x, layers[0][0]) + layers[0][1])
    logits = tf.add(tf.matmul(h, layers[1][0]), layers[1][1], name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits), name="loss")
    global_step = v1.Variable(0, dtype=step_dtype, trainable=False, name="global_step", use_resource=False)
    made = [make() for make in optimizers]
    variables = [v for pair in layers for v in pair]
    # Every gradient before any update: an Apply op updates its ref variable in place, and a gradient still
    # reading it would see the new value (what `minimize(gate_gradients=GATE_GRAPH)` prevents).
    grads = tf.tuple(tf.gradients(loss, variables))
    if len(made) == 1:
      made[0].apply_gradients(zip(grads, variables), global_step=global_step, name="train")
    else:
      tf.group(made[0].apply_gradients(zip(grads[:2], variables[:2]), global_step=global_step),
               made[1].apply_gradients(zip(grads[2:], variables[2:])), name="train")
    init = v1.global_variables_initializer()
    saver = v1.train.Saver()
  return graph, init, saver


def _tf1_continue(meta, prefix, batches):
  """Restores `prefix` into the graph of `meta` with the graph's own Saver; runs its train op on `batches`."""
  graph = tf.Graph()
  with graph.as_default():
    saver = v1.train.import_meta_graph(meta)
  with v1.Session(graph=graph) as sess:
    saver.restore(sess, prefix)
    step = graph.get_tensor_by_name("global_step:0")
    restored_step = sess.run(step)
    for x, y in batches:
      sess.run("train", {"x:0": x, "y:0": y})
    weights = {k: sess.run(f"{k}:0") for k in TF1_KEYS}
  return weights, restored_step, step.dtype.base_dtype.name


def _keras_model():
  inputs = keras.Input((5,))
  h = keras.layers.Dense(4, activation="relu", name="h1")(inputs)
  return keras.Model(inputs, keras.layers.Dense(3, name="out")(h))


def _keras_continue(model, optimizers, batches):
  scopes = {"h1": optimizers, "out": optimizers} if not isinstance(optimizers, dict) else optimizers
  for x, y in batches:
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x)))
    grads = dict(zip([v.path for v in model.trainable_variables],
                     tape.gradient(loss, model.trainable_variables)))
    for opt in {id(o): o for o in scopes.values()}.values():
      mine = [v for v in model.trainable_variables if scopes[v.path.split("/")[0]] is opt]
      opt.apply_gradients([(grads[v.path], v) for v in mine])


def _diff(model, tf1_weights):
  weights = _naming.canonical_weights(model)
  return max(float(np.abs(weights[_naming.apply_rules(k, RULES)].numpy() - v).max())
             for k, v in tf1_weights.items())


def _underflow(sess, graph):
  """A run of 100,000 steps, without running them: both beta powers have underflowed to 0.0."""
  for name in ("beta1_power", "beta2_power"):
    sess.run(tf.raw_ops.Assign(ref=graph.get_tensor_by_name(f"{name}:0"), value=0.0))
  sess.run(tf.raw_ops.Assign(ref=graph.get_tensor_by_name("global_step:0"), value=100_000))


CASES = [
    pytest.param([lambda: v1.train.AdamOptimizer(0.01)], tf.int64, None, id="adam_int64"),
    pytest.param([lambda: v1.train.AdamOptimizer(0.01)], tf.int32, None, id="adam_int32"),
    pytest.param([lambda: v1.train.AdamOptimizer(0.01)], tf.int32, _underflow, id="adam_underflowed_int32"),
    pytest.param([lambda: v1.train.AdamOptimizer(0.01), lambda: v1.train.AdamOptimizer(0.02, beta1=0.5)],
                 tf.int64, None, id="two_adams"),
    pytest.param([lambda: v1.train.MomentumOptimizer(0.05, 0.9)], tf.int64, None, id="momentum"),
    pytest.param([lambda: v1.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True)], tf.int32, None,
                 id="rmsprop_centered"),
    pytest.param([lambda: v1.train.AdagradOptimizer(0.1, initial_accumulator_value=0.3)], tf.int64, None,
                 id="adagrad"),
]


@pytest.mark.parametrize("optimizers,step_dtype,after", CASES)
def test_writeback_restores_in_the_original_meta_graph_and_continues(optimizers, step_dtype, after, tmp_path):
  """Both directions against the graph's own Saver and train op (module docstring): <= 1e-6."""
  graph, init, saver = _build(optimizers, step_dtype)
  with v1.Session(graph=graph) as sess:
    sess.run(init)
    for x, y in _batches(N, seed=0):
      sess.run("train", {"x:0": x, "y:0": y})
    if after is not None:
      after(sess, graph)
    prefix = saver.save(sess, str(tmp_path / "model.ckpt"))
  meta = prefix + ".meta"
  first, second = _batches(K, seed=1), _batches(K, seed=2)

  # TF1 -> Keras.
  model = _keras_model()
  scopes = None if len(optimizers) == 1 else {"h1": None, "out": None}
  report = _optimizers.load_tf1_training_state(model, scopes, prefix, rules=RULES)
  assert report.meta_graph == meta
  keras_opts = report.optimizer if scopes is None else {o.scope: o.keras_optimizer for o in report.optimizers}
  start_step = 100_000 if after is not None else N
  assert [int(o.keras_optimizer.iterations.numpy()) for o in report.optimizers] == [start_step] * len(optimizers)
  tf1_first, _, _ = _tf1_continue(meta, prefix, first)
  saved = tf.train.load_checkpoint(prefix)
  assert min(float(np.abs(tf1_first[k] - saved.get_tensor(k)).max()) for k in TF1_KEYS) > 1e-4  # It trains.
  _keras_continue(model, keras_opts, first)
  tf1_to_keras = _diff(model, tf1_first)

  # Keras -> TF1, through the original MetaGraph.
  back = _optimizers.save_tf1_training_state(model, keras_opts, tmp_path / "back" / "model.ckpt", names=report)
  assert sorted(k for k, _ in tf.train.list_variables(back.checkpoint)) == sorted(
      k for k, _ in tf.train.list_variables(prefix))
  tf1_second, restored_step, restored_dtype = _tf1_continue(meta, back.checkpoint, second)
  assert (restored_step, restored_dtype) == (start_step + K, step_dtype.name)
  _keras_continue(model, keras_opts, second)
  keras_to_tf1 = _diff(model, tf1_second)

  print(f"max |difference|: TF1 -> Keras {tf1_to_keras:.1e}, Keras -> TF1 {keras_to_tf1:.1e}")
  assert tf1_to_keras <= TOL and keras_to_tf1 <= TOL
