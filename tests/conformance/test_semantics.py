"""Semantics that must carry over from TF1 to Keras 3 (issue 3 §5); every test runs both sides.

* `trainable=False` / `var_list` subsets (002_9773991e7c1a2830.txt, 003_edbfd8374a89a122.txt) <->
  `layer.trainable` and `model.trainable_weights`;
* the GAN's two `var_list`s and two optimizers (003) <-> `GAN.discriminator_step` / `generator_step`;
* Saver subsets and partial restore of hidden1..3 (002, 003) <-> `tf.train.Checkpoint` of sub-objects and
  `expect_partial`, plus the `get_collection(scope=...)` prefix pitfall and the bridge's exact `include`;
* periodic checkpoints and resume (003 "定期加载模型并保存检查点") <-> `tf.train.CheckpointManager`.
"""

import dataclasses
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _equivalence as eq
from keras_bridge import twins
from keras_bridge import _naming
from keras_bridge import _tf1_checkpoint
from keras_bridge import models
from tf1_reference import _compat
from tf1_reference import dnn as _dnn

v1 = tf.compat.v1

N_IN, N_OUT, HIDDEN = 12, 4, (10, 8, 6)
LR = 0.5


def _values(model):
  return {path: var.numpy() for path, var in _naming.canonical_weights(model).items()}


def _tf1_values(twin):
  return dict(zip([v.op.name for v in twin.variables], twin.session.run(twin.variables)))


def _xent_step(model, learning_rate, clip_value=None):
  xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
  return eq.sgd_step(model, lambda x, y: xent(y[0], model(x[0])), learning_rate, clip_value)


def _var_list_twin():
  """002 DNN; TF1 trains `var_list` = hidden2, hidden3, outputs; Keras freezes hidden1."""
  twin = twins.dnn_twin(N_IN, N_OUT, HIDDEN, learning_rate=LR, threshold=None)
  graph = twin.session.graph
  with graph.as_default():
    var_list = [v for v in v1.trainable_variables() if not v.op.name.startswith("hidden1/")]
    train_op = v1.train.GradientDescentOptimizer(LR).minimize(twin.train_ops[0][1], var_list=var_list)
  twin.model.get_layer("hidden1").trainable = False
  return dataclasses.replace(twin, train_ops=[(train_op, twin.train_ops[0][1])],
                             keras_step=_xent_step(twin.model, LR))


def _trainable_false_twin():
  """TF1 hidden1 built with `trainable=False` and `minimize(loss)` without var_list; Keras freezes hidden1."""
  graph = tf.Graph()
  with graph.as_default():
    v1.set_random_seed(0)
    x = v1.placeholder(tf.float32, (None, N_IN), name="X")
    y = v1.placeholder(tf.int64, (None,), name="y")
    h = _compat.dense(x, HIDDEN[0], activation=tf.nn.relu, trainable=False, name="hidden1")
    for i, units in enumerate(HIDDEN[1:], start=2):
      h = _compat.dense(h, units, activation=tf.nn.relu, name=f"hidden{i}")
    logits = _compat.dense(h, N_OUT, name="outputs")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train_op = v1.train.GradientDescentOptimizer(LR).minimize(loss)
    variables = v1.global_variables()
    saver = v1.train.Saver(variables)
    init = v1.global_variables_initializer()
  session = v1.Session(graph=graph)
  session.run(init)
  model = models.dnn(N_IN, N_OUT, HIDDEN)
  model.get_layer("hidden1").trainable = False

  def sample(rng, batch_size):
    return [rng.uniform(-1, 1, (batch_size, N_IN)).astype("float32")], [rng.integers(0, N_OUT, batch_size)]

  return eq.Twin(name="dnn_trainable_false", session=session, variables=variables, inputs=[x],
                 outputs={"outputs": logits}, model=model, keras_outputs=lambda xs: {"outputs": model(xs[0])},
                 targets=[y], train_ops=[(train_op, loss)], keras_step=_xent_step(model, LR), sample=sample,
                 saver=saver)


@pytest.mark.parametrize("build, tf1_trainable", [
    pytest.param(_var_list_twin, ["hidden1/kernel", "hidden1/bias", "hidden2/kernel", "hidden2/bias",
                                  "hidden3/kernel", "hidden3/bias", "outputs/kernel", "outputs/bias"],
                 id="var_list_002"),
    pytest.param(_trainable_false_twin, ["hidden2/kernel", "hidden2/bias", "hidden3/kernel", "hidden3/bias",
                                         "outputs/kernel", "outputs/bias"], id="trainable_false_003"),
])
def test_frozen_variables_unchanged_on_both_sides_others_equal(build, tf1_trainable):
  """var_list subset / trainable=False <-> layer.trainable=False: hidden1 frozen on both sides, the rest equal."""
  with build() as twin:
    with twin.session.graph.as_default():
      assert [v.op.name for v in v1.trainable_variables()] == tf1_trainable
    assert [w.path for w in twin.model.trainable_weights] == [
        "hidden2/kernel", "hidden2/bias", "hidden3/kernel", "hidden3/bias", "outputs/kernel", "outputs/bias"]
    assert [w.path for w in twin.model.non_trainable_weights] == ["hidden1/kernel", "hidden1/bias"]
    eq.copy_weights(twin)
    tf1_before, keras_before = _tf1_values(twin), _values(twin.model)
    result = eq.compare_training(twin, [twin.sample(np.random.default_rng(0), 16)])
    tf1_after, keras_after = _tf1_values(twin), _values(twin.model)
    for name in ("hidden1/kernel", "hidden1/bias"):
      np.testing.assert_array_equal(tf1_after[name], tf1_before[name])
      np.testing.assert_array_equal(keras_after[name], keras_before[name])
    assert not np.array_equal(tf1_after["outputs/kernel"], tf1_before["outputs/kernel"])
    assert result.max_abs_diff <= 1e-6


def test_gan_two_var_lists_two_optimizers_one_step_each_side():
  """003 GAN: train_discriminator then train_generator (TF1) == discriminator_step then generator_step (Keras)."""
  with twins.gan_twin(d_learning_rate=0.1, g_learning_rate=0.2) as twin:
    eq.copy_weights(twin)
    gan = twin.model
    (x_real, z), _ = twin.sample(np.random.default_rng(0), 16)
    feed = twin.feed([x_real, z])
    (train_d, _), (train_g, _) = twin.train_ops
    start = _values(gan)
    generator = [p for p in start if p.startswith("generator/")]
    discriminator = [p for p in start if p.startswith("discriminator/")]

    twin.session.run(train_d, feed)
    gan.discriminator_step(x_real, z)
    after_d = _values(gan)
    assert all(np.array_equal(after_d[p], start[p]) for p in generator)
    assert not any(np.array_equal(after_d[p], start[p]) for p in discriminator)
    assert eq.compare_weights(twin).max_abs_diff <= 1e-6

    twin.session.run(train_g, feed)
    gan.generator_step(z)
    after_g = _values(gan)
    assert all(np.array_equal(after_g[p], after_d[p]) for p in discriminator)
    assert not any(np.array_equal(after_g[p], after_d[p]) for p in generator)
    assert eq.compare_weights(twin).max_abs_diff <= 1e-6


def test_gan_train_step_equals_one_tf1_step():
  """003 GAN: `GAN.train_step((x_real, z))` is one TF1 step (both ops, same feed), to 1e-6."""
  with twins.gan_twin() as twin:
    eq.copy_weights(twin)
    result = eq.compare_training(twin, [twin.sample(np.random.default_rng(1), 16)])
    assert result.max_abs_diff <= 1e-6


def _train_tf1(sess, net, rng, steps):
  for _ in range(steps):
    x = rng.uniform(-1, 1, (8, N_IN)).astype("float32")
    sess.run(net.training_op, {net.X: x, net.y: rng.integers(0, N_OUT, 8)})


def test_partial_restore_hidden1_to_3_saver_subset_vs_checkpoint_sub_objects(tmp_path):
  """002 transfer: restore_saver(hidden1..3) <-> Checkpoint(hidden1..3 layers) + expect_partial <-> bridge include."""
  # TF1 source model, trained a little and saved with its full Saver.
  source = _dnn.build_dnn(N_IN, N_OUT, (10, 8, 6, 6, 6), threshold=None, seed=1)
  with v1.Session(graph=source.graph) as sess:
    sess.run(source.init)
    _train_tf1(sess, source, np.random.default_rng(0), 2)
    tf1_prefix = source.saver.save(sess, str(tmp_path / "tf1" / "model.ckpt"))
  # TF1 transfer model: restore hidden1..3 only.
  transfer = _dnn.build_transfer_dnn(N_IN, N_OUT, (10, 8, 6, 3), seed=2)
  with v1.Session(graph=transfer.graph) as sess:
    sess.run(transfer.init)
    fresh = dict(zip([v.op.name for v in transfer.model_variables()], sess.run(transfer.model_variables())))
    transfer.restore_saver.restore(sess, tf1_prefix)
    tf1_values = dict(zip([v.op.name for v in transfer.model_variables()], sess.run(transfer.model_variables())))
  assert sorted(transfer.restore_saver._var_list) == [  # pylint: disable=protected-access
      "hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel", "hidden3/bias", "hidden3/kernel"]

  # Keras, object-based: save the source's layers as sub-objects, restore three of them.
  keras_source = models.dnn(N_IN, N_OUT, (10, 8, 6, 6, 6))
  _tf1_checkpoint.load_tf1_checkpoint(keras_source, tf1_prefix)
  layers = {name: keras_source.get_layer(name) for name in
            ("hidden1", "hidden2", "hidden3", "hidden4", "hidden5", "outputs")}
  object_path = tf.train.Checkpoint(**layers).write(str(tmp_path / "keras" / "layers"))
  keras_target = models.transfer_dnn(N_IN, N_OUT, (10, 8, 6, 3))
  untouched = {p: v for p, v in _values(keras_target).items() if p.split("/")[0] in ("hidden4", "outputs")}
  status = tf.train.Checkpoint(**{name: keras_target.get_layer(name) for name in ("hidden1", "hidden2", "hidden3")}
                               ).read(object_path)
  with pytest.raises(AssertionError, match="Unresolved object in checkpoint"):
    status.assert_consumed()
  status.assert_existing_objects_matched()
  status.expect_partial()

  # The bridge, name-based: the same three layers with an exact include.
  bridged = models.transfer_dnn(N_IN, N_OUT, (10, 8, 6, 3))
  report = _tf1_checkpoint.load_tf1_checkpoint(bridged, tf1_prefix, include=("hidden[123]",), strict=False)
  assert [m.tf1_key for m in report.matched] == [
      "hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel", "hidden3/bias", "hidden3/kernel"]
  assert report.unfilled_keras == ["hidden4/kernel", "hidden4/bias", "outputs/kernel", "outputs/bias"]
  assert report.excluded == ["hidden4/bias", "hidden4/kernel", "hidden5/bias", "hidden5/kernel",
                             "outputs/bias", "outputs/kernel"]

  for model in (keras_target, bridged):
    values = _values(model)
    for name in ("hidden1/kernel", "hidden1/bias", "hidden2/kernel", "hidden2/bias", "hidden3/kernel",
                 "hidden3/bias"):
      np.testing.assert_array_equal(values[name], tf1_values[name])
  for name in ("hidden4/kernel", "outputs/bias"):
    np.testing.assert_array_equal(tf1_values[name], fresh[name])
    np.testing.assert_array_equal(_values(keras_target)[name], untouched[name])


def test_get_collection_prefix_pitfall_and_the_bridges_exact_include(tmp_path):
  """002: get_collection(scope="hidden1") also returns hidden10..; the bridge's include "hidden1" does not."""
  net = _dnn.build_dnn(4, 2, (3,) * 10, seed=0)
  assert [v.op.name for v in _dnn.reuse_vars_by_scope(net.graph, "hidden1")] == [
      "hidden1/kernel", "hidden1/bias", "hidden10/kernel", "hidden10/bias"]
  assert [v.op.name for v in _dnn.reuse_vars_exact(net.graph, ["hidden1"])] == ["hidden1/kernel", "hidden1/bias"]
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    prefix = net.saver.save(sess, str(tmp_path / "model.ckpt"))
  report = _tf1_checkpoint.load_tf1_checkpoint(models.dnn(4, 2, (3,) * 10), prefix, include=("hidden1",),
                                               dry_run=True)
  assert [m.tf1_key for m in report.matched] == ["hidden1/bias", "hidden1/kernel"]
  assert "hidden10/kernel" in report.excluded and "hidden10/kernel" in report.unfilled_keras
  # The TF1 pitfall's regex, written out, is what get_collection does: re.match, a prefix match.
  assert [m.tf1_key for m in _tf1_checkpoint.load_tf1_checkpoint(
      models.dnn(4, 2, (3,) * 10), prefix, include=("hidden1.*",), dry_run=True).matched] == [
          "hidden1/bias", "hidden1/kernel", "hidden10/bias", "hidden10/kernel"]


def test_periodic_checkpoints_and_resume_saver_vs_checkpoint_manager(tmp_path):
  """003 "定期加载模型并保存检查点": keep the last 2, resume from the latest, the step count continues; both sides."""
  rng = np.random.default_rng(0)
  batches = [(rng.uniform(-1, 1, (8, N_IN)).astype("float32"), rng.integers(0, N_OUT, 8)) for _ in range(8)]
  tf1_dir, keras_dir = str(tmp_path / "tf1"), str(tmp_path / "keras")

  def tf1_net():
    return _dnn.build_dnn(N_IN, N_OUT, HIDDEN, learning_rate=LR, global_step=True, max_to_keep=2, seed=0)

  def keras_side(model):
    optimizer = keras.optimizers.SGD(LR, clipvalue=1.0)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    return optimizer, tf.train.CheckpointManager(checkpoint, keras_dir, max_to_keep=2)

  def keras_train(model, optimizer, x, y):
    xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
      loss = xent(y, model(x))
    optimizer.apply(tape.gradient(loss, model.trainable_weights), model.trainable_weights)

  # First run: 6 steps, a checkpoint every 2 steps on each side.
  net = tf1_net()
  model = models.dnn(N_IN, N_OUT, HIDDEN)
  optimizer, manager = keras_side(model)
  sess = v1.Session(graph=net.graph)  # not `with`: that would make the graph default for the Keras steps too
  try:
    sess.run(net.init)
    eq.copy_variables(sess, net.model_variables(), model)
    for x, y in batches[:6]:
      sess.run(net.training_op, {net.X: x, net.y: y})
      keras_train(model, optimizer, x, y)
      step = sess.run(net.global_step)
      assert step == int(optimizer.iterations)
      if step % 2 == 0:
        with net.graph.as_default():
          net.saver.save(sess, os.path.join(tf1_dir, "model"), global_step=net.global_step)
        manager.save(checkpoint_number=optimizer.iterations)
  finally:
    sess.close()
  assert sorted(os.listdir(tf1_dir)) == [
      "checkpoint", "model-4.data-00000-of-00001", "model-4.index", "model-4.meta",
      "model-6.data-00000-of-00001", "model-6.index", "model-6.meta"]
  assert sorted(os.listdir(keras_dir)) == [
      "checkpoint", "ckpt-4.data-00000-of-00001", "ckpt-4.index", "ckpt-6.data-00000-of-00001", "ckpt-6.index"]
  assert v1.train.latest_checkpoint(tf1_dir) == os.path.join(tf1_dir, "model-6")
  assert manager.latest_checkpoint == os.path.join(keras_dir, "ckpt-6")

  # Resume in fresh graphs / objects and train 2 more steps: the count goes on at 7, 8 on both sides.
  net = tf1_net()
  model = models.dnn(N_IN, N_OUT, HIDDEN)
  optimizer, manager = keras_side(model)
  manager.checkpoint.restore(manager.latest_checkpoint).assert_consumed()
  assert int(optimizer.iterations) == 6
  sess = v1.Session(graph=net.graph)
  try:
    sess.run(net.init)
    state = v1.train.get_checkpoint_state(tf1_dir)
    with net.graph.as_default():
      net.saver.restore(sess, state.model_checkpoint_path)
    assert sess.run(net.global_step) == 6
    assert eq.compare_variables(sess, net.model_variables(), model).max_abs_diff <= 1e-6
    for x, y in batches[6:]:
      sess.run(net.training_op, {net.X: x, net.y: y})
      keras_train(model, optimizer, x, y)
    assert sess.run(net.global_step) == 8 and int(optimizer.iterations) == 8
    assert eq.compare_variables(sess, net.model_variables(), model).max_abs_diff <= 1e-6
  finally:
    sess.close()
