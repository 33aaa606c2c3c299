"""TF1's distributed checkpoints: partitioned variables and `Saver(sharded=True)` over several devices.

Examples beyond the seed articles (none of the five documents partitions a variable), added for issue 14 because
parameter-server programs wrote their checkpoints this way:

* `build_partitioned_model`: an embedding split by `fixed_size_partitioner(2)` on `/cpu:0` and a dense kernel
  split by `min_max_variable_partitioner` on `/cpu:1`, saved by `Saver(sharded=True)`: one `.data` shard per
  device. Run it in a session from `session_config()`, which gives the session two CPU devices (the eager
  context, and other tests, keep one).
* What TensorFlow does with them, pinned by tests/tf1_reference/test_distributed.py: the graph holds the parts
  (`embedding/embeddings/part_0:0`, `.../part_1:0`), but the checkpoint has one key per *whole* variable
  (`embedding/embeddings`, shape `[10, 4]`) whose index entry lists the slices; `get_tensor` reads it whole.
  The Saver of the partitioned graph restores each part by its slice, from a sliced key or from an unsliced
  one (a whole tensor, as `keras_bridge.save_tf1_checkpoint` writes it).
"""

import dataclasses
import os
import tempfile
from typing import List

import numpy as np
import tensorflow as tf

from tf1_reference._registry import example

v1 = tf.compat.v1

SEED = "(beyond the seeds) distributed checkpoints"
VOCAB, EMBED_DIM, UNITS = 10, 4, 3


@dataclasses.dataclass
class PartitionedModel:
  """The graph, its input `ids`, output `logits`, the two `PartitionedVariable`s, the bias and the Saver."""

  graph: tf.Graph
  ids: tf.Tensor
  logits: tf.Tensor
  embeddings: "v1.PartitionedVariable"
  kernel: "v1.PartitionedVariable"
  bias: tf.Variable
  saver: "v1.train.Saver"
  init: tf.Operation
  labels: tf.Tensor
  train_op: tf.Operation

  def full_values(self, sess) -> dict:
    """`{checkpoint key: whole value}`: the parts concatenated, as the checkpoint holds them."""
    return {"embedding/embeddings": sess.run(tf.concat(list(self.embeddings), 0)),
            "dense/kernel": sess.run(tf.concat(list(self.kernel), 0)), "dense/bias": sess.run(self.bias)}


def session_config() -> "v1.ConfigProto":
  """Two CPU devices for this session only, placement strict: each part runs where the graph puts it."""
  return v1.ConfigProto(device_count={"CPU": 2}, allow_soft_placement=False)


def build_partitioned_model(seed: int = 0, learning_rate: float = 0.1) -> PartitionedModel:
  """An embedding lookup and a dense layer whose variables are partitioned over two devices.

  Names follow Keras's layers (`embedding/embeddings`, `dense/kernel`, `dense/bias`), so the checkpoint loads
  into `keras.layers.Embedding(10, 4, name="embedding")` and `keras.layers.Dense(3, name="dense")` without
  rules.
  """
  graph = tf.Graph()
  with graph.as_default():
    v1.set_random_seed(seed)
    ids = v1.placeholder(tf.int32, [None], name="ids")
    with tf.device("/cpu:0"):
      embeddings = v1.get_variable("embedding/embeddings", [VOCAB, EMBED_DIM],
                                   partitioner=v1.fixed_size_partitioner(2),
                                   initializer=v1.random_normal_initializer())
    with tf.device("/cpu:1"):
      # At least 16 bytes (4 floats) per slice, at most 2 slices: the [4, 3] kernel splits into 2 x [2, 3].
      kernel = v1.get_variable("dense/kernel", [EMBED_DIM, UNITS],
                               partitioner=v1.min_max_variable_partitioner(max_partitions=2, min_slice_size=16))
      bias = v1.get_variable("dense/bias", [UNITS], initializer=v1.zeros_initializer())
      logits = tf.matmul(tf.nn.embedding_lookup(embeddings, ids), tf.concat(list(kernel), 0)) + bias
    labels = v1.placeholder(tf.int64, [None], name="labels")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    # Adam's slots are partitioned like their variables (`embedding/embeddings/Adam`, sliced the same way).
    train_op = v1.train.AdamOptimizer(learning_rate).minimize(
        loss, global_step=v1.train.get_or_create_global_step())
    saver = v1.train.Saver(sharded=True)
    init = v1.global_variables_initializer()
  return PartitionedModel(graph, ids, logits, embeddings, kernel, bias, saver, init, labels, train_op)


def part_names(net: PartitionedModel) -> List[str]:
  """The graph's variable names: one per part, each with its slice of the whole variable."""
  return [v.name for v in net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)]


def save_partitioned(net: PartitionedModel, prefix: str, steps: int = 0, batch=None) -> dict:
  """Initialises, trains `steps` Adam steps on `batch` (`(ids, labels)`), saves with the sharded Saver to
  `prefix` (its directory created); returns `full_values`."""
  os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
  with v1.Session(graph=net.graph, config=session_config()) as sess:
    sess.run(net.init)
    for _ in range(steps):
      sess.run(net.train_op, {net.ids: batch[0], net.labels: batch[1]})
    net.saver.save(sess, prefix)
    return net.full_values(sess)


def restore_partitioned(net: PartitionedModel, prefix: str) -> dict:
  """Restores `prefix` with the partitioned graph's own Saver; returns `full_values`."""
  with v1.Session(graph=net.graph, config=session_config()) as sess:
    net.saver.restore(sess, prefix)
    return net.full_values(sess)


@example(SEED, "fixed_size_partitioner / min_max_variable_partitioner + Saver(sharded=True) on 2 devices")
def demo_partitioned_checkpoint() -> str:
  net = build_partitioned_model()
  with tempfile.TemporaryDirectory() as d:
    values = save_partitioned(net, os.path.join(d, "model.ckpt"))
    reader = tf.train.load_checkpoint(os.path.join(d, "model.ckpt"))
    shapes = reader.get_variable_to_shape_map()
    shards = sorted(f for f in os.listdir(d) if ".data-" in f)
    if {k: v for k, v in shapes.items() if "Adam" not in k and "power" not in k and k != "global_step"} != {
        "embedding/embeddings": [10, 4], "dense/kernel": [4, 3], "dense/bias": [3]}:
      raise RuntimeError(f"checkpoint keys: expected whole variables, observed {shapes!r}")
    if not np.array_equal(reader.get_tensor("embedding/embeddings"), values["embedding/embeddings"]):
      raise RuntimeError("the whole embedding read from the checkpoint differs from the parts concatenated")
  return f"{len(part_names(net))} graph parts -> {len(shapes)} whole keys in {len(shards)} shards"
