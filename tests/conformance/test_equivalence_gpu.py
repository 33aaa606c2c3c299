"""Equivalence of every tf1_reference model and its Keras twin on a GPU (issue 3 §6), `@pytest.mark.gpu`.

The same code as the CPU tests in tests/keras_bridge/test_equivalence.py; TensorFlow places both the TF1
session's ops and the Keras calls on the GPU by default. Tolerances are documented in
keras_bridge/_equivalence.py: `GPU_FORWARD_TOL` / `GPU_TRAINING_TOL` with TensorFloat-32 off, and
`GPU_TF32_TOL` relative to the largest reference value with TF32 on (the default on Ampere and newer).
These tests are skipped by tests/conftest.py where TensorFlow sees no GPU.
"""

import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _equivalence as eq
from keras_bridge import twins

pytestmark = pytest.mark.gpu

TWINS = [
    pytest.param(twins.dnn_twin, id="dnn_002"),
    pytest.param(twins.image_filter_twin, id="image_filter_001"),
    pytest.param(twins.shared_fc_twin, id="shared_fc_000"),
    pytest.param(twins.affine_reuseable_twin, id="affine_reuseable_003"),
    pytest.param(twins.auto_reuse_twin, id="auto_reuse_004"),
    pytest.param(twins.gan_twin, id="gan_003"),
]


@pytest.fixture
def tf32(request):
  """Sets TensorFloat-32 for the test (param True/False) and restores the previous setting."""
  before = tf.config.experimental.tensor_float_32_execution_enabled()
  tf.config.experimental.enable_tensor_float_32_execution(request.param)
  yield request.param
  tf.config.experimental.enable_tensor_float_32_execution(before)


def _scale(twin, inputs):
  return max(1.0, max(float(np.abs(v).max()) for v in twin.session.run(twin.outputs, twin.feed(inputs)).values()))


@pytest.mark.parametrize("tf32", [False], indirect=True, ids=["tf32_off"])
@pytest.mark.parametrize("build", TWINS)
def test_gpu_forward_and_five_sgd_steps_within_gpu_tolerance(build, tf32):
  """GPU, TF32 off: forward outputs and 5 SGD steps agree within GPU_FORWARD_TOL / GPU_TRAINING_TOL."""
  del tf32
  assert tf.config.list_physical_devices("GPU")
  with build() as twin:
    eq.copy_weights(twin)
    rng = np.random.default_rng(0)
    inputs, _ = twin.sample(rng, 8)
    assert eq.compare_outputs(twin, inputs).max_abs_diff <= eq.GPU_FORWARD_TOL
    result = eq.compare_training(twin, [twin.sample(rng, 8) for _ in range(5)])
    assert result.max_abs_diff <= eq.GPU_TRAINING_TOL


@pytest.mark.parametrize("tf32", [True], indirect=True, ids=["tf32_on"])
@pytest.mark.parametrize("build", TWINS)
def test_gpu_forward_with_tf32_within_relative_tolerance(build, tf32):
  """GPU, TF32 on: forward outputs agree within GPU_TF32_TOL relative to the largest reference magnitude."""
  del tf32
  with build() as twin:
    eq.copy_weights(twin)
    inputs, _ = twin.sample(np.random.default_rng(1), 8)
    assert eq.compare_outputs(twin, inputs).max_abs_diff <= eq.GPU_TF32_TOL * _scale(twin, inputs)
