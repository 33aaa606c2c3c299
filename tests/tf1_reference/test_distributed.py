"""tf1_reference.distributed: partitioned variables and Saver(sharded=True), examples beyond the seed articles."""

import numpy as np
import tensorflow as tf

from tf1_reference import _registry
from tf1_reference import distributed

v1 = tf.compat.v1


def test_partitioned_graph_holds_parts_with_slices():
  """The graph has one variable per part, on the device the graph puts it."""
  net = distributed.build_partitioned_model()
  assert distributed.part_names(net)[:5] == [
      "embedding/embeddings/part_0:0", "embedding/embeddings/part_1:0", "dense/kernel/part_0:0",
      "dense/kernel/part_1:0", "dense/bias:0"]
  assert [p.shape.as_list() for p in net.embeddings] == [[5, 4], [5, 4]]
  assert [p.shape.as_list() for p in net.kernel] == [[2, 3], [2, 3]]
  assert [p.device for p in net.embeddings] == ["/device:CPU:0"] * 2
  assert [p.device for p in net.kernel] == ["/device:CPU:1"] * 2


def test_sharded_saver_writes_whole_keys_one_shard_per_device(tmp_path):
  """Saver(sharded=True): one .data shard per device (cpu:0, cpu:1, and the unplaced step variables); the
  index keys the whole variables, and a reader returns each whole, equal to its parts concatenated."""
  net = distributed.build_partitioned_model()
  values = distributed.save_partitioned(net, str(tmp_path / "model.ckpt"))
  assert sorted(p.name for p in tmp_path.glob("model.ckpt.data-*")) == [
      "model.ckpt.data-00000-of-00003", "model.ckpt.data-00001-of-00003", "model.ckpt.data-00002-of-00003"]
  reader = tf.train.load_checkpoint(str(tmp_path / "model.ckpt"))
  assert sorted(reader.get_variable_to_shape_map().items()) == [
      ("beta1_power", []), ("beta2_power", []), ("dense/bias", [3]), ("dense/bias/Adam", [3]),
      ("dense/bias/Adam_1", [3]), ("dense/kernel", [4, 3]), ("dense/kernel/Adam", [4, 3]),
      ("dense/kernel/Adam_1", [4, 3]), ("embedding/embeddings", [10, 4]), ("embedding/embeddings/Adam", [10, 4]),
      ("embedding/embeddings/Adam_1", [10, 4]), ("global_step", [])]
  for key, value in values.items():
    np.testing.assert_array_equal(reader.get_tensor(key), value, err_msg=key)


def test_partitioned_saver_restores_unsliced_keys(tmp_path):
  """The partitioned graph's Saver restores each part by its slice from a whole (unsliced) tensor too."""
  net = distributed.build_partitioned_model()
  values = distributed.save_partitioned(net, str(tmp_path / "model.ckpt"))
  reader = tf.train.load_checkpoint(str(tmp_path / "model.ckpt"))
  whole = {k: reader.get_tensor(k) + 1 for k in reader.get_variable_to_shape_map()}
  tf.raw_ops.SaveV2(prefix=str(tmp_path / "whole"), tensor_names=sorted(whole), shape_and_slices=[""] * len(whole),
                    tensors=[tf.constant(whole[k]) for k in sorted(whole)])
  restored = distributed.restore_partitioned(net, str(tmp_path / "whole"))
  for key, value in values.items():
    np.testing.assert_array_equal(restored[key], value + 1, err_msg=key)


def test_example_is_registered_beyond_the_seeds():
  (ex,) = [e for e in _registry.examples() if e.name == "demo_partitioned_checkpoint"]
  assert ex.seed == "(beyond the seeds) distributed checkpoints" and ex.erratum is None
  assert ex.run() == "18 graph parts -> 12 whole keys in 3 shards"
