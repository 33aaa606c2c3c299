"""Two networks, two optimizers, two `var_list`s: the GAN example of 003_edbfd8374a89a122.txt.

The seed (section 可训练与不可训练参数, second listing) creates `discriminator/v1` and `generator/v2`, selects
each network's variables with `scope_variables`, and minimizes `d_loss` and `g_loss` with two optimizers,
each restricted to its own `var_list`. The listing never defines `d_loss`, `g_loss`,
`discriminator_optimizer` or `generator_optimizer` (NameError); `build_literal_gan` supplies minimal ones.

`scope_variables` has two traps that the seed's two-variable listing does not show:

* `get_collection(..., scope=...)` is `re.match`, a prefix match: scope "generator" also selects
  `generator_1/...` or `generator_ema/...`. A trailing slash ("generator/") selects the scope only.
* it reads `GLOBAL_VARIABLES`, although the comments say "trainable parameters": once an optimizer with slots
  (Adam, Momentum) has been built, the slots `generator/.../Adam` are in the same scope and get selected too.

`trainable_scope_variables` fixes both. `build_gan` is a small working GAN built with the real
`tf.layers.dense` that uses it; other modules build Keras twins and optimizer-migration tests against it.
"""

import dataclasses
from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from tf1_reference import _compat
from tf1_reference import _snippets
from tf1_reference._registry import example

v1 = tf.compat.v1

SEED = "003_edbfd8374a89a122.txt"

OptimizerFactory = Callable[[float], "v1.train.Optimizer"]

GAN_LISTING_VARIABLES = '''\
import tensorflow as tf

def scope_variables(name):
    with tf.variable_scope(name):
        return tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, 
                       scope=tf.get_variable_scope().name)

# Model parameters for the discriminator network
with tf.variable_scope("discriminator"):
   v1 = tf.get_variable("v1", [3], initializer=tf.zeros_initializer)
   ...

# Model parameters for the generator network
with tf.variable_scope("generator"):
   v2 = tf.get_variable("v2", [2], initializer=tf.zeros_initializer)
   ...

# Get all the trainable parameters for the discriminator   
discriminator_variables = scope_variables("discriminator")

# Get all the trainable parameters for the generator 
generator_variables = scope_variables("generator")
'''

GAN_LISTING_OPTIMIZERS = '''\
# 2 optimizers each for different networks
train_discriminator = discriminator_optimizer.minimize(d_loss, 
                              var_list=discriminator_variables)
train_generator = generator_optimizer.minimize(g_loss, 
                              var_list=generator_variables)
'''

#: The whole listing as the seed prints it.
GAN_LISTING = GAN_LISTING_VARIABLES + "\n" + GAN_LISTING_OPTIMIZERS


def _sgd(learning_rate):
  return v1.train.GradientDescentOptimizer(learning_rate)


def scope_variables(name):
  """The seed's helper, verbatim: `GLOBAL_VARIABLES` whose name `re.match`es the scope name (a prefix)."""
  with v1.variable_scope(name):
    return v1.get_collection(v1.GraphKeys.GLOBAL_VARIABLES, scope=v1.get_variable_scope().name)


def trainable_scope_variables(name):
  """The fix: `TRAINABLE_VARIABLES` under exactly scope `name` ("name/" prefix, no slots, no `name_1/`)."""
  with v1.variable_scope(name):
    return v1.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES, scope=v1.get_variable_scope().name + "/")


@dataclasses.dataclass
class LiteralGAN:
  """Handles of the seed's GAN listing, run literally with the missing losses and optimizers supplied."""

  graph: tf.Graph
  v1: tf.Variable
  v2: tf.Variable
  d_loss: tf.Tensor
  g_loss: tf.Tensor
  discriminator_variables: list
  generator_variables: list
  train_discriminator: tf.Operation
  train_generator: tf.Operation
  namespace: dict


def build_literal_gan(optimizer: Optional[OptimizerFactory] = None, learning_rate: float = 0.1) -> LiteralGAN:
  """Runs the 003 GAN listing, supplying the four names it leaves undefined.

  `d_loss = sum((v1 - 1)^2) + sum(v2)` and `g_loss = sum((v2 + 1)^2) + sum(v1)`: each loss depends on both
  networks, as a GAN's does, so only the `var_list`s keep each optimizer to its own network.

  Args:
    optimizer: factory `learning_rate -> Optimizer` for both optimizers; default gradient descent.
    learning_rate: for both optimizers.

  Returns:
    A `LiteralGAN`.
  """
  run = _snippets.run(GAN_LISTING_VARIABLES, SEED)
  ns = run.namespace
  with run.graph.as_default():
    d_loss = tf.reduce_sum(tf.square(ns["v1"] - 1.0)) + tf.reduce_sum(ns["v2"])
    g_loss = tf.reduce_sum(tf.square(ns["v2"] + 1.0)) + tf.reduce_sum(ns["v1"])
    factory = optimizer or _sgd
    _snippets.run(GAN_LISTING_OPTIMIZERS, SEED, previous=run, d_loss=d_loss, g_loss=g_loss,
                  discriminator_optimizer=factory(learning_rate), generator_optimizer=factory(learning_rate))
  return LiteralGAN(graph=run.graph, v1=ns["v1"], v2=ns["v2"], d_loss=d_loss, g_loss=g_loss,
                    discriminator_variables=ns["discriminator_variables"],
                    generator_variables=ns["generator_variables"],
                    train_discriminator=ns["train_discriminator"], train_generator=ns["train_generator"],
                    namespace=ns)


@dataclasses.dataclass
class GANGraph:
  """Handles of `build_gan`. All tensors live in `graph`."""

  graph: tf.Graph
  z: tf.Tensor
  x_real: tf.Tensor
  g_sample: tf.Tensor
  d_real_logits: tf.Tensor
  d_fake_logits: tf.Tensor
  d_loss: tf.Tensor
  g_loss: tf.Tensor
  discriminator_variables: list
  generator_variables: list
  train_discriminator: tf.Operation
  train_generator: tf.Operation
  d_optimizer: "v1.train.Optimizer"
  g_optimizer: "v1.train.Optimizer"
  init: tf.Operation
  saver: "v1.train.Saver"


def _generator(z, hidden_units, data_dim):
  with v1.variable_scope("generator"):
    hidden = _compat.dense(z, hidden_units, activation=tf.nn.relu, name="hidden")
    return _compat.dense(hidden, data_dim, name="output")


def _discriminator(x, hidden_units, reuse):
  with v1.variable_scope("discriminator", reuse=reuse):
    hidden = _compat.dense(x, hidden_units, activation=tf.nn.relu, name="hidden")
    return _compat.dense(hidden, 1, name="output")


def build_gan(data_dim: int = 4,
              noise_dim: int = 2,
              hidden_units: int = 8,
              d_learning_rate: float = 0.01,
              g_learning_rate: float = 0.01,
              d_optimizer: Optional[OptimizerFactory] = None,
              g_optimizer: Optional[OptimizerFactory] = None,
              seed: Optional[int] = None) -> GANGraph:
  """A small working GAN in the shape of the 003 listing: two scopes, two optimizers, two `var_list`s.

  Variables (`tf.layers.dense` names): `generator/hidden/kernel`, `generator/hidden/bias`,
  `generator/output/kernel`, `generator/output/bias`, and the same four under `discriminator/`. The
  discriminator is applied to `x_real`, then to `g_sample` with `reuse=True`, so both calls share one set
  of variables (the second call's ops are named `discriminator_1/...`).

  Args:
    data_dim: width of a real or generated sample.
    noise_dim: width of the noise `z`.
    hidden_units: units of each network's hidden layer.
    d_learning_rate: for the discriminator's optimizer.
    g_learning_rate: for the generator's optimizer.
    d_optimizer: factory `learning_rate -> tf.compat.v1.train.Optimizer`; default gradient descent.
    g_optimizer: likewise for the generator.
    seed: graph-level random seed.

  Returns:
    A `GANGraph`. `saver` is `Saver()` over all global variables (optimizer slots included).
  """
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      v1.set_random_seed(seed)
    z = v1.placeholder(tf.float32, [None, noise_dim], name="z")
    x_real = v1.placeholder(tf.float32, [None, data_dim], name="x_real")
    g_sample = _generator(z, hidden_units, data_dim)
    d_real_logits = _discriminator(x_real, hidden_units, reuse=False)
    d_fake_logits = _discriminator(g_sample, hidden_units, reuse=True)
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    d_loss = tf.add(tf.reduce_mean(xent(logits=d_real_logits, labels=tf.ones_like(d_real_logits))),
                    tf.reduce_mean(xent(logits=d_fake_logits, labels=tf.zeros_like(d_fake_logits))),
                    name="d_loss")
    g_loss = tf.reduce_mean(xent(logits=d_fake_logits, labels=tf.ones_like(d_fake_logits)), name="g_loss")
    discriminator_variables = trainable_scope_variables("discriminator")
    generator_variables = trainable_scope_variables("generator")
    d_opt = (d_optimizer or _sgd)(d_learning_rate)
    g_opt = (g_optimizer or _sgd)(g_learning_rate)
    train_discriminator = d_opt.minimize(d_loss, var_list=discriminator_variables)
    train_generator = g_opt.minimize(g_loss, var_list=generator_variables)
    init = v1.global_variables_initializer()
    saver = v1.train.Saver()
  return GANGraph(graph=graph, z=z, x_real=x_real, g_sample=g_sample, d_real_logits=d_real_logits,
                  d_fake_logits=d_fake_logits, d_loss=d_loss, g_loss=g_loss,
                  discriminator_variables=discriminator_variables, generator_variables=generator_variables,
                  train_discriminator=train_discriminator, train_generator=train_generator,
                  d_optimizer=d_opt, g_optimizer=g_opt, init=init, saver=saver)


def sample_batch(rng: np.random.Generator, batch_size: int, data_dim: int = 4, noise_dim: int = 2):
  """Real data ~ N(3, 0.5) and noise ~ U(-1, 1), as float32 arrays `(x_real, z)`."""
  x = rng.normal(3.0, 0.5, size=(batch_size, data_dim)).astype(np.float32)
  z = rng.uniform(-1.0, 1.0, size=(batch_size, noise_dim)).astype(np.float32)
  return x, z


def train_steps(sess, net: GANGraph, steps: int, batch_size: int = 16, seed: int = 0):
  """Alternates one discriminator step and one generator step; returns the last `(d_loss, g_loss)`."""
  rng = np.random.default_rng(seed)
  data_dim, noise_dim = net.x_real.shape[1], net.z.shape[1]
  d_loss = g_loss = None
  for _ in range(steps):
    x, z = sample_batch(rng, batch_size, data_dim, noise_dim)
    _, d_loss = sess.run([net.train_discriminator, net.d_loss], {net.x_real: x, net.z: z})
    _, g_loss = sess.run([net.train_generator, net.g_loss], {net.x_real: x, net.z: z})
  return float(d_loss), float(g_loss)


def _names(variables):
  return [v.op.name for v in variables]


@example(SEED, "GAN: the listing leaves d_loss/g_loss/optimizers undefined", erratum="E-GAN-UNDEFINED")
def demo_literal_listing():
  try:
    _snippets.run(GAN_LISTING, SEED)
  except NameError as e:
    if str(e) != "name 'discriminator_optimizer' is not defined":
      raise
    return f"NameError: {e}"
  raise AssertionError("the GAN listing ran without its losses and optimizers")


@example(SEED, "GAN: scope_variables + two optimizers with var_list (losses supplied)")
def demo_literal_gan():
  net = build_literal_gan()
  with v1.Session(graph=net.graph) as sess:
    sess.run(v1.global_variables_initializer())
    sess.run(net.train_discriminator)
    after_d = sess.run([net.v1, net.v2])
    sess.run(net.train_generator)
    after_g = sess.run([net.v1, net.v2])
  if (_names(net.discriminator_variables) != ["discriminator/v1"]
      or _names(net.generator_variables) != ["generator/v2"]
      or after_d[1].tolist() != [0.0, 0.0] or after_g[0].tolist() != after_d[0].tolist()):
    raise AssertionError(f"var_list did not separate the networks: {after_d!r}, {after_g!r}")
  return (f"discriminator_variables {_names(net.discriminator_variables)}, generator_variables "
          f"{_names(net.generator_variables)}; each optimizer moves only its own")


@example(SEED, "GAN: scope_variables is a GLOBAL prefix match (slots, generator_1/)", erratum="E-SCOPE-VARIABLES")
def demo_scope_variables_pitfalls():
  net = build_literal_gan(optimizer=v1.train.AdamOptimizer)
  with net.graph.as_default():
    with v1.variable_scope("generator_1"):
      v1.get_variable("w", [1])
    literal = _names(scope_variables("generator"))
    fixed = _names(trainable_scope_variables("generator"))
  if literal != ["generator/v2", "generator/v2/Adam", "generator/v2/Adam_1", "generator_1/w"] or fixed != [
      "generator/v2"]:
    raise AssertionError(f"scope_variables: {literal!r}, fixed: {fixed!r}")
  return f"scope_variables('generator') -> {literal}; fixed -> {fixed}"


@example(SEED, "GAN: working build_gan, discriminator shared by reuse=True")
def demo_build_gan():
  net = build_gan(seed=0)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    g_before = sess.run(net.generator_variables)
    d_loss, g_loss = train_steps(sess, net, steps=3)
    g_after = sess.run(net.generator_variables)
  if not any(not np.array_equal(a, b) for a, b in zip(g_before, g_after)):
    raise AssertionError("train_generator did not change the generator")
  names = _names(net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES))
  return f"{len(names)} variables ({', '.join(names[:2])}, ...); after 3 steps d_loss={d_loss:.3f} g_loss={g_loss:.3f}"
