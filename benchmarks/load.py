r"""Benchmark: loading a large name-based (TF1) checkpoint into a built model, time and peak memory.

Generates a synthetic name-based checkpoint at each size of `--sizes_gib` (default 0.25 and 2 GiB, each in
`--num_vars` square float32 kernels `layer<i>/kernel` plus their biases, as `convert.py` does), converts it once
to an object-based copy, then times and measures, in the same run:

* `saver_restore`: `tf.compat.v1.train.Saver.restore` into a TF1 graph of the same variables (the anchor);
* `checkpoint_read`: `tf.train.Checkpoint(model=model).read` of the object-based copy into the Keras model;
* `bridge`: `keras_bridge.load_tf1_checkpoint(model, prefix)` (pass 1: every CRC-32C streamed; pass 2: each
  tensor read into one reused buffer and copied into its variable, `keras_bridge._loading`).

Each method runs `--repeats` times, each in a fresh Python process, after `sync`. Seconds are the wall time of
the load alone (median in the table). Peak RSS is `VmHWM`, reset through `/proc/self/clear_refs` at the
baseline, minus the RSS there: after the imports and after building the model (TF1: its variables initialised
in the session; Keras: the built model), whose weights are as large as the checkpoint. The checkpoint's files
are in the page cache for every method alike (generated just before, and read by each run).

Targets (issue 13, goal 2): the bridge's peak RSS above the built model <= largest tensor + 64 MiB, and its
time <= 1.1x `Saver.restore` of the same checkpoint.

Usage:

  python benchmarks/load.py                          # 0.25 and 2 GiB, 16 kernels, JSON in runs/benchmarks/
  python benchmarks/load.py --update_committed       # the same, over benchmarks/results/load.json
  python benchmarks/load.py --sizes_gib=0.01 --repeats=1   # a quick smoke run (targets not judged)
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

try:
  from benchmarks import _synthetic
except ImportError:  # Run as a script: its own directory is on the path, not the repository.
  import _synthetic

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ("saver_restore", "checkpoint_read", "bridge")
#: The memory target: peak RSS above the built model <= largest tensor + this, in MiB.
SMALL_CONSTANT_MIB = 64
#: The time target: at most this many times the time of `Saver.restore`.
TIME_TARGET_RATIO = 1.1
_MIB = 1 << 20
_JUDGED_GIB = 1.0

_SIZES_GIB = flags.DEFINE_list("sizes_gib", ["0.25", "2"], "Sizes of the synthetic checkpoints, in GiB.")
_NUM_VARS = flags.DEFINE_integer("num_vars", 16, "Number of square kernels (each has a bias too).")
_WORKDIR = flags.DEFINE_string("bench_workdir", None, "Where to write the checkpoints; default: a new temporary "
                               "directory, removed at the end unless --keep.")
_JSON = flags.DEFINE_string("results_json", None, "Where to write the results as JSON; default: "
                            "runs/benchmarks/load.json, or benchmarks/results/load.json with --update_committed.")
_UPDATE_COMMITTED = flags.DEFINE_bool("update_committed", False, "Write the JSON over the committed results in "
                                      "benchmarks/results/.")
_KEEP = flags.DEFINE_bool("keep", False, "Keep the work directory (the synthetic checkpoints).")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Runs per method; the table shows the median time.")
_WORKER = flags.DEFINE_string("worker", None, "Internal: run one measurement (a JSON spec) in this process "
                              "and print the result as JSON.")


def _tf1_graph(num_vars, n):
  """A TF1 graph with the checkpoint's variables (zeros): (graph, Saver, initializer, kernels)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1
  graph, kernels = tf.Graph(), []
  with graph.as_default():
    for i in range(num_vars):
      kernels.append(v1.get_variable(f"layer{i}/kernel", shape=[n, n], initializer=v1.zeros_initializer()))
      v1.get_variable(f"layer{i}/bias", shape=[n], initializer=v1.zeros_initializer())
    saver, init = v1.train.Saver(), v1.global_variables_initializer()
  return graph, saver, init, kernels


def _measure(spec: dict) -> dict:
  """Runs one method in this process: imports, builds the model, baseline, load; returns seconds and peak."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import keras_bridge  # pylint: disable=g-import-not-at-top
  method, src, obj, n, num_vars = spec["method"], spec["src"], spec["obj"], spec["n"], spec["num_vars"]
  if method == "saver_restore":
    graph, saver, init, kernels = _tf1_graph(num_vars, n)
    sess = tf.compat.v1.Session(graph=graph)
    sess.run(init)
  else:
    model = _synthetic.dense_model(num_vars, n)
  # keras_bridge imports its modules on first use; resolve them here, as a Saver is built before it restores.
  load = keras_bridge.load_tf1_checkpoint
  os.sync()
  base = _synthetic.status("VmRSS")
  _synthetic.reset_peak()
  start = time.perf_counter()
  if method == "saver_restore":
    with graph.as_default():  # Eager execution stays on for the process; the Saver runs in its graph.
      saver.restore(sess, src)
  elif method == "checkpoint_read":
    tf.train.Checkpoint(model=model).read(obj).assert_existing_objects_matched()
  else:
    load(model, src)
  seconds = time.perf_counter() - start
  peak = _synthetic.status("VmHWM") - base
  last = num_vars - 1
  if method == "saver_restore":
    got = sess.run(kernels[last])[0, 0]
  else:
    got = model.get_layer(f"layer{last}").kernel.numpy()[0, 0]
  if not np.isclose(got, float(last)):
    raise AssertionError(f"{method}: layer{last}/kernel[0, 0] is {got}, expected {last}")
  return {"seconds": seconds, "peak_above_baseline": peak, "baseline_rss": base}


def _run_worker(spec: dict) -> dict:
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO_ROOT, os.environ.get("PYTHONPATH", "")]),
             TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
                       check=True, capture_output=True, text=True, env=env)
  return json.loads(out.stdout.strip().splitlines()[-1])


def _prepare(workdir: str, size_gib: float, num_vars: int):
  """Writes the name-based checkpoint and its object-based copy; returns (src, obj, n, bytes, seconds)."""
  import keras_bridge  # pylint: disable=g-import-not-at-top
  n = _synthetic.kernel_size(size_gib, num_vars)
  src = os.path.join(workdir, f"{size_gib}gib", "src", "model.ckpt")
  obj = os.path.join(workdir, f"{size_gib}gib", "obj", "ckpt")
  os.makedirs(os.path.dirname(src), exist_ok=True)
  start = time.perf_counter()
  _synthetic.generate_checkpoint(src, num_vars, n)
  seconds = time.perf_counter() - start
  keras_bridge.convert_checkpoint(src, obj, _synthetic.dense_model(num_vars, n))
  data = sum(os.path.getsize(os.path.join(os.path.dirname(src), f))
             for f in os.listdir(os.path.dirname(src)) if f.startswith("model.ckpt."))
  return src, obj, n, data, seconds


def run_benchmark(sizes_gib=(0.25, 2.0), num_vars: int = 16, workdir=None, json_path=None, keep=False,
                  repeats: int = 3, in_process: bool = False) -> dict:
  """Generates the checkpoints, measures every method at every size, prints the table; returns the results.

  Args:
    sizes_gib, num_vars, workdir, json_path, keep, repeats: as the flags of the same names.
    in_process: run the methods in this process (smoke tests only: each peak then includes earlier methods).

  Returns:
    `{"config": {...}, "sizes": [{"size_gib", "checkpoint_bytes", "largest_tensor_bytes", "rows"}]}`.
  """
  own_workdir = workdir is None
  workdir = workdir or tempfile.mkdtemp(prefix="load-bench-", dir="/tmp")
  os.makedirs(workdir, exist_ok=True)
  results = {"config": {"num_vars": num_vars, "tensors": 2 * num_vars, "repeats": repeats,
                        "small_constant_mib": SMALL_CONSTANT_MIB, "time_target_ratio": TIME_TARGET_RATIO,
                        "cpus": os.cpu_count(), "in_process": in_process}, "sizes": []}
  try:
    for size_gib in sizes_gib:
      src, obj, n, data, generate_seconds = _prepare(workdir, float(size_gib), num_vars)
      runs = {m: [] for m in METHODS}
      for _ in range(repeats):
        for method in METHODS:
          os.sync()
          spec = {"method": method, "src": src, "obj": obj, "n": n, "num_vars": num_vars}
          runs[method].append(_measure(spec) if in_process else _run_worker(spec))
      largest = n * n * 4
      anchor = statistics.median(x["seconds"] for x in runs["saver_restore"])
      rows = []
      for method in METHODS:
        seconds = statistics.median(x["seconds"] for x in runs[method])
        peak = statistics.median(x["peak_above_baseline"] for x in runs[method])
        row = {"method": method, "seconds": seconds, "seconds_all": [x["seconds"] for x in runs[method]],
               "ratio_to_saver_restore": seconds / anchor, "peak_rss_above_model_mib": peak / _MIB,
               "peak_rss_above_model_mib_all": [x["peak_above_baseline"] / _MIB for x in runs[method]],
               "baseline_rss_mib": statistics.median(x["baseline_rss"] for x in runs[method]) / _MIB}
        if method == "bridge":
          row["time_target_met"] = row["ratio_to_saver_restore"] <= TIME_TARGET_RATIO
          row["rss_target_met"] = peak <= largest + SMALL_CONSTANT_MIB * _MIB
        rows.append(row)
      results["sizes"].append({"size_gib": float(size_gib), "kernel_shape": [n, n], "checkpoint_bytes": data,
                               "largest_tensor_bytes": largest, "generate_seconds": generate_seconds,
                               "rows": rows})
      if not keep:  # Disk: never two sizes at once.
        _synthetic.remove(os.path.join(workdir, f"{float(size_gib)}gib"))
    print(format_table(results))
    if json_path:
      os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
      with open(json_path, "w") as f:
        json.dump(results, f, indent=2)
    return results
  finally:
    if own_workdir and not keep:
      _synthetic.remove(workdir)


def format_table(results: dict) -> str:
  """The results as a fixed-width table, one block of rows per size."""
  c = results["config"]
  header = ("size", "method", "seconds", "x Saver.restore", "peak RSS above model (MiB)", "largest tensor (MiB)",
            "targets (time, RSS)")
  rows = []
  for size in results["sizes"]:
    for r in size["rows"]:
      targets = ""
      if "time_target_met" in r:
        met = lambda ok: "met" if ok else "MISSED"
        targets = f"time {met(r['time_target_met'])}, RSS {met(r['rss_target_met'])}"
        if size["size_gib"] < _JUDGED_GIB:
          targets += f" (< {_JUDGED_GIB} GiB: fixed costs weigh)"
      rows.append((f"{size['checkpoint_bytes'] / (1 << 30):.2f} GiB", r["method"], f"{r['seconds']:.2f}",
                   f"{r['ratio_to_saver_restore']:.2f}", f"{r['peak_rss_above_model_mib']:.0f}",
                   f"{size['largest_tensor_bytes'] / _MIB:.0f}", targets))
  widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(header)]
  fmt = "  ".join("{:<%d}" % w for w in widths)
  lines = [f"{c['tensors']} tensors ({c['num_vars']} square float32 kernels + biases); median of {c['repeats']} "
           f"run(s), each in a fresh process; {c['cpus']} CPUs", fmt.format(*header),
           fmt.format(*("-" * w for w in widths))]
  lines += [fmt.format(*row) for row in rows]
  lines.append(f"Targets (bridge): time <= {c['time_target_ratio']}x Saver.restore; peak RSS above the built model "
               f"<= largest tensor + {c['small_constant_mib']} MiB.")
  return "\n".join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _WORKER.value:
    print(json.dumps(_measure(json.loads(_WORKER.value))))
    return
  json_path = _JSON.value or (os.path.join(REPO_ROOT, "benchmarks", "results", "load.json")
                              if _UPDATE_COMMITTED.value else os.path.join("runs", "benchmarks", "load.json"))
  run_benchmark([float(s) for s in _SIZES_GIB.value], _NUM_VARS.value, _WORKDIR.value, json_path, _KEEP.value,
                _REPEATS.value)
  print(f"Results: {json_path}")


if __name__ == "__main__":
  app.run(main)
