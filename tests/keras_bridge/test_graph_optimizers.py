"""keras_bridge.tf1_optimizers_in_graph: each TF1 optimizer of a graph, read from its update ops.

The graphs are written here the way TF1 code wrote them: `minimize()` with default names (`Adam`, `Adam_1`), ref
(`VariableV2`) and resource variables, a sparse gradient (an embedding under Adam), a fed learning rate and a
decay schedule.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

import keras_bridge

v1 = tf.compat.v1


def _var(name, shape, use_resource):
  return v1.get_variable(name, shape, initializer=v1.ones_initializer(), use_resource=use_resource)


def _graph(use_resource):
  """Six optimizers on six variables; returns the graph."""
  graph = tf.Graph()
  with graph.as_default():
    x = v1.placeholder(tf.float32, [None, 2], name="x")
    ids = v1.placeholder(tf.int32, [None], name="ids")
    loss = lambda v: tf.reduce_sum(tf.matmul(x, v))  # noqa: E731
    v1.train.AdamOptimizer(0.01).minimize(loss(_var("a/w", [2, 2], use_resource)))
    emb = _var("emb", [5, 2], use_resource)
    v1.train.AdamOptimizer(0.02, beta1=0.5, epsilon=1e-6).minimize(
        loss(_var("b/w", [2, 2], use_resource)) + tf.reduce_sum(tf.nn.embedding_lookup(emb, ids)))
    v1.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True).minimize(loss(_var("c/w", [2, 2], use_resource)),
                                                                     name="train_c")
    v1.train.RMSPropOptimizer(0.03, decay=0.8, momentum=0.5, epsilon=1e-5, centered=True).minimize(
        loss(_var("d/w", [2, 2], use_resource)))
    v1.train.AdagradOptimizer(0.3, initial_accumulator_value=0.25).minimize(loss(_var("e/w", [2, 2], use_resource)))
    lr = v1.placeholder(tf.float32, [], name="lr")
    v1.train.GradientDescentOptimizer(lr).minimize(loss(_var("f/w", [2, 2], use_resource)), name="sgd_fed")
    step = v1.train.get_or_create_global_step()
    decayed = v1.train.exponential_decay(0.1, step, 100, 0.5)
    v1.train.MomentumOptimizer(decayed, 0.9).minimize(loss(_var("g/w", [2, 2], use_resource)), name="sgd_decay")
  return graph


@pytest.mark.parametrize("use_resource", [pytest.param(False, id="ref_variables"),
                                          pytest.param(True, id="resource_variables")])
def test_reads_every_optimizer_its_hyperparameters_and_variables(use_resource, tmp_path):
  """Kind, learning rate, betas, epsilon, momentum, decay, use_nesterov, centered, initial accumulator, the
  slot name, Adam's beta-power keys, and the variables each updates (the embedding's sparse Adam update too)."""
  graph = _graph(use_resource)
  meta = str(tmp_path / "g.meta")
  with graph.as_default():
    v1.train.export_meta_graph(filename=meta)
  for source in (graph, meta):
    found = keras_bridge.tf1_optimizers_in_graph(source)
    assert list(found) == ["Adam", "Adam_1", "train_c", "RMSProp", "Adagrad", "sgd_fed", "sgd_decay"]
    summary = {s: (g.spec.kind, g.spec.learning_rate, dict(g.spec.hparams), g.spec.name, g.spec.beta_power_keys,
                   g.variables) for s, g in found.items() if s not in ("sgd_fed", "sgd_decay")}
    assert summary == {
        "Adam": ("Adam", 0.01, {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}, "Adam",
                 ("beta1_power", "beta2_power"), ("a/w",)),
        "Adam_1": ("Adam", 0.02, {"beta1": 0.5, "beta2": 0.999, "epsilon": 1e-6}, "Adam",
                   ("beta1_power_1", "beta2_power_1"), ("b/w", "emb")),
        "train_c": ("Momentum", 0.1, {"momentum": 0.9, "use_nesterov": True}, "Momentum", None, ("c/w",)),
        "RMSProp": ("RMSProp", 0.03, {"decay": 0.8, "momentum": 0.5, "epsilon": 1e-5, "centered": True},
                    "RMSProp", None, ("d/w",)),
        "Adagrad": ("Adagrad", 0.3, {"initial_accumulator_value": 0.25}, "Adagrad", None, ("e/w",)),
    }
    assert found["Adam_1"].slots == {"b/w": ("b/w/Adam", "b/w/Adam_1"), "emb": ("emb/Adam", "emb/Adam_1")}
    assert found["RMSProp"].slots == {"d/w": ("d/w/RMSProp", "d/w/RMSProp_1", "d/w/RMSProp_2")}
    fed, decayed = found["sgd_fed"].spec, found["sgd_decay"].spec
    assert math.isnan(fed.learning_rate) and fed.learning_rate_source == "placeholder 'lr:0'"
    assert math.isnan(decayed.learning_rate) and decayed.learning_rate_source.startswith("tensor 'ExponentialDecay")
    assert "a schedule or a computed value" in decayed.learning_rate_source


def test_a_fed_learning_rate_is_never_guessed(tmp_path):
  """A spec with a placeholder learning rate refuses to build an optimizer, naming the placeholder and a fix."""
  spec = keras_bridge.tf1_optimizers_in_graph(_graph(False))["sgd_fed"].spec
  with pytest.raises(keras_bridge.OptimizerStateError, match=r"no constant learning rate \(it is a placeholder "
                                                             r"'lr:0'\).*Pass a Keras optimizer"):
    spec.to_keras()


def test_bad_input_names_what_it_takes(tmp_path):
  """A missing `.meta` and a file that is not a MetaGraphDef: errors naming the path and what to pass."""
  with pytest.raises(keras_bridge.CheckpointNotFoundError, match="No MetaGraph at"):
    keras_bridge.tf1_optimizers_in_graph(str(tmp_path / "nothing.meta"))
  (tmp_path / "bad.meta").write_bytes(np.arange(50, dtype=np.uint8).tobytes())
  with pytest.raises(keras_bridge.CheckpointFormatError, match="is not a MetaGraphDef"):
    keras_bridge.tf1_optimizers_in_graph(str(tmp_path / "bad.meta"))
