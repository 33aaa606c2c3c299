r"""Benchmark: training steps per second, TF1 session against Keras 3, on one CPU device.

Two models, the same synthetic data (28x28x1 images in [0, 1], 10 classes, `--steps_per_epoch` x 50 examples),
batch 50, SGD (learning rate 0.01) with the gradients clipped to [-1, 1] as in 002_9773991e7c1a2830.txt:

* `dnn`: the seed-002 DNN (784 -> 300, 50, 50, 50, 50 relu -> 10; `tf1_reference.dnn.build_dnn`, its Keras twin
  `keras_bridge.twins.models.dnn`);
* `cnn`: a small CNN (conv 3x3x8 relu, max-pool 2, conv 3x3x16 relu, max-pool 2, dense 10), written with
  `tf.compat.v1.layers` for TF1 and `keras.layers` for Keras.

Methods, each in a fresh process:

* `tf1_session`: `sess.run(train_op, feed_dict)` per batch, as the TF1 scripts train;
* `fit_default`: `model.compile(optimizer, loss)` and `model.fit(x, y, batch_size=50, shuffle=True)`: Keras 3's
  defaults (on a CPU-only machine `jit_compile="auto"` means no XLA; one step per `tf.function` call);
* `fit_spe100`: `compile(..., steps_per_execution=100)`;
* `fit_jit`: `compile(..., jit_compile=True)`;
* `fit_jit_spe100`: `compile(..., jit_compile=True, steps_per_execution=100)`;
* `jit_step`: a custom `tf.function(jit_compile=True)` step (`GradientTape` + `optimizer.apply`), called per batch;
* `continuation`: the loop `migrate`'s Keras phase runs on one device (`keras_bridge.twins.continuation`, its
  `_Steps.run_in_memory`): the data held as tensors, `STEPS_PER_CALL` (50) steps per `tf.function` call, each
  batch gathered inside the graph from the epoch's order (`default_rng([seed, epoch])`), no `tf.data` iterator
  and no XLA. The project recommends it on one device.

Each worker trains one epoch first (tracing, XLA compilation, TF1's graph setup: reported as `warmup seconds`,
and `compile seconds` = warmup minus one epoch at the steady rate), then `--epochs` timed epochs (steps/s; one
`fit` call, as a user trains). Peak
RSS is `VmHWM`, reset at the baseline (model and data built, nothing run), minus the RSS there.

Equivalence (a separate run, one step per call): the seed-002 DNN's TF1 initial weights are saved and loaded into
Keras with `keras_bridge.load_tf1_checkpoint`, then both train on the same 100 batches in the same order; TF1's
losses against Keras `train_on_batch`'s (with and without `jit_compile`) and the continuation loop's (one step per
call), target rtol 1e-5.

Target (issue 13, goal 3): the recommended settings >= 1.2x the TF1 session's steps/s.

Usage:

  python benchmarks/train.py                       # both models, 3 runs, JSON in runs/benchmarks/
  python benchmarks/train.py --update_committed    # the same, over benchmarks/results/train.json
  python benchmarks/train.py --steps_per_epoch=20 --epochs=1 --repeats=1   # a quick smoke run
"""

import json
import os
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags

try:
  from benchmarks import _synthetic
  from benchmarks import _train_equivalence
except ImportError:  # Run as a script: its own directory is on the path, not the repository.
  import _synthetic
  import _train_equivalence

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("dnn", "cnn")
BATCH, LEARNING_RATE, CLIP = _train_equivalence.BATCH, _train_equivalence.LEARNING_RATE, _train_equivalence.CLIP
LOSS_RTOL, EQUIVALENCE_STEPS = _train_equivalence.LOSS_RTOL, _train_equivalence.EQUIVALENCE_STEPS
METHODS = ("tf1_session", "fit_default", "fit_spe100", "fit_jit", "fit_jit_spe100", "jit_step", "continuation")
#: The settings this project recommends for training a migrated model on one device.
RECOMMENDED = "continuation"
SPEEDUP_TARGET = 1.2
_MIB = 1 << 20

_STEPS = flags.DEFINE_integer("steps_per_epoch", 200, "Batches of 50 per epoch (the data holds this many).")
_EPOCHS = flags.DEFINE_integer("epochs", 3, "Timed epochs per run, after one warm-up epoch.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Runs per method; the table shows the median steps/s.")
_JSON = flags.DEFINE_string("results_json", None, "Where to write the results as JSON; default: "
                            "runs/benchmarks/train.json, or benchmarks/results/train.json with --update_committed.")
_UPDATE_COMMITTED = flags.DEFINE_bool("update_committed", False, "Write the JSON over the committed results in "
                                      "benchmarks/results/.")
_WORKER = flags.DEFINE_string("worker", None, "Internal: run one measurement (a JSON spec) in this process "
                              "and print the result as JSON.")


def synthetic_data(steps_per_epoch: int, seed: int = 0):
  """`(x, y)`: `steps_per_epoch * BATCH` images 28x28x1 uniform in [0, 1) (float32), labels 0..9 (int64)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  n = steps_per_epoch * BATCH
  return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)


def _tf1_graph(model: str, seed: int = 42):
  """(graph, X, y, train_op, loss, init, saver) of the TF1 model, SGD with clipped gradients."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf1_reference import _compat  # pylint: disable=g-import-not-at-top
  from tf1_reference import dnn  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1
  if model == "dnn":
    net = dnn.build_dnn(28 * 28, 10, dnn.DNN_HIDDEN, learning_rate=LEARNING_RATE, threshold=CLIP, seed=seed)
    return net.graph, net.X, net.y, net.training_op, net.loss, net.init, net.saver
  graph = tf.Graph()
  with graph.as_default():
    v1.set_random_seed(seed)
    x = v1.placeholder(tf.float32, (None, 28, 28, 1), name="X")
    y = v1.placeholder(tf.int64, (None,), name="y")
    h = _compat.conv2d(x, 8, 3, padding="same", activation=tf.nn.relu, name="conv1")
    h = _compat.max_pooling2d(h, 2, 2)
    h = _compat.conv2d(h, 16, 3, padding="same", activation=tf.nn.relu, name="conv2")
    h = _compat.max_pooling2d(h, 2, 2)
    logits = _compat.dense(_compat.flatten(h), 10, name="outputs")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    opt = v1.train.GradientDescentOptimizer(LEARNING_RATE)
    grads = [(tf.clip_by_value(g, -CLIP, CLIP), v) for g, v in opt.compute_gradients(loss)]
    train_op = opt.apply_gradients(grads)
    init, saver = v1.global_variables_initializer(), v1.train.Saver()
  return graph, x, y, train_op, loss, init, saver


def keras_model(model: str):
  """The Keras 3 model: the seed-002 DNN twin on flattened images, or the small CNN."""
  import keras  # pylint: disable=g-import-not-at-top
  from keras_bridge.twins import models  # pylint: disable=g-import-not-at-top
  from tf1_reference import dnn  # pylint: disable=g-import-not-at-top
  if model == "dnn":
    return models.dnn(28 * 28, 10, dnn.DNN_HIDDEN)
  return keras.Sequential([
      keras.Input((28, 28, 1)),
      keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
      keras.layers.MaxPooling2D(2),
      keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
      keras.layers.MaxPooling2D(2),
      keras.layers.Flatten(),
      keras.layers.Dense(10, name="outputs"),
  ], name="cnn")


def _inputs(model, x):
  return x.reshape(len(x), -1) if model == "dnn" else x


_compile = _train_equivalence.compile_like_tf1


def _tf1_trainer(model_name, x, y, steps):
  """`train(epochs)` running `epochs * steps` TF1 steps (sess.run per batch, a fresh permutation each epoch)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  graph, xp, yp, train_op, _, init, _ = _tf1_graph(model_name)
  sess = tf.compat.v1.Session(graph=graph)
  sess.run(init)
  rng = np.random.default_rng(1)

  def train(epochs):
    for _ in range(epochs):
      order = rng.permutation(len(x))
      for i in range(steps):
        idx = order[i * BATCH:(i + 1) * BATCH]
        sess.run(train_op, {xp: x[idx], yp: y[idx]})

  return train


def _keras_trainer(model_name, method, x, y, steps):
  """`train(epochs)` running `epochs * steps` Keras steps with `method`'s settings (`fit`: one call)."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  model = keras_model(model_name)
  if method == "continuation":
    return _continuation_trainer(model, x, y, steps)
  if method != "jit_step":
    _compile(model, jit_compile="jit" in method, steps_per_execution=100 if "spe100" in method else 1)
    return lambda epochs: model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0)
  optimizer = keras.optimizers.SGD(LEARNING_RATE, clipvalue=CLIP)
  optimizer.build(model.trainable_variables)
  loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

  @tf.function(jit_compile=True)
  def step(xb, yb):
    with tf.GradientTape() as tape:
      loss = loss_fn(yb, model(xb, training=True))
    optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
    return loss

  dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=1).batch(BATCH).prefetch(2)

  def train(epochs):
    for _ in range(epochs):
      for xb, yb in dataset.take(steps):
        step(xb, yb)

  return train


def _continuation_trainer(model, x, y, steps):
  """`train(epochs)` through the continuation's own loop, as `continue_training` calls it on one device."""
  import keras  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from keras_bridge.twins import continuation  # pylint: disable=g-import-not-at-top
  optimizer = keras.optimizers.SGD(LEARNING_RATE, clipvalue=CLIP)
  optimizer.build(model.trainable_variables)
  loop = continuation._Steps(model, optimizer, tf.distribute.get_strategy(), jit_compile=False)  # pylint: disable=protected-access
  xt, yt, batch = tf.constant(x), tf.constant(y), tf.constant(BATCH, tf.int64)
  epoch = [0]

  def train(epochs):
    for _ in range(epochs):
      order = tf.constant(np.random.default_rng([1, epoch[0]]).permutation(len(x)), tf.int64)
      for first in range(0, steps, continuation.STEPS_PER_CALL):
        count = min(continuation.STEPS_PER_CALL, steps - first)
        loop.run_in_memory(xt, yt, order, tf.constant(first, tf.int64), tf.constant(count, tf.int64), batch)
      epoch[0] += 1

  return train


def _measure(spec: dict) -> dict:
  """One method on one model in this process: build, baseline, one warm-up epoch, timed epochs."""
  model_name, method, steps, epochs = spec["model"], spec["method"], spec["steps"], spec["epochs"]
  x, y = synthetic_data(steps)
  x = _inputs(model_name, x)
  if method == "tf1_session":
    train = _tf1_trainer(model_name, x, y, steps)
  else:
    train = _keras_trainer(model_name, method, x, y, steps)
  base = _synthetic.status("VmRSS")
  _synthetic.reset_peak()
  start = time.perf_counter()
  train(1)
  warmup = time.perf_counter() - start
  start = time.perf_counter()
  train(epochs)
  seconds = time.perf_counter() - start
  steps_per_second = epochs * steps / seconds
  return {"steps_per_second": steps_per_second, "warmup_seconds": warmup,
          "compile_seconds": max(0.0, warmup - steps / steps_per_second),
          "peak_above_baseline": _synthetic.status("VmHWM") - base}


def _equivalence_rows():
  import numpy as np  # pylint: disable=g-import-not-at-top
  rows = []
  for loop, jit in (("train_on_batch", False), ("train_on_batch", True), ("continuation", False)):
    tf1, ours = _train_equivalence.equivalence(jit_compile=jit, loop=loop)
    rel = np.abs(ours - tf1) / np.abs(tf1)
    rows.append({"loop": loop, "jit_compile": jit, "steps": len(tf1), "max_rel_diff": float(rel.max()),
                 "first_step_over_rtol": int(np.argmax(rel > LOSS_RTOL)) if (rel > LOSS_RTOL).any() else None,
                 "target_met": bool(np.allclose(ours, tf1, rtol=LOSS_RTOL, atol=0)),
                 "tf1_first_last": [float(tf1[0]), float(tf1[-1])]})
  return rows


def _run_worker(spec: dict) -> dict:
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO_ROOT, os.environ.get("PYTHONPATH", "")]),
             TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
                       check=True, capture_output=True, text=True, env=env)
  return json.loads(out.stdout.strip().splitlines()[-1])


def run_benchmark(steps: int = 200, epochs: int = 3, repeats: int = 3, json_path=None, models=MODELS,
                  methods=METHODS) -> dict:
  """Measures every method on every model (interleaved, each run in a fresh process) and the equivalence."""
  runs = {(m, k): [] for m in models for k in methods}
  for _ in range(repeats):
    for model in models:
      for method in methods:
        runs[(model, method)].append(_run_worker({"model": model, "method": method, "steps": steps,
                                                  "epochs": epochs}))
  rows = []
  for model in models:
    anchor = statistics.median(r["steps_per_second"] for r in runs[(model, "tf1_session")])
    for method in methods:
      rs = runs[(model, method)]
      rate = statistics.median(r["steps_per_second"] for r in rs)
      rows.append({"model": model, "method": method, "steps_per_second": rate,
                   "steps_per_second_all": [r["steps_per_second"] for r in rs], "ratio_to_tf1": rate / anchor,
                   "compile_seconds": statistics.median(r["compile_seconds"] for r in rs),
                   "warmup_seconds": statistics.median(r["warmup_seconds"] for r in rs),
                   "peak_rss_above_baseline_mib": statistics.median(r["peak_above_baseline"] for r in rs) / _MIB,
                   "recommended": method == RECOMMENDED})
  results = {"config": {"batch": BATCH, "steps_per_epoch": steps, "timed_epochs": epochs, "repeats": repeats,
                        "learning_rate": LEARNING_RATE, "clip": CLIP, "cpus": os.cpu_count(),
                        "recommended": RECOMMENDED, "speedup_target": SPEEDUP_TARGET, "loss_rtol": LOSS_RTOL},
             "rows": rows,
             "equivalence": _run_worker({"equivalence": True})["rows"]}
  print(format_table(results))
  if json_path:
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    with open(json_path, "w") as f:
      json.dump(results, f, indent=2)
  return results


def format_table(results: dict) -> str:
  """The results as fixed-width tables: speed, then loss equivalence."""
  c = results["config"]
  header = ("model", "method", "steps/s", "x TF1", "compile s", "warm-up epoch s", "peak RSS (MiB)", "target")
  rows = []
  for r in results["rows"]:
    target = ""
    if r["recommended"]:
      target = f"{'met' if r['ratio_to_tf1'] >= c['speedup_target'] else 'MISSED'} (>= {c['speedup_target']}x)"
    rows.append((r["model"], r["method"] + (" *" if r["recommended"] else ""), f"{r['steps_per_second']:.0f}",
                 f"{r['ratio_to_tf1']:.2f}", f"{r['compile_seconds']:.2f}", f"{r['warmup_seconds']:.2f}",
                 f"{r['peak_rss_above_baseline_mib']:.0f}", target))
  widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(header)]
  fmt = "  ".join("{:<%d}" % w for w in widths)
  lines = [f"Batch {c['batch']}, {c['steps_per_epoch']} steps/epoch, {c['timed_epochs']} timed epochs after a "
           f"warm-up epoch; median of {c['repeats']} run(s), each in a fresh process; {c['cpus']} CPUs; "
           f"* = recommended", fmt.format(*header), fmt.format(*("-" * w for w in widths))]
  lines += [fmt.format(*row) for row in rows]
  lines.append("")
  lines.append(f"Loss equivalence, one step per call, {EQUIVALENCE_STEPS} steps of the seed-002 DNN from the TF1 "
               f"initial weights (load_tf1_checkpoint), target rtol {c['loss_rtol']}:")
  for e in results["equivalence"]:
    lines.append(f"  {e.get('loop', 'train_on_batch')} jit_compile={e['jit_compile']}: max relative difference "
                 f"{e['max_rel_diff']:.2e} -> {'met' if e['target_met'] else 'MISSED'}")
  return "\n".join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _WORKER.value:
    spec = json.loads(_WORKER.value)
    print(json.dumps({"rows": _equivalence_rows()} if spec.get("equivalence") else _measure(spec)))
    return
  json_path = _JSON.value or (os.path.join(REPO_ROOT, "benchmarks", "results", "train.json")
                              if _UPDATE_COMMITTED.value else os.path.join("runs", "benchmarks", "train.json"))
  run_benchmark(_STEPS.value, _EPOCHS.value, _REPEATS.value, json_path)
  print(f"Results: {json_path}")


if __name__ == "__main__":
  app.run(main)
