"""TF1's distributed checkpoints migrate (issue 14): partitioned variables (`fixed_size_partitioner`,
`min_max_variable_partitioner`) saved by `Saver(sharded=True)` from two devices (tf1_reference.distributed) load
into `keras.layers.Embedding` and `keras.layers.Dense` with their Adam state, continue training as TF1 does, and
the write-back is restored by the original partitioned graph; the round trip is bit-exact in the values.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from keras_bridge import _distributed
from tf1_reference import distributed

v1 = tf.compat.v1
STEPS = 3


def _keras_model():
  ids = keras.Input((), dtype="int32")
  hidden = keras.layers.Embedding(distributed.VOCAB, distributed.EMBED_DIM, name="embedding")(ids)
  return keras.Model(ids, keras.layers.Dense(distributed.UNITS, name="dense")(hidden))


@pytest.fixture(name="source")
def fixture_source(tmp_path):
  net = distributed.build_partitioned_model()
  rng = np.random.default_rng(0)
  batch = (rng.integers(0, distributed.VOCAB, 8).astype("int32"), rng.integers(0, distributed.UNITS, 8))
  values = distributed.save_partitioned(net, str(tmp_path / "tf1" / "model.ckpt"), steps=2, batch=batch)
  return net, str(tmp_path / "tf1" / "model.ckpt"), values, batch


def test_partitioned_sharded_round_trip_is_bit_exact(source, tmp_path):
  """Load (weights and Adam slots, read whole from 3 shards), write back under the same keys: every tensor of
  the source comes back bit-exactly, and the partitioned graph's Saver restores the write-back."""
  net, prefix, values, _ = source
  model = _keras_model()
  state = keras_bridge.load_tf1_training_state(model, None, prefix)
  assert sorted(m.tf1_key for m in state.weights.matched) == ["dense/bias", "dense/kernel", "embedding/embeddings"]
  np.testing.assert_array_equal(model.get_layer("embedding").embeddings.numpy(), values["embedding/embeddings"])
  np.testing.assert_array_equal(model.get_layer("dense").kernel.numpy(), values["dense/kernel"])
  out = keras_bridge.save_tf1_training_state(model, state.optimizer, str(tmp_path / "back" / "model.ckpt"),
                                             names=state)
  source_reader, written = tf.train.load_checkpoint(prefix), tf.train.load_checkpoint(out.checkpoint)
  keys = sorted(source_reader.get_variable_to_shape_map())
  assert sorted(written.get_variable_to_shape_map()) == keys
  for key in keys:
    np.testing.assert_array_equal(written.get_tensor(key), source_reader.get_tensor(key), err_msg=key)
  for key, value in distributed.restore_partitioned(net, out.checkpoint).items():
    np.testing.assert_array_equal(value, values[key], err_msg=key)


def test_continue_in_keras_then_tf1_restores_partitioned(source, tmp_path):
  """Continue 3 Adam steps in Keras (the custom step, one device) and 3 in TF1 from the same checkpoint: equal
  within CPU_TRAINING_TOL; the Keras write-back restored into the partitioned graph equals the Keras weights
  bit-exactly."""
  net, prefix, _, batch = source
  model = _keras_model()
  state = keras_bridge.load_tf1_training_state(model, None, prefix)
  trainer = _distributed.DistributedTrainer(
      model, state.optimizer, lambda y, p: keras.losses.sparse_categorical_crossentropy(y, p, from_logits=True),
      global_batch_size=len(batch[0]))
  trainer.fit(tf.data.Dataset.from_tensor_slices(batch), STEPS)
  out = keras_bridge.save_tf1_training_state(model, state.optimizer, str(tmp_path / "back" / "model.ckpt"),
                                             names=state)
  with v1.Session(graph=net.graph, config=distributed.session_config()) as sess:
    net.saver.restore(sess, prefix)
    for _ in range(STEPS):
      sess.run(net.train_op, {net.ids: batch[0], net.labels: batch[1]})
    tf1_values = net.full_values(sess)
  dense = model.get_layer("dense")
  keras_values = {"embedding/embeddings": model.get_layer("embedding").embeddings.numpy(),
                  "dense/kernel": dense.kernel.numpy(), "dense/bias": dense.bias.numpy()}
  diffs = {k: float(np.max(np.abs(keras_values[k] - v))) for k, v in tf1_values.items()}
  print(f"max |Keras - TF1| after {STEPS} more Adam steps on partitioned variables: {diffs}")
  assert max(diffs.values()) <= keras_bridge.CPU_TRAINING_TOL, diffs
  for key, value in distributed.restore_partitioned(net, out.checkpoint).items():
    np.testing.assert_array_equal(value, keras_values[key], err_msg=key)


@pytest.mark.parametrize("dst", ["model.weights.h5", "object/ckpt"], ids=["keras_h5", "object_based"])
def test_conversion_says_the_slice_layout_is_not_kept(source, tmp_path, dst):
  """convert_checkpoint writes partitioned variables whole: the report lists them (values bit-exact)."""
  _, prefix, values, _ = source
  report = keras_bridge.convert_checkpoint(prefix, str(tmp_path / dst), _keras_model(),
                                           dst_format="keras-h5" if dst.endswith(".h5") else "object-based")
  assert report.sliced == ["dense/kernel", "embedding/embeddings"]
  assert "slice layout not kept): dense/kernel, embedding/embeddings" in str(report)
  model = _keras_model()
  if dst.endswith(".h5"):
    model.load_weights(str(tmp_path / dst))
  else:
    tf.train.Checkpoint(model=model).read(str(tmp_path / dst)).assert_existing_objects_matched()
  np.testing.assert_array_equal(model.get_layer("embedding").embeddings.numpy(), values["embedding/embeddings"])
