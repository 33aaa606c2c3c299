"""Fine-tuning through a Saver dict: the second half of 000_4e63901589b71580.txt (迁移学习).

The seed's listing cannot run, three times over:

1. `def create_model(x):` has only a comment for a body (and so does the last `with` block): SyntaxError,
   "expected an indented block after function definition on line 3".
2. Once that is repaired, `tf.get_variable("fully_connected/fc_weights")` inside a fresh
   `variable_scope("pretrained_model")` has no shape and no initializer: ValueError, "Variable
   pretrained_model/fully_connected/fc_weights did not get an initializer, so its `shape` argument must be
   specified."
3. Given shapes, `saver.restore(pretrained_model)` lacks the session: TypeError, "Saver.restore() missing 1
   required positional argument: 'save_path'". (`restore` returns None, so `pretrained_model = ...` would
   lose the path anyway.)

And its design is off: the restored variables live under `pretrained_model/`, which the new model (built
under `new_model/`) never reads. The corrected version (`build_fine_tune`) builds the new model first and maps
each checkpoint key to the new model's own variable: `Saver({"fully_connected/fc_weights":
<new_model/fully_connected/fc_weights>, ...})`. Keys of that dict are the names *in the checkpoint*.
"""

import dataclasses
import os
import tempfile
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from tf1_reference import _snippets
from tf1_reference._registry import example

v1 = tf.compat.v1

SEED = "000_4e63901589b71580.txt"

FINETUNE_LISTING = '''\
import tensorflow as tf

def create_model(x):
    # 定义新的模型
    
def fine_tune_model(new_model, pretrained_model):
    with tf.variable_scope("new_model"):
        x = tf.placeholder(tf.float32, [None, 784], name="input")
        y = new_model(x)
    
    with tf.variable_scope("pretrained_model"):
        # 加载已经训练好的参数
        saver = tf.train.Saver({"fc_weights": tf.get_variable("fully_connected/fc_weights"),
                               "fc_biases": tf.get_variable("fully_connected/fc_biases")})
        pretrained_model = saver.restore(pretrained_model)
        
    with tf.variable_scope("new_model"):
        # 继续训练新的模型
        # ...
'''

#: Minimal repairs that get the listing past the SyntaxError: a body for `create_model` and for the last
#: `with` block.
SYNTAX_REPAIRS = {
    "    # 定义新的模型\n": "    # 定义新的模型\n    return tf.layers.dense(x, 10, name=\"logits\")\n",
    "        # ...\n": "        # ...\n        pass\n",
}
#: Further repairs that get it past the missing shapes (the seed's 784 inputs, 256 hidden units).
SHAPE_REPAIRS = {
    'tf.get_variable("fully_connected/fc_weights")': 'tf.get_variable("fully_connected/fc_weights", [784, 256])',
    'tf.get_variable("fully_connected/fc_biases")': 'tf.get_variable("fully_connected/fc_biases", [256])',
}

#: Checkpoint keys of the pretrained layer, as `build_pretrained(scope="fully_connected")` writes them.
PRETRAINED_KEYS = ("fully_connected/fc_weights", "fully_connected/fc_biases")


def run_literal(pretrained_path: str, repairs: Optional[dict] = None) -> _snippets.SnippetRun:
  """Runs the listing with `repairs` applied, then calls `fine_tune_model(create_model, pretrained_path)`.

  Raises:
    SyntaxError, ValueError, TypeError: as listed in the module docstring, depending on `repairs`.
  """
  run = _snippets.run(FINETUNE_LISTING, SEED, replace=repairs)
  with run.graph.as_default():
    run.namespace["fine_tune_model"](run.namespace["create_model"], pretrained_path)
  return run


@dataclasses.dataclass
class PretrainedGraph:
  """A pretrained classifier: a hidden fully connected layer and a head."""

  graph: tf.Graph
  x: tf.Tensor
  fc_weights: tf.Variable
  fc_biases: tf.Variable
  logits: tf.Tensor
  init: tf.Operation
  saver: "v1.train.Saver"


def build_pretrained(n_inputs: int = 784, n_hidden: int = 256, n_classes: int = 10,
                     scope: Optional[str] = "fully_connected", seed: Optional[int] = None) -> PretrainedGraph:
  """The model the seed assumes was trained: `fc_weights`/`fc_biases` (under `scope`) and a `classifier`.

  Args:
    n_inputs: input width (the seed's 784).
    n_hidden: units of the fully connected layer (the seed's 256).
    n_classes: width of the old head.
    scope: variable scope of `fc_weights`/`fc_biases`; None puts them at the root (keys `fc_weights`,
      `fc_biases`, the only layout in which the seed's own dict keys would match).
    seed: graph-level random seed.

  Returns:
    A `PretrainedGraph`.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    x = v1.placeholder(tf.float32, [None, n_inputs], name="input")
    # Re-entering the current (root) scope object adds no prefix.
    with v1.variable_scope(scope or v1.get_variable_scope()):
      w = v1.get_variable("fc_weights", [n_inputs, n_hidden], initializer=v1.random_normal_initializer())
      b = v1.get_variable("fc_biases", [n_hidden], initializer=v1.random_normal_initializer())
    hidden = tf.nn.relu(tf.matmul(x, w) + b)
    with v1.variable_scope("classifier"):
      head_w = v1.get_variable("weights", [n_hidden, n_classes], initializer=v1.random_normal_initializer())
      head_b = v1.get_variable("biases", [n_classes], initializer=v1.zeros_initializer())
    logits = tf.matmul(hidden, head_w) + head_b
    init = v1.global_variables_initializer()
    saver = v1.train.Saver()
  return PretrainedGraph(graph=graph, x=x, fc_weights=w, fc_biases=b, logits=logits, init=init, saver=saver)


def save_pretrained(directory: str, **kwargs) -> str:
  """Initializes `build_pretrained(**kwargs)` and saves it to `<directory>/pretrained.ckpt`."""
  net = build_pretrained(**kwargs)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    return net.saver.save(sess, os.path.join(directory, "pretrained.ckpt"), write_meta_graph=False)


@dataclasses.dataclass
class FineTuneGraph:
  """Handles of the corrected fine-tuning graph."""

  graph: tf.Graph
  x: tf.Tensor
  y: tf.Tensor
  fc_weights: tf.Variable
  fc_biases: tf.Variable
  logits: tf.Tensor
  loss: tf.Tensor
  train_op: tf.Operation
  init: tf.Operation
  restore_saver: "v1.train.Saver"
  saver: "v1.train.Saver"


def build_fine_tune(n_inputs: int = 784, n_hidden: int = 256, n_classes: int = 5,
                    checkpoint_keys: Sequence[str] = PRETRAINED_KEYS, learning_rate: float = 0.01,
                    train_pretrained: bool = True, seed: Optional[int] = None) -> FineTuneGraph:
  """The corrected 000 fine-tuning: a new model under `new_model/`, its fc layer restored from a checkpoint.

  Variables: `new_model/fully_connected/fc_weights`, `new_model/fully_connected/fc_biases` (restored) and
  `new_model/new_head/weights`, `new_model/new_head/biases` (new). `restore_saver` maps the checkpoint keys
  to the first two: `Saver({checkpoint_keys[0]: fc_weights, checkpoint_keys[1]: fc_biases})`. Run `init`
  first, then `restore_saver.restore(sess, path)`; `saver` saves the whole new model.

  Args:
    n_inputs: input width; must match the checkpoint.
    n_hidden: hidden units; must match the checkpoint.
    n_classes: width of the new head.
    checkpoint_keys: the pretrained weights' and biases' keys in the checkpoint.
    learning_rate: for gradient descent.
    train_pretrained: False freezes the restored layer (only the new head is in `var_list`).
    seed: graph-level random seed.

  Returns:
    A `FineTuneGraph`.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    with v1.variable_scope("new_model"):
      x = v1.placeholder(tf.float32, [None, n_inputs], name="input")
      y = v1.placeholder(tf.int64, [None], name="labels")
      with v1.variable_scope("fully_connected"):
        w = v1.get_variable("fc_weights", [n_inputs, n_hidden])
        b = v1.get_variable("fc_biases", [n_hidden], initializer=v1.zeros_initializer())
      hidden = tf.nn.relu(tf.matmul(x, w) + b)
      with v1.variable_scope("new_head"):
        head_w = v1.get_variable("weights", [n_hidden, n_classes])
        head_b = v1.get_variable("biases", [n_classes], initializer=v1.zeros_initializer())
      logits = tf.matmul(hidden, head_w) + head_b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    var_list = [w, b, head_w, head_b] if train_pretrained else [head_w, head_b]
    train_op = v1.train.GradientDescentOptimizer(learning_rate).minimize(loss, var_list=var_list)
    restore_saver = v1.train.Saver({checkpoint_keys[0]: w, checkpoint_keys[1]: b})
    init = v1.global_variables_initializer()
    saver = v1.train.Saver()
  return FineTuneGraph(graph=graph, x=x, y=y, fc_weights=w, fc_biases=b, logits=logits, loss=loss,
                       train_op=train_op, init=init, restore_saver=restore_saver, saver=saver)


def fine_tune(pretrained_path: str, steps: int = 3, batch_size: int = 8, data_seed: int = 0,
              **kwargs) -> dict:
  """Restores the pretrained layer into `build_fine_tune(**kwargs)` and trains `steps` steps on random data.

  Returns:
    `{"net", "restored_w", "restored_b", "final_w", "losses"}`: the restored values right after the
    restore and the values and losses after training.
  """
  net = build_fine_tune(**kwargs)
  rng = np.random.default_rng(data_seed)
  n_inputs, n_classes = net.x.shape[1], net.logits.shape[1]
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    net.restore_saver.restore(sess, pretrained_path)
    restored_w, restored_b = sess.run([net.fc_weights, net.fc_biases])
    losses = []
    for _ in range(steps):
      xb = rng.normal(size=(batch_size, n_inputs)).astype(np.float32)
      yb = rng.integers(0, n_classes, size=batch_size)
      _, loss = sess.run([net.train_op, net.loss], {net.x: xb, net.y: yb})
      losses.append(float(loss))
    final_w = sess.run(net.fc_weights)
  return {"net": net, "restored_w": restored_w, "restored_b": restored_b, "final_w": final_w,
          "losses": losses}


def _expect(exc_type, fragment, fn):
  try:
    fn()
  except exc_type as e:
    if fragment not in str(e):
      raise
    return f"{exc_type.__name__}: {fragment}"
  raise AssertionError(f"expected {exc_type.__name__} ({fragment})")


@example(SEED, "迁移学习 fine_tune_model: comment-only function body", erratum="E-FINETUNE-SYNTAX")
def demo_literal_syntax():
  return _expect(SyntaxError, "expected an indented block after function definition on line 3",
                 lambda: run_literal("unused"))


@example(SEED, "迁移学习 fine_tune_model: get_variable without shape", erratum="E-FINETUNE-SHAPE")
def demo_literal_shape():
  return _expect(ValueError, "pretrained_model/fully_connected/fc_weights did not get an initializer",
                 lambda: run_literal("unused", SYNTAX_REPAIRS))


@example(SEED, "迁移学习 fine_tune_model: saver.restore(path) arity", erratum="E-FINETUNE-RESTORE")
def demo_literal_restore():
  return _expect(TypeError, "missing 1 required positional argument: 'save_path'",
                 lambda: run_literal("unused", {**SYNTAX_REPAIRS, **SHAPE_REPAIRS}))


@example(SEED, "迁移学习: restore selected variables through a Saver dict (corrected)")
def demo_fine_tune():
  with tempfile.TemporaryDirectory() as tmp:
    path = save_pretrained(tmp, n_inputs=6, n_hidden=4, seed=0)
    keys = [name for name, _ in tf.train.list_variables(path)]
    out = fine_tune(path, n_inputs=6, n_hidden=4, n_classes=3)
    reader = tf.train.load_checkpoint(path)
    if not np.array_equal(out["restored_w"], reader.get_tensor("fully_connected/fc_weights")):
      raise AssertionError("fc_weights not restored")
  return (f"checkpoint {keys} -> new_model/fully_connected/fc_weights, fc_biases restored; "
          f"{len(out['losses'])} steps trained")
