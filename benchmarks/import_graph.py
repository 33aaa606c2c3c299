"""Benchmark: `import_tf1_graph` on a 50-layer CNN against `import_meta_graph` + `Saver.restore` alone.

The baseline is what any use of a TF1 MetaGraph costs (importing the graph and restoring its checkpoint in a
session); the import does that work too (it reads the same graph) and then evaluates the inference subgraph,
generates and executes the model's source and loads the weights. Target: at most 3x the baseline, measured
side by side in one process, median of --repeats runs.

    python benchmarks/import_graph.py                       # 50 conv layers, 3 runs
    python benchmarks/import_graph.py --layers=10 --repeats=1   # smoke run

Prints a table and writes JSON (default: runs/benchmarks/import_graph.json; --update_committed: over the
committed benchmarks/results/import_graph.json).
"""

import json
import os
import statistics
import sys
import tempfile
import time

from absl import app
from absl import flags

_LAYERS = flags.DEFINE_integer("layers", 50, "Convolution layers of the synthetic CNN.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Runs of each method; the table gives the median.")
_RESULTS = flags.DEFINE_string("results_json", None, "Where to write the JSON; default: "
                               "runs/benchmarks/import_graph.json, or the committed "
                               "benchmarks/results/import_graph.json with --update_committed.")
_UPDATE_COMMITTED = flags.DEFINE_bool("update_committed", False, "Write the JSON over the committed results in "
                                      "benchmarks/results/.")


def build_cnn(directory, layers):
  """A TF1 CNN of `layers` conv + bias + relu layers (v1 ops: VariableV2), a dense head and a loss."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  v1 = tf.compat.v1
  graph = tf.Graph()
  with graph.as_default():
    x = v1.placeholder(tf.float32, [None, 16, 16, 3], name="x")
    y = v1.placeholder(tf.int64, [None], name="y")
    h = x
    with v1.variable_scope("cnn", use_resource=False):
      for i in range(layers):
        with v1.variable_scope(f"conv{i + 1}"):
          w = v1.get_variable("weights", [3, 3, h.shape[-1], 8], initializer=v1.glorot_uniform_initializer(i))
          b = v1.get_variable("biases", [8], initializer=v1.constant_initializer(0.01))
          h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, w, [1, 1, 1, 1], "SAME"), b))
      with v1.variable_scope("logits"):
        flat = tf.reshape(h, [-1, 16 * 16 * 8])
        w = v1.get_variable("weights", [16 * 16 * 8, 10])
        b = v1.get_variable("biases", [10])
        logits = tf.matmul(flat, w) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = v1.train.AdamOptimizer(1e-3).minimize(loss)
    saver = v1.train.Saver()
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      sess.run(train, {x: np.zeros((2, 16, 16, 3), np.float32), y: [0, 1]})
      return saver.save(sess, os.path.join(directory, "model.ckpt"), global_step=1)


def baseline(prefix):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  graph = tf.Graph()
  with graph.as_default():
    saver = tf.compat.v1.train.import_meta_graph(prefix + ".meta", clear_devices=True)
    with tf.compat.v1.Session(graph=graph) as sess:
      saver.restore(sess, prefix)


def bridge(prefix):
  import keras_bridge  # pylint: disable=import-outside-toplevel
  return keras_bridge.import_tf1_graph(prefix)


def main(argv):
  del argv
  import absl.logging  # pylint: disable=import-outside-toplevel
  absl.logging.set_verbosity(absl.logging.ERROR)
  with tempfile.TemporaryDirectory() as directory:
    prefix = build_cnn(directory, _LAYERS.value)
    bridge(prefix)  # warm-up: first Keras and TF imports and kernel registrations
    baseline(prefix)
    times = {"import_meta_graph + restore": [], "import_tf1_graph": []}
    for _ in range(_REPEATS.value):
      for name, fn in (("import_meta_graph + restore", baseline), ("import_tf1_graph", bridge)):
        start = time.perf_counter()
        fn(prefix)
        times[name].append(time.perf_counter() - start)
    result = bridge(prefix)
    check = result.verify()
  base = statistics.median(times["import_meta_graph + restore"])
  rows = [(name, statistics.median(t), statistics.median(t) / base) for name, t in times.items()]
  print(f"{_LAYERS.value}-layer CNN, {len(result.model.layers) - 1} Keras layers, median of {_REPEATS.value}; "
        f"verified: max |diff| {check.max_diff:.3g}")
  print(f"{'method':<30}  {'seconds':>8}  {'x baseline':>10}")
  print(f"{'-' * 30}  {'-' * 8}  {'-' * 10}")
  for name, seconds, ratio in rows:
    print(f"{name:<30}  {seconds:>8.2f}  {ratio:>10.2f}")
  ratio = rows[1][2]
  print(f"target <= 3x: {'met' if ratio <= 3 else 'MISSED'} ({ratio:.2f}x)")
  json_path = _RESULTS.value or (
      os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "import_graph.json")
      if _UPDATE_COMMITTED.value else os.path.join("runs", "benchmarks", "import_graph.json"))
  os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
  print(f"Results: {json_path}")
  with open(json_path, "w", encoding="utf-8") as f:
    json.dump({"layers": _LAYERS.value, "repeats": _REPEATS.value, "keras_layers": len(result.model.layers) - 1,
               "max_diff": check.max_diff, "seconds": {k: v for k, v in times.items()},
               "median_seconds": {n: s for n, s, _ in rows}, "ratio": ratio, "target": 3.0,
               "met": ratio <= 3}, f, indent=2)
  return 0


if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  app.run(main)
