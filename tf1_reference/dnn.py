"""The MNIST DNN of 002_9773991e7c1a2830.txt ("复用 TensorFlow 模型"), built with the real `tf.layers.dense`.

Two graphs are reproduced:

* `build_dnn`: "完整代码" -- hidden1..hidden5 and outputs under `tf.name_scope("dnn")`, the loss under
  `name_scope("loss")`, `in_top_k` accuracy under `name_scope("eval")`, and gradient clipping through
  `compute_gradients` / `clip_by_value` / `apply_gradients`.
* `build_transfer_dnn`: the variant that reuses hidden1..hidden3, adds a new hidden4 (20 units) and new
  outputs, trains under `name_scope("train")` with `minimize`, restores hidden1..3 through a Saver built from
  `get_collection(GLOBAL_VARIABLES, scope="hidden[123]")`, and saves the whole new model with a second Saver.

The seed's listings, verbatim but for the indentation the page lost, are `DNN_LISTING`, `CONTINUE_LISTING`,
`TRANSFER_MODEL_LISTING` and `TRANSFER_RESTORE_LISTING`; `run_literal` runs them with a TF1-style `tf`.

`name_scope` does not prefix variables created by `tf.layers.dense`, so the Saver keys are `hidden1/kernel`,
`hidden1/bias`, ..., `outputs/kernel`, `outputs/bias`, while the ops are `dnn/hidden1/Relu` and so on.
"""

import dataclasses
import os
import tempfile
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from tf1_reference import _compat
from tf1_reference import _snippets
from tf1_reference._registry import example

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

  Two traps (docs/ERRATA.md E-HIDDEN-REGEX-PREFIX, E-DNN-GLOBAL-VS-TRAINABLE):
  `get_collection` applies `re.match`, a *prefix* match, so "hidden[123]" also selects `hidden10/...`,
  `hidden2_1/...` and so on; and `GLOBAL_VARIABLES` (the text says "trainable=True variables") also holds
  optimizer slots such as `hidden1/kernel/Momentum`, which the original checkpoint does not have.
  See `reuse_vars_exact`.
  """
  return graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES, scope=scope)


def reuse_vars_exact(graph: tf.Graph, layers: Sequence[str] = ("hidden1", "hidden2", "hidden3")) -> list:
  """The corrected selection: trainable variables whose first name component is exactly one of `layers`.

  Trainable only, as the document's text says: optimizer slots (`hidden1/kernel/Momentum`) stay out.
  """
  wanted = set(layers)
  return [v for v in graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)
          if v.op.name.split("/")[0] in wanted]


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


SEED = "002_9773991e7c1a2830.txt"

DNN_LISTING = """\
n_inputs = 28 * 28 # MNIST
n_hidden1 = 300
n_hidden2 = 50
n_hidden3 = 50
n_hidden4 = 50
n_outputs = 10
X = tf.placeholder(tf.float32, shape=(None, n_inputs), name="X")
y = tf.placeholder(tf.int64, shape=(None), name="y")
with tf.name_scope("dnn"):
    hidden1 = tf.layers.dense(X, n_hidden1, activation=tf.nn.relu, name="hidden1")
    hidden2 = tf.layers.dense(hidden1, n_hidden2, activation=tf.nn.relu, name="hidden2")
    hidden3 = tf.layers.dense(hidden2, n_hidden3, activation=tf.nn.relu, name="hidden3")
    hidden4 = tf.layers.dense(hidden3, n_hidden4, activation=tf.nn.relu, name="hidden4")
    hidden5 = tf.layers.dense(hidden4, n_hidden5, activation=tf.nn.relu, name="hidden5")
    logits = tf.layers.dense(hidden5, n_outputs, name="outputs")
with tf.name_scope("loss"):
    xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = tf.reduce_mean(xentropy, name="loss")
with tf.name_scope("eval"):
    correct = tf.nn.in_top_k(logits, y, 1)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32), name="accuracy")
learning_rate = 0.01
threshold = 1.0
optimizer = tf.train.GradientDescentOptimizer(learning_rate)
grads_and_vars = optimizer.compute_gradients(loss)
capped_gvs = [(tf.clip_by_value(grad, -threshold, threshold), var)
              for grad, var in grads_and_vars]
training_op = optimizer.apply_gradients(capped_gvs)
init = tf.global_variables_initializer()
saver = tf.train.Saver()
"""

CONTINUE_LISTING = """\
with tf.Session() as sess:
    saver.restore(sess, "./my_model_final.ckpt")
    for epoch in range(n_epochs):
        for iteration in range(mnist.train.num_examples // batch_size):
            X_batch, y_batch = mnist.train.next_batch(batch_size)
            sess.run(training_op, feed_dict={X: X_batch, y: y_batch})
        accuracy_val = accuracy.eval(feed_dict={X: mnist.test.images,
                                                y: mnist.test.labels})
        print(epoch, "Test accuracy:", accuracy_val)
    save_path = saver.save(sess, "./my_new_model_final.ckpt")
"""

TRANSFER_MODEL_LISTING = """\
n_inputs = 28 * 28 # MNIST
n_hidden1 = 300 # reused
n_hidden2 = 50 # reused
n_hidden3 = 50 # reused
n_hidden4 = 20 # new!
n_outputs = 10 # new!
X = tf.placeholder(tf.float32, shape=(None, n_inputs), name="X")
y = tf.placeholder(tf.int64, shape=(None), name="y")
with tf.name_scope("dnn"):
    hidden1 = tf.layers.dense(X, n_hidden1, activation=tf.nn.relu, name="hidden1") # reused
    hidden2 = tf.layers.dense(hidden1, n_hidden2, activation=tf.nn.relu, name="hidden2") # reused
    hidden3 = tf.layers.dense(hidden2, n_hidden3, activation=tf.nn.relu, name="hidden3") # reused
    hidden4 = tf.layers.dense(hidden3, n_hidden4, activation=tf.nn.relu, name="hidden4") # new!
    logits = tf.layers.dense(hidden4, n_outputs, name="outputs") # new!
with tf.name_scope("loss"):
    xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = tf.reduce_mean(xentropy, name="loss")
with tf.name_scope("eval"):
    correct = tf.nn.in_top_k(logits, y, 1)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32), name="accuracy")
with tf.name_scope("train"):
    optimizer = tf.train.GradientDescentOptimizer(learning_rate)
    training_op = optimizer.minimize(loss)
"""

TRANSFER_RESTORE_LISTING = """\
[...] # build new model with the same definition as before for hidden layers 1-3
reuse_vars = tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES,
                               scope="hidden[123]") # regular expression
reuse_vars_dict = dict([(var.op.name, var) for var in reuse_vars])
restore_saver = tf.train.Saver(reuse_vars_dict) # to restore layers 1-3
init = tf.global_variables_initializer()
saver = tf.train.Saver()
with tf.Session() as sess:
    init.run()
    restore_saver.restore(sess, "./my_model_final.ckpt")
    for epoch in range(n_epochs): # not shown in the book
        for iteration in range(mnist.train.num_examples // batch_size): # not shown
            X_batch, y_batch = mnist.train.next_batch(batch_size) # not shown
            sess.run(training_op, feed_dict={X: X_batch, y: y_batch}) # not shown
        accuracy_val = accuracy.eval(feed_dict={X: mnist.test.images, # not shown
                                                y: mnist.test.labels}) # not shown
        print(epoch, "Test accuracy:", accuracy_val) # not shown
    save_path = saver.save(sess, "./my_new_model_final.ckpt")
"""


class _Split:
  """One split with the interface of TF1's `input_data.read_data_sets` results."""

  def __init__(self, images, labels):
    self.images, self.labels, self.num_examples = images, labels, len(images)
    self._pos = 0

  def next_batch(self, batch_size):
    idx = np.arange(self._pos, self._pos + batch_size) % self.num_examples
    self._pos = (self._pos + batch_size) % self.num_examples
    return self.images[idx], self.labels[idx]


class RandomMNIST:
  """Random data in the shape of the listings' `mnist` (`train.next_batch`, `test.images`, ...).

  The listings' `mnist` comes from the long-removed `tensorflow.examples.tutorials`; the claims pinned here
  are about variables and checkpoints, not accuracy, so random data keeps the tests fast and offline.
  """

  def __init__(self, n_train=100, n_test=20, n_inputs=MNIST_INPUTS, n_classes=MNIST_OUTPUTS, seed=0):
    rng = np.random.default_rng(seed)
    make = lambda n: (rng.random((n, n_inputs), dtype=np.float32), rng.integers(0, n_classes, n))
    self.train = _Split(*make(n_train))
    self.test = _Split(*make(n_test))


def random_data(n: int, n_inputs: int, n_outputs: int, seed: int = 0):
  """`(X, y)`: `n` random float32 rows and int64 labels, for a few quick training steps."""
  rng = np.random.default_rng(seed)
  return rng.random((n, n_inputs), dtype=np.float32), rng.integers(0, n_outputs, n).astype(np.int64)


def run_literal(listing: str, previous: Optional[_snippets.SnippetRun] = None, checkpoint_dir: str = None,
                **names) -> _snippets.SnippetRun:
  """Runs one of this module's listings; `./my_*.ckpt` paths are moved under `checkpoint_dir`.

  The listings start mid-program, without `import tensorflow as tf`; `tf` is the TF1-style module.
  """
  names.setdefault("tf", _snippets.TF1)
  replace = {}
  if checkpoint_dir is not None:
    for name in ("my_model_final.ckpt", "my_new_model_final.ckpt"):
      if f"./{name}" in listing:
        replace[f"./{name}"] = os.path.join(checkpoint_dir, name)
  return _snippets.run(listing, SEED, replace=replace, previous=previous, **names)


def save_trained(path: str, net: DNNGraph, X: np.ndarray, y: np.ndarray, epochs: int = 1,
                 batch_size: int = 16, seed: int = 0) -> dict:
  """Initializes and trains `net` for `epochs`, then saves it with `net.saver` to `path`.

  Returns:
    `{"save_path", "loss", "accuracy"}` (loss and accuracy on `X`, `y` after training).
  """
  rng = np.random.default_rng(seed)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    for _ in range(epochs):
      train_epoch(sess, net, X, y, batch_size, rng)
    loss, acc = sess.run([net.loss, net.accuracy], {net.X: X, net.y: y})
    return {"save_path": net.saver.save(sess, path), "loss": float(loss), "accuracy": float(acc)}


def restore_and_continue(path: str, new_path: str, X: np.ndarray, y: np.ndarray, epochs: int = 1,
                         batch_size: int = 16, seed: int = 0, **build_kwargs) -> dict:
  """"复用 TensorFlow 模型": rebuild with `build_dnn(**build_kwargs)`, restore (no init), train, save.

  Returns:
    `{"restored_loss", "loss", "save_path"}`: the loss on `X`, `y` right after the restore and after
    training.
  """
  net = build_dnn(**build_kwargs)
  rng = np.random.default_rng(seed)
  with v1.Session(graph=net.graph) as sess:
    net.saver.restore(sess, path)
    restored_loss = float(sess.run(net.loss, {net.X: X, net.y: y}))
    for _ in range(epochs):
      train_epoch(sess, net, X, y, batch_size, rng)
    loss = float(sess.run(net.loss, {net.X: X, net.y: y}))
    return {"restored_loss": restored_loss, "loss": loss, "save_path": net.saver.save(sess, new_path)}


def transfer(original_path: str, new_path: str, X: np.ndarray, y: np.ndarray, epochs: int = 1,
             batch_size: int = 16, seed: int = 0, init_first: bool = True, **build_kwargs) -> dict:
  """The transfer listing: `init`, restore hidden1..3 with `restore_saver`, train, save the whole model.

  Args:
    original_path: checkpoint of the original DNN.
    new_path: where `saver` (the second Saver) writes the whole new model.
    X, y: training data.
    epochs, batch_size, seed: for `train_epoch`.
    init_first: the listing's order. False runs `init` *after* the restore, which overwrites the restored
      values with fresh initial ones.
    **build_kwargs: for `build_transfer_dnn`.

  Returns:
    `{"net", "restored": {name: value right after init+restore}, "save_path"}`.
  """
  net = build_transfer_dnn(**build_kwargs)
  rng = np.random.default_rng(seed)
  with v1.Session(graph=net.graph) as sess:
    if init_first:
      sess.run(net.init)
      net.restore_saver.restore(sess, original_path)
    else:
      net.restore_saver.restore(sess, original_path)
      sess.run(net.init)
    names = [v.op.name for v in net.model_variables()]
    restored = dict(zip(names, sess.run(net.model_variables())))
    for _ in range(epochs):
      train_epoch(sess, net, X, y, batch_size, rng)
    return {"net": net, "restored": restored, "save_path": net.saver.save(sess, new_path)}


#: The tiny DNN of the tests and golden checkpoints: 4 inputs, hidden1..hidden5 of 3 units, 2 outputs.
TINY = {"n_inputs": 4, "n_outputs": 2, "hidden_sizes": (3, 3, 3, 3, 3)}


def _expect_name_error(fn, name):
  try:
    fn()
  except NameError as e:
    if str(e) != f"name '{name}' is not defined":
      raise
    return f"NameError: {e}"
  raise AssertionError(f"expected NameError for {name}")


@example(SEED, "完整代码: the listing never defines n_hidden5", erratum="E-DNN-N-HIDDEN5")
def demo_literal_n_hidden5():
  return _expect_name_error(lambda: run_literal(DNN_LISTING), "n_hidden5")


@example(SEED, "transfer listing: learning_rate undefined", erratum="E-DNN-LEARNING-RATE")
def demo_literal_learning_rate():
  return _expect_name_error(lambda: run_literal(TRANSFER_MODEL_LISTING), "learning_rate")


@example(SEED, "完整代码 + restore-and-continue (literal, n_hidden5=50, random mnist)")
def demo_literal_continue():
  mnist = RandomMNIST()
  with tempfile.TemporaryDirectory() as tmp:
    original = run_literal(DNN_LISTING, n_hidden5=50)
    with original.graph.as_default(), v1.Session() as sess:
      original.namespace["init"].run()
      original.namespace["saver"].save(sess, os.path.join(tmp, "my_model_final.ckpt"))
    run = run_literal(CONTINUE_LISTING, previous=original, checkpoint_dir=tmp, n_epochs=1, batch_size=50,
                      mnist=mnist)
    keys = [name for name, _ in tf.train.list_variables(run.namespace["save_path"])]
  if len(keys) != 12 or not run.printed[0].startswith("0 Test accuracy:"):
    raise AssertionError(f"keys {keys!r}, printed {run.printed!r}")
  return f"{len(keys)} keys ({keys[0]} .. {keys[-1]}); printed '{run.printed[0][:20]}...'"


@example(SEED, "transfer (literal listings, learning_rate=0.01, n_epochs=0): restore hidden1-3")
def demo_literal_transfer():
  with tempfile.TemporaryDirectory() as tmp:
    original = build_dnn(hidden_sizes=(300, 50, 50, 50, 50), seed=0)
    with v1.Session(graph=original.graph) as sess:
      sess.run(original.init)
      # "hidden1/kernel:0" names the resource handle, not the value: read through the variable.
      hidden1 = sess.run(original.model_variables()[0])
      original.saver.save(sess, os.path.join(tmp, "my_model_final.ckpt"))
    model = run_literal(TRANSFER_MODEL_LISTING, learning_rate=0.01)
    run = run_literal(TRANSFER_RESTORE_LISTING, previous=model, checkpoint_dir=tmp, n_epochs=0)
    reader = tf.train.load_checkpoint(run.namespace["save_path"])
    restored = sorted(run.namespace["reuse_vars_dict"])
    if not np.array_equal(reader.get_tensor("hidden1/kernel"), hidden1):
      raise AssertionError("hidden1/kernel was not carried over")
    new_keys = sorted(reader.get_variable_to_shape_map())
  return f"restore_saver keys {restored}; second Saver wrote {len(new_keys)} keys incl. hidden4, outputs"


@example(SEED, "build, train, save, restore-and-continue (tiny sizes)")
def demo_restore_and_continue():
  X, y = random_data(64, TINY["n_inputs"], TINY["n_outputs"])
  with tempfile.TemporaryDirectory() as tmp:
    saved = save_trained(os.path.join(tmp, "my_model_final.ckpt"), build_dnn(seed=0, **TINY), X, y)
    cont = restore_and_continue(saved["save_path"], os.path.join(tmp, "my_new_model_final.ckpt"), X, y,
                                **TINY)
  if abs(cont["restored_loss"] - saved["loss"]) > 1e-6:
    raise AssertionError(f"restored loss {cont['restored_loss']} != saved {saved['loss']}")
  return f"loss saved {saved['loss']:.4f} == restored {cont['restored_loss']:.4f} -> {cont['loss']:.4f}"


@example(SEED, "transfer: restore hidden1-3 only, second Saver saves the whole new model (tiny sizes)")
def demo_transfer():
  X, y = random_data(64, TINY["n_inputs"], TINY["n_outputs"])
  with tempfile.TemporaryDirectory() as tmp:
    saved = save_trained(os.path.join(tmp, "my_model_final.ckpt"), build_dnn(seed=0, **TINY), X, y)
    out = transfer(saved["save_path"], os.path.join(tmp, "my_new_model_final.ckpt"), X, y,
                   n_inputs=4, n_outputs=2, hidden_sizes=(3, 3, 3, 2), seed=1)
    reader = tf.train.load_checkpoint(saved["save_path"])
    same = [n for n, val in out["restored"].items() if np.array_equal(val, reader.get_tensor(n))]
  if same != ["hidden1/kernel", "hidden1/bias", "hidden2/kernel", "hidden2/bias", "hidden3/kernel",
              "hidden3/bias"]:
    raise AssertionError(f"restored: {same!r}")
  return f"restored {same}; hidden4, outputs fresh"


@example(SEED, "scope='hidden[123]' is a re.match prefix: also selects hidden10", erratum="E-HIDDEN-REGEX-PREFIX")
def demo_scope_prefix():
  net = build_transfer_dnn(n_inputs=4, n_outputs=2, hidden_sizes=(3,) * 10, exact_scope=False)
  selected = [v.op.name for v in net.reuse_vars]
  if "hidden10/kernel" not in selected:
    raise AssertionError(f"selected {selected!r}")
  exact = [v.op.name for v in reuse_vars_exact(net.graph)]
  return f"scope='hidden[123]' selects {selected[-2:]} too; exact: {len(exact)} variables"


@example(SEED, "'trainable=True variables' but GLOBAL_VARIABLES: optimizer slots selected",
         erratum="E-DNN-GLOBAL-VS-TRAINABLE")
def demo_global_vs_trainable():
  momentum = lambda lr: v1.train.MomentumOptimizer(lr, 0.9)
  net = build_transfer_dnn(n_inputs=4, n_outputs=2, hidden_sizes=(3, 3, 3, 2), exact_scope=False,
                           optimizer=momentum)
  slots = [v.op.name for v in net.reuse_vars if v.op.name.endswith("/Momentum")]
  if slots[:1] != ["hidden1/kernel/Momentum"]:
    raise AssertionError(f"selected {[v.op.name for v in net.reuse_vars]!r}")
  return f"GLOBAL_VARIABLES under hidden[123] include {len(slots)} slots ({slots[0]}, ...)"
