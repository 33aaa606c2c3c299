r"""Benchmark: converting a large name-based (TF1) checkpoint, time and peak memory.

Generates a synthetic name-based checkpoint (`--size_gib`, default 2 GiB, in `--num_vars` square float32
kernels `layer<i>/kernel` plus their biases `layer<i>/bias`), then times and measures, in the same run:

* `cp`: copying the checkpoint's files (the floor);
* `recipe`: the TF migration guide's recipe (site/en/guide/migrate/migrating_checkpoints.ipynb,
  `convert_tf1_to_tf2`): every tensor into a `tf.Variable`, then `tf.train.Checkpoint(vars=...).write`;
* `bridge_object`: `keras_bridge` TF1 -> object-based (`convert_checkpoint`);
* `bridge_h5`: `keras_bridge` TF1 -> `.weights.h5` (`convert_checkpoint`).

Each method runs `--repeats` times, each time in its own fresh Python process, after `sync` so that dirty
pages of the previous method are not flushed on its time. Seconds are wall time of the conversion alone;
the table shows the median. Peak RSS is the process's high-water mark (`VmHWM`, reset through
`/proc/self/clear_refs` at the baseline) minus its RSS at the baseline:

* `recipe`: baseline after the imports (`tensorflow`);
* `bridge_*`: baseline after the imports and after building the target Keras model (a functional model of
  `--num_vars` `Dense` layers, whose weights are themselves as large as the checkpoint);
* `cp`: the `cp` process's own peak (`getrusage(RUSAGE_CHILDREN)`), baseline 0.

Targets (issue 3): the bridge's peak RSS above its baseline is at most the largest tensor plus a small
constant (`SMALL_CONSTANT_MIB`), and its time at most 2x that of `cp`.

Usage:

  python benchmarks/convert.py                         # 2 GiB, 32 kernels, JSON in runs/benchmarks/
  python benchmarks/convert.py --update_committed      # the same, over benchmarks/results/convert.json
  python benchmarks/convert.py --size_gib=0.01 --repeats=1   # a quick smoke run (targets not judged)
"""

import json
import os
import resource
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
METHODS = ("cp", "recipe", "bridge_object", "bridge_h5")
#: The "small constant" of the memory target, in MiB.
SMALL_CONSTANT_MIB = 32
#: The time target: at most this many times the time of `cp`.
TIME_TARGET_RATIO = 2.0
_MIB = 1 << 20
#: Below this size fixed costs dominate (process start, one fsync), so a smoke run's targets mean nothing.
_JUDGED_GIB = 1.0

_SIZE_GIB = flags.DEFINE_float("size_gib", 2.0, "Size of the synthetic checkpoint, in GiB.")
_NUM_VARS = flags.DEFINE_integer("num_vars", 32, "Number of square kernels (each has a bias too).")
_WORKDIR = flags.DEFINE_string("bench_workdir", None, "Where to write the checkpoint and outputs; default: a new "
                               "temporary directory, removed at the end unless --keep.")
_JSON = flags.DEFINE_string("results_json", None, "Where to write the results as JSON; default: "
                            "runs/benchmarks/convert.json, or the committed benchmarks/results/convert.json with "
                            "--update_committed.")
_UPDATE_COMMITTED = flags.DEFINE_bool("update_committed", False, "Write the JSON over the committed results in "
                                      "benchmarks/results/ (after a full run, to update benchmarks/README.md).")
_KEEP = flags.DEFINE_bool("keep", False, "Keep the work directory (the synthetic checkpoint).")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Runs per method; the table shows the median time.")
_WORKER = flags.DEFINE_string("worker", None, "Internal: run one measurement (a JSON spec) in this process "
                              "and print the result as JSON.")


kernel_size = _synthetic.kernel_size
generate_checkpoint = _synthetic.generate_checkpoint
_status = _synthetic.status
_reset_peak = _synthetic.reset_peak
_model = _synthetic.dense_model


def _cp(src: str, dst: str) -> float:
  """Copies the files of checkpoint `src` into the new directory `dst` with `cp`; returns the seconds."""
  files = sorted(os.path.join(os.path.dirname(src), f) for f in os.listdir(os.path.dirname(src))
                 if f.startswith(os.path.basename(src) + "."))
  os.makedirs(dst)
  start = time.perf_counter()
  subprocess.run(["cp", *files, dst], check=True)
  return time.perf_counter() - start


def _cp_beside(src: str, dst: str) -> float:
  """`cp` of the source from inside a worker, in the state the worker's own conversion sees; then removed.

  On this machine the first large write after a process has allocated a multi-GiB model can take several
  times longer, for `cp` too (0.5 s to 5.5 s for the same 2 GiB); timing `cp` right before and after the
  conversion, in the same worker, gives a baseline under the same conditions.
  """
  directory = dst + ".cp-reference"
  os.sync()
  seconds = _cp(src, directory)
  _remove(directory)
  return seconds


def _measure(spec: dict) -> dict:
  """Runs one method in this process: imports, baseline, conversion; returns seconds and peak RSS."""
  method, src, dst = spec["method"], spec["src"], spec["dst"]
  if method == "cp":
    seconds = _cp(src, dst)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"seconds": seconds, "peak_above_baseline": peak, "baseline_rss": 0,
            "baseline": "the cp process's own peak RSS"}

  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if method == "recipe":
    baseline = "after importing tensorflow"
  else:
    import keras_bridge  # pylint: disable=g-import-not-at-top
    model = _model(spec["num_vars"], spec["n"])
    baseline = "after importing tensorflow, keras, keras_bridge and building the Keras model"
  cp_before = _cp_beside(src, dst)
  os.sync()
  base = _status("VmRSS")
  _reset_peak()
  start = time.perf_counter()
  if method == "recipe":
    reader = tf.train.load_checkpoint(src)
    variables = {key: tf.Variable(reader.get_tensor(key)) for key in reader.get_variable_to_dtype_map()}
    tf.train.Checkpoint(vars=variables).write(dst)
  elif method == "bridge_object":
    keras_bridge.convert_checkpoint(src, dst, model)
  else:
    keras_bridge.convert_checkpoint(src, dst + ".weights.h5", model)
  seconds = time.perf_counter() - start
  peak = _status("VmHWM") - base
  cp_after = _cp_beside(src, dst)
  return {"seconds": seconds, "peak_above_baseline": peak, "baseline_rss": base, "baseline": baseline,
          "cp_beside_seconds": [cp_before, cp_after]}


def _run_worker(spec: dict) -> dict:
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO_ROOT, os.environ.get("PYTHONPATH", "")]),
             TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
                       check=True, capture_output=True, text=True, env=env)
  return json.loads(out.stdout.strip().splitlines()[-1])


_remove = _synthetic.remove


def run_benchmark(size_gib: float = 2.0, num_vars: int = 32, workdir=None, json_path=None, keep=False,
                  repeats: int = 3, in_process: bool = False) -> dict:
  """Generates the checkpoint, measures every method, prints the table; returns (and writes) the results.

  Args:
    size_gib, num_vars, workdir, json_path, keep, repeats: as the flags of the same names.
    in_process: run the methods in this process instead of a fresh process each. Only for quick smoke
      tests: each peak then includes what earlier methods left behind, and `cp`'s is the largest of all
      children of this process so far.

  Returns:
    `{"config": {...}, "rows": [one dict per method]}`, as written to `json_path`.
  """
  own_workdir = workdir is None
  workdir = workdir or tempfile.mkdtemp(prefix="convert-bench-", dir="/tmp")
  os.makedirs(workdir, exist_ok=True)
  n = kernel_size(size_gib, num_vars)
  src = os.path.join(workdir, "src", "model.ckpt")
  try:
    os.makedirs(os.path.dirname(src), exist_ok=True)
    start = time.perf_counter()
    generate_checkpoint(src, num_vars, n)
    generate_seconds = time.perf_counter() - start
    ckpt_bytes = sum(os.path.getsize(os.path.join(os.path.dirname(src), f))
                     for f in os.listdir(os.path.dirname(src)) if f.startswith("model.ckpt."))
    largest = n * n * 4
    runs = {m: [] for m in METHODS}
    for r in range(repeats):
      for method in METHODS:
        dst = os.path.join(workdir, f"out-{method}-{r}", "ckpt")
        os.sync()
        spec = {"method": method, "src": src, "dst": dst, "n": n, "num_vars": num_vars}
        runs[method].append(_measure(spec) if in_process else _run_worker(spec))
        _remove(os.path.dirname(dst))
    rows = []
    cp_seconds = statistics.median(x["seconds"] for x in runs["cp"])
    for method in METHODS:
      seconds = statistics.median(x["seconds"] for x in runs[method])
      peak = max(x["peak_above_baseline"] for x in runs[method])
      row = {"method": method, "seconds": seconds, "seconds_all": [x["seconds"] for x in runs[method]],
             "ratio_to_cp": seconds / cp_seconds, "peak_rss_above_baseline_mib": peak / _MIB,
             "baseline_rss_mib": runs[method][0]["baseline_rss"] / _MIB, "baseline": runs[method][0]["baseline"],
             "largest_tensor_mib": largest / _MIB}
      if method != "cp":
        beside = statistics.median(t for x in runs[method] for t in x["cp_beside_seconds"])
        row["cp_beside_seconds"] = beside
        row["ratio_to_cp_beside"] = seconds / beside
      if method.startswith("bridge"):
        row["time_target_met"] = row["ratio_to_cp"] <= TIME_TARGET_RATIO
        row["time_target_met_beside"] = row["ratio_to_cp_beside"] <= TIME_TARGET_RATIO
        row["rss_target_met"] = peak <= largest + SMALL_CONSTANT_MIB * _MIB
      rows.append(row)
    results = {
        "config": {"size_gib": size_gib, "num_vars": num_vars, "kernel_shape": [n, n], "tensors": 2 * num_vars,
                   "checkpoint_bytes": ckpt_bytes, "largest_tensor_bytes": largest, "repeats": repeats,
                   "generate_seconds": generate_seconds, "small_constant_mib": SMALL_CONSTANT_MIB,
                   "time_target_ratio": TIME_TARGET_RATIO, "cpus": os.cpu_count(), "in_process": in_process},
        "rows": rows,
    }
    print(format_table(results))
    if json_path:
      os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
      with open(json_path, "w") as f:
        json.dump(results, f, indent=2)
    return results
  finally:
    if own_workdir and not keep:
      _remove(workdir)


def format_table(results: dict) -> str:
  """The results as a fixed-width table."""
  c = results["config"]
  header = ("method", "seconds", "x cp", "x cp beside", "peak RSS above baseline (MiB)", "largest tensor (MiB)",
            "targets (time vs cp / vs cp beside, RSS)")
  rows = []
  for r in results["rows"]:
    targets = ""
    if "time_target_met" in r and c["size_gib"] < _JUDGED_GIB:
      targets = f"not judged (< {_JUDGED_GIB} GiB)"
    elif "time_target_met" in r:
      met = lambda ok: "met" if ok else "MISSED"
      targets = (f"time {met(r['time_target_met'])} / {met(r['time_target_met_beside'])}, "
                 f"RSS {met(r['rss_target_met'])}")
    beside = f"{r['ratio_to_cp_beside']:.2f}" if "ratio_to_cp_beside" in r else "-"
    rows.append((r["method"], f"{r['seconds']:.2f}", f"{r['ratio_to_cp']:.2f}", beside,
                 f"{r['peak_rss_above_baseline_mib']:.0f}", f"{r['largest_tensor_mib']:.0f}", targets))
  widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(header)]
  fmt = "  ".join("{:<%d}" % w for w in widths)
  lines = [f"Checkpoint: {c['checkpoint_bytes'] / (1 << 30):.2f} GiB in {c['tensors']} tensors "
           f"({c['num_vars']} kernels {c['kernel_shape']} float32 + biases); median of {c['repeats']} run(s); "
           f"{c['cpus']} CPUs", fmt.format(*header), fmt.format(*("-" * w for w in widths))]
  lines += [fmt.format(*row) for row in rows]
  lines.append(f"Targets: time <= {c['time_target_ratio']}x cp; peak RSS <= largest tensor + "
               f"{c['small_constant_mib']} MiB. 'x cp beside': against cp of the same files timed in the same "
               f"worker right before and after the conversion (median).")
  return "\n".join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _WORKER.value:
    print(json.dumps(_measure(json.loads(_WORKER.value))))
    return
  json_path = _JSON.value or (os.path.join(REPO_ROOT, "benchmarks", "results", "convert.json")
                              if _UPDATE_COMMITTED.value else os.path.join("runs", "benchmarks", "convert.json"))
  run_benchmark(_SIZE_GIB.value, _NUM_VARS.value, _WORKDIR.value, json_path, _KEEP.value, _REPEATS.value)
  print(f"Results: {json_path}")


if __name__ == "__main__":
  app.run(main)
