"""Tests of keras_bridge._convert (with _bundle and _sstable): name-based (TF1) <-> object-based (TF2) <->
`.weights.h5` conversion.

The checkpoints come from the 002_9773991e7c1a2830.txt DNN (`tf1_reference.dnn.build_dnn`) at small sizes;
its Keras twin is `keras_bridge.models.dnn`. Issue 3, part 3 (conversion) and part 8 (the benchmark).
"""

import glob
import json
import os
import shutil

import h5py
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import convert as convert_benchmark
from keras_bridge import _errors
from keras_bridge import _bundle
from keras_bridge import _convert
from keras_bridge import _sstable
from keras_bridge import models
from tf1_reference import dnn

v1 = tf.compat.v1
N_INPUTS, N_OUTPUTS, HIDDEN = 8, 3, (6, 5)
DNN_KEYS = ["hidden1/bias", "hidden1/kernel", "hidden2/bias", "hidden2/kernel", "outputs/bias", "outputs/kernel"]


def _twin():
  return models.dnn(N_INPUTS, N_OUTPUTS, HIDDEN)


@pytest.fixture
def tf1_ckpt(tmp_path):
  """A name-based checkpoint of the 002 DNN, as its `Saver` writes it, with `global_step`."""
  net = dnn.build_dnn(N_INPUTS, N_OUTPUTS, HIDDEN, seed=3, global_step=True)
  with v1.Session(graph=net.graph) as sess:
    sess.run(net.init)
    return net.saver.save(sess, str(tmp_path / "tf1" / "model.ckpt"), global_step=7)


def _tensors(prefix):
  reader = tf.train.load_checkpoint(prefix)
  return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


def _assert_bit_exact(expected, actual):
  assert sorted(expected) == sorted(actual)
  for key, value in expected.items():
    assert actual[key].dtype == value.dtype and np.array_equal(actual[key], value), key


def _weights_equal_tf1(model, tf1_values):
  for layer in ("hidden1", "hidden2", "outputs"):
    assert np.array_equal(model.get_layer(layer).kernel.numpy(), tf1_values[f"{layer}/kernel"]), layer
    assert np.array_equal(model.get_layer(layer).bias.numpy(), tf1_values[f"{layer}/bias"]), layer


def test_round_trip_tf1_object_h5_tf1_is_bit_exact_and_restores_in_the_tf1_graph(tf1_ckpt, tmp_path):
  """002_9773991e7c1a2830.txt DNN: TF1 -> object-based -> .weights.h5 -> TF1 gives back the same bits, and
  the TF1 graph's own Saver restores the result."""
  model = _twin()
  original = _tensors(tf1_ckpt)
  assert _convert.convert_checkpoint(tf1_ckpt, tmp_path / "obj" / "ckpt", model).method == "copy"
  _convert.convert_checkpoint(tmp_path / "obj" / "ckpt", tmp_path / "keras" / "dnn.weights.h5", model)
  report = _convert.convert_checkpoint(tmp_path / "keras" / "dnn.weights.h5", tmp_path / "back" / "model.ckpt",
                                       model, dst_format="name-based")
  assert report.src_format == "keras-h5" and report.dst_format == "name-based"
  back = _tensors(str(tmp_path / "back" / "model.ckpt"))
  _assert_bit_exact({k: original[k] for k in DNN_KEYS}, back)

  net = dnn.build_dnn(N_INPUTS, N_OUTPUTS, HIDDEN, seed=99)
  with v1.Session(graph=net.graph) as sess:
    v1.train.Saver(net.model_variables()).restore(sess, tf.train.latest_checkpoint(str(tmp_path / "back")))
    restored = {v.op.name: sess.run(v) for v in net.model_variables()}
  _assert_bit_exact({k: original[k] for k in DNN_KEYS}, restored)


def test_object_output_restores_with_assert_consumed(tf1_ckpt, tmp_path):
  """TF1 -> object-based: `tf.train.Checkpoint(model=twin).restore(dst).assert_consumed()` passes and the
  twin holds the TF1 values; the keys are those `Checkpoint.save` writes."""
  report = _convert.convert_checkpoint(tf1_ckpt, tmp_path / "obj" / "ckpt", _twin())
  assert report.skipped == ["global_step"]
  assert [t.dst_key for t in report.tensors if not t.src_key] == ["save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
  assert [t.dst_key for t in report.tensors if t.src_key][:2] == [
      "model/_operations/1/_kernel/.ATTRIBUTES/VARIABLE_VALUE",
      "model/_operations/1/bias/.ATTRIBUTES/VARIABLE_VALUE"]
  twin = _twin()
  tf.train.Checkpoint(model=twin).restore(str(tmp_path / "obj" / "ckpt")).assert_consumed()
  _weights_equal_tf1(twin, _tensors(tf1_ckpt))

  reference = tf.train.Checkpoint(model=_twin()).save(str(tmp_path / "ref" / "ckpt"))
  assert sorted(_tensors(reference)) == sorted(_tensors(str(tmp_path / "obj" / "ckpt")))


def test_object_output_without_save_counter_reads_with_assert_consumed(tf1_ckpt, tmp_path):
  """`save_counter=None` writes what `Checkpoint.write` writes, which `Checkpoint.read` consumes."""
  assert _convert.convert_checkpoint(tf1_ckpt, tmp_path / "ckpt", _twin(), save_counter=None).method == "copy"
  assert "save_counter/.ATTRIBUTES/VARIABLE_VALUE" not in _tensors(str(tmp_path / "ckpt"))
  twin = _twin()
  tf.train.Checkpoint(model=twin).read(str(tmp_path / "ckpt")).assert_consumed()
  _weights_equal_tf1(twin, _tensors(tf1_ckpt))
  assert _convert.convert_checkpoint(tmp_path / "ckpt", tmp_path / "x.weights.h5", _twin()).method == "stream"


def _h5_structure(path):
  out = []
  with h5py.File(path, "r") as f:
    out.append(("/", dict(f.attrs)))
    f.visititems(lambda name, obj: out.append(
        (name, {k: str(v) for k, v in obj.attrs.items()}, getattr(obj, "shape", None),
         str(getattr(obj, "dtype", "")))))
  return out


def test_h5_output_has_keras_layout_and_loads_with_load_weights(tf1_ckpt, tmp_path):
  """TF1 -> .weights.h5: the same groups, attributes and datasets as `model.save_weights`, and
  `twin.load_weights` loads the TF1 values."""
  model = _twin()
  dst = tmp_path / "dnn.weights.h5"
  report = _convert.convert_checkpoint(tf1_ckpt, dst, model)
  assert [t.dst_key for t in report.tensors][:2] == ["layers/dense/vars/0", "layers/dense/vars/1"]
  model.save_weights(str(tmp_path / "keras.weights.h5"))
  assert _h5_structure(dst) == _h5_structure(tmp_path / "keras.weights.h5")
  twin = _twin()
  twin.load_weights(str(dst))
  _weights_equal_tf1(twin, _tensors(tf1_ckpt))


def test_compiled_model_optimizer_state_is_written_from_the_model(tf1_ckpt, tmp_path):
  """State with no source (a built optimizer's variables) is written from the model, so a compiled twin
  with a built optimizer restores the object-based output strictly."""
  model = _twin()
  model.compile(optimizer="adam", loss="mse")
  model.optimizer.build(model.trainable_variables)
  report = _convert.convert_checkpoint(tf1_ckpt, tmp_path / "ckpt", model)
  assert "model/optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE" in [t.dst_key for t in report.tensors
                                                                      if not t.src_key]
  twin = _twin()
  twin.compile(optimizer="adam", loss="mse")
  twin.optimizer.build(twin.trainable_variables)
  tf.train.Checkpoint(model=twin).restore(str(tmp_path / "ckpt")).assert_consumed()
  _weights_equal_tf1(twin, _tensors(tf1_ckpt))


def test_dry_run_checks_everything_and_writes_nothing(tf1_ckpt, tmp_path):
  report = _convert.convert_checkpoint(tf1_ckpt, tmp_path / "out" / "ckpt", _twin(), dry_run=True)
  assert report.dry_run and len(report.tensors) == 7  # 6 weights + save_counter.
  assert report.mapping.ok and report.mapping.step_keys == ["global_step"]
  assert not (tmp_path / "out").exists()
  assert "would write 7 tensor(s)" in str(report)
  json.dumps(report.to_dict())


@pytest.mark.parametrize("dst, kwargs", [("ckpt", {}), ("x.weights.h5", {})], ids=["object_based", "keras_h5"])
def test_existing_output_is_refused_without_overwrite(tf1_ckpt, tmp_path, dst, kwargs):
  """Issue 3 part 7: outputs are never silently replaced; overwrite=True replaces them."""
  dst = tmp_path / "out" / dst
  _convert.convert_checkpoint(tf1_ckpt, dst, _twin(), **kwargs)
  before = {p: os.path.getmtime(p) for p in glob.glob(str(dst) + "*")}
  with pytest.raises(_errors.OutputExistsError, match="overwrite=True"):
    _convert.convert_checkpoint(tf1_ckpt, dst, _twin(), **kwargs)
  assert {p: os.path.getmtime(p) for p in glob.glob(str(dst) + "*")} == before
  _convert.convert_checkpoint(tf1_ckpt, dst, _twin(), overwrite=True, **kwargs)
  assert sorted(os.listdir(tmp_path / "out")) == sorted(os.path.basename(p) for p in before)  # No temp files.


def test_wrong_src_format_names_file_found_expected_and_flag(tf1_ckpt, tmp_path):
  """Issue 3 part 7: an object-based checkpoint where a name-based one is expected, and the reverse."""
  _convert.convert_checkpoint(tf1_ckpt, tmp_path / "obj", _twin())
  with pytest.raises(_errors.CheckpointFormatError) as e:
    _convert.convert_checkpoint(tmp_path / "obj", tmp_path / "x.weights.h5", _twin(), src_format="name-based")
  message = str(e.value)
  assert str(tmp_path / "obj") in message and "is an object-based checkpoint" in message
  assert "src_format='name-based'" in message and "src_format='object-based'" in message
  with pytest.raises(_errors.CheckpointFormatError, match="is a name-based checkpoint.*load_tf1_checkpoint"):
    _convert.convert_checkpoint(tf1_ckpt, tmp_path / "y", _twin(), src_format="object-based")
  assert not glob.glob(str(tmp_path / "x.weights.h5*")) and not glob.glob(str(tmp_path / "y*"))


def test_mismatched_model_lists_every_problem_and_writes_nothing(tf1_ckpt, tmp_path):
  """A model of other sizes: one MappingError lists every shape mismatch; no output, no temp file."""
  wrong = models.dnn(N_INPUTS, N_OUTPUTS, (7, 5))
  with pytest.raises(_errors.MappingError) as e:
    _convert.convert_checkpoint(tf1_ckpt, tmp_path / "out" / "ckpt", wrong)
  assert "'hidden1/kernel' has shape (8, 6)" in str(e.value) and "'hidden1/bias' has shape (6,)" in str(e.value)
  assert "'hidden2/kernel' has shape (6, 5)" in str(e.value)
  assert not (tmp_path / "out").exists()

  _convert.convert_checkpoint(tf1_ckpt, tmp_path / "k.weights.h5", _twin())
  with pytest.raises(_errors.MappingError, match=r"(?s)'hidden1/kernel' is \(8, 7\).*'hidden2/kernel'"):
    _convert.convert_checkpoint(tmp_path / "k.weights.h5", tmp_path / "out" / "ckpt", wrong)
  assert not (tmp_path / "out").exists()


def test_truncated_source_data_fails_before_anything_is_in_place(tf1_ckpt, tmp_path):
  """Issue 3 part 7: a truncated `.data` file; the output never appears, no temporary file is left. The copy
  path sees it from the index's offsets before writing anything; the streaming path when reading."""
  data = glob.glob(tf1_ckpt + ".data-*")[0]
  with open(data, "r+b") as f:
    f.truncate(os.path.getsize(data) // 2)
  with pytest.raises(_errors.CheckpointFormatError, match="truncated or corrupt"):
    _convert.convert_checkpoint(tf1_ckpt, tmp_path / "out" / "ckpt", _twin())
  assert not (tmp_path / "out").exists()
  with pytest.raises(_errors.CheckpointFormatError, match="truncated or corrupt"):
    _convert.convert_checkpoint(tf1_ckpt, tmp_path / "h5" / "x.weights.h5", _twin())
  assert os.listdir(tmp_path / "h5") == []


@pytest.mark.parametrize("dst, dst_format, message", [
    ("a.weights.h5", "name-based", "ends in '.weights.h5'"),
    ("a.h5", "keras-h5", "needs an output ending in '.weights.h5'"),
    ("a", "tf1", "Unknown dst_format='tf1'"),
], ids=["h5_suffix_other_format", "h5_format_without_suffix", "unknown_format"])
def test_bad_destination_format(tf1_ckpt, tmp_path, dst, dst_format, message):
  with pytest.raises(_errors.CheckpointFormatError, match=message):
    _convert.convert_checkpoint(tf1_ckpt, tmp_path / dst, _twin(), dst_format=dst_format)


def test_same_format_is_refused(tf1_ckpt, tmp_path):
  with pytest.raises(_errors.CheckpointFormatError, match="already name-based"):
    _convert.convert_checkpoint(tf1_ckpt, tmp_path / "c", _twin(), dst_format="name-based")


def test_name_based_output_uses_rules_for_slim_names(tf1_ckpt, tmp_path):
  """Canonical -> TF1 rules as in `save_tf1_checkpoint`: `kernel`/`bias` become slim's `weights`/`biases`,
  and the default rules map them back on the way in."""
  slim_rules = [(r"/kernel$", "/weights"), (r"/bias$", "/biases")]
  _convert.convert_checkpoint(tf1_ckpt, tmp_path / "obj", _twin())
  _convert.convert_checkpoint(tmp_path / "obj", tmp_path / "slim" / "model.ckpt", _twin(), dst_format="name-based",
                              rules=slim_rules)
  slim = _tensors(str(tmp_path / "slim" / "model.ckpt"))
  assert sorted(slim) == ["hidden1/biases", "hidden1/weights", "hidden2/biases", "hidden2/weights",
                          "outputs/biases", "outputs/weights"]
  report = _convert.convert_checkpoint(tmp_path / "slim" / "model.ckpt", tmp_path / "k.weights.h5", _twin())
  assert report.mapping.ok and report.tensors[0].src_key == "hidden1/weights"


def test_large_tensors_are_written_in_batches(tf1_ckpt, tmp_path, monkeypatch):
  """Streaming: with a batch limit below the tensor sizes every tensor gets its own data shard, and the
  merged checkpoint is still one valid checkpoint."""
  monkeypatch.setattr(_bundle, "BATCH_BYTES", 1)
  monkeypatch.setattr(_bundle, "_COPY_MIN_REFERENCED", 2.0)  # No source can qualify for the copy path.
  report = _convert.convert_checkpoint(tf1_ckpt, tmp_path / "ckpt", _twin())
  assert report.method == "stream" and "less than 200%" in report.stream_reason
  assert len(glob.glob(str(tmp_path / "ckpt.data-*"))) == 8  # 6 weights, save_counter, object graph.
  twin = _twin()
  tf.train.Checkpoint(model=twin).restore(str(tmp_path / "ckpt")).assert_consumed()
  _weights_equal_tf1(twin, _tensors(tf1_ckpt))


def test_benchmark_smoke_run_writes_every_row(tmp_path):
  """Issue 3 part 8, issue 13: the benchmark's entry point at a tiny size (in-process) produces every row."""
  json_path = tmp_path / "convert.json"
  results = convert_benchmark.run_benchmark(size_gib=0.002, num_vars=2, workdir=str(tmp_path / "work"),
                                            json_path=str(json_path), repeats=1, in_process=True)
  written = json.loads(json_path.read_text())
  assert written == json.loads(json.dumps(results))
  assert [r["method"] for r in written["rows"]] == ["cp", "cp_sync", "recipe", "bridge_object", "bridge_hardlink",
                                                    "bridge_hardlink_verify", "bridge_h5"]
  assert written["config"]["tensors"] == 4 and written["rows"][0]["ratio_to_cp"] == 1.0
  assert {"time_target_met", "rss_target_met", "filesystem", "ratio_to_cp_sync"} <= set(written["rows"][3])
  assert [(r["data"], r["verified"]) for r in written["rows"][4:6]] == [("hardlink", False), ("hardlink", True)]
  growth = convert_benchmark.growth(results, results)
  assert [g["seconds_growth"] for g in growth] == [1.0] * 7


def test_copy_path_copies_the_data_files_and_rewrites_only_the_index(tf1_ckpt, tmp_path):
  """TF1 -> object-based copies the source's `.data` bytes as they are (the tensors' bytes are the same in
  both formats); the new index gives them the keys `Checkpoint.save` writes. `global_step` stays in the
  copied shard, referenced by no key; the output shares no inode with the source."""
  report = _convert.convert_checkpoint(tf1_ckpt, tmp_path / "obj" / "ckpt", _twin())
  assert report.method == "copy" and report.stream_reason == "" and report.unreferenced_bytes == 8
  assert report.data in ("copy", "reflink") and report.verified  # "reflink" where /tmp is XFS or btrfs.
  assert f"(copy, data files: {report.data}, CRC-32C checked)" in str(report) and report.to_dict()["method"] == "copy"
  out = str(tmp_path / "obj" / "ckpt")
  (source_data,) = glob.glob(tf1_ckpt + ".data-*")
  with open(source_data, "rb") as f, open(out + ".data-00000-of-00002", "rb") as g:
    assert f.read() == g.read()  # Shard 0 is the copy; shard 1 holds the object graph and save_counter.
  source_inodes = {os.stat(p).st_ino for p in glob.glob(tf1_ckpt + ".*")}
  assert not source_inodes & {os.stat(p).st_ino for p in glob.glob(out + ".*")}
  values = _tensors(tf1_ckpt)
  assert _tensors(out)["model/_operations/1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"].tobytes() == (
      values["hidden1/kernel"].tobytes())


def _with_extra(prefix, dst, extra):
  """`prefix`'s tensors plus `extra`, written by TensorFlow's `SaveV2` as a name-based checkpoint."""
  tensors = dict(_tensors(prefix), **extra)
  keys = sorted(tensors)
  tf.raw_ops.SaveV2(prefix=dst, tensor_names=keys, shape_and_slices=[""] * len(keys),
                    tensors=[tensors[k] for k in keys])
  return dst


def test_mostly_unreferenced_source_is_streamed_and_still_restores(tf1_ckpt, tmp_path):
  """A source whose bytes are mostly not model weights (here an excluded 40 KB table) is streamed, so the
  output does not carry the dead bytes; the report says why."""
  src = _with_extra(tf1_ckpt, str(tmp_path / "big" / "model.ckpt"),
                    {"embedding/table": np.ones((100, 100), np.float32)})
  report = _convert.convert_checkpoint(src, tmp_path / "obj" / "ckpt", _twin(), exclude=["embedding"])
  assert report.method == "stream" and "data bytes are model weights" in report.stream_reason
  assert "embedding/table" in report.skipped and "(stream: only" in str(report)
  assert sum(os.path.getsize(p) for p in glob.glob(str(tmp_path / "obj" / "ckpt.data-*"))) < 4000
  twin = _twin()
  tf.train.Checkpoint(model=twin).restore(str(tmp_path / "obj" / "ckpt")).assert_consumed()
  _weights_equal_tf1(twin, _tensors(tf1_ckpt))


def test_unreadable_index_falls_back_to_streaming(tf1_ckpt, tmp_path, monkeypatch):
  """An index this module cannot rewrite (a table feature it does not write, such as compressed blocks)
  streams instead of failing."""
  def refuse(path):
    raise ValueError("compressed block (type 1)")
  monkeypatch.setattr(_sstable, "read_table", refuse)
  report = _convert.convert_checkpoint(tf1_ckpt, tmp_path / "ckpt", _twin())
  assert report.method == "stream" and "compressed block" in report.stream_reason
  twin = _twin()
  tf.train.Checkpoint(model=twin).restore(str(tmp_path / "ckpt")).assert_consumed()
  _weights_equal_tf1(twin, _tensors(tf1_ckpt))


def test_sstable_round_trip_is_read_by_tensorflow(tf1_ckpt, tmp_path):
  """The index writer's output is a table TensorFlow's own reader opens: the source index rewritten
  unchanged (same records) reads back the same tensors."""
  for path in glob.glob(tf1_ckpt + ".data-*"):
    shutil.copyfile(path, str(tmp_path / "copy") + path[len(tf1_ckpt):])
  _sstable.write_table(str(tmp_path / "copy.index"), _sstable.read_table(tf1_ckpt + ".index"))
  _assert_bit_exact(_tensors(tf1_ckpt), _tensors(str(tmp_path / "copy")))


def test_object_source_keys_are_resolved_through_the_object_graph(tf1_ckpt, tmp_path):
  """Restore finds tensors by the graph's `checkpoint_key`, not by a naming convention: a checkpoint whose
  keys are not `<object path>/.ATTRIBUTES/...` still restores in TensorFlow, converts bit-exactly and shows
  the right object paths in `inspect_checkpoint`."""
  from tensorflow.core.protobuf import trackable_object_graph_pb2  # pylint: disable=g-import-not-at-top
  from keras_bridge import _inspect  # pylint: disable=g-import-not-at-top
  _convert.convert_checkpoint(tf1_ckpt, tmp_path / "obj" / "ckpt", _twin())
  tensors = _tensors(str(tmp_path / "obj" / "ckpt"))
  graph = trackable_object_graph_pb2.TrackableObjectGraph.FromString(tensors.pop("_CHECKPOINTABLE_OBJECT_GRAPH"))
  renamed = {}
  for node in graph.nodes:
    for attr in node.attributes:
      renamed[attr.checkpoint_key] = f"t{len(renamed)}/.ATTRIBUTES/{attr.name}"
      attr.checkpoint_key = renamed[attr.checkpoint_key]
  tensors = {renamed[k]: v for k, v in tensors.items()}
  tensors["_CHECKPOINTABLE_OBJECT_GRAPH"] = tf.constant(graph.SerializeToString())
  keys = sorted(tensors)
  odd = str(tmp_path / "odd" / "ckpt")
  tf.raw_ops.SaveV2(prefix=odd, tensor_names=keys, shape_and_slices=[""] * len(keys),
                    tensors=[tensors[k] for k in keys])
  twin = _twin()
  tf.train.Checkpoint(model=twin).restore(odd).assert_consumed()
  _weights_equal_tf1(twin, _tensors(tf1_ckpt))

  _convert.convert_checkpoint(odd, tmp_path / "back" / "model.ckpt", _twin(), dst_format="name-based")
  _assert_bit_exact({k: v for k, v in _tensors(tf1_ckpt).items() if k in DNN_KEYS},
                    _tensors(str(tmp_path / "back" / "model.ckpt")))
  kernel_key = renamed["model/_operations/1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"]
  assert _inspect.inspect_checkpoint(odd)[kernel_key].object_path == "model/_operations/1/_kernel"
