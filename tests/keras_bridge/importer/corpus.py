"""A corpus of small TF1 models, written the ways TF1 users wrote them, for testing `import_tf1_graph`.

Each model is a function that builds one graph (inference part, a loss, and a TF1 optimizer's `minimize`) in
one of two op forms:

* `"v1"`: what TF 1.x checkpoints carry: ref variables (`VariableV2`) and v1 control flow (`Switch`/`Merge`,
  `Enter`/`Exit`, ...). Control flow v2 is switched off while the graph is built and restored afterwards.
* `"v2"`: resource variables (`VarHandleOp`) and v2 control flow (`If`/`StatelessIf`, `While`/
  `StatelessWhile`).

`build(name, directory, op_form)` builds the model with fixed seeds, runs two training steps on fixed random
data (so optimizer slots, step counters and batch-norm moving statistics hold non-trivial values), and saves
with `tf.compat.v1.train.Saver` to `<directory>/<name>/model.ckpt-2` (plus `.meta`). The returned
`CorpusModel` names the inference inputs, outputs and feeds, the idioms the model exercises, and its loss and
train op.

Choice of `outputs`: the tensors a user would fetch at inference, as the graph names them: the logits
(usually `<layer>/BiasAdd:0` or the `add` of a hand-written layer) and, where the model computes it, the
probability (`Softmax:0`, a named `tf.sigmoid`). For the GAN they are the generator's sample and the
discriminator's logits on real data.

Known limits of TF 2.21 that shaped the corpus (see `IDIOMS`):

* `tf.nn.conv2d(..., dilations=[1, 2, 2, 1])` runs forward on CPU, but its gradient
  (`Conv2DBackpropFilter`) raises "Current CPU implementations do not yet support dilation rates larger than
  1", so `depthwise_cnn` uses `tf.nn.atrous_conv2d` (`SpaceToBatchND` + `Conv2D` + `BatchToSpaceND`).
* Variables are never created inside a `tf.cond` branch: v1 control flow rejects an initializer from inside
  a control-flow construct, and v2 control flow cannot create variables in a branch function.
"""

import contextlib
import dataclasses
import os
from typing import Callable

import numpy as np
import tensorflow as tf

from tf1_reference import _compat

v1 = tf.compat.v1

OP_FORMS = ("v1", "v2")

IDIOMS = (
    "dense",                   # tf.layers.dense (MatMul + BiasAdd)
    "dense_add",               # tf.matmul(x, w) + b (MatMul + Add/AddV2)
    "conv2d",                  # tf.nn.conv2d or tf.layers.conv2d
    "conv2d_strided",          # a convolution with strides 2
    "conv2d_dilated",          # tf.nn.atrous_conv2d (SpaceToBatchND / BatchToSpaceND)
    "depthwise_conv2d",        # tf.nn.depthwise_conv2d
    "conv2d_transpose",        # tf.nn.conv2d_transpose or tf.layers.conv2d_transpose
    "runtime_shape",           # a shape computed at run time from tf.shape(x)[0] and tf.stack
    "max_pool",                # tf.nn.max_pool or tf.layers.max_pooling2d
    "avg_pool",                # tf.layers.average_pooling2d
    "flatten_reshape",         # tf.reshape(h, [-1, n])
    "flatten_layers",          # tf.layers.flatten
    "concat",                  # tf.concat
    "residual_add",            # h + f(h)
    "reduce_mean",             # tf.reduce_mean over space or time
    "reduce_sum",              # tf.reduce_sum over space
    "abs_sub",                 # tf.abs(a - b)
    "strided_slice",           # outputs[:, -1, :]
    "unstack",                 # tf.unstack along time
    "relu",
    "relu6",
    "elu",
    "selu",
    "tanh",
    "sigmoid",
    "softmax",
    "leaky_relu_op",           # tf.nn.leaky_relu
    "leaky_relu_max",          # tf.maximum(a * x, x)
    "leaky_relu_abs",          # 0.5 * (1 + a) * x + 0.5 * (1 - a) * tf.abs(x)
    "dropout_keep_prob",       # tf.nn.dropout(h, keep_prob) with a fed keep_prob placeholder
    "dropout_handwritten",     # random_uniform + floor(keep_prob + rnd) + div + mul
    "dropout_layers_training",  # tf.layers.dropout(h, rate, training=<bool placeholder>)
    "dropout_placeholder_with_default",  # keep_prob = tf.placeholder_with_default(1.0, [])
    "batchnorm_fused",         # FusedBatchNorm / FusedBatchNormV3
    "batchnorm_unfused",       # tf.layers.batch_normalization on a rank-2 input (moments, no fused op)
    "batchnorm_nn",            # tf.nn.batch_normalization with hand-made moving statistics
    "batchnorm_handwritten",   # (x - mean) * tf.math.rsqrt(var + eps) * gamma + beta
    "update_ops",              # the UPDATE_OPS control dependency around the train op
    "embedding",               # tf.nn.embedding_lookup
    "lstm_basic",              # BasicLSTMCell
    "lstm_cell",               # LSTMCell
    "gru",                     # GRUCell
    "stacked_rnn",             # MultiRNNCell
    "dynamic_rnn",             # tf.nn.dynamic_rnn (a while loop)
    "static_rnn",              # tf.nn.static_rnn (unrolled, no loop)
    "bidirectional_rnn",       # tf.nn.bidirectional_dynamic_rnn
    "shared_weights",          # one set of variables applied twice (reuse)
    "bare_variable",           # tf.Variable(...) named Variable, Variable_1, ...
    "get_variable",            # tf.get_variable under tf.variable_scope
    "cond",                    # tf.cond on a fed boolean placeholder
    "global_step",             # minimize(..., global_step=global_step)
    "two_optimizers",          # two optimizers with separate var_lists (beta1_power_1)
)


@dataclasses.dataclass(frozen=True)
class CorpusModel:
  """One saved corpus model: where its checkpoint is and how to run it.

  Attributes:
    name: the model's name, one of `NAMES`.
    op_form: `"v1"` (VariableV2, v1 control flow) or `"v2"` (VarHandleOp, v2 control flow).
    prefix: the checkpoint prefix written by `tf.compat.v1.train.Saver`; the MetaGraph is `prefix + ".meta"`.
    inputs: the inference input tensor names.
    outputs: the inference output tensor names (see the module docstring for how they were chosen).
    feeds: the extra inference feeds a user would pass, such as `{"training:0": False}`.
    idioms: the idioms from `IDIOMS` the model exercises.
    input_specs: input name -> `(shape with None for the batch, dtype name, vocabulary size or None)`.
    labels: the label placeholder's tensor name, "" if none.
    loss: the loss tensor name.
    train_op: the name of the graph's own train op (an optimizer's `minimize`).
    optimizer: "adam", "momentum", "rmsprop", "adagrad" or "sgd".
    deterministic: whether the outputs are a function of the inputs once `feeds` are given.
  """

  name: str
  op_form: str
  prefix: str
  inputs: tuple
  outputs: tuple
  feeds: dict
  idioms: tuple
  input_specs: dict
  labels: str = ""
  loss: str = ""
  train_op: str = ""
  optimizer: str = ""
  deterministic: bool = True


@dataclasses.dataclass
class _Recipe:
  """What a model function returns: the `CorpusModel` fields it knows, and how to train it."""

  inputs: tuple
  outputs: tuple
  feeds: dict
  idioms: tuple
  input_specs: dict
  labels: str
  loss: str
  train_op: str
  optimizer: str
  labels_spec: tuple = ()         # (shape, dtype name, number of classes or None) of `labels`
  train_feeds: dict = dataclasses.field(default_factory=dict)  # extra training feeds (training=True, ...)
  extra_train_ops: tuple = ()     # run after `train_op` in each step (the GAN's generator step)


@contextlib.contextmanager
def op_form_scope(op_form):
  """Selects v1 or v2 control flow for the graphs built inside, and restores the process-wide setting.

  Args:
    op_form: `"v1"` or `"v2"`.

  Yields:
    Whether variables should be resource variables (`op_form == "v2"`).

  Raises:
    ValueError: `op_form` is neither `"v1"` nor `"v2"`.
  """
  if op_form not in OP_FORMS:
    raise ValueError(f"op_form must be one of {OP_FORMS}. Received: op_form={op_form!r}")
  was_v2 = v1.control_flow_v2_enabled()
  try:
    if op_form == "v1":
      v1.disable_control_flow_v2()
    else:
      v1.enable_control_flow_v2()
    yield op_form == "v2"
  finally:
    if was_v2:
      v1.enable_control_flow_v2()
    else:
      v1.disable_control_flow_v2()


def _dense_init(seed):
  return v1.glorot_uniform_initializer(seed=seed)


def _mean_loss(per_example, name="loss"):
  with tf.name_scope("loss"):
    return tf.reduce_mean(per_example, name=name)


# --- 1 ---------------------------------------------------------------------------------------------------
def tflayers_mlp(use_resource):
  """`tf.layers.dense` x3 with relu, logits + softmax, sparse softmax cross entropy, Adam."""
  del use_resource
  with tf.name_scope("input"):
    x = v1.placeholder(tf.float32, [None, 10], name="X")
    y = v1.placeholder(tf.int64, [None], name="y")
  h = _compat.dense(x, 16, activation=tf.nn.relu, name="hidden1")
  h = _compat.dense(h, 12, activation=tf.nn.relu, name="hidden2")
  logits = _compat.dense(h, 4, name="logits")
  tf.nn.softmax(logits)
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
  global_step = v1.train.get_or_create_global_step()
  with tf.name_scope("train"):
    v1.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step, name="training_op")
  return _Recipe(
      inputs=("input/X:0",), outputs=("logits/BiasAdd:0", "Softmax:0"), feeds={},
      idioms=("dense", "relu", "softmax", "global_step"),
      input_specs={"input/X:0": ((None, 10), "float32", None)},
      labels="input/y:0", labels_spec=((None,), "int64", 4), loss="loss/loss:0",
      train_op="train/training_op", optimizer="adam")


# --- 2 ---------------------------------------------------------------------------------------------------
def _getvar_layer(inputs, n_in, n_out, scope, seed):
  with v1.variable_scope(scope):
    weights = v1.get_variable("weights", [n_in, n_out],
                              initializer=v1.truncated_normal_initializer(stddev=0.4, seed=seed))
    biases = v1.get_variable("biases", [n_out], initializer=v1.constant_initializer(0.1))
    return tf.matmul(inputs, weights) + biases


def getvar_scopes_mlp(use_resource):
  """`variable_scope` + `get_variable("weights"|"biases")`, `matmul` + `+`, tanh, sigmoid, Momentum."""
  del use_resource
  x = v1.placeholder(tf.float32, [None, 6], name="x")
  y = v1.placeholder(tf.float32, [None, 1], name="y")
  h = tf.tanh(_getvar_layer(x, 6, 8, "layer1", seed=1))
  h = tf.tanh(_getvar_layer(h, 8, 8, "layer2", seed=2))
  logits = _getvar_layer(h, 8, 1, "output", seed=3)
  tf.sigmoid(logits, name="prediction")
  loss = _mean_loss(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
  v1.train.MomentumOptimizer(0.1, momentum=0.9).minimize(loss, name="train")
  return _Recipe(
      inputs=("x:0",), outputs=("output/add:0", "prediction:0"), feeds={},
      idioms=("get_variable", "dense_add", "tanh", "sigmoid"),
      input_specs={"x:0": ((None, 6), "float32", None)},
      labels="y:0", labels_spec=((None, 1), "float32", 2), loss="loss/loss:0", train_op="train",
      optimizer="momentum")


# --- 3 ---------------------------------------------------------------------------------------------------
def bare_variable_cnn(use_resource):
  """The "Deep MNIST for experts" style: bare `tf.Variable`s, `tf.nn.conv2d`, max pool, dropout, Adam."""

  def weight(shape, seed):
    return v1.Variable(v1.truncated_normal(shape, stddev=0.2, seed=seed), use_resource=use_resource)

  def bias(shape):
    return v1.Variable(tf.constant(0.1, shape=shape), use_resource=use_resource)

  x = v1.placeholder(tf.float32, [None, 8, 8, 1], name="x")
  y_ = v1.placeholder(tf.float32, [None, 3], name="y_")
  keep_prob = v1.placeholder(tf.float32, name="keep_prob")
  w_conv1, b_conv1 = weight([3, 3, 1, 4], 1), bias([4])                       # Variable, Variable_1
  h_conv1 = tf.nn.relu(tf.nn.bias_add(v1.nn.conv2d(x, w_conv1, [1, 1, 1, 1], "SAME"), b_conv1))
  h_pool1 = v1.nn.max_pool(h_conv1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
  w_conv2, b_conv2 = weight([2, 2, 4, 8], 2), bias([8])                       # Variable_2, Variable_3
  h_conv2 = tf.nn.relu(tf.nn.bias_add(v1.nn.conv2d(h_pool1, w_conv2, [1, 2, 2, 1], "VALID"), b_conv2))
  h_flat = tf.reshape(h_conv2, [-1, 2 * 2 * 8])
  w_fc1, b_fc1 = weight([32, 16], 3), bias([16])                               # Variable_4, Variable_5
  h_fc1 = tf.nn.relu(tf.matmul(h_flat, w_fc1) + b_fc1)                         # add
  h_drop = v1.nn.dropout(h_fc1, keep_prob=keep_prob)
  w_fc2, b_fc2 = weight([16, 3], 4), bias([3])                                 # Variable_6, Variable_7
  y_conv = tf.matmul(h_drop, w_fc2) + b_fc2                                    # add_1
  tf.nn.softmax(y_conv)
  loss = _mean_loss(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y_conv), name="cross_entropy")
  v1.train.AdamOptimizer(1e-2).minimize(loss, name="train_step")
  return _Recipe(
      inputs=("x:0",), outputs=("add_1:0", "Softmax:0"), feeds={"keep_prob:0": 1.0},
      idioms=("bare_variable", "conv2d", "conv2d_strided", "relu", "max_pool", "flatten_reshape",
              "dense_add", "dropout_keep_prob", "softmax"),
      input_specs={"x:0": ((None, 8, 8, 1), "float32", None)},
      labels="y_:0", labels_spec=((None, 3), "float32", "one_hot"), loss="loss/cross_entropy:0",
      train_op="train_step", optimizer="adam", train_feeds={"keep_prob:0": 0.7})


# --- 4 ---------------------------------------------------------------------------------------------------
def _tower(x):
  with v1.variable_scope("tower", reuse=v1.AUTO_REUSE):
    # `abs(a - b)` cancels fc2's bias (its gradient is exactly zero), so start it off zero.
    h = _compat.dense(x, 8, activation=tf.nn.relu, name="fc1")
    return _compat.dense(h, 4, bias_initializer=v1.constant_initializer(0.1), name="fc2")


def two_tower(use_resource):
  """A siamese network: one tower under `AUTO_REUSE` applied to two inputs, `abs(a - b)`, RMSProp."""
  del use_resource
  left = v1.placeholder(tf.float32, [None, 6], name="left")
  right = v1.placeholder(tf.float32, [None, 6], name="right")
  same = v1.placeholder(tf.float32, [None, 1], name="same")
  distance = tf.abs(_tower(left) - _tower(right))
  logits = _compat.dense(distance, 1, name="head")
  tf.sigmoid(logits, name="similarity")
  loss = _mean_loss(tf.nn.sigmoid_cross_entropy_with_logits(labels=same, logits=logits))
  v1.train.RMSPropOptimizer(0.01).minimize(loss, name="train")
  return _Recipe(
      inputs=("left:0", "right:0"), outputs=("head/BiasAdd:0", "similarity:0"), feeds={},
      idioms=("shared_weights", "dense", "relu", "abs_sub", "sigmoid"),
      input_specs={"left:0": ((None, 6), "float32", None), "right:0": ((None, 6), "float32", None)},
      labels="same:0", labels_spec=((None, 1), "float32", 2), loss="loss/loss:0", train_op="train",
      optimizer="rmsprop")


# --- 5 ---------------------------------------------------------------------------------------------------
def _generator(z):
  with v1.variable_scope("generator"):
    h = _compat.dense(z, 8, activation=tf.nn.relu, name="hidden1")
    h = _compat.dense(h, 8, activation=tf.nn.relu, name="hidden2")
    return _compat.dense(h, 6, activation=tf.tanh, name="out")


def _discriminator(x, reuse=None):
  with v1.variable_scope("discriminator", reuse=reuse):
    h = tf.nn.leaky_relu(_compat.dense(x, 8, name="hidden1"), alpha=0.2)
    h = tf.nn.leaky_relu(_compat.dense(h, 8, name="hidden2"), alpha=0.2)
    return _compat.dense(h, 1, name="logits")


def gan_two_hidden(use_resource):
  """A GAN: generator and discriminator of two hidden layers, D applied twice, two Adams.

  Inference outputs are the generator's sample (`generator/out/Tanh:0`, from `z`) and the discriminator's
  logits on real data (`discriminator/logits/BiasAdd:0`, from `X`). The generator's train op is `g_train`
  (run after `d_train` in each step); its loss is `generator_loss:0`.
  """
  del use_resource
  z = v1.placeholder(tf.float32, [None, 4], name="z")
  x = v1.placeholder(tf.float32, [None, 6], name="X")
  fake = _generator(z)
  real_logits = _discriminator(x)
  fake_logits = _discriminator(fake, reuse=True)
  xent = tf.nn.sigmoid_cross_entropy_with_logits
  d_loss = tf.add(tf.reduce_mean(xent(labels=tf.ones_like(real_logits), logits=real_logits)),
                  tf.reduce_mean(xent(labels=tf.zeros_like(fake_logits), logits=fake_logits)),
                  name="discriminator_loss")
  g_loss = tf.reduce_mean(xent(labels=tf.ones_like(fake_logits), logits=fake_logits), name="generator_loss")
  t_vars = v1.trainable_variables()
  d_vars = [v for v in t_vars if v.name.startswith("discriminator/")]
  g_vars = [v for v in t_vars if v.name.startswith("generator/")]
  v1.train.AdamOptimizer(0.01, beta1=0.5).minimize(d_loss, var_list=d_vars, name="d_train")
  v1.train.AdamOptimizer(0.01, beta1=0.5).minimize(g_loss, var_list=g_vars, name="g_train")
  return _Recipe(
      inputs=("z:0", "X:0"), outputs=("generator/out/Tanh:0", "discriminator/logits/BiasAdd:0"), feeds={},
      idioms=("dense", "relu", "tanh", "leaky_relu_op", "shared_weights", "two_optimizers"),
      input_specs={"z:0": ((None, 4), "float32", None), "X:0": ((None, 6), "float32", None)},
      labels="", loss="discriminator_loss:0", train_op="d_train", optimizer="adam",
      extra_train_ops=("g_train",))


# --- 6 ---------------------------------------------------------------------------------------------------
def batchnorm_layers(use_resource):
  """`tf.layers.batch_normalization(training=training)` after a conv and a dense, UPDATE_OPS, Momentum."""
  del use_resource
  x = v1.placeholder(tf.float32, [None, 6, 6, 2], name="x")
  y = v1.placeholder(tf.int32, [None], name="y")
  training = v1.placeholder(tf.bool, [], name="training")
  h = _compat.conv2d(x, 4, 3, padding="same", use_bias=False, name="conv1")
  h = tf.nn.relu(_compat.batch_normalization(h, training=training, momentum=0.9, name="bn1"))
  h = _compat.max_pooling2d(h, 2, 2, name="pool1")
  h = _compat.flatten(h, name="flatten")
  h = _compat.dense(h, 8, use_bias=False, name="fc1")
  h = tf.nn.relu(_compat.batch_normalization(h, training=training, momentum=0.9, name="bn2"))
  logits = _compat.dense(h, 3, name="logits")
  tf.nn.softmax(logits, name="probabilities")
  loss = _mean_loss(v1.losses.sparse_softmax_cross_entropy(labels=y, logits=logits))
  update_ops = v1.get_collection(v1.GraphKeys.UPDATE_OPS)
  with tf.control_dependencies(update_ops):
    v1.train.MomentumOptimizer(0.05, momentum=0.9).minimize(loss, name="train")
  return _Recipe(
      inputs=("x:0",), outputs=("logits/BiasAdd:0", "probabilities:0"), feeds={"training:0": False},
      idioms=("conv2d", "batchnorm_fused", "batchnorm_unfused", "update_ops", "relu", "max_pool",
              "flatten_layers", "dense", "softmax", "cond"),
      input_specs={"x:0": ((None, 6, 6, 2), "float32", None)},
      labels="y:0", labels_spec=((None,), "int32", 3), loss="loss/loss:0", train_op="train",
      optimizer="momentum", train_feeds={"training:0": True})


# --- 7 ---------------------------------------------------------------------------------------------------
def _bn_variables(channels):
  gamma = v1.get_variable("gamma", [channels], initializer=v1.ones_initializer())
  beta = v1.get_variable("beta", [channels], initializer=v1.zeros_initializer())
  mean = v1.get_variable("moving_mean", [channels], initializer=v1.zeros_initializer(), trainable=False)
  var = v1.get_variable("moving_variance", [channels], initializer=v1.ones_initializer(), trainable=False)
  return gamma, beta, mean, var


def _track_moments(h, mean, var, decay=0.8):
  """Moving-average updates of `mean`/`var` from the batch moments of `h`, added to UPDATE_OPS."""
  batch_mean, batch_var = tf.nn.moments(h, [0, 1, 2])
  for variable, value in ((mean, batch_mean), (var, batch_var)):
    v1.add_to_collection(v1.GraphKeys.UPDATE_OPS,
                         v1.assign(variable, variable * decay + value * (1.0 - decay)))


def batchnorm_nn(use_resource):
  """Hand-made batch norm: `tf.nn.batch_normalization`, the formula by hand, and a raw fused op.

  Each block has its own `gamma`, `beta` and non-trainable `moving_mean`/`moving_variance`. Inference (and
  the loss) uses the moving statistics; the train op first moves them toward the batch moments. The third
  block is `tf.raw_ops.FusedBatchNorm(is_training=False)` in the v1 form, `FusedBatchNormV3` in the v2 form.
  """
  x = v1.placeholder(tf.float32, [None, 4, 4, 3], name="x")
  y = v1.placeholder(tf.int32, [None], name="y")
  eps = 1e-3
  with v1.variable_scope("conv1"):
    kernel = v1.get_variable("weights", [3, 3, 3, 4], initializer=v1.glorot_uniform_initializer(seed=1))
    h = v1.nn.conv2d(x, kernel, [1, 1, 1, 1], "SAME")
  with v1.variable_scope("bn1"):
    gamma, beta, mean, var = _bn_variables(4)
    _track_moments(h, mean, var)
    h = tf.nn.relu(tf.nn.batch_normalization(h, mean, var, beta, gamma, eps))
  with v1.variable_scope("bn2"):
    gamma, beta, mean, var = _bn_variables(4)
    _track_moments(h, mean, var)
    h = tf.nn.relu((h - mean) * tf.math.rsqrt(var + eps) * gamma + beta)
  with v1.variable_scope("bn3"):
    gamma, beta, mean, var = _bn_variables(4)
    _track_moments(h, mean, var)
    fused = tf.raw_ops.FusedBatchNormV3 if use_resource else tf.raw_ops.FusedBatchNorm
    h = tf.nn.relu(fused(x=h, scale=gamma, offset=beta, mean=mean, variance=var, epsilon=eps,
                         is_training=False, name="FusedBatchNorm")[0])
  h = tf.reshape(h, [-1, 4 * 4 * 4])
  logits = _compat.dense(h, 3, kernel_initializer=_dense_init(2), name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
  with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
    v1.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
  return _Recipe(
      inputs=("x:0",), outputs=("logits/BiasAdd:0",), feeds={},
      idioms=("get_variable", "conv2d", "batchnorm_nn", "batchnorm_handwritten", "batchnorm_fused",
              "update_ops", "relu", "flatten_reshape", "dense"),
      input_specs={"x:0": ((None, 4, 4, 3), "float32", None)},
      labels="y:0", labels_spec=((None,), "int32", 3), loss="loss/loss:0", train_op="train",
      optimizer="sgd")


# --- 8 ---------------------------------------------------------------------------------------------------
def embedding_lstm(use_resource):
  """`embedding_lookup` (vocab 20) -> `BasicLSTMCell(8)` under `dynamic_rnn` -> last output -> dense, Adam."""
  del use_resource
  ids = v1.placeholder(tf.int32, [None, 5], name="ids")
  labels = v1.placeholder(tf.int32, [None], name="labels")
  embeddings = v1.get_variable("embeddings", [20, 4],
                               initializer=v1.random_uniform_initializer(-1.0, 1.0, seed=1))
  embedded = tf.nn.embedding_lookup(embeddings, ids)
  cell = _compat.BasicLSTMCell(8, forget_bias=1.0)
  outputs, _ = _compat.dynamic_rnn(cell, embedded, dtype=tf.float32)
  logits = _compat.dense(outputs[:, -1, :], 3, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
  v1.train.AdamOptimizer(0.01).minimize(loss, name="train")
  return _Recipe(
      inputs=("ids:0",), outputs=("logits/BiasAdd:0",), feeds={},
      idioms=("embedding", "get_variable", "lstm_basic", "dynamic_rnn", "strided_slice", "dense"),
      input_specs={"ids:0": ((None, 5), "int32", 20)},
      labels="labels:0", labels_spec=((None,), "int32", 3), loss="loss/loss:0", train_op="train",
      optimizer="adam")


# --- 9 ---------------------------------------------------------------------------------------------------
def gru_classifier(use_resource):
  """A float sequence [None, 5, 3] -> `GRUCell(6)` under `dynamic_rnn` -> final state -> dense, Adagrad."""
  del use_resource
  inputs = v1.placeholder(tf.float32, [None, 5, 3], name="inputs")
  labels = v1.placeholder(tf.int32, [None], name="labels")
  _, state = _compat.dynamic_rnn(_compat.GRUCell(6), inputs, dtype=tf.float32)
  logits = _compat.dense(state, 2, name="logits")
  tf.nn.softmax(logits)
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
  v1.train.AdagradOptimizer(0.3).minimize(loss, name="train")
  return _Recipe(
      inputs=("inputs:0",), outputs=("logits/BiasAdd:0", "Softmax:0"), feeds={},
      idioms=("gru", "dynamic_rnn", "dense", "softmax"),
      input_specs={"inputs:0": ((None, 5, 3), "float32", None)},
      labels="labels:0", labels_spec=((None,), "int32", 2), loss="loss/loss:0", train_op="train",
      optimizer="adagrad")


# --- 10 --------------------------------------------------------------------------------------------------
def lstmcell_stacked(use_resource):
  """Two `LSTMCell`s in a `MultiRNNCell` under `dynamic_rnn`, mean over time, a regression head, SGD."""
  del use_resource
  inputs = v1.placeholder(tf.float32, [None, 5, 3], name="inputs")
  targets = v1.placeholder(tf.float32, [None, 1], name="targets")
  cell = _compat.MultiRNNCell([_compat.LSTMCell(6), _compat.LSTMCell(6)])
  outputs, _ = _compat.dynamic_rnn(cell, inputs, dtype=tf.float32)
  pooled = tf.reduce_mean(outputs, axis=1)
  prediction = _compat.dense(pooled, 1, name="output")
  loss = _mean_loss(tf.square(prediction - targets), name="mse")
  v1.train.GradientDescentOptimizer(0.5).minimize(loss, name="train")
  return _Recipe(
      inputs=("inputs:0",), outputs=("output/BiasAdd:0",), feeds={},
      idioms=("lstm_cell", "stacked_rnn", "dynamic_rnn", "reduce_mean", "dense"),
      input_specs={"inputs:0": ((None, 5, 3), "float32", None)},
      labels="targets:0", labels_spec=((None, 1), "float32", None), loss="loss/mse:0", train_op="train",
      optimizer="sgd")


# --- 11 --------------------------------------------------------------------------------------------------
def leaky_handwritten(use_resource):
  """Leaky ReLU by hand (`maximum` and the `abs` form), then relu6, elu and selu layers, Momentum."""
  del use_resource
  x = v1.placeholder(tf.float32, [None, 6], name="x")
  y = v1.placeholder(tf.int32, [None], name="y")
  h = _compat.dense(x, 8, name="fc1")
  h = tf.maximum(0.2 * h, h, name="leaky_max")
  h = _compat.dense(h, 8, name="fc2")
  alpha = 0.1
  h = tf.identity(0.5 * (1 + alpha) * h + 0.5 * (1 - alpha) * tf.abs(h), name="leaky_abs")
  h = _compat.dense(h, 8, activation=tf.nn.relu6, name="fc3")
  h = _compat.dense(h, 8, activation=tf.nn.elu, name="fc4")
  h = _compat.dense(h, 8, activation=tf.nn.selu, name="fc5")
  logits = _compat.dense(h, 3, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
  v1.train.MomentumOptimizer(0.05, momentum=0.9, use_nesterov=True).minimize(loss, name="train")
  return _Recipe(
      inputs=("x:0",), outputs=("logits/BiasAdd:0",), feeds={},
      idioms=("dense", "leaky_relu_max", "leaky_relu_abs", "relu6", "elu", "selu"),
      input_specs={"x:0": ((None, 6), "float32", None)},
      labels="y:0", labels_spec=((None,), "int32", 3), loss="loss/loss:0", train_op="train",
      optimizer="momentum")


# --- 12 --------------------------------------------------------------------------------------------------
def dropout_forms(use_resource):
  """Dropout three ways: by hand, `tf.layers.dropout(training=...)`, and `tf.nn.dropout` with a default.

  `keep_prob` is a `placeholder_with_default(1.0, [])`, so inference needs no feed for it; training feeds
  0.8. The hand-written form is the TF 1.0 `tf.nn.dropout`: `floor(keep_prob + random_uniform)` as the mask.
  """
  del use_resource
  x = v1.placeholder(tf.float32, [None, 8], name="x")
  y = v1.placeholder(tf.int32, [None], name="y")
  training = v1.placeholder(tf.bool, [], name="training")
  keep_prob = v1.placeholder_with_default(1.0, [], name="keep_prob")
  h = _compat.dense(x, 16, activation=tf.nn.relu, name="fc1")
  with tf.name_scope("hand_dropout"):
    mask = tf.floor(keep_prob + v1.random_uniform(tf.shape(h), seed=3))
    h = v1.div(h, keep_prob) * mask
  h = _compat.dense(h, 16, activation=tf.nn.relu, name="fc2")
  h = _compat.dropout(h, rate=0.3, training=training, name="dropout2")
  h = _compat.dense(h, 8, activation=tf.nn.relu, name="fc3")
  h = v1.nn.dropout(h, keep_prob=keep_prob, seed=4)
  logits = _compat.dense(h, 3, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
  v1.train.RMSPropOptimizer(0.01, momentum=0.5).minimize(loss, name="train")
  return _Recipe(
      inputs=("x:0",), outputs=("logits/BiasAdd:0",), feeds={"training:0": False},
      idioms=("dense", "relu", "dropout_handwritten", "dropout_layers_training",
              "dropout_placeholder_with_default", "dropout_keep_prob", "cond"),
      input_specs={"x:0": ((None, 8), "float32", None)},
      labels="y:0", labels_spec=((None,), "int32", 3), loss="loss/loss:0", train_op="train",
      optimizer="rmsprop", train_feeds={"training:0": True, "keep_prob:0": 0.8})


# --- 13 --------------------------------------------------------------------------------------------------
def residual_cnn(use_resource):
  """`tf.layers.conv2d`, a residual add, average pooling, two concatenated branches, a global mean, Adam."""
  del use_resource
  x = v1.placeholder(tf.float32, [None, 8, 8, 2], name="x")
  y = v1.placeholder(tf.int32, [None], name="y")
  h = _compat.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu, name="conv1")
  h = tf.nn.relu(h + _compat.conv2d(h, 4, 3, padding="same", name="res_conv"))
  h = _compat.average_pooling2d(h, 2, 2, name="avg_pool")
  branch_a = _compat.conv2d(h, 3, 1, activation=tf.nn.relu, name="branch_a")
  branch_b = _compat.conv2d(h, 3, 3, padding="same", activation=tf.nn.relu, name="branch_b")
  h = tf.concat([branch_a, branch_b], axis=3)
  h = tf.reduce_mean(h, [1, 2])
  logits = _compat.dense(h, 3, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
  v1.train.AdamOptimizer(0.01).minimize(loss, name="train")
  return _Recipe(
      inputs=("x:0",), outputs=("logits/BiasAdd:0",), feeds={},
      idioms=("conv2d", "residual_add", "relu", "avg_pool", "concat", "reduce_mean", "dense"),
      input_specs={"x:0": ((None, 8, 8, 2), "float32", None)},
      labels="y:0", labels_spec=((None,), "int32", 3), loss="loss/loss:0", train_op="train",
      optimizer="adam")


# --- 14 --------------------------------------------------------------------------------------------------
def depthwise_cnn(use_resource):
  """`depthwise_conv2d` + bias + relu6, `atrous_conv2d` (rate 2), `reduce_sum` over space, dense, Adagrad."""
  del use_resource
  x = v1.placeholder(tf.float32, [None, 8, 8, 3], name="x")
  y = v1.placeholder(tf.int32, [None], name="y")
  with v1.variable_scope("depthwise"):
    dw = v1.get_variable("depthwise_weights", [3, 3, 3, 2], initializer=v1.glorot_uniform_initializer(seed=1))
    db = v1.get_variable("biases", [6], initializer=v1.constant_initializer(0.05))
    h = tf.nn.relu6(tf.nn.bias_add(tf.nn.depthwise_conv2d(x, dw, [1, 1, 1, 1], "SAME"), db))
  with v1.variable_scope("atrous"):
    aw = v1.get_variable("weights", [3, 3, 6, 4], initializer=v1.glorot_uniform_initializer(seed=2))
    ab = v1.get_variable("biases", [4], initializer=v1.constant_initializer(0.05))
    h = tf.nn.relu(tf.nn.bias_add(tf.nn.atrous_conv2d(h, aw, rate=2, padding="SAME"), ab))
  h = tf.reduce_sum(h, [1, 2])
  logits = _compat.dense(h, 3, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
  v1.train.AdagradOptimizer(0.1).minimize(loss, name="train")
  return _Recipe(
      inputs=("x:0",), outputs=("logits/BiasAdd:0",), feeds={},
      idioms=("get_variable", "depthwise_conv2d", "relu6", "conv2d_dilated", "relu", "reduce_sum", "dense"),
      input_specs={"x:0": ((None, 8, 8, 3), "float32", None)},
      labels="y:0", labels_spec=((None,), "int32", 3), loss="loss/loss:0", train_op="train",
      optimizer="adagrad")


# --- 15 --------------------------------------------------------------------------------------------------
def deconv_decoder(use_resource):
  """dense -> reshape -> `tf.nn.conv2d_transpose` (run-time output shape) -> `tf.layers.conv2d_transpose`.

  The output is a sigmoid image `[batch, 8, 8, 2]`; the loss is the mean squared error against `target`.
  """
  del use_resource
  code = v1.placeholder(tf.float32, [None, 4], name="code")
  target = v1.placeholder(tf.float32, [None, 8, 8, 2], name="target")
  h = _compat.dense(code, 4 * 4 * 4, activation=tf.nn.relu, name="fc")
  h = tf.reshape(h, [-1, 4, 4, 4])
  with v1.variable_scope("deconv1"):
    w = v1.get_variable("weights", [3, 3, 3, 4], initializer=v1.glorot_uniform_initializer(seed=1))
    b = v1.get_variable("biases", [3], initializer=v1.constant_initializer(0.05))
    batch_size = tf.shape(code)[0]
    output_shape = tf.stack([batch_size, 8, 8, 3])
    h = tf.nn.relu(tf.nn.bias_add(
        v1.nn.conv2d_transpose(h, w, output_shape, strides=[1, 2, 2, 1], padding="SAME"), b))
  h = _compat.conv2d_transpose(h, 2, 3, padding="same", name="deconv2")
  reconstruction = tf.sigmoid(h, name="reconstruction")
  loss = _mean_loss(tf.square(reconstruction - target), name="mse")
  v1.train.AdamOptimizer(0.01).minimize(loss, name="train")
  return _Recipe(
      inputs=("code:0",), outputs=("reconstruction:0",), feeds={},
      idioms=("dense", "relu", "flatten_reshape", "conv2d_transpose", "conv2d_strided", "runtime_shape",
              "get_variable", "sigmoid"),
      input_specs={"code:0": ((None, 4), "float32", None)},
      labels="target:0", labels_spec=((None, 8, 8, 2), "float32", None), loss="loss/mse:0",
      train_op="train", optimizer="adam")


# --- 16 --------------------------------------------------------------------------------------------------
def cond_branches(use_resource):
  """`tf.cond(is_training, ...)` choosing between a noisy training path and a plain inference path.

  Both branches read the same `branch/weights`/`branch/biases`, created before the `cond`.
  """
  del use_resource
  x = v1.placeholder(tf.float32, [None, 6], name="x")
  y = v1.placeholder(tf.int32, [None], name="y")
  is_training = v1.placeholder(tf.bool, [], name="is_training")
  h = _compat.dense(x, 8, activation=tf.nn.relu, name="fc1")
  with v1.variable_scope("branch"):
    w = v1.get_variable("weights", [8, 8], initializer=v1.glorot_uniform_initializer(seed=1))
    b = v1.get_variable("biases", [8], initializer=v1.constant_initializer(0.05))
  h = tf.cond(is_training,
              lambda: tf.nn.relu(tf.matmul(h + v1.random_normal(tf.shape(h), stddev=0.1, seed=2), w) + b),
              lambda: tf.tanh(tf.matmul(h, w) + b))
  logits = _compat.dense(h, 3, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
  v1.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
  return _Recipe(
      inputs=("x:0",), outputs=("logits/BiasAdd:0",), feeds={"is_training:0": False},
      idioms=("dense", "relu", "cond", "get_variable", "dense_add", "tanh"),
      input_specs={"x:0": ((None, 6), "float32", None)},
      labels="y:0", labels_spec=((None,), "int32", 3), loss="loss/loss:0", train_op="train",
      optimizer="sgd", train_feeds={"is_training:0": True})


# --- 17 --------------------------------------------------------------------------------------------------
def static_rnn_lstm(use_resource):
  """`static_rnn` of a `BasicLSTMCell(6)` unrolled over 4 steps (`tf.unstack`), last output -> dense, Adam."""
  del use_resource
  inputs = v1.placeholder(tf.float32, [None, 4, 3], name="inputs")
  labels = v1.placeholder(tf.int32, [None], name="labels")
  steps = tf.unstack(inputs, 4, axis=1)
  outputs, _ = _compat.static_rnn(_compat.BasicLSTMCell(6), steps, dtype=tf.float32)
  logits = _compat.dense(outputs[-1], 2, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
  v1.train.AdamOptimizer(0.01).minimize(loss, name="train")
  return _Recipe(
      inputs=("inputs:0",), outputs=("logits/BiasAdd:0",), feeds={},
      idioms=("unstack", "lstm_basic", "static_rnn", "dense"),
      input_specs={"inputs:0": ((None, 4, 3), "float32", None)},
      labels="labels:0", labels_spec=((None,), "int32", 2), loss="loss/loss:0", train_op="train",
      optimizer="adam")


# --- 18 --------------------------------------------------------------------------------------------------
def bidirectional_gru(use_resource):
  """`bidirectional_dynamic_rnn` of two `GRUCell(4)`, both final states concatenated -> dense, RMSProp."""
  del use_resource
  inputs = v1.placeholder(tf.float32, [None, 5, 3], name="inputs")
  labels = v1.placeholder(tf.int32, [None], name="labels")
  _, (state_fw, state_bw) = _compat.bidirectional_dynamic_rnn(
      _compat.GRUCell(4), _compat.GRUCell(4), inputs, dtype=tf.float32)
  logits = _compat.dense(tf.concat([state_fw, state_bw], axis=1), 2, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
  v1.train.RMSPropOptimizer(0.01).minimize(loss, name="train")
  return _Recipe(
      inputs=("inputs:0",), outputs=("logits/BiasAdd:0",), feeds={},
      idioms=("gru", "bidirectional_rnn", "dynamic_rnn", "concat", "dense"),
      input_specs={"inputs:0": ((None, 5, 3), "float32", None)},
      labels="labels:0", labels_spec=((None,), "int32", 2), loss="loss/loss:0", train_op="train",
      optimizer="rmsprop")


# --- 19 --------------------------------------------------------------------------------------------------
def static_rnn_stacked(use_resource):
  """`static_rnn` of a `MultiRNNCell([GRUCell(5), LSTMCell(4)])` over 5 steps: `tf.stack(outputs, axis=1)`
  averaged over time, beside the last cell's final `c` -> dense, Adam."""
  del use_resource
  inputs = v1.placeholder(tf.float32, [None, 5, 3], name="inputs")
  labels = v1.placeholder(tf.int32, [None], name="labels")
  cell = _compat.MultiRNNCell([_compat.GRUCell(5), _compat.LSTMCell(4)])
  outputs, state = _compat.static_rnn(cell, tf.unstack(inputs, 5, axis=1), dtype=tf.float32)
  pooled = tf.reduce_mean(tf.stack(outputs, axis=1), axis=1)
  logits = _compat.dense(tf.concat([pooled, state[1].c], axis=1), 2, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
  v1.train.AdamOptimizer(0.01).minimize(loss, name="train")
  return _Recipe(
      inputs=("inputs:0",), outputs=("logits/BiasAdd:0",), feeds={},
      idioms=("unstack", "gru", "lstm_cell", "stacked_rnn", "static_rnn", "reduce_mean", "concat", "dense"),
      input_specs={"inputs:0": ((None, 5, 3), "float32", None)},
      labels="labels:0", labels_spec=((None,), "int32", 2), loss="loss/loss:0", train_op="train",
      optimizer="adam")


# --- 20 --------------------------------------------------------------------------------------------------
def bidirectional_lstm_seq(use_resource):
  """`bidirectional_dynamic_rnn` of two `LSTMCell(4)`: the sequences concatenated (the backward
  one reversed back) and averaged over time, beside the backward final `h` -> dense, SGD."""
  del use_resource
  inputs = v1.placeholder(tf.float32, [None, 5, 3], name="inputs")
  labels = v1.placeholder(tf.int32, [None], name="labels")
  (out_fw, out_bw), (_, state_bw) = _compat.bidirectional_dynamic_rnn(
      _compat.LSTMCell(4), _compat.LSTMCell(4), inputs, dtype=tf.float32)
  pooled = tf.reduce_mean(tf.concat([out_fw, out_bw], axis=2), axis=1)
  logits = _compat.dense(tf.concat([pooled, state_bw.h], axis=1), 2, name="logits")
  loss = _mean_loss(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
  v1.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
  return _Recipe(
      inputs=("inputs:0",), outputs=("logits/BiasAdd:0",), feeds={},
      idioms=("lstm_cell", "bidirectional_rnn", "dynamic_rnn", "concat", "reduce_mean", "dense"),
      input_specs={"inputs:0": ((None, 5, 3), "float32", None)},
      labels="labels:0", labels_spec=((None,), "int32", 2), loss="loss/loss:0", train_op="train",
      optimizer="sgd")


_MODELS: "dict[str, Callable[[bool], _Recipe]]" = {
    fn.__name__: fn for fn in (
        tflayers_mlp, getvar_scopes_mlp, bare_variable_cnn, two_tower, gan_two_hidden, batchnorm_layers,
        batchnorm_nn, embedding_lstm, gru_classifier, lstmcell_stacked, leaky_handwritten, dropout_forms,
        residual_cnn, depthwise_cnn, deconv_decoder, cond_branches, static_rnn_lstm, bidirectional_gru,
        static_rnn_stacked, bidirectional_lstm_seq)
}
NAMES = tuple(_MODELS)

_BATCH = 6
_SEED = 1234


def session_config():
  """A `ConfigProto` for the corpus's tiny graphs: one thread each, no Grappler (its passes cost more here
  than the graphs take to run). Values computed do not depend on it."""
  config = v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
  config.graph_options.rewrite_options.disable_meta_optimizer = True
  return config


def random_value(spec, rng, batch=_BATCH):
  """A NumPy array for `spec = (shape, dtype name, vocabulary size or None)`, batch dimension `batch`.

  Integer inputs draw from `[0, vocabulary)`; `"one_hot"` as the vocabulary means one-hot float labels of
  the last dimension's width; other floats are standard normal.
  """
  shape, dtype, vocab = spec
  shape = tuple(batch if d is None else d for d in shape)
  if vocab == "one_hot":
    return np.eye(shape[-1], dtype=dtype)[rng.randint(0, shape[-1], size=shape[:-1])]
  if np.issubdtype(np.dtype(dtype), np.integer):
    return rng.randint(0, vocab, size=shape).astype(dtype)
  if vocab == 2:
    return rng.randint(0, 2, size=shape).astype(dtype)
  return rng.standard_normal(shape).astype(dtype)


def probe_feed(model, seed=0, batch=4):
  """The feed dict for one inference run of `model`: random inputs from `input_specs`, plus `model.feeds`.

  Args:
    model: a `CorpusModel`.
    seed: seeds the NumPy generator, so the same arguments give the same arrays.
    batch: the batch size.

  Returns:
    A dict from tensor name to value, usable as a `Session.run` feed.
  """
  rng = np.random.RandomState(seed)
  feed = {name: random_value(spec, rng, batch) for name, spec in sorted(model.input_specs.items())}
  feed.update(model.feeds)
  return feed


def build(name, directory, op_form):
  """Builds, trains for two steps and saves one corpus model.

  Args:
    name: one of `NAMES`.
    directory: the checkpoint goes to `<directory>/<name>/model.ckpt-2` (with `.meta`, `.index`, `.data-*`).
    op_form: `"v1"` (VariableV2, v1 control flow) or `"v2"` (VarHandleOp, v2 control flow).

  Returns:
    The `CorpusModel`.

  Raises:
    ValueError: an unknown `name` or `op_form`.
  """
  if name not in _MODELS:
    raise ValueError(f"Unknown corpus model {name!r}. Known: {', '.join(NAMES)}")
  with op_form_scope(op_form) as use_resource:
    graph = tf.Graph()
    with graph.as_default():
      v1.set_random_seed(_SEED)
      v1.get_variable_scope().set_use_resource(use_resource)
      recipe = _MODELS[name](use_resource)
      init = v1.global_variables_initializer()
      saver = v1.train.Saver()
  rng = np.random.RandomState(_SEED)
  feed = {n: random_value(s, rng) for n, s in recipe.input_specs.items()}
  if recipe.labels:
    feed[recipe.labels] = random_value(recipe.labels_spec, rng)
  feed.update(recipe.train_feeds)
  os.makedirs(os.path.join(directory, name), exist_ok=True)
  with v1.Session(graph=graph, config=session_config()) as sess:
    sess.run(init)
    for _ in range(2):
      for op in (recipe.train_op,) + recipe.extra_train_ops:
        sess.run(op, feed)
    prefix = saver.save(sess, os.path.join(directory, name, "model.ckpt"), global_step=2)
  fields = {f.name: getattr(recipe, f.name) for f in dataclasses.fields(CorpusModel)
            if hasattr(recipe, f.name)}
  return CorpusModel(name=name, op_form=op_form, prefix=prefix, **fields)
