"""Tests of keras_bridge._mapping: canonical paths, rules, include/exclude, slots, and the report.

The checkpoint side is given as `{key: (shape, dtype)}`, so these tests need no checkpoint file; the
conformance tests (tests/conformance/test_dnn_checkpoint.py) run the same engine on real TF1 checkpoints.
"""

import doctest
import json
import re

import keras
import numpy as np
import pytest

import keras_bridge
from keras_bridge import _mapping
from keras_bridge import _naming
from keras_bridge import models

SIZES = (6, 5)
#: What the TF1 Saver of 002_9773991e7c1a2830.txt's DNN writes for n_inputs=8, hidden (6, 5), 3 outputs.
DNN_VARS = {
    "hidden1/kernel": ((8, 6), "float32"),
    "hidden1/bias": ((6,), "float32"),
    "hidden2/kernel": ((6, 5), "float32"),
    "hidden2/bias": ((5,), "float32"),
    "outputs/kernel": ((5, 3), "float32"),
    "outputs/bias": ((3,), "float32"),
}


def _dnn():
  return models.dnn(8, 3, SIZES)


def _sequential():
  return keras.Sequential([keras.Input((8,)), keras.layers.Dense(6, name="hidden1"),
                           keras.layers.Dense(5, name="hidden2"), keras.layers.Dense(3, name="outputs")],
                          name="seq")


class _Subclassed(keras.Model):

  def __init__(self):
    super().__init__(name="generator")
    self.hidden1 = keras.layers.Dense(6, name="hidden1")
    self.hidden2 = keras.layers.Dense(5, name="hidden2")
    self.outputs_layer = keras.layers.Dense(3, name="outputs")

  def call(self, x):
    return self.outputs_layer(self.hidden2(self.hidden1(x)))


def _subclassed():
  model = _Subclassed()
  model(np.zeros((1, 8), np.float32))
  return model


@pytest.mark.parametrize("build", [_dnn, _sequential, _subclassed], ids=["functional", "sequential", "subclassed"])
def test_canonical_paths_do_not_depend_on_model_kind(build):
  """Issue 3 part 2: one canonical scheme, although Keras's own `Variable.path` differs by model kind."""
  model = build()
  assert list(_naming.canonical_weights(model)) == [
      "hidden1/kernel", "hidden1/bias", "hidden2/kernel", "hidden2/bias", "outputs/kernel", "outputs/bias"]
  report = _mapping.build_mapping(model, DNN_VARS)
  assert report.ok, str(report)
  assert len(report.matched) == 6


def test_keras_own_paths_differ_by_model_kind():
  """Why the canonical scheme exists: Keras 3 prefixes the Sequential/subclassed model name, not functional."""
  assert _sequential().weights[0].path == "seq/hidden1/kernel"
  assert _dnn().weights[0].path == "hidden1/kernel"
  assert _subclassed().weights[0].path == "generator/hidden1/kernel"


def test_match_carries_shape_and_dtype():
  report = _mapping.build_mapping(_dnn(), DNN_VARS)
  assert report.matched[0] == _mapping.Match("hidden1/bias", "hidden1/bias", (6,), "float32")
  assert report.unused_tf1_keys == [] and report.unfilled_keras == [] and report.candidates == {}


def test_default_rules_turn_weights_biases_into_kernel_bias():
  """tf.contrib/slim names: `hidden1/weights`, `hidden1/biases` -> `hidden1/kernel`, `hidden1/bias`."""
  slim = {k.replace("/kernel", "/weights").replace("/bias", "/biases"): v for k, v in DNN_VARS.items()}
  report = _mapping.build_mapping(_dnn(), slim)
  assert report.ok, str(report)
  assert ("hidden1/weights", "hidden1/kernel") in [(m.tf1_key, m.keras_path) for m in report.matched]


def test_default_rules_can_be_turned_off():
  slim = {"hidden1/weights": ((8, 6), "float32")}
  report = _mapping.build_mapping(_dnn(), slim, default_rules=False)
  assert report.unused_tf1_keys == ["hidden1/weights"]
  assert report.candidates["hidden1/weights"][0] == "hidden1/kernel"


def test_user_rules_run_before_default_rules():
  """Like tf-slim's name_in_checkpoint: a custom scope with `fc_weights` / `fc_biases` names."""
  ckpt = {"custom/layer1/fc_weights": ((8, 6), "float32"), "custom/layer1/fc_biases": ((6,), "float32"),
          "custom/layer2/fc_weights": ((6, 5), "float32"), "custom/layer2/fc_biases": ((5,), "float32"),
          "custom/logits/fc_weights": ((5, 3), "float32"), "custom/logits/fc_biases": ((3,), "float32")}
  # The user rules only strip the scope and the `fc_` prefix; the default rules do weights -> kernel.
  rules = [(r"^custom/layer(\d)/fc_", r"hidden\1/"), (r"^custom/logits/fc_", "outputs/")]
  report = _mapping.build_mapping(_dnn(), ckpt, rules=rules)
  assert report.ok, str(report)
  assert ("custom/layer1/fc_weights", "hidden1/kernel") in [(m.tf1_key, m.keras_path) for m in report.matched]


def _hidden1_and_hidden10():
  return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="hidden1"),
                           keras.layers.Dense(2, name="hidden10")])


HIDDEN10_VARS = {"hidden1/kernel": ((4, 3), "float32"), "hidden1/bias": ((3,), "float32"),
                 "hidden10/kernel": ((3, 2), "float32"), "hidden10/bias": ((2,), "float32")}


def test_include_hidden1_does_not_select_hidden10():
  """002_9773991e7c1a2830.txt: get_collection(scope="hidden1") also selects hidden10; `include` does not."""
  report = _mapping.build_mapping(_hidden1_and_hidden10(), HIDDEN10_VARS, include=["hidden1"])
  assert [m.tf1_key for m in report.matched] == ["hidden1/bias", "hidden1/kernel"]
  assert report.excluded == ["hidden10/bias", "hidden10/kernel"]
  assert report.unfilled_keras == ["hidden10/kernel", "hidden10/bias"]


@pytest.mark.parametrize("patterns, selected", [
    (["hidden1"], ["hidden1/bias", "hidden1/kernel"]),
    (["hidden1/kernel"], ["hidden1/kernel"]),
    (["hidden1.*"], ["hidden1/bias", "hidden1/kernel", "hidden10/bias", "hidden10/kernel"]),
    ([r"hidden\d+/kernel"], ["hidden1/kernel", "hidden10/kernel"]),
], ids=["scope", "one_key", "explicit_prefix_regex", "regex_on_whole_key"])
def test_include_matches_whole_name_components(patterns, selected):
  report = _mapping.build_mapping(_hidden1_and_hidden10(), HIDDEN10_VARS, include=patterns)
  assert sorted(m.tf1_key for m in report.matched) == selected


def test_exclude_wins_over_include():
  report = _mapping.build_mapping(_hidden1_and_hidden10(), HIDDEN10_VARS, include=["hidden1.*"],
                                  exclude=["hidden10"])
  assert sorted(m.tf1_key for m in report.matched) == ["hidden1/bias", "hidden1/kernel"]
  assert report.excluded == ["hidden10/bias", "hidden10/kernel"]


@pytest.mark.parametrize("key", [
    "hidden1/kernel/Adam", "hidden1/kernel/Adam_1", "hidden1/kernel/Adam_2", "hidden1/kernel/Adam_3",
    "hidden1/bias/Momentum", "hidden1/bias/Momentum_1", "outputs/kernel/RMSProp", "outputs/kernel/RMSProp_1",
    "outputs/bias/Adagrad", "outputs/bias/Ftrl", "outputs/bias/Ftrl_1",
])
def test_optimizer_slots_are_recognised_and_not_mapped(key):
  report = _mapping.build_mapping(_dnn(), {**DNN_VARS, key: ((3,), "float32")})
  assert report.optimizer_slots == [key]
  assert report.ok


@pytest.mark.parametrize("key", ["global_step", "beta1_power", "beta2_power", "beta1_power_1",
                                 "beta2_power_1", "train/beta1_power"])
def test_step_keys_are_recognised_and_not_mapped(key):
  report = _mapping.build_mapping(_dnn(), {**DNN_VARS, key: ((), "float32")})
  assert report.step_keys == [key]
  assert report.ok


@pytest.mark.parametrize("key", ["hidden1/kernel", "Adam/kernel", "hidden1/Adam_kernel", "global_steps"])
def test_ordinary_keys_are_not_slots_or_steps(key):
  assert not _mapping.is_optimizer_slot(key)
  assert not _mapping.is_step_key(key)


def test_unused_and_unfilled_with_candidates():
  ckpt = dict(DNN_VARS)
  ckpt["hidden1/kernl"] = ckpt.pop("hidden1/kernel")
  report = _mapping.build_mapping(_dnn(), ckpt)
  assert not report.ok
  assert report.unused_tf1_keys == ["hidden1/kernl"]
  assert report.unfilled_keras == ["hidden1/kernel"]
  assert report.candidates["hidden1/kernl"][0] == "hidden1/kernel"
  assert report.candidates["hidden1/kernel"][0] == "hidden1/kernl"
  problems = report.problems()
  assert any("'hidden1/kernl'" in p and "closest: 'hidden1/kernel'" in p for p in problems)


def test_shape_mismatch_names_key_and_both_shapes():
  ckpt = dict(DNN_VARS, **{"hidden1/kernel": ((8, 7), "float32")})
  report = _mapping.build_mapping(_dnn(), ckpt)
  assert report.shape_mismatches == [_mapping.Mismatch("hidden1/kernel", "hidden1/kernel", (8, 7), (8, 6))]
  (problem,) = report.problems()
  assert "'hidden1/kernel' has shape (8, 7)" in problem and "has shape (8, 6)" in problem


def test_dtype_mismatch_names_key_and_both_dtypes():
  ckpt = dict(DNN_VARS, **{"outputs/bias": ((3,), np.float64)})
  report = _mapping.build_mapping(_dnn(), ckpt)
  assert report.dtype_mismatches == [_mapping.Mismatch("outputs/bias", "outputs/bias", "float64", "float32")]
  (problem,) = report.problems()
  assert "'outputs/bias' is float64" in problem and "is float32" in problem and "dtype='float64'" in problem


def test_two_keys_for_one_weight_is_a_conflict():
  """A Keras weight takes exactly one TF1 key: `hidden1/weights` and `hidden1/kernel` both map to it."""
  ckpt = dict(DNN_VARS, **{"hidden1/weights": ((8, 6), "float32")})
  report = _mapping.build_mapping(_dnn(), ckpt)
  assert report.conflicts == [_mapping.Conflict("hidden1/kernel", ("hidden1/kernel", "hidden1/weights"))]
  assert "hidden1/kernel" not in [m.keras_path for m in report.matched]
  assert "hidden1/kernel" not in report.unfilled_keras
  assert not report.ok


def test_shared_layer_is_one_weight_filled_by_one_key():
  """A layer called twice (the 004 AUTO_REUSE shared layer) owns its variables once."""
  shared = keras.layers.Dense(4, name="shared")
  inputs = keras.Input((4,))
  model = keras.Model(inputs, shared(shared(inputs)))
  report = _mapping.build_mapping(model, {"shared/kernel": ((4, 4), "float32"), "shared/bias": ((4,), "float32")})
  assert report.ok and [m.keras_path for m in report.matched] == ["shared/bias", "shared/kernel"]


def test_report_lists_all_problems_at_once():
  ckpt = dict(DNN_VARS)
  del ckpt["outputs/bias"]
  ckpt["hidden1/kernel"] = ((8, 7), "float32")
  ckpt["hidden2/bias"] = ((5,), "float64")
  ckpt["extra/kernel"] = ((2,), "float32")
  report = _mapping.build_mapping(_dnn(), ckpt)
  problems = report.problems()
  assert len(problems) == 4
  text = str(report)
  for fragment in ["'extra/kernel' fills no Keras weight", "'outputs/bias' is filled by no checkpoint key",
                   "shape mismatch", "dtype mismatch"]:
    assert fragment in text


def test_str_is_a_table_of_matches_then_problems():
  report = _mapping.build_mapping(_dnn(), {**DNN_VARS, "hidden1/kernel/Adam": ((8, 6), "float32"),
                                           "global_step": ((), "int64")})
  lines = str(report).splitlines()
  assert lines[0] == "Mapping report: 6 matched, 0 problem(s)"
  assert lines[1].split() == ["TF1", "key", "Keras", "weight", "shape", "dtype"]
  assert lines[3].split() == ["hidden1/bias", "hidden1/bias", "(6,)", "float32"]
  assert lines[-2] == "Optimizer slots (recognised, not loaded): hidden1/kernel/Adam"
  assert lines[-1] == "Step variables (recognised, not loaded): global_step"


def test_to_dict_is_json_serialisable():
  ckpt = dict(DNN_VARS, **{"hidden1/kernel": ((8, 7), "float32"), "outputs/bias": ((3,), "float64")})
  data = json.loads(json.dumps(_mapping.build_mapping(_dnn(), ckpt).to_dict()))
  assert data["ok"] is False
  assert data["shape_mismatches"] == [{"tf1_key": "hidden1/kernel", "keras_path": "hidden1/kernel",
                                       "checkpoint": [8, 7], "keras": [8, 6]}]
  assert data["dtype_mismatches"] == [{"tf1_key": "outputs/bias", "keras_path": "outputs/bias",
                                       "checkpoint": "float64", "keras": "float32"}]
  assert len(data["problems"]) == 2


def test_docstring_examples_run():
  result = doctest.testmod(_mapping, extraglobs={"keras_bridge": keras_bridge})
  assert result.failed == 0 and result.attempted == 9


@pytest.mark.parametrize("kwargs,fragment", [
    pytest.param({"include": ["hidden["]}, "include pattern 'hidden['", id="bad_include"),
    pytest.param({"exclude": ["(x"]}, "exclude pattern '(x'", id="bad_exclude"),
    pytest.param({"rules": [("*w", "kernel")]}, "rules pattern '*w'", id="bad_rule"),
    pytest.param({"rules": ["hidden1"]}, "not a (regex, replacement) pair", id="rule_not_a_pair"),
])
def test_invalid_patterns_get_one_mapping_error(kwargs, fragment):
  """Bad user rules or include/exclude patterns: a MappingError naming the pattern, not a raw re.error."""
  model = models.dnn(4, 2, (3,))
  with pytest.raises(keras_bridge.MappingError, match=re.escape(fragment)):
    _mapping.build_mapping(model, {"hidden1/kernel": ((4, 3), "float32")}, **kwargs)


def test_unbuilt_model_gets_one_clear_error():
  """A Keras 3 model without an Input has no variables yet (cf. E-004-CHECKPOINT-SUFFIX): say so, not 'unused'."""
  unbuilt = keras.Sequential([keras.layers.Dense(3, name="hidden1")])
  with pytest.raises(keras_bridge.MappingError, match=r"'sequential' has no weights yet.*keras.Input"):
    _mapping.build_mapping(unbuilt, {"hidden1/kernel": ((4, 3), "float32")})
