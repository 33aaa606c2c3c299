"""Saving and restoring with `tf.compat.v1.train.Saver`, from 003_edbfd8374a89a122.txt.

Sections reproduced (the seed's headings):

* 保存一个检查点 -- `v1` (zeros, +1) and `v2` (zeros, -1) saved with `Saver()`: `build_save_graph`,
  `save_checkpoint`, `SAVE_LISTING`.
* 恢复一个检查点 -- the same names built with a shape only, restored without running any initializer:
  `build_restore_graph`, `restore_checkpoint`, `RESTORE_LISTING`.
* 只保存部分变量 -- `Saver({"v2": v2})` plus `v1.initializer.run()`: `build_subset_graph`, `restore_subset`,
  `save_subset`, `SUBSET_LISTING`.
* 定期加载模型并保存检查点 -- the seed's `loadmodel`/`save` helpers and its loop (`periodic_literal`), and a loop
  that resumes where it stopped (`periodic_resumable`).
* 可训练与不可训练参数 -- `trainable=False`: `build_frozen_graph`, `FROZEN_LISTING` (its name `'CNN_W!'` is
  invalid).

Every function takes the checkpoint directory or path as an argument; nothing writes to the seed's literal
`/tmp/model.ckpt` or `./checkpoint`.
"""

import dataclasses
import glob
import os
import tempfile
from typing import List, Optional

import numpy as np
import tensorflow as tf

from tf1_reference import _snippets
from tf1_reference._registry import example

v1 = tf.compat.v1

SEED = "003_edbfd8374a89a122.txt"
#: The file name the seed saves to (under `/tmp`); here always under a caller-given directory.
CHECKPOINT_BASENAME = "model.ckpt"

SAVE_LISTING = '''\
import tensorflow as tf
import numpy as np 

# Create some variables 
v1 = tf.get_variable("v1", shape=[3], initializer = tf.zeros_initializer)
v2 = tf.get_variable("v2", shape=[5], initializer = tf.zeros_initializer)

# Create the op
inc_v1 = v1.assign(v1+1)
dec_v2 = v2.assign(v2-1)
init_op = tf.global_variables_initializer()

# Add ops to save and restore all the variables.
saver = tf.train.Saver()

with tf.Session() as sess:
  sess.run(init_op)
  inc_v1.op.run()
  dec_v2.op.run()

  # Save the variables to disk.
  save_path = saver.save(sess, "/tmp/model.ckpt")
'''

RESTORE_LISTING = '''\
import tensorflow as tf
import numpy as np 

# Create some variables. 
# We do not need to provide initializer or init_op if it is restored from a checkpoint.
v1 = tf.get_variable("v1", shape=[3])
v2 = tf.get_variable("v2", shape=[5])

saver = tf.train.Saver()

with tf.Session() as sess:
  # Restore variables from disk.
  saver.restore(sess, "/tmp/model.ckpt")

  # Check the values of the variables
  print("v1 : %s" % v1.eval())
  print("v2 : %s" % v2.eval())
'''

SUBSET_LISTING = '''\
import tensorflow as tf
import numpy as np 


v1 = tf.get_variable("v1", [3], initializer = tf.zeros_initializer)
v2 = tf.get_variable("v2", [5], initializer = tf.zeros_initializer)

# Save only v2
saver = tf.train.Saver({"v2": v2})

with tf.Session() as sess:
  # Initialize v1 since the saver will not.
  v1.initializer.run()
  saver.restore(sess, "/tmp/model.ckpt")
'''

FROZEN_LISTING = '''\
freezed_W = tf.get_variable('CNN_W!', [5, 5, 3, 32], trainable=False,
                            initializer=tf.truncated_normal_initializer(stddev=0.02))
...
loadmodel(session, saver, "./checkpoint")
'''

#: The shape of the seed's frozen `CNN_W` (a 5x5 conv kernel, 3 -> 32 channels).
FROZEN_SHAPE = (5, 5, 3, 32)


@dataclasses.dataclass
class VariablesGraph:
  """Handles of the seed's `v1` ([3]) / `v2` ([5]) graphs."""

  graph: tf.Graph
  v1: tf.Variable
  v2: tf.Variable
  saver: "v1.train.Saver"
  init_op: Optional[tf.Operation] = None
  inc_v1: Optional[tf.Tensor] = None
  dec_v2: Optional[tf.Tensor] = None


def build_save_graph() -> VariablesGraph:
  """003 保存一个检查点: zero-initialized `v1`, `v2`, the `inc_v1`/`dec_v2` ops and a `Saver()` of both."""
  graph = tf.Graph()
  with graph.as_default():
    var1 = v1.get_variable("v1", shape=[3], initializer=v1.zeros_initializer)
    var2 = v1.get_variable("v2", shape=[5], initializer=v1.zeros_initializer)
    inc_v1 = var1.assign(var1 + 1)
    dec_v2 = var2.assign(var2 - 1)
    init_op = v1.global_variables_initializer()
    saver = v1.train.Saver()
  return VariablesGraph(graph=graph, v1=var1, v2=var2, saver=saver, init_op=init_op, inc_v1=inc_v1,
                        dec_v2=dec_v2)


def save_checkpoint(directory: str) -> str:
  """Runs 003 保存一个检查点 (initialize, `v1 += 1`, `v2 -= 1`, save); returns `<directory>/model.ckpt`."""
  net = build_save_graph()
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init_op)
    net.inc_v1.op.run()
    net.dec_v2.op.run()
    return net.saver.save(sess, os.path.join(directory, CHECKPOINT_BASENAME))


def build_restore_graph() -> VariablesGraph:
  """003 恢复一个检查点: `v1`, `v2` with a shape only (default initializer, never run) and a `Saver()`."""
  graph = tf.Graph()
  with graph.as_default():
    var1 = v1.get_variable("v1", shape=[3])
    var2 = v1.get_variable("v2", shape=[5])
    saver = v1.train.Saver()
  return VariablesGraph(graph=graph, v1=var1, v2=var2, saver=saver)


def restore_checkpoint(save_path: str) -> List[str]:
  """Runs 003 恢复一个检查点 without any initializer; returns the two lines the seed prints."""
  net = build_restore_graph()
  with v1.Session(graph=net.graph) as sess:
    net.saver.restore(sess, save_path)
    return ["v1 : %s" % net.v1.eval(), "v2 : %s" % net.v2.eval()]


def build_subset_graph() -> VariablesGraph:
  """003 只保存部分变量: zero-initialized `v1`, `v2`; the Saver covers only `{"v2": v2}`."""
  graph = tf.Graph()
  with graph.as_default():
    var1 = v1.get_variable("v1", [3], initializer=v1.zeros_initializer)
    var2 = v1.get_variable("v2", [5], initializer=v1.zeros_initializer)
    saver = v1.train.Saver({"v2": var2})
  return VariablesGraph(graph=graph, v1=var1, v2=var2, saver=saver)


def restore_subset(save_path: str, initialize_v1: bool = True) -> dict:
  """Restores only `v2` from `save_path`; `v1` comes from its own initializer.

  Args:
    save_path: a checkpoint holding `v2` (for example from `save_checkpoint`).
    initialize_v1: run `v1.initializer` as the seed does. Without it, reading `v1` raises
      `FailedPreconditionError` ("Could not find variable v1"): the Saver does not touch `v1`.

  Returns:
    `{"v1": value, "v2": value}` as numpy arrays.
  """
  net = build_subset_graph()
  with v1.Session(graph=net.graph) as sess:
    if initialize_v1:
      net.v1.initializer.run()
    net.saver.restore(sess, save_path)
    return {"v1": net.v1.eval(), "v2": net.v2.eval()}


def save_subset(directory: str) -> str:
  """Saves with the subset Saver after `v2 -= 1`; the checkpoint then holds the single key `v2`."""
  net = build_subset_graph()
  with net.graph.as_default():
    dec_v2 = net.v2.assign(net.v2 - 1)
  with v1.Session(graph=net.graph) as sess:
    sess.run([net.v1.initializer, net.v2.initializer])
    sess.run(dec_v2)
    return net.saver.save(sess, os.path.join(directory, "subset.ckpt"))


# 定期加载模型并保存检查点: the seed's two helpers, verbatim but for the local `dir`, renamed so it does
# not shadow the builtin.


def loadmodel(session, saver, checkpoint_dir):
  """The seed's `loadmodel`: initialize everything, then restore the latest checkpoint if there is one.

  Returns:
    True if a checkpoint was restored, False if `checkpoint_dir` has none.
  """
  session.run(v1.global_variables_initializer())
  ckpt = v1.train.get_checkpoint_state(checkpoint_dir)
  if ckpt and ckpt.model_checkpoint_path:
    ckpt_name = os.path.basename(ckpt.model_checkpoint_path)
    saver.restore(session, os.path.join(checkpoint_dir, ckpt_name))
    return True
  else:
    return False


def save(session, saver, checkpoint_dir, step):
  """The seed's `save`: writes `<checkpoint_dir>/model-<step>`."""
  prefix = os.path.join(checkpoint_dir, "model")
  saver.save(session, prefix, global_step=step)


@dataclasses.dataclass
class TrainingGraph:
  """A one-variable model with a `global_step`, for the periodic-checkpoint loops."""

  graph: tf.Graph
  w: tf.Variable
  global_step: tf.Variable
  loss: tf.Tensor
  train_op: tf.Operation
  saver: "v1.train.Saver"


def build_training_graph(max_to_keep: int = 5, learning_rate: float = 0.1) -> TrainingGraph:
  """`w` ([2], zeros) pulled towards 1 by gradient descent; `train_op` increments `global_step`."""
  graph = tf.Graph()
  with graph.as_default():
    w = v1.get_variable("w", [2], initializer=v1.zeros_initializer)
    global_step = v1.train.get_or_create_global_step()
    loss = tf.reduce_sum(tf.square(w - 1.0))
    train_op = v1.train.GradientDescentOptimizer(learning_rate).minimize(loss, global_step=global_step)
    saver = v1.train.Saver(max_to_keep=max_to_keep)
  return TrainingGraph(graph=graph, w=w, global_step=global_step, loss=loss, train_op=train_op, saver=saver)


@dataclasses.dataclass
class PeriodicRun:
  """What one run of a periodic-checkpoint loop did and left on disk."""

  net: TrainingGraph
  resumed: bool
  loop_indices: List[int]
  saved: List[str]
  global_step: int
  state: List[str]
  on_disk: List[str]


def _listing(checkpoint_dir):
  state = v1.train.get_checkpoint_state(checkpoint_dir)
  kept = [os.path.basename(p) for p in state.all_model_checkpoint_paths] if state else []
  on_disk = sorted((os.path.basename(p)[:-len(".index")] for p in glob.glob(os.path.join(checkpoint_dir,
                                                                                        "*.index"))),
                   key=lambda name: int(name.rsplit("-", 1)[1]))
  return kept, on_disk


def periodic_literal(checkpoint_dir: str, iterations: int = 10000, save_every: int = 1000,
                     max_to_keep: int = 5) -> PeriodicRun:
  """The seed's loop: `loadmodel`, then `for i in range(10000)`, `save(..., i)` when `i % 1000 == 0`.

  The loop index `i`, not the model's `global_step`, names the checkpoints, and it restarts at 0 on every
  run: a resumed run trains again from `i = 0` and overwrites `model-0`, `model-1000`, ... although the
  restored `global_step` has moved on. With the default `max_to_keep=5`, only the last five of the ten
  checkpoints remain (`model-5000` .. `model-9000`).

  Args:
    checkpoint_dir: replaces the seed's `"./checkpoint"`.
    iterations: the seed's 10000.
    save_every: the seed's 1000.
    max_to_keep: for the Saver (the TF1 default, 5).

  Returns:
    A `PeriodicRun`.
  """
  net = build_training_graph(max_to_keep=max_to_keep)
  saved, indices = [], []
  with v1.Session(graph=net.graph) as session:
    resumed = loadmodel(session, net.saver, checkpoint_dir)
    for i in range(iterations):
      session.run(net.train_op)
      if i % save_every == 0:
        save(session, net.saver, checkpoint_dir, i)
        saved.append(f"model-{i}")
        indices.append(i)
    step = int(session.run(net.global_step))
  state, on_disk = _listing(checkpoint_dir)
  return PeriodicRun(net=net, resumed=resumed, loop_indices=indices, saved=saved, global_step=step,
                     state=state, on_disk=on_disk)


def periodic_resumable(checkpoint_dir: str, total_steps: int, save_every: int, max_to_keep: int = 5,
                       recover_last_checkpoints: bool = True) -> PeriodicRun:
  """The corrected loop: resume at the restored `global_step` and name checkpoints after it.

  Training runs until `global_step == total_steps`; a checkpoint `model-<N>` holds the state after exactly N
  steps. A new Saver knows nothing about the checkpoints an earlier process wrote, so without
  `recover_last_checkpoints` it would never delete them and `max_to_keep` would not hold across restarts;
  this loop recovers them first.

  Args:
    checkpoint_dir: where `model-<N>` checkpoints and the `checkpoint` state file live.
    total_steps: train until `global_step` reaches this.
    save_every: save when `global_step % save_every == 0`.
    max_to_keep: for the Saver.
    recover_last_checkpoints: hand the earlier checkpoints to the new Saver (the fix). False shows the
      pitfall: the earlier run's files stay on disk and only this run's are counted.

  Returns:
    A `PeriodicRun` (`loop_indices` are the global steps trained in this run).
  """
  net = build_training_graph(max_to_keep=max_to_keep)
  saved, indices = [], []
  with v1.Session(graph=net.graph) as session:
    resumed = loadmodel(session, net.saver, checkpoint_dir)
    if resumed and recover_last_checkpoints:
      net.saver.recover_last_checkpoints(v1.train.get_checkpoint_state(checkpoint_dir).all_model_checkpoint_paths)
    step = int(session.run(net.global_step))
    while step < total_steps:
      # Two runs: fetched together, the read of global_step may happen before train_op's increment.
      session.run(net.train_op)
      step = int(session.run(net.global_step))
      indices.append(step)
      if step % save_every == 0:
        net.saver.save(session, os.path.join(checkpoint_dir, "model"), global_step=step)
        saved.append(f"model-{step}")
  state, on_disk = _listing(checkpoint_dir)
  return PeriodicRun(net=net, resumed=resumed, loop_indices=indices, saved=saved, global_step=step,
                     state=state, on_disk=on_disk)


@dataclasses.dataclass
class FrozenGraph:
  """Handles of the 可训练与不可训练参数 example: a frozen conv kernel and a trainable head."""

  graph: tf.Graph
  freezed_W: tf.Variable  # pylint: disable=invalid-name
  head: tf.Variable
  loss: tf.Tensor
  train_op: tf.Operation
  train_frozen_explicitly: tf.Operation
  init: tf.Operation
  saver: "v1.train.Saver"


def build_frozen_graph(name: str = "CNN_W", seed: Optional[int] = 0) -> FrozenGraph:
  """003 可训练与不可训练参数: `get_variable(name, [5, 5, 3, 32], trainable=False, ...)` and a trainable head.

  `trainable=False` only keeps the variable out of `TRAINABLE_VARIABLES`, the optimizer's default
  `var_list`; it stays in `GLOBAL_VARIABLES`, so `Saver()` saves and restores it. `train_op` (default
  `var_list`) leaves it unchanged; `train_frozen_explicitly` passes it in `var_list` and does change it.

  Args:
    name: the variable's name; the seed's `'CNN_W!'` raises ValueError ("is not a valid root scope name").
    seed: graph-level random seed.

  Returns:
    A `FrozenGraph`.
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    freezed_w = v1.get_variable(name, list(FROZEN_SHAPE), trainable=False,
                                initializer=v1.truncated_normal_initializer(stddev=0.02))
    images = tf.ones([1, 5, 5, 3])
    features = tf.reshape(tf.nn.conv2d(images, freezed_w, strides=[1, 1, 1, 1], padding="VALID"), [1, 32])
    head = v1.get_variable("head", [32, 1], initializer=v1.ones_initializer)
    loss = tf.reduce_sum(tf.square(tf.matmul(features, head) - 1.0))
    train_op = v1.train.GradientDescentOptimizer(0.1).minimize(loss)
    train_frozen = v1.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=[freezed_w])
    init = v1.global_variables_initializer()
    saver = v1.train.Saver()
  return FrozenGraph(graph=graph, freezed_W=freezed_w, head=head, loss=loss, train_op=train_op,
                     train_frozen_explicitly=train_frozen, init=init, saver=saver)


def _fmt(values):
  return np.array2string(np.asarray(values))


@example(SEED, "保存一个检查点 / 恢复一个检查点: Saver save, restore without initializers")
def demo_save_restore():
  with tempfile.TemporaryDirectory() as tmp:
    lines = restore_checkpoint(save_checkpoint(tmp))
  expected = ["v1 : [1. 1. 1.]", "v2 : [-1. -1. -1. -1. -1.]"]
  if lines != expected:
    raise AssertionError(f"restored {lines!r}, expected {expected!r}")
  return "; ".join(lines)


@example(SEED, "保存/恢复 (literal listings, path replaced)")
def demo_save_restore_literal():
  with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, CHECKPOINT_BASENAME)
    saved = _snippets.run(SAVE_LISTING, SEED, replace={"/tmp/model.ckpt": path})
    restored = _snippets.run(RESTORE_LISTING, SEED, replace={"/tmp/model.ckpt": path})
  if saved.namespace["save_path"] != path or restored.printed != ["v1 : [1. 1. 1.]",
                                                                  "v2 : [-1. -1. -1. -1. -1.]"]:
    raise AssertionError(f"literal run printed {restored.printed!r}")
  return "; ".join(restored.printed)


@example(SEED, "只保存部分变量: Saver({'v2': v2}) + v1.initializer.run()")
def demo_subset():
  with tempfile.TemporaryDirectory() as tmp:
    values = restore_subset(save_checkpoint(tmp))
    keys = [name for name, _ in tf.train.list_variables(save_subset(tmp))]
  if keys != ["v2"] or values["v1"].tolist() != [0.0] * 3 or values["v2"].tolist() != [-1.0] * 5:
    raise AssertionError(f"subset: keys {keys!r}, values {values!r}")
  return f"v1 (initializer) {_fmt(values['v1'])}, v2 (restored) {_fmt(values['v2'])}; subset keys {keys}"


@example(SEED, "定期加载模型并保存检查点: literal loop, max_to_keep=5, i restarts at 0",
         erratum="E-PERIODIC-RESUME")
def demo_periodic_literal():
  with tempfile.TemporaryDirectory() as tmp:
    first = periodic_literal(tmp)
    second = periodic_literal(tmp)
  if first.on_disk != ["model-5000", "model-6000", "model-7000", "model-8000", "model-9000"]:
    raise AssertionError(f"kept {first.on_disk!r}")
  # model-9000 holds the state after 9001 steps (training precedes the save), and the resumed run trains
  # 10000 more: the last 999 steps of the first run were never saved.
  if not second.resumed or second.loop_indices[0] != 0 or second.global_step != 19001:
    raise AssertionError(f"resume: {second!r}")
  return (f"kept {first.on_disk[0]}..{first.on_disk[-1]}; resumed run saves from model-0 again "
          f"with global_step {second.global_step}")


@example(SEED, "定期加载模型并保存检查点: resumable loop (global_step names checkpoints)")
def demo_periodic_resumable():
  with tempfile.TemporaryDirectory() as tmp:
    periodic_resumable(tmp, total_steps=6, save_every=1)
    second = periodic_resumable(tmp, total_steps=12, save_every=1)
  if second.loop_indices != list(range(7, 13)) or second.on_disk != [f"model-{i}" for i in range(8, 13)]:
    raise AssertionError(f"resume: {second!r}")
  return f"resumed at step 6, trained steps 7..12, kept {second.on_disk}"


@example(SEED, "可训练与不可训练参数: 'CNN_W!' is an invalid name", erratum="E-CNN-W-NAME")
def demo_frozen_name():
  try:
    _snippets.run(FROZEN_LISTING, SEED, tf=_snippets.TF1)
  except ValueError as e:
    if "'CNN_W!' is not a valid root scope name" not in str(e):
      raise
    return f"ValueError: {str(e).split('. ')[0]}"
  raise AssertionError("get_variable('CNN_W!') did not raise")


@example(SEED, "可训练与不可训练参数: trainable=False (corrected name CNN_W)")
def demo_frozen():
  net = build_frozen_graph()
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    before = sess.run(net.freezed_W)
    sess.run(net.train_op)
    unchanged = np.array_equal(before, sess.run(net.freezed_W))
  trainable = [v.op.name for v in net.graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)]
  if not unchanged or "CNN_W" in trainable:
    raise AssertionError(f"CNN_W trained or trainable: {trainable!r}")
  return f"CNN_W in GLOBAL only (trainable: {trainable}); unchanged by minimize(loss)"
