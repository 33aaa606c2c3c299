"""The MNIST DNN of 002_9773991e7c1a2830.txt ("复用 TensorFlow 模型"), built with the real `tf.layers.dense`.

Two graphs are reproduced:

* `build_dnn`: "完整代码" -- hidden1..hidden5 and outputs under `tf.name_scope("dnn")`, the loss under
  `name_scope("loss")`, `in_top_k` accuracy under `name_scope("eval")`, and gradient clipping through
  `compute_gradients` / `clip_by_value` / `apply_gradients`.
* `build_transfer_dnn`: the variant that reuses hidden1..hidden3, adds a new hidden4 (20 units) and new
  outputs, trains under `name_scope("train")` with `minimize`, restores hidden1..3 through a Saver built from
  `get_collection(GLOBAL_VARIABLES, scope="hidden[123]")`, and saves the whole new model with a second Saver.

`name_scope` does not prefix variables created by `tf.layers.dense`, so the Saver keys are `hidden1/kernel`,
`hidden1/bias`, ..., `outputs/kernel`, `outputs/bias`, while the ops are `dnn/hidden1/Relu` and so on.
"""

import dataclasses
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from tf1_reference import _compat

v1 = tf.compat.v1

#: Layer sizes of the "完整代码" listing. The listing never defines `n_hidden5`; see docs/ERRATA.md.
DNN_HIDDEN = (300, 50, 50, 50, 50)
#: Layer sizes of the transfer listing: hidden1..3 reused, hidden4 (20 units) and outputs new.
TRANSFER_HIDDEN = (300, 50, 50, 20)
MNIST_INPUTS = 28 * 28
MNIST_OUTPUTS = 10

OptimizerFactory = Callable[[float], "v1.train.Optimizer"]


@dataclasses.dataclass
class DNNGraph:
  """Handles of a DNN graph. All tensors live in `graph`."""

  graph: tf.Graph
  X: tf.Tensor
  y: tf.Tensor
  hidden: list
  logits: tf.Tensor
  loss: tf.Tensor
  accuracy: tf.Tensor
  training_op: tf.Operation
  optimizer: "v1.train.Optimizer"
  init: tf.Operation
  saver: "v1.train.Saver"
  global_step: Optional[tf.Variable] = None
  restore_saver: Optional["v1.train.Saver"] = None
  reuse_vars: Optional[list] = None

  @property
  def layer_names(self):
    return [f"hidden{i + 1}" for i in range(len(self.hidden))] + ["outputs"]

  def variables(self):
    """The model's global variables (weights, optimizer slots, step), in creation order."""
    with self.graph.as_default():
      return v1.global_variables()

  def model_variables(self):
    """Only the layer weights: `hidden*/kernel|bias` and `outputs/kernel|bias`."""
    names = set(self.layer_names)
    return [v for v in self.graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)
            if v.op.name.split("/")[0] in names]


def _sgd(learning_rate):
  return v1.train.GradientDescentOptimizer(learning_rate)


def _build_layers(X, hidden_sizes, n_outputs):
  hidden = []
  out = X
  with tf.name_scope("dnn"):
    for i, units in enumerate(hidden_sizes):
      out = _compat.dense(out, units, activation=tf.nn.relu, name=f"hidden{i + 1}")
      hidden.append(out)
    logits = _compat.dense(out, n_outputs, name="outputs")
  return hidden, logits


def _loss_and_eval(logits, y):
  with tf.name_scope("loss"):
    xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = tf.reduce_mean(xentropy, name="loss")
  with tf.name_scope("eval"):
    correct = tf.nn.in_top_k(predictions=logits, targets=y, k=1)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32), name="accuracy")
  return loss, accuracy


def build_dnn(n_inputs: int = MNIST_INPUTS,
              n_outputs: int = MNIST_OUTPUTS,
              hidden_sizes: Sequence[int] = DNN_HIDDEN,
              learning_rate: float = 0.01,
              threshold: Optional[float] = 1.0,
              optimizer: Optional[OptimizerFactory] = None,
              global_step: bool = False,
              seed: Optional[int] = None,
              max_to_keep: int = 5) -> DNNGraph:
  """Builds the "完整代码" DNN of 002_9773991e7c1a2830.txt in a new graph.

  Args:
    n_inputs: input features (784 for MNIST, 64 for scikit-learn's digits).
    n_outputs: classes.
    hidden_sizes: units of hidden1, hidden2, ...; the document's are `DNN_HIDDEN`.
    learning_rate: passed to the optimizer factory.
    threshold: gradients are clipped to [-threshold, threshold] as in the document; None skips clipping.
    optimizer: factory `learning_rate -> tf.compat.v1.train.Optimizer`; default `GradientDescentOptimizer`.
    global_step: create `global_step` and increment it in `training_op` (for periodic checkpoints).
    seed: graph-level random seed, for reproducible initial weights.
    max_to_keep: for the Saver.

  Returns:
    A `DNNGraph`.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    X = v1.placeholder(tf.float32, shape=(None, n_inputs), name="X")
    y = v1.placeholder(tf.int64, shape=(None), name="y")
    hidden, logits = _build_layers(X, hidden_sizes, n_outputs)
    loss, accuracy = _loss_and_eval(logits, y)
    step = v1.train.get_or_create_global_step() if global_step else None
    opt = (optimizer or _sgd)(learning_rate)
    grads_and_vars = opt.compute_gradients(loss)
    if threshold is not None:
      grads_and_vars = [(tf.clip_by_value(grad, -threshold, threshold), var) for grad, var in grads_and_vars]
    training_op = opt.apply_gradients(grads_and_vars, global_step=step)
    init = v1.global_variables_initializer()
    saver = v1.train.Saver(max_to_keep=max_to_keep)
  return DNNGraph(graph=graph, X=X, y=y, hidden=hidden, logits=logits, loss=loss, accuracy=accuracy,
                  training_op=training_op, optimizer=opt, init=init, saver=saver, global_step=step)


def reuse_vars_by_scope(graph: tf.Graph, scope: str = "hidden[123]") -> list:
  """The document's selection: `get_collection(GLOBAL_VARIABLES, scope="hidden[123]")`.

  `get_collection` applies `re.match`, a *prefix* match: "hidden[123]" also selects `hidden10/...`,
  `hidden2_1/...` and so on. See docs/ERRATA.md and `reuse_vars_exact`.
  """
  return graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES, scope=scope)


def reuse_vars_exact(graph: tf.Graph, layers: Sequence[str] = ("hidden1", "hidden2", "hidden3")) -> list:
  """The corrected selection: variables whose first name component is exactly one of `layers`."""
  wanted = set(layers)
  return [v for v in graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES) if v.op.name.split("/")[0] in wanted]


def build_transfer_dnn(n_inputs: int = MNIST_INPUTS,
                       n_outputs: int = MNIST_OUTPUTS,
                       hidden_sizes: Sequence[int] = TRANSFER_HIDDEN,
                       reused_layers: Sequence[str] = ("hidden1", "hidden2", "hidden3"),
                       learning_rate: float = 0.01,
                       optimizer: Optional[OptimizerFactory] = None,
                       exact_scope: bool = True,
                       seed: Optional[int] = None) -> DNNGraph:
  """Builds the transfer graph of 002_9773991e7c1a2830.txt: hidden1..3 reused, new hidden4 and outputs.

  Args:
    n_inputs: input features.
    n_outputs: classes.
    hidden_sizes: the document's are (300, 50, 50, 20).
    reused_layers: layers restored from the original checkpoint by `restore_saver`.
    learning_rate: for the optimizer.
    optimizer: factory `learning_rate -> Optimizer`; default `GradientDescentOptimizer`.
    exact_scope: select the reused variables by exact layer name (True, the fix) or, as the document does,
      with the prefix regex `get_collection(..., scope="hidden[123]")` (False).
    seed: graph-level random seed.

  Returns:
    A `DNNGraph` whose `restore_saver` restores only `reuse_vars` and whose `saver` saves the whole model.
    Run `init` first, then `restore_saver.restore(...)`: initializing after restoring would overwrite the
    restored values.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    X = v1.placeholder(tf.float32, shape=(None, n_inputs), name="X")
    y = v1.placeholder(tf.int64, shape=(None), name="y")
    hidden, logits = _build_layers(X, hidden_sizes, n_outputs)
    loss, accuracy = _loss_and_eval(logits, y)
    with tf.name_scope("train"):
      opt = (optimizer or _sgd)(learning_rate)
      training_op = opt.minimize(loss)
    if exact_scope:
      reuse_vars = reuse_vars_exact(graph, reused_layers)
    else:
      reuse_vars = reuse_vars_by_scope(graph, "hidden[123]")
    reuse_vars_dict = {var.op.name: var for var in reuse_vars}
    restore_saver = v1.train.Saver(reuse_vars_dict)
    init = v1.global_variables_initializer()
    saver = v1.train.Saver()
  return DNNGraph(graph=graph, X=X, y=y, hidden=hidden, logits=logits, loss=loss, accuracy=accuracy,
                  training_op=training_op, optimizer=opt, init=init, saver=saver,
                  restore_saver=restore_saver, reuse_vars=reuse_vars)


def train_epoch(sess, net: DNNGraph, X_train: np.ndarray, y_train: np.ndarray, batch_size: int,
                rng: np.random.Generator) -> float:
  """One epoch of the document's loop (`sess.run(training_op, feed_dict=...)`); returns the mean batch loss."""
  order = rng.permutation(len(X_train))
  losses = []
  for start in range(0, len(order), batch_size):
    idx = order[start:start + batch_size]
    _, loss = sess.run([net.training_op, net.loss], feed_dict={net.X: X_train[idx], net.y: y_train[idx]})
    losses.append(loss)
  return float(np.mean(losses))
