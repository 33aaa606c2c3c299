"""The Keras examples of 004_6270d8d9c47d861f.txt ("TensorFlow模型参数调用与动态管理全解析"), made right for
TF 2.21 + Keras 3.

Scenario index (section of the document -> function here -> what changes):

* 1.1 `get_weights` on `Sequential([Dense(64, input_shape=(10,)), Dense(1)])` -> `documented_model` (works,
  with Keras 3's "Do not pass an `input_shape`" UserWarning) and `example_model` (the `keras.Input` form);
  `parameter_counts`.
* 2.1 freezing with `layer.trainable = False` and the printed "可训练" check -> `freeze`, `trainable_report`.
  In Keras 3 the setter also flips each variable's `trainable`, so the document's check prints False for a
  frozen layer.
* 2.2 `set_weights` of the first bias -> `set_first_bias`.
* 3.2 `tf.train.Checkpoint` transfer with `assert_consumed` -> `transfer_as_documented` fails twice over:
  `checkpoint.save("source_ckpt")` writes `source_ckpt-1`, so `restore("source_ckpt")` raises `NotFoundError`;
  and the unbuilt `Sequential([Dense(64)])` models own no weights, so even `restore("source_ckpt-1")`
  "consumes" an empty checkpoint and transfers nothing (`transfer_unbuilt`). `transfer_weights` is the
  working version: built models and the path that `save` returns.
* 4.1 `HeNormal` -> `he_normal_dense` (no weights until the layer is built).
* 4.2 `tf.debugging.check_numerics` -> `check_weights`: passes silently for finite weights and raises
  `InvalidArgumentError` ("权重异常检测 : Tensor had NaN values") naming the message for a NaN.
* 5.1 fine-tuning with a frozen base -> `fine_tune_model` (the ImageNet weights need the network; any base
  model works the same way).
* 5.2 TFLite with `Optimize.DEFAULT` -> `to_tflite`, `run_tflite`, `tflite_tensor_dtypes`. It converts in
  TF 2.21 + Keras 3. Dynamic-range quantization only touches weight tensors of at least 1024 elements: the
  document's 10x64 kernel (640) stays float32 and the file does not shrink; a 64x64 kernel becomes int8.
"""

import os
import warnings
from typing import Dict, List, Tuple

import keras
import numpy as np
import tensorflow as tf

from keras_bridge.twins import quiet
from tf1_reference import _registry

#: The document's check_numerics message.
CHECK_NUMERICS_MESSAGE = "权重异常检测"


def documented_model() -> keras.Sequential:
  """Section 1.1 as written: `Dense(64, activation='relu', input_shape=(10,))`, then `Dense(1, 'sigmoid')`.

  Keras 3 still builds it (with a UserWarning about `input_shape`), so `get_weights` works at once.
  """
  return keras.Sequential([
      keras.layers.Dense(64, activation="relu", input_shape=(10,)),
      keras.layers.Dense(1, activation="sigmoid"),
  ])


def example_model(n_inputs: int = 10, units: int = 64, name: str = "example") -> keras.Sequential:
  """Section 1.1 the Keras 3 way: `keras.Input(shape)` first, no warning, same weights."""
  return keras.Sequential([
      keras.Input(shape=(n_inputs,)),
      keras.layers.Dense(units, activation="relu", name="dense"),
      keras.layers.Dense(1, activation="sigmoid", name="dense_1"),
  ], name=name)


def parameter_counts(model: keras.Model) -> Tuple[int, Tuple[int, ...]]:
  """The document's two prints: the total parameter count and the first layer's kernel shape."""
  weights = model.get_weights()
  return sum(w.size for w in weights), model.layers[0].get_weights()[0].shape


def freeze(model: keras.Model, n_layers: int) -> None:
  """Section 2.1: `for layer in model.layers[:n]: layer.trainable = False`."""
  for layer in model.layers[:n_layers]:
    layer.trainable = False


def trainable_report(model: keras.Model) -> List[str]:
  """The document's printed check, one line per layer: `f"{layer.name} 可训练: {any(...)}"`."""
  return [f"{layer.name} 可训练: {any(w.trainable for w in layer.weights)}" for layer in model.layers]


def set_first_bias(model: keras.Model, value: float = 0.1) -> None:
  """Section 2.2: replaces the first layer's bias by `value` with `set_weights`, keeping the kernel."""
  kernel, bias = model.layers[0].get_weights()
  model.layers[0].set_weights([kernel, np.full_like(bias, value)])


def he_normal_dense(units: int = 64) -> keras.layers.Dense:
  """Section 4.1: `Dense(units, kernel_initializer=HeNormal())`; no weights exist until it is built."""
  return keras.layers.Dense(units, kernel_initializer=keras.initializers.HeNormal())


def check_weights(model: keras.Model, message: str = CHECK_NUMERICS_MESSAGE) -> None:
  """Section 4.2 for every weight: `tf.debugging.check_numerics(weight, message)`.

  Raises:
    tf.errors.InvalidArgumentError: a weight holds a NaN or Inf; the message reads
      "<message> : Tensor had NaN values" (or "Inf values").
  """
  for weight in model.weights:
    tf.debugging.check_numerics(keras.ops.convert_to_tensor(weight), message)


def transfer_as_documented(directory: str) -> None:
  """Section 3.2 verbatim, run inside `directory`.

  Raises:
    tf.errors.NotFoundError: always: `save("source_ckpt")` wrote `source_ckpt-1`, and
      `restore("source_ckpt")` finds no such checkpoint.
  """
  cwd = os.getcwd()
  os.chdir(directory)
  try:
    source_model = keras.Sequential([keras.layers.Dense(64, activation="relu")])
    target_model = keras.Sequential([keras.layers.Dense(64, activation="relu")])
    checkpoint = tf.train.Checkpoint(model=source_model)
    checkpoint.save("source_ckpt")
    target_checkpoint = tf.train.Checkpoint(model=target_model)
    target_checkpoint.restore("source_ckpt").assert_consumed()
  finally:
    os.chdir(cwd)


def transfer_unbuilt(directory: str) -> Tuple[keras.Model, keras.Model, str]:
  """Section 3.2 with the path fixed but the models still unbuilt: "succeeds" and transfers nothing.

  Returns:
    `(source_model, target_model, save_path)`; both models have no weights, the checkpoint holds only
    `save_counter`, and `assert_consumed` passed.
  """
  source_model = keras.Sequential([keras.layers.Dense(64, activation="relu")])
  target_model = keras.Sequential([keras.layers.Dense(64, activation="relu")])
  save_path = tf.train.Checkpoint(model=source_model).save(os.path.join(directory, "source_ckpt"))
  tf.train.Checkpoint(model=target_model).restore(save_path).assert_consumed()
  return source_model, target_model, save_path


def transfer_weights(directory: str, n_inputs: int = 10, units: int = 64) -> Tuple[keras.Model, keras.Model, str]:
  """Section 3.2 made right: built models, and the path `save` returns (`.../source_ckpt-1`).

  Returns:
    `(source_model, target_model, save_path)`; the target holds the source's weights, and every value of
    the checkpoint was consumed.
  """
  source_model = keras.Sequential([keras.Input(shape=(n_inputs,)), keras.layers.Dense(units, activation="relu")])
  target_model = keras.Sequential([keras.Input(shape=(n_inputs,)), keras.layers.Dense(units, activation="relu")])
  save_path = tf.train.Checkpoint(model=source_model).save(os.path.join(directory, "source_ckpt"))
  tf.train.Checkpoint(model=target_model).restore(save_path).assert_consumed()
  return source_model, target_model, save_path


def fine_tune_model(base_model: keras.Model, n_classes: int = 10) -> keras.Model:
  """Section 5.1: pooled base features -> softmax head, with every layer of the base frozen.

  The document uses `ResNet50(weights='imagenet', include_top=False)`, which downloads weights; any
  convolutional base model behaves the same.
  """
  x = keras.layers.GlobalAveragePooling2D()(base_model.output)
  predictions = keras.layers.Dense(n_classes, activation="softmax", name="predictions")(x)
  model = keras.Model(inputs=base_model.input, outputs=predictions)
  for layer in base_model.layers:
    layer.trainable = False
  model.compile(optimizer="adam", loss="categorical_crossentropy")
  return model


def to_tflite(model: keras.Model, quantize: bool = True) -> bytes:
  """Section 5.2: `TFLiteConverter.from_keras_model` with `optimizations = [Optimize.DEFAULT]`."""
  converter = tf.lite.TFLiteConverter.from_keras_model(model)
  if quantize:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  with quiet.captured_chatter():  # "Saved artifact at ...", the converter's C++ lines, from a script.
    return converter.convert()


def _interpreter(content: bytes):
  with warnings.catch_warnings():
    # tf.lite.Interpreter warns that it moves to ai_edge_litert; it still ships and runs in TF 2.21.
    warnings.simplefilter("ignore", UserWarning)
    interpreter = tf.lite.Interpreter(model_content=content)
  with quiet.captured_chatter():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
    interpreter.allocate_tensors()
  return interpreter


def run_tflite(content: bytes, x: np.ndarray) -> np.ndarray:
  """Runs a single-input, single-output TFLite model on `x`, one row at a time."""
  interpreter = _interpreter(content)
  (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
  rows = []
  for row in np.asarray(x, np.float32):
    interpreter.set_tensor(inp["index"], row[None])
    interpreter.invoke()
    rows.append(interpreter.get_tensor(out["index"])[0])
  return np.stack(rows)


def tflite_tensor_dtypes(content: bytes) -> Dict[str, str]:
  """`{tensor name: dtype name}` of every tensor in a TFLite model (int8 ones are quantized weights)."""
  return {d["name"]: np.dtype(d["dtype"]).name for d in _interpreter(content).get_tensor_details()}



# Demos for the main job's table of reproduced seed examples (tf1_reference._registry).
_SEED = "004_6270d8d9c47d861f.txt"


@_registry.example(_SEED, "1.1 get_weights / 2.1 freezing / 2.2 set_weights")
def demo_get_set_weights_and_freeze() -> str:
  model = example_model()
  total, shapes = parameter_counts(model)
  freeze(model, 1)
  set_first_bias(model, 0.1)
  bias = model.layers[0].get_weights()[1]
  if not np.allclose(bias, 0.1) or model.layers[0].trainable:
    raise AssertionError(f"set_weights/freeze did not take effect: bias={bias[:3]}, trainable="
                         f"{model.layers[0].trainable}")
  return (f"{total} parameters, first kernel {shapes}; {'; '.join(trainable_report(model))}; "
          f"first bias set to 0.1")


@_registry.example(_SEED, "3.2 tf.train.Checkpoint transfer + assert_consumed", erratum="E-004-CHECKPOINT-SUFFIX")
def demo_checkpoint_transfer() -> str:
  import tempfile  # pylint: disable=g-import-not-at-top

  with tempfile.TemporaryDirectory() as tmp:
    try:
      transfer_as_documented(tmp)
    except tf.errors.NotFoundError as e:
      literal = f"NotFoundError: {str(e).splitlines()[0][:60]}"
    else:
      raise AssertionError("the documented restore('source_ckpt') unexpectedly succeeded")
    source, target, path = transfer_weights(tmp)
    same = all(np.array_equal(a, b) for a, b in zip(source.get_weights(), target.get_weights()))
    if not same:
      raise AssertionError("the corrected transfer did not copy the weights")
  return f"literal: {literal}; fixed: restore({os.path.basename(path)!r}) copied {len(target.weights)} weights"


@_registry.example(_SEED, "5.2 TFLite Optimize.DEFAULT", erratum="E-004-TFLITE-SMALL-KERNELS")
def demo_tflite() -> str:
  small = to_tflite(example_model(10, 64, "small"))
  large = to_tflite(example_model(64, 64, "large"))
  n_int8 = lambda content: sum(d == "int8" for d in tflite_tensor_dtypes(content).values())
  if n_int8(small) or not n_int8(large):
    raise AssertionError("quantization thresholds changed: re-check E-004-TFLITE-SMALL-KERNELS")
  return f"10x64 kernel stays float32 ({len(small)} bytes); 64x64 kernel -> int8 ({len(large)} bytes)"
