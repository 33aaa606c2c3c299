"""The Keras examples of 004_6270d8d9c47d861f.txt, as documented and made right (keras_bridge.twins.keras_examples)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bridge.twins import keras_examples as ex


def test_004_get_weights_documented_model_builds_with_input_shape_warning():
  """004 §1.1: `Dense(64, input_shape=(10,))` still builds in Keras 3; it warns; 769 parameters, (10, 64)."""
  with pytest.warns(UserWarning, match="Do not pass an `input_shape`/`input_dim` argument to a layer"):
    model = ex.documented_model()
  assert ex.parameter_counts(model) == (769, (10, 64))


def test_004_get_weights_input_form_has_the_same_weights():
  """004 §1.1 made right: `keras.Input((10,))` gives the same shapes without a warning."""
  model = ex.example_model()
  assert [w.shape for w in model.get_weights()] == [(10, 64), (64,), (64, 1), (1,)]
  assert ex.parameter_counts(model) == (769, (10, 64))


def test_004_freeze_first_layer_printed_check_and_trainable_weights():
  """004 §2.1: after `layer.trainable = False` the printed "可训练" check is False for the frozen layer."""
  model = ex.example_model()
  ex.freeze(model, 1)
  assert ex.trainable_report(model) == ["dense 可训练: False", "dense_1 可训练: True"]
  assert [w.path for w in model.trainable_weights] == ["example/dense_1/kernel", "example/dense_1/bias"]
  assert [w.path for w in model.non_trainable_weights] == ["example/dense/kernel", "example/dense/bias"]


def test_004_frozen_layer_is_unchanged_by_fit():
  """004 §2.1: a frozen layer keeps its weights through `fit`; the others move."""
  model = ex.example_model(n_inputs=4, units=3)
  ex.freeze(model, 1)
  before = model.get_weights()
  model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
  rng = np.random.default_rng(0)
  model.fit(rng.normal(size=(8, 4)).astype("float32"), rng.integers(0, 2, (8, 1)).astype("float32"),
            epochs=1, batch_size=8, verbose=0)
  after = model.get_weights()
  np.testing.assert_array_equal(after[0], before[0])
  np.testing.assert_array_equal(after[1], before[1])
  assert not np.array_equal(after[2], before[2])


def test_004_set_weights_replaces_first_bias_keeps_kernel():
  """004 §2.2: `set_weights([kernel, new_bias])` sets the bias to 0.1 and keeps the kernel."""
  model = ex.example_model()
  kernel = model.layers[0].get_weights()[0]
  ex.set_first_bias(model, 0.1)
  new_kernel, bias = model.layers[0].get_weights()
  np.testing.assert_array_equal(new_kernel, kernel)
  np.testing.assert_array_equal(bias, np.full((64,), 0.1, np.float32))


def test_004_he_normal_layer_has_no_weights_until_built_then_he_scale():
  """004 §4.1: `Dense(64, kernel_initializer=HeNormal())` has no weights until built; then std ~ sqrt(2/fan_in)."""
  layer = ex.he_normal_dense(64)
  assert layer.weights == []
  keras.utils.set_random_seed(0)
  layer.build((None, 512))
  kernel = keras.ops.convert_to_numpy(layer.kernel)
  assert kernel.shape == (512, 64)
  assert abs(kernel.std() - np.sqrt(2.0 / 512)) < 0.05 * np.sqrt(2.0 / 512)
  # HeNormal is a normal truncated at two (pre-truncation) standard deviations, sqrt(2/fan_in)/0.8796...
  assert np.abs(kernel).max() <= 2 * np.sqrt(2.0 / 512) / 0.87962566103423978 + 1e-6


def test_004_check_numerics_passes_finite_weights():
  """004 §4.2: `check_numerics` on finite weights returns without error."""
  ex.check_weights(ex.example_model())


@pytest.mark.parametrize("bad, kind", [(np.nan, "NaN"), (np.inf, "Inf")], ids=["nan", "inf"])
def test_004_check_numerics_raises_on_nan_or_inf_naming_the_message(bad, kind):
  """004 §4.2: one NaN/Inf in a kernel raises InvalidArgumentError "权重异常检测 : Tensor had NaN values"."""
  model = ex.example_model()
  kernel, bias = model.layers[0].get_weights()
  kernel[3, 5] = bad
  model.layers[0].set_weights([kernel, bias])
  with pytest.raises(tf.errors.InvalidArgumentError, match=f"权重异常检测 : Tensor had {kind} values"):
    ex.check_weights(model)


def test_004_checkpoint_transfer_as_documented_fails_not_found(tmp_path):
  """004 §3.2 as written: `save('source_ckpt')` writes `source_ckpt-1`; `restore('source_ckpt')` raises."""
  with pytest.raises(tf.errors.NotFoundError) as info:
    ex.transfer_as_documented(str(tmp_path))
  message = str(info.value)
  assert "Failed to find any matching files for source_ckpt" in message
  assert "You may be missing the checkpoint suffix (e.g. the '-1' in 'path/to/ckpt-1')" in message
  assert sorted(os.listdir(tmp_path)) == ["checkpoint", "source_ckpt-1.data-00000-of-00001",
                                          "source_ckpt-1.index"]


def test_004_checkpoint_transfer_unbuilt_models_saves_and_transfers_nothing(tmp_path):
  """004 §3.2 with the right path: unbuilt `Sequential([Dense(64)])` has no weights; only save_counter is saved."""
  source, target, save_path = ex.transfer_unbuilt(str(tmp_path))
  assert save_path == str(tmp_path / "source_ckpt-1")
  assert source.weights == [] and target.weights == []
  assert sorted(name for name, _ in tf.train.list_variables(save_path)) == [
      "_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
  # Built afterwards, the two models have independent random weights: nothing was transferred.
  source.build((None, 10))
  target.build((None, 10))
  assert not np.array_equal(source.get_weights()[0], target.get_weights()[0])


def test_004_checkpoint_transfer_made_right_copies_every_weight(tmp_path):
  """004 §3.2 made right: built models + the returned path; `assert_consumed` passes and the weights agree."""
  source, target, save_path = ex.transfer_weights(str(tmp_path))
  assert save_path == str(tmp_path / "source_ckpt-1")
  for a, b in zip(source.get_weights(), target.get_weights()):
    np.testing.assert_array_equal(a, b)
  assert sorted(name for name, _ in tf.train.list_variables(save_path)) == [
      "_CHECKPOINTABLE_OBJECT_GRAPH",
      "model/_functional/_operations/1/_kernel/.ATTRIBUTES/VARIABLE_VALUE",
      "model/_functional/_operations/1/bias/.ATTRIBUTES/VARIABLE_VALUE",
      "save_counter/.ATTRIBUTES/VARIABLE_VALUE"]


def test_004_fine_tune_frozen_base_trains_only_the_head():
  """004 §5.1: freezing every base layer leaves only the new Dense head trainable (tiny base, no download)."""
  inputs = keras.Input(shape=(8, 8, 3))
  features = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
  base = keras.Model(inputs, features, name="base")
  model = ex.fine_tune_model(base, n_classes=10)
  assert [w.path for w in model.trainable_weights] == ["predictions/kernel", "predictions/bias"]
  assert sorted(w.path for w in model.non_trainable_weights) == ["conv/bias", "conv/kernel"]


def test_004_tflite_optimize_default_leaves_documented_small_kernels_float():
  """004 §5.2: the 10x64 kernel (640 < 1024 elements) is not quantized: no int8 tensor, same file size."""
  model = ex.example_model()
  quantized = ex.to_tflite(model, quantize=True)
  plain = ex.to_tflite(model, quantize=False)
  assert "int8" not in set(ex.tflite_tensor_dtypes(quantized).values())
  assert len(quantized) == len(plain)
  x = np.random.default_rng(0).normal(size=(4, 10)).astype("float32")
  np.testing.assert_allclose(ex.run_tflite(quantized, x), keras.ops.convert_to_numpy(model(x)), atol=1e-6)


def test_004_tflite_optimize_default_quantizes_large_kernels_and_stays_close():
  """004 §5.2: a 64x64 kernel becomes int8; the file shrinks and outputs stay within 1e-2 of Keras."""
  model = ex.example_model(n_inputs=64)
  quantized = ex.to_tflite(model, quantize=True)
  plain = ex.to_tflite(model, quantize=False)
  assert "int8" in set(ex.tflite_tensor_dtypes(quantized).values())
  assert len(quantized) < 0.5 * len(plain)
  x = np.random.default_rng(0).normal(size=(8, 64)).astype("float32")
  diff = np.abs(ex.run_tflite(quantized, x) - keras.ops.convert_to_numpy(model(x))).max()
  assert 0 < diff < 1e-2
