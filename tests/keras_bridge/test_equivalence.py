"""keras_bridge._equivalence: every tf1_reference model against its Keras twin, forward and 5 SGD steps (CPU)."""

import dataclasses

import keras
import numpy as np
import pytest

from keras_bridge import _equivalence as eq
from keras_bridge import twins
from keras_bridge import _errors
from keras_bridge import _mapping
from keras_bridge import _naming
from keras_bridge import models

TWINS = [
    pytest.param(twins.dnn_twin, id="dnn_002"),
    pytest.param(twins.image_filter_twin, id="image_filter_001"),
    pytest.param(twins.shared_fc_twin, id="shared_fc_000"),
    pytest.param(twins.affine_reuseable_twin, id="affine_reuseable_003"),
    pytest.param(twins.auto_reuse_twin, id="auto_reuse_004"),
    pytest.param(twins.gan_twin, id="gan_003"),
]


def _spec(twin):
  """Sorted (canonical name, shape, dtype, trainable) of both sides."""
  tf1 = sorted((_mapping.map_key(v.op.name), tuple(v.shape.as_list()), v.dtype.base_dtype.name, v.trainable)
               for v in twin.variables)
  ours = sorted((path, tuple(var.shape), var.dtype, var.trainable)
                for path, var in _naming.canonical_weights(twin.model).items())
  return tf1, ours


@pytest.mark.parametrize("build", TWINS)
def test_twin_variables_match_name_shape_dtype_trainable(build):
  """Issue 3 §1: each twin has exactly the reference's variables, after the default rules."""
  with build() as twin:
    tf1, ours = _spec(twin)
    assert tf1 == ours


@pytest.mark.parametrize("build", TWINS)
def test_forward_outputs_agree_to_1e_6_after_in_memory_copy(build):
  """Issue 3 §6: same weights (copied in memory) -> every compared tensor within 1e-6 on CPU float32."""
  with build() as twin:
    assert eq.compare_weights(twin).max_abs_diff > 0  # independent initial weights
    report = eq.copy_weights(twin)
    assert report.assigned and report.ok
    assert eq.compare_weights(twin).max_abs_diff == 0.0
    inputs, _ = twin.sample(np.random.default_rng(1), 4)
    result = eq.compare_outputs(twin, inputs)
    assert set(result.diffs) == set(twin.outputs)
    assert result.max_abs_diff <= eq.CPU_FORWARD_TOL


@pytest.mark.parametrize("build", TWINS)
def test_five_sgd_steps_agree_to_1e_5(build):
  """Issue 3 §6: 5 SGD steps on the same batches -> every weight within 1e-5 on CPU float32."""
  with build() as twin:
    eq.copy_weights(twin)
    rng = np.random.default_rng(2)
    start = {k: v.numpy() for k, v in _naming.canonical_weights(twin.model).items()}
    result = eq.compare_training(twin, [twin.sample(rng, 8) for _ in range(5)])
    assert result.steps == 5 and len(result.per_step) == 5
    assert result.max_abs_diff <= eq.CPU_TRAINING_TOL
    assert max(result.losses) <= 1e-6
    moved = [k for k, v in _naming.canonical_weights(twin.model).items()
             if not np.array_equal(v.numpy(), start[k])]
    assert moved, "training must change the weights for the comparison to mean anything"


@pytest.mark.parametrize("build, keys", [
    pytest.param(twins.dnn_twin, ["hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel", "hidden3/bias",
                               "hidden3/kernel", "outputs/bias", "outputs/kernel"], id="dnn_002"),
    pytest.param(twins.image_filter_twin, ["model/conv1/biases", "model/conv1/weights", "model/conv2/biases",
                                        "model/conv2/weights"], id="image_filter_001"),
    pytest.param(twins.shared_fc_twin, ["fully_connected_1/biases", "fully_connected_1/weights"], id="shared_fc_000"),
    pytest.param(twins.affine_reuseable_twin, ["n2/W", "n2/b"], id="affine_reuseable_003"),
    pytest.param(twins.auto_reuse_twin, ["shared/bias", "shared/weights"], id="auto_reuse_004"),
    pytest.param(twins.gan_twin, ["discriminator/hidden/bias", "discriminator/hidden/kernel",
                               "discriminator/output/bias", "discriminator/output/kernel",
                               "generator/hidden/bias", "generator/hidden/kernel", "generator/output/bias",
                               "generator/output/kernel"], id="gan_003"),
])
def test_reference_saver_checkpoint_loads_with_zero_misses(build, keys, tmp_path):
  """Issue 3 "done when": the reference Saver's checkpoint loads into the twin with default rules, no misses."""
  with build() as twin:
    report = eq.copy_weights_via_checkpoint(twin, str(tmp_path))
    assert [m.tf1_key for m in report.matched] == keys
    assert report.ok and report.assigned
    assert report.unused_tf1_keys == [] and report.unfilled_keras == []
    assert eq.compare_weights(twin).max_abs_diff == 0.0
    inputs, _ = twin.sample(np.random.default_rng(3), 4)
    assert eq.compare_outputs(twin, inputs).max_abs_diff <= eq.CPU_FORWARD_TOL


def test_dnn_gradient_clipping_is_replicated_and_matters():
  """002 clips gradients to [-threshold, threshold]; SGD(clipvalue=) matches it, no clipping does not."""
  with twins.dnn_twin(threshold=0.01, learning_rate=0.5) as twin:
    eq.copy_weights(twin)
    batches = [twin.sample(np.random.default_rng(4), 8) for _ in range(2)]
    assert eq.compare_training(twin, batches).max_abs_diff <= eq.CPU_TRAINING_TOL
  with twins.dnn_twin(threshold=0.01, learning_rate=0.5) as twin:
    xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    unclipped = eq.sgd_step(twin.model, lambda x, y: xent(y[0], twin.model(x[0])), 0.5, clip_value=None)
    twin = dataclasses.replace(twin, keras_step=unclipped)
    eq.copy_weights(twin)
    assert eq.compare_training(twin, batches).max_abs_diff > 1e-3


def test_compare_outputs_localizes_a_difference_to_its_layer():
  """Per-layer comparison: perturbing hidden2's bias leaves hidden1 equal and shows up from hidden2 on."""
  with twins.dnn_twin() as twin:
    eq.copy_weights(twin)
    bias = twin.model.get_layer("hidden2").bias
    bias.assign(bias.numpy() + 0.5)
    inputs, _ = twin.sample(np.random.default_rng(5), 4)
    diffs = eq.compare_outputs(twin, inputs).diffs
    assert diffs["hidden1"] == 0.0
    assert diffs["hidden2"] == pytest.approx(0.5, abs=1e-6)
    assert eq.compare_outputs(twin, inputs).worst()[0] in ("hidden2", "hidden3", "outputs")


def test_copy_weights_refuses_a_misnamed_twin_and_assigns_nothing():
  """A twin whose layer is named differently: MappingError lists both sides; the model is untouched."""
  with twins.dnn_twin() as twin:
    model = models.dnn(20, 5, (16, 12, 8))
    model.get_layer("hidden3").name = "hidden_3"
    before = [w.numpy() for w in model.weights]
    twin = dataclasses.replace(twin, model=model)
    with pytest.raises(_errors.MappingError) as info:
      eq.copy_weights(twin)
    message = str(info.value)
    assert "checkpoint key 'hidden3/kernel' fills no Keras weight" in message
    assert "Keras weight 'hidden_3/kernel' is filled by no checkpoint key" in message
    assert "4 problem(s)" in message
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights))


def test_user_rules_map_renamed_layers():
  """`Twin.rules` go to the mapping engine before the default rules."""
  with twins.dnn_twin() as twin:
    model = models.dnn(20, 5, (16, 12, 8))
    model.get_layer("hidden3").name = "hidden_3"
    twin = dataclasses.replace(twin, model=model, rules=((r"^hidden3/", "hidden_3/"),))
    assert eq.copy_weights(twin).ok
    inputs, _ = twin.sample(np.random.default_rng(6), 2)
    twin.outputs = {"outputs": twin.outputs["outputs"]}
    twin.keras_outputs = lambda xs: {"outputs": model(xs[0])}
    assert eq.compare_outputs(twin, inputs).max_abs_diff <= eq.CPU_FORWARD_TOL


def test_image_filter_all_share_modes_give_one_variable_set():
  """001: reuse_true, reuse_variables and scope_object all build the 4 variables the Keras block owns."""
  for share in ("reuse_true", "reuse_variables", "scope_object"):
    with twins.image_filter_twin(share=share) as twin:
      assert [v.name for v in twin.variables] == ["model/conv1/weights:0", "model/conv1/biases:0",
                                                  "model/conv2/weights:0", "model/conv2/biases:0"]
      eq.copy_weights(twin)
      inputs, _ = twin.sample(np.random.default_rng(7), 1)
      assert eq.compare_outputs(twin, inputs).max_abs_diff <= eq.CPU_FORWARD_TOL


