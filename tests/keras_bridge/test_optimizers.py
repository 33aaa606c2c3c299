"""keras_bridge._optimizers: TF1 slot names, hyperparameter translation, step counters, and bad input.

The models are the DNN of 002_9773991e7c1a2830.txt at tiny sizes (5 inputs, hidden1 of 4 units, 3 outputs).
Continuation (the numerical proof) is in tests/conformance/test_continuation.py.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _optimizers
from keras_bridge import _tf1_checkpoint
from keras_bridge import models
from tf1_reference import dnn

v1 = tf.compat.v1


def _tf1_checkpoint_of(tmp_path, factory, steps=2, global_step=True, after=None):
  """Trains the tiny DNN `steps` steps with the TF1 optimizer `factory`, saves it; returns (prefix, net)."""
  tmp_path.mkdir(parents=True, exist_ok=True)
  net = dnn.build_dnn(5, 3, (4,), learning_rate=0.01, threshold=None, optimizer=factory,
                      global_step=global_step, seed=1)
  rng = np.random.default_rng(0)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    for _ in range(steps):
      sess.run(net.training_op, {net.X: rng.normal(size=(8, 5)), net.y: rng.integers(0, 3, 8)})
    if after is not None:
      after(sess, net)
    return net.saver.save(sess, str(tmp_path / "model.ckpt")), net


def _model():
  return models.dnn(5, 3, (4,))


def _snapshot(model, optimizer):
  return ([w.numpy().copy() for w in model.weights],
          [v.numpy().copy() for v in optimizer.variables] if optimizer.built else None)


def _assert_unchanged(model, optimizer, before):
  weights, opt_vars = _snapshot(model, optimizer)
  assert all(np.array_equal(a, b) for a, b in zip(weights, before[0])), "model weights were assigned"
  if before[1] is None:
    assert not optimizer.built, "the optimizer was built"
  else:
    assert all(np.array_equal(a, b) for a, b in zip(opt_vars, before[1])), "optimizer variables were assigned"


@pytest.mark.parametrize("factory,expected", [
    pytest.param(lambda lr: v1.train.MomentumOptimizer(lr, 0.9),
                 [("hidden1/kernel/Momentum", "momentum", "momentums")], id="momentum"),
    pytest.param(lambda lr: v1.train.AdamOptimizer(lr),
                 [("hidden1/kernel/Adam", "m", "_momentums"), ("hidden1/kernel/Adam_1", "v", "_velocities")],
                 id="adam"),
    pytest.param(lambda lr: v1.train.RMSPropOptimizer(lr, momentum=0.5),
                 [("hidden1/kernel/RMSProp", "rms", "_velocities"),
                  ("hidden1/kernel/RMSProp_1", "momentum", "_momentums")], id="rmsprop_momentum"),
    pytest.param(lambda lr: v1.train.RMSPropOptimizer(lr, momentum=0.5, centered=True),
                 [("hidden1/kernel/RMSProp", "rms", "_velocities"),
                  ("hidden1/kernel/RMSProp_1", "mg", "_average_gradients"),
                  ("hidden1/kernel/RMSProp_2", "momentum", "_momentums")], id="rmsprop_centered"),
    pytest.param(lambda lr: v1.train.AdagradOptimizer(lr),
                 [("hidden1/kernel/Adagrad", "accumulator", "_accumulators")], id="adagrad"),
])
def test_tf1_slot_names_map_to_keras_slots(factory, expected, tmp_path):
  """TF1 names slots `<var>/<optimizer name>`, `_1`, `_2` in creation order; each maps to its Keras state."""
  prefix, net = _tf1_checkpoint_of(tmp_path, factory)
  keys = {k for k, _ in tf.train.list_variables(prefix)}
  assert {k for k, _, _ in expected} <= keys
  report = _optimizers.load_tf1_training_state(_model(), None, prefix, tf1_optimizer=net.optimizer, dry_run=True)
  slots = [(s.tf1_key, s.slot, s.keras_slot) for s in report.optimizers[0].slots
           if s.keras_variable == "hidden1/kernel"]
  assert slots == expected
  assert not report.assigned


def test_adam_beta_powers_and_global_step_give_iterations(tmp_path):
  """TF1 Adam after 40 steps holds beta1_power = 0.9**41 (float32 products); iterations comes out as 40 from
  `beta1_power`, `beta2_power` and `global_step`, which agree."""
  prefix, net = _tf1_checkpoint_of(tmp_path, lambda lr: v1.train.AdamOptimizer(lr), steps=40)
  model = _model()
  report = _optimizers.load_tf1_training_state(model, None, prefix, tf1_optimizer=net.optimizer)
  assert report.optimizers[0].step_sources == {"global_step": 40, "beta1_power": 40, "beta2_power": 40}
  assert int(report.optimizer.iterations.numpy()) == 40
  assert report.assigned and report.weights.assigned


def test_large_step_count_round_trips_through_beta_powers(tmp_path):
  """Keras Adam at iterations=5000 -> TF1 beta powers (float32 products) -> back to 5000 without global_step.

  0.9**5001 underflows float32 (TF flushes denormals to 0) and carries no count; beta2_power (0.999**5001) still does.
  """
  model = _model()
  optimizer = keras.optimizers.Adam(0.01)
  optimizer.build(model.trainable_variables)
  optimizer.iterations.assign(5000)
  saved = _optimizers.save_tf1_training_state(model, optimizer, tmp_path / "model.ckpt", global_step_key=None)
  assert "global_step" not in dict(tf.train.list_variables(saved.checkpoint))
  report = _optimizers.load_tf1_training_state(_model(), None, saved.checkpoint, tf1_optimizer="Adam",
                                               dry_run=True)
  assert dict(tf.train.list_variables(saved.checkpoint))["beta1_power"] == []
  assert tf.train.load_checkpoint(saved.checkpoint).get_tensor("beta1_power") == 0.0
  assert report.optimizers[0].step_sources == {"beta2_power": 5000}
  assert report.optimizers[0].iterations == 5000


@pytest.mark.parametrize("tf1,expected", [
    pytest.param(("GradientDescent", 0.1, {}), ("SGD", {"momentum": 0.0, "nesterov": False}), id="gd"),
    pytest.param(("Momentum", 0.1, {"momentum": 0.9, "use_nesterov": True}),
                 ("SGD", {"momentum": 0.9, "nesterov": True}), id="momentum_nesterov"),
    pytest.param(("Adam", None, {}), ("Adam", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                                               "epsilon": 1e-8, "amsgrad": False}), id="adam_tf1_defaults"),
    pytest.param(("RMSProp", 0.1, {"centered": True, "momentum": 0.5}),
                 ("RMSprop", {"rho": 0.9, "momentum": 0.5, "epsilon": 1e-10, "centered": True}),
                 id="rmsprop_tf1_epsilon"),
    pytest.param(("Adagrad", 0.1, {}), ("Adagrad", {"initial_accumulator_value": 0.1, "epsilon": 0.0}),
                 id="adagrad_no_epsilon"),
])
def test_keras_optimizer_from_tf1_translates_hyperparameters(tf1, expected):
  """TF1 defaults differ from Keras's (Adam epsilon 1e-8, RMSProp epsilon 1e-10, Adagrad no epsilon and
  accumulator 0.1); the translation sets them explicitly."""
  kind, lr, hparams = tf1
  optimizer = _optimizers.keras_optimizer_from_tf1(kind, lr, **hparams)
  config = optimizer.get_config()
  assert type(optimizer).__name__ == expected[0]
  assert {k: config[k] for k in expected[1]} == pytest.approx(expected[1])
  assert _optimizers.tf1_optimizer_from_keras(optimizer).kind == _optimizers.tf1_optimizer_spec(kind, lr,
                                                                                                 **hparams).kind


def test_tf1_optimizer_from_keras_lists_every_untranslatable_setting():
  """Keras settings with no TF1 counterpart are refused, all at once, never approximated."""
  with pytest.raises(_errors.OptimizerStateError) as e:
    _optimizers.tf1_optimizer_from_keras(keras.optimizers.Adam(0.01, amsgrad=True, clipnorm=1.0))
  assert "amsgrad=True" in str(e.value) and "clipnorm=1.0" in str(e.value)
  with pytest.raises(_errors.OptimizerStateError, match=r"epsilon=1e-07 \(TF1 AdagradOptimizer"):
    _optimizers.tf1_optimizer_from_keras(keras.optimizers.Adagrad(0.01))
  with pytest.raises(_errors.OptimizerStateError, match="a schedule"):
    _optimizers.tf1_optimizer_from_keras(
        keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)))


def test_tf1_optimizer_spec_requires_what_tf1_requires():
  """MomentumOptimizer needs learning_rate and momentum; the error names both and shows a fix."""
  with pytest.raises(_errors.OptimizerStateError) as e:
    _optimizers.tf1_optimizer_spec("MomentumOptimizer", nesterov=True)
  message = str(e.value)
  assert "momentum is required" in message and "learning_rate is required" in message
  assert "unknown argument nesterov=True" in message and "tf1_optimizer_spec('Momentum', 0.01" in message


def test_detects_the_optimizer_from_slot_names(tmp_path):
  """With no optimizer given and no `.meta`, `<var>/Adam`, `<var>/Adam_1` mean TF1 Adam with its defaults
  (learning rate 0.001). Three `RMSProp` slots mean centered RMSProp, but RMSPropOptimizer has no default
  learning rate, so the error asks for it."""
  prefix, _ = _tf1_checkpoint_of(tmp_path / "adam", lambda lr: v1.train.AdamOptimizer())
  os.remove(prefix + ".meta")
  report = _optimizers.load_tf1_training_state(_model(), None, prefix, dry_run=True)
  optimizer = report.optimizer
  assert type(optimizer) is keras.optimizers.Adam
  assert optimizer.get_config()["learning_rate"] == pytest.approx(0.001)
  assert optimizer.get_config()["epsilon"] == 1e-8
  prefix, _ = _tf1_checkpoint_of(tmp_path / "rms", lambda lr: v1.train.RMSPropOptimizer(lr, centered=True))
  os.remove(prefix + ".meta")
  with pytest.raises(_errors.OptimizerStateError) as e:
    _optimizers.load_tf1_training_state(_model(), None, prefix)
  assert "learning_rate is required by TF1 RMSPropOptimizer" in str(e.value)
  assert "slots found: 3 RMSProp slot(s) for ['hidden1/kernel'," in str(e.value)


def test_no_slots_for_the_requested_optimizer(tmp_path):
  """A GradientDescent checkpoint has no `hidden1/kernel/Adam`: the error names it; nothing is assigned."""
  prefix, _ = _tf1_checkpoint_of(tmp_path, None)
  model, optimizer = _model(), keras.optimizers.Adam(0.01)
  before = _snapshot(model, optimizer)
  with pytest.raises(_errors.OptimizerStateError) as e:
    _optimizers.load_tf1_training_state(model, optimizer, prefix)
  message = str(e.value)
  assert "no Adam slots in the checkpoint for 4 variable(s)" in message
  assert "'hidden1/kernel/Adam'" in message and "no optimizer slots at all" in message
  assert "beta1_power" in message and "load_tf1_checkpoint" in message
  _assert_unchanged(model, optimizer, before)


def test_slots_of_another_optimizer(tmp_path):
  """Momentum slots loaded into Keras Adam: expected `hidden1/kernel/Adam`, found `hidden1/kernel/Momentum`."""
  prefix, _ = _tf1_checkpoint_of(tmp_path, lambda lr: v1.train.MomentumOptimizer(lr, 0.9))
  model, optimizer = _model(), keras.optimizers.Adam(0.01)
  optimizer.build(model.trainable_variables)
  before = _snapshot(model, optimizer)
  with pytest.raises(_errors.OptimizerStateError) as e:
    _optimizers.load_tf1_training_state(model, optimizer, prefix)
  message = str(e.value)
  assert "expected ['hidden1/kernel/Adam'," in message
  assert "found slots of another optimizer: ['hidden1/bias/Momentum', 'hidden1/kernel/Momentum'" in message
  assert "Fix: pass the optimizer the TF1 graph trained with" in message
  _assert_unchanged(model, optimizer, before)


def test_momentum_slots_into_plain_sgd_are_refused(tmp_path):
  """Keras SGD() is TF1 GradientDescent, which has no slots: Momentum slots in the checkpoint are an error."""
  prefix, _ = _tf1_checkpoint_of(tmp_path, lambda lr: v1.train.MomentumOptimizer(lr, 0.9))
  model, optimizer = _model(), keras.optimizers.SGD(0.01)
  with pytest.raises(_errors.OptimizerStateError, match=r"GradientDescent keeps no slots.*'hidden1/kernel/Momentum'"):
    _optimizers.load_tf1_training_state(model, optimizer, prefix)


def test_inconsistent_step_counters(tmp_path):
  """beta1_power/beta2_power say 2 steps, global_step says 7: refused, naming all three and the fix."""
  prefix, _ = _tf1_checkpoint_of(tmp_path, lambda lr: v1.train.AdamOptimizer(lr),
                                 after=lambda sess, net: sess.run(net.global_step.assign(7)))
  model, optimizer = _model(), keras.optimizers.Adam(0.01, epsilon=1e-8)
  before = _snapshot(model, optimizer)
  with pytest.raises(_errors.OptimizerStateError) as e:
    _optimizers.load_tf1_training_state(model, optimizer, prefix)
  message = str(e.value)
  assert ("inconsistent step counters: 'global_step' implies 7 step(s), 'beta1_power' implies 2 step(s), "
          "'beta2_power' implies 2 step(s)") in message
  assert "global_step_key=None" in message
  _assert_unchanged(model, optimizer, before)
  report = _optimizers.load_tf1_training_state(model, optimizer, prefix, global_step_key=None)
  assert int(optimizer.iterations.numpy()) == 2 and report.assigned


def test_beta_power_that_no_step_produces(tmp_path):
  """A beta1 other than the TF1 graph's makes beta1_power impossible: the error says which key and why."""
  prefix, _ = _tf1_checkpoint_of(tmp_path, lambda lr: v1.train.AdamOptimizer(lr), global_step=False)
  with pytest.raises(_errors.OptimizerStateError, match=r"'beta1_power' = 0\.728\d* is not 0\.8\*\*\(t\+1\)"):
    _optimizers.load_tf1_training_state(_model(), keras.optimizers.Adam(0.01, beta_1=0.8), prefix)


def test_slot_shape_mismatch(tmp_path):
  """A slot whose shape differs from its variable's: the error names the key and both shapes."""
  source = _model()
  extra = {f"{p}/Momentum": np.zeros(w.shape, np.float32) for p, w in
           (("hidden1/kernel", source.weights[0]), ("hidden1/bias", source.weights[1]),
            ("outputs/kernel", source.weights[2]), ("outputs/bias", source.weights[3]))}
  extra["hidden1/kernel/Momentum"] = np.zeros((2, 2), np.float32)
  prefix = _tf1_checkpoint.save_tf1_checkpoint(source, tmp_path / "model.ckpt", extra=extra)
  model, optimizer = _model(), keras.optimizers.SGD(0.01, momentum=0.9)
  before = _snapshot(model, optimizer)
  with pytest.raises(_errors.OptimizerStateError) as e:
    _optimizers.load_tf1_training_state(model, optimizer, prefix)
  assert ("slot shape/dtype mismatch: 'hidden1/kernel/Momentum' is (2, 2) float32, weight 'hidden1/kernel' is "
          "(5, 4) float32") in str(e.value)
  _assert_unchanged(model, optimizer, before)


def test_hyperparameters_that_contradict_the_tf1_optimizer(tmp_path):
  """A Keras optimizer and a tf1_optimizer that disagree are refused before anything moves, naming each
  difference (learning rate and epsilon: Keras's default is 1e-7, TF1's 1e-8)."""
  prefix, net = _tf1_checkpoint_of(tmp_path, lambda lr: v1.train.AdamOptimizer(lr))
  with pytest.raises(_errors.OptimizerStateError,
                     match=r"contradicts the TF1 optimizer from tf1_optimizer: learning_rate: Keras 0\.5, TF1 0\.01; "
                           r"epsilon: Keras 1e-07, TF1 1e-08\. Fix: pass optimizer=None"):
    _optimizers.load_tf1_training_state(_model(), keras.optimizers.Adam(0.5), prefix, tf1_optimizer=net.optimizer)


def test_report_lists_slot_matches_and_notes(tmp_path):
  """The report prints every slot match, the step sources, and what is not bit-exact (Momentum's -lr scale)."""
  prefix, net = _tf1_checkpoint_of(tmp_path, lambda lr: v1.train.MomentumOptimizer(lr, 0.9))
  report = _optimizers.load_tf1_training_state(_model(), None, prefix, tf1_optimizer=net.optimizer, dry_run=True)
  text = str(report)
  assert "hidden1/kernel/Momentum (momentum) -> hidden1/kernel momentums (5, 4): keras = -learning_rate * tf1" in text
  assert "iterations=2 from {'global_step': 2}" in text
  assert "exact for a constant learning rate" in text


def test_save_refuses_untranslatable_optimizer_and_writes_nothing(tmp_path):
  """Keras Adagrad with its default epsilon has no TF1 counterpart: OptimizerStateError, no file written."""
  model, optimizer = _model(), keras.optimizers.Adagrad(0.01)
  with pytest.raises(_errors.OptimizerStateError, match="epsilon=1e-07"):
    _optimizers.save_tf1_training_state(model, optimizer, tmp_path / "model.ckpt")
  assert not list(tmp_path.iterdir())


def _assign(sess, net, name, value):
  with net.graph.as_default():
    sess.run(next(v for v in v1.global_variables() if v.op.name == name).assign(value))


def _underflowed(global_step=None):
  """An `after` hook: both beta powers 0.0 (a run past 87,293 steps), and `global_step` set if given."""
  def after(sess, net):
    for name in ("beta1_power", "beta2_power"):
      _assign(sess, net, name, 0.0)
    if global_step is not None:
      _assign(sess, net, "global_step", global_step)
  return after


def _adam(lr):
  return v1.train.AdamOptimizer(lr)


@pytest.mark.parametrize("kwargs", [pytest.param({}, id="default"), pytest.param({"strict": False}, id="strict_false"),
                                    pytest.param({"dry_run": True}, id="dry_run")])
def test_underflowed_adam_without_global_step_loads_at_the_smallest_underflow_step(kwargs, tmp_path):
  """Issue 10, item 1: both powers 0.0 and no `global_step` (the 87k-step run): iterations = 87,293, the first
  step at which TF1's float32 powers are both 0, said in the report; strict=False and dry_run too."""
  prefix, _ = _tf1_checkpoint_of(tmp_path, _adam, global_step=False, after=_underflowed())
  report = _optimizers.load_tf1_training_state(_model(), None, prefix, **kwargs)
  assert report.optimizers[0].iterations == 87_293
  assert any("smallest step at which TF1's float32 powers are both 0" in n for n in report.optimizers[0].notes)
  if not kwargs:
    assert int(report.optimizer.iterations.numpy()) == 87_293


def test_underflowed_adam_with_global_step_key_none_and_explicit_iterations(tmp_path):
  """`global_step_key=None` (global_step counts something else) with underflowed powers loads, and no message
  mentions a variable named None; `iterations=` gives the step and is checked against the powers."""
  prefix, _ = _tf1_checkpoint_of(tmp_path, _adam, after=_underflowed())  # global_step stays 2.
  with pytest.raises(_errors.OptimizerStateError) as e:
    _optimizers.load_tf1_training_state(_model(), None, prefix)
  assert ("'global_step' implies 2 step(s), but 'beta1_power' is 0.0, which TF1's float32 power reaches only "
          "after 828 steps; 'beta2_power' is 0.0, which TF1's float32 power reaches only after 87293 steps") in str(
              e.value)
  report = _optimizers.load_tf1_training_state(_model(), None, prefix, global_step_key=None)
  assert report.optimizers[0].iterations == 87_293 and "None" not in str(report)
  report = _optimizers.load_tf1_training_state(_model(), None, prefix, global_step_key=None, iterations=123_456)
  assert report.optimizers[0].iterations == 123_456
  with pytest.raises(_errors.OptimizerStateError, match=r"iterations= implies 5 step\(s\), but 'beta1_power' is 0\.0"):
    _optimizers.load_tf1_training_state(_model(), None, prefix, global_step_key=None, iterations=5)


def test_one_power_still_informative_gives_the_step(tmp_path):
  """beta1_power underflowed (past 828 steps) but beta2_power = TF1's 0.999 power after 1,000 steps: 1,000."""
  from keras_bridge import _beta_powers  # pylint: disable=import-outside-toplevel

  def after(sess, net):
    for name, value in (("beta1_power", 0.0), ("beta2_power", _beta_powers.tf1_power(0.999, 1000))):
      _assign(sess, net, name, value)
  prefix, _ = _tf1_checkpoint_of(tmp_path, _adam, global_step=False, after=after)
  report = _optimizers.load_tf1_training_state(_model(), None, prefix)
  assert report.optimizers[0].iterations == 1000
  assert report.optimizers[0].step_sources == {"beta2_power": 1000}


def test_int32_global_step_is_written_back_as_int32_and_refused_past_2_31(tmp_path):
  """Issue 10, item 2: the load records `global_step`'s key and dtype; `names=report` writes int32 back, and an
  int32 step above 2**31 - 1 is refused with nothing written."""
  model, optimizer = _model(), keras.optimizers.Adam(0.01, epsilon=1e-8)
  source = _tf1_checkpoint.save_tf1_checkpoint(model, tmp_path / "src" / "model.ckpt", extra={
      "global_step": np.asarray(3, np.int32), "beta1_power": _optimizers._beta_powers.tf1_power(0.9, 3),
      "beta2_power": _optimizers._beta_powers.tf1_power(0.999, 3),
      **{f"{k}/Adam{s}": np.zeros(w.shape, np.float32) for k, w in
         zip(("hidden1/kernel", "hidden1/bias", "outputs/kernel", "outputs/bias"), model.weights) for s in ("", "_1")}})
  report = _optimizers.load_tf1_training_state(model, optimizer, source)
  assert (report.global_step_key, report.global_step_dtype) == ("global_step", "int32")
  back = _optimizers.save_tf1_training_state(model, optimizer, tmp_path / "back" / "model.ckpt", names=report)
  assert tf.train.load_checkpoint(back.checkpoint).get_variable_to_dtype_map()["global_step"] == tf.int32
  optimizer.iterations.assign(2**31)
  with pytest.raises(_errors.OptimizerStateError,
                     match=r"global step 2147483648 does not fit 'global_step', an int32 step variable"):
    _optimizers.save_tf1_training_state(model, optimizer, tmp_path / "big" / "model.ckpt", names=report)
  assert not (tmp_path / "big").exists()


def test_saving_at_step_1e9_writes_zero_powers_quickly_in_constant_memory(tmp_path):
  """Issue 10, item 5: iterations = 1e9 writes beta powers 0.0 and global_step 1e9 (int64); the powers cost
  O(1) memory (benchmarks/beta_powers.py measures the time)."""
  import tracemalloc  # pylint: disable=import-outside-toplevel
  model, optimizer = _model(), keras.optimizers.Adam(0.01)
  optimizer.build(model.trainable_variables)
  optimizer.iterations.assign(10**9)
  tracemalloc.start()
  report = _optimizers.save_tf1_training_state(model, optimizer, tmp_path / "model.ckpt")
  _, peak = tracemalloc.get_traced_memory()
  tracemalloc.stop()
  reader = tf.train.load_checkpoint(report.checkpoint)
  assert reader.get_tensor("beta1_power") == 0.0 and reader.get_tensor("beta2_power") == 0.0
  assert reader.get_tensor("global_step") == 10**9
  assert peak < 4 * 2**20  # The old float32 array of 1e9 powers was 4 GB.


def test_meta_graph_hyperparameters_refuse_a_contradicting_keras_optimizer(tmp_path):
  """Issue 10, item 4: the `.meta` beside the checkpoint says epsilon 1e-8; a default Keras Adam (1e-7) is
  refused naming the difference and the source, accepted with keep_keras_hyperparameters=True (noted)."""
  prefix, _ = _tf1_checkpoint_of(tmp_path, _adam)
  with pytest.raises(_errors.OptimizerStateError) as e:
    _optimizers.load_tf1_training_state(_model(), keras.optimizers.Adam(0.01), prefix)
  assert (f"contradicts the TF1 optimizer from the MetaGraph {prefix + '.meta'!r} (optimizer scope 'Adam'): "
          f"epsilon: Keras 1e-07, TF1 1e-08") in str(e.value)
  report = _optimizers.load_tf1_training_state(_model(), keras.optimizers.Adam(0.01), prefix,
                                               keep_keras_hyperparameters=True)
  assert any("epsilon: Keras 1e-07, TF1 1e-08" in n for n in report.optimizers[0].notes)
  assert report.optimizer.epsilon == 1e-7


def test_precedence_tf1_optimizer_then_meta_then_slot_defaults(tmp_path):
  """Explicit tf1_optimizer= wins over the `.meta`; without a `.meta`, the slot names with TF1's defaults
  (epsilon 1e-8) are checked, and the learning rate, which a checkpoint does not record, is the Keras one."""
  prefix, _ = _tf1_checkpoint_of(tmp_path, _adam)  # lr 0.01
  spec = _optimizers.tf1_optimizer_spec("Adam", 0.02)
  report = _optimizers.load_tf1_training_state(_model(), None, prefix, tf1_optimizer=spec, dry_run=True)
  assert report.optimizers[0].tf1.learning_rate == 0.02
  report = _optimizers.load_tf1_training_state(_model(), None, prefix, dry_run=True)
  assert report.optimizers[0].tf1.learning_rate == 0.01 and report.meta_graph == prefix + ".meta"
  os.remove(prefix + ".meta")
  with pytest.raises(_errors.OptimizerStateError, match=r"TF1's defaults for the Adam slots found.*epsilon: "
                                                        r"Keras 1e-07, TF1 1e-08"):
    _optimizers.load_tf1_training_state(_model(), keras.optimizers.Adam(0.05), prefix)
  report = _optimizers.load_tf1_training_state(_model(), keras.optimizers.Adam(0.05, epsilon=1e-8), prefix)
  assert report.assigned and report.meta_graph == ""
