r"""Benchmark: converting a large name-based (TF1) checkpoint, time and peak memory, at several sizes.

For each of `--sizes_gib` (default 0.25 and 2 GiB) generates a synthetic name-based checkpoint in `--num_vars`
square float32 kernels `layer<i>/kernel` plus their biases `layer<i>/bias`, then times and measures, in the
same run:

* `cp`: `cp --reflink=never` of the checkpoint's files (the floor; GNU cp reflinks by default where it can);
* `cp_sync`: the same, then `sync` of the copied files (each fsynced, as the bridge's writers must before their
  commit record): the floor of a copy that survives a crash, for context (no target is judged against it);
* `recipe`: the TF migration guide's recipe (site/en/guide/migrate/migrating_checkpoints.ipynb,
  `convert_tf1_to_tf2`): every tensor into a `tf.Variable`, then `tf.train.Checkpoint(vars=...).write`;
* `bridge_object`: `keras_bridge` TF1 -> object-based (`convert_checkpoint`, `data="auto"`: a copy on a
  filesystem without reflinks), CRC-32C checked;
* `bridge_hardlink`, `bridge_hardlink_verify`: the same with `data="hardlink"` (by default the shared bytes are
  not read; `verify=True` reads them through their CRC-32C);
* `bridge_h5`: `keras_bridge` TF1 -> `.weights.h5` (`convert_checkpoint`);
* `cp_xfs`, `bridge_reflink`, `bridge_reflink_verify`: on an XFS filesystem made with `reflink=1` in a sparse
  image under the work directory, loop-mounted in a helper's private mount namespace (root and `mkfs.xfs`
  needed; left out, saying so, otherwise): `cp --reflink=never` there, and `data="reflink"` by default and with
  `verify=True`. Their ratios are against `cp_xfs`, the others' against `cp`.

The JSON records each method's filesystem type (`stat -f`).

Each method runs `--repeats` times, each time in its own fresh Python process, after `sync` so that dirty
pages of the previous method are not flushed on its time. Seconds are wall time of the conversion alone;
the table shows the median. Peak RSS is the process's high-water mark (`VmHWM`, reset through
`/proc/self/clear_refs` at the baseline) minus its RSS at the baseline:

* `recipe`: baseline after the imports (`tensorflow`);
* `bridge_*`: baseline after the imports and after building the target Keras model (a functional model of
  `--num_vars` `Dense` layers, whose weights are themselves as large as the checkpoint);
* `cp`: the `cp` process's own peak (`getrusage(RUSAGE_CHILDREN)`), baseline 0.

Targets (issue 13), each a ratio to `cp` of the same files on the same filesystem: shared bytes
(`bridge_reflink*`, `bridge_hardlink*`) <= 0.25x; copied bytes (`bridge_object`, CRC check included) <= 1.2x;
`bridge_h5` <= 1.5x. Peak RSS above the baseline <= `SMALL_CONSTANT_MIB` for the copy and sharing paths, and <=
the largest tensor + `SMALL_CONSTANT_MIB` for `.weights.h5`. The recipe has no target.

Usage:

  python benchmarks/convert.py                         # 0.25 and 2 GiB, 32 kernels, JSON in runs/benchmarks/
  python benchmarks/convert.py --update_committed      # the same, over benchmarks/results/convert.json
  python benchmarks/convert.py --sizes_gib=0.01 --repeats=1   # a quick smoke run (targets not judged)
"""

import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Iterator, List, Optional

from absl import app
from absl import flags

try:
  from benchmarks import _synthetic
except ImportError:  # Run as a script: its own directory is on the path, not the repository.
  import _synthetic

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ("cp", "cp_sync", "recipe", "bridge_object", "bridge_hardlink", "bridge_hardlink_verify", "bridge_h5")
XFS_METHODS = ("cp_xfs", "bridge_reflink", "bridge_reflink_verify")
#: The "small constant" of the memory target, in MiB.
SMALL_CONSTANT_MIB = 64
#: Time targets: at most this many times the time of `cp` on the same filesystem.
TIME_TARGETS = {"bridge_object": 1.2, "bridge_h5": 1.5, "bridge_hardlink": 0.25, "bridge_hardlink_verify": 0.25,
                "bridge_reflink": 0.25, "bridge_reflink_verify": 0.25}
#: Methods whose RSS target includes the largest tensor (the others: the constant alone).
_TENSOR_IN_RSS_TARGET = ("bridge_h5",)
#: `convert_checkpoint` keyword arguments of each bridge method.
_BRIDGE_ARGS = {"bridge_object": {}, "bridge_hardlink": {"data": "hardlink"},
                "bridge_hardlink_verify": {"data": "hardlink", "verify": True},
                "bridge_reflink": {"data": "reflink"}, "bridge_reflink_verify": {"data": "reflink", "verify": True}}
_MIB = 1 << 20
#: Below this size fixed costs dominate (process start, one fsync), so a smoke run's targets mean nothing.
_JUDGED_GIB = 1.0

_SIZES_GIB = flags.DEFINE_list("sizes_gib", ["0.25", "2"], "Sizes of the synthetic checkpoint, in GiB; each is "
                               "measured in turn and the growth between them reported.")
_XFS = flags.DEFINE_bool("xfs", True, "Also measure reflinks on an XFS loop mount (needs root and mkfs.xfs).")
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


def _cp(src: str, dst: str, sync: bool = False) -> float:
  """Copies the files of checkpoint `src` into the new directory `dst` with `cp --reflink=never` (then, with
  `sync`, fsyncs each copy with `sync FILE...`); returns the seconds."""
  files = sorted(os.path.join(os.path.dirname(src), f) for f in os.listdir(os.path.dirname(src))
                 if f.startswith(os.path.basename(src) + "."))
  os.makedirs(dst)
  start = time.perf_counter()
  subprocess.run(["cp", "--reflink=never", *files, dst], check=True)
  if sync:
    subprocess.run(["sync", *(os.path.join(dst, os.path.basename(f)) for f in files)], check=True)
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


def filesystem_type(path: str) -> str:
  """The type of the filesystem holding `path`, as `stat -f` names it ("xfs", "ext2/ext3" for ext4, ...)."""
  out = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True, check=False)
  return out.stdout.strip() or "unknown"


def _measure(spec: dict) -> dict:
  """Runs one method in this process: imports, baseline, conversion; returns seconds and peak RSS."""
  method, src, dst = spec["method"], spec["src"], spec["dst"]
  if method.startswith("cp"):
    seconds = _cp(src, dst, sync=method == "cp_sync")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"seconds": seconds, "peak_above_baseline": peak, "baseline_rss": 0,
            "baseline": "the cp process's own peak RSS"}

  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if method == "recipe":
    baseline = "after importing tensorflow"
  else:
    import keras_bridge  # pylint: disable=g-import-not-at-top
    convert = keras_bridge.convert_checkpoint  # A lazy attribute: the import of its module is not timed.
    model = _model(spec["num_vars"], spec["n"])
    baseline = "after importing tensorflow, keras, keras_bridge and building the Keras model"
  cp_before = _cp_beside(src, dst)
  os.sync()
  base = _status("VmRSS")
  _reset_peak()
  start = time.perf_counter()
  extra = {}
  if method == "recipe":
    reader = tf.train.load_checkpoint(src)
    variables = {key: tf.Variable(reader.get_tensor(key)) for key in reader.get_variable_to_dtype_map()}
    tf.train.Checkpoint(vars=variables).write(dst)
  elif method == "bridge_h5":
    report = convert(src, dst + ".weights.h5", model)
    extra = {"verified": report.verified}
  else:
    report = convert(src, dst, model, **_BRIDGE_ARGS[method])
    extra = {"data": report.data, "verified": report.verified}
  seconds = time.perf_counter() - start
  peak = _status("VmHWM") - base
  cp_after = _cp_beside(src, dst)
  return {"seconds": seconds, "peak_above_baseline": peak, "baseline_rss": base, "baseline": baseline,
          "cp_beside_seconds": [cp_before, cp_after], **extra}


def _run_worker(spec: dict) -> dict:
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO_ROOT, os.environ.get("PYTHONPATH", "")]),
             TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
                       check=True, capture_output=True, text=True, env=env)
  return json.loads(out.stdout.strip().splitlines()[-1])


_remove = _synthetic.remove


@contextlib.contextmanager
def xfs_mount(directory: str, size_bytes: int) -> Iterator[Optional[str]]:
  """A directory on a new XFS filesystem (reflink=1) of `size_bytes`, or None with the reason printed.

  The image is a sparse file in `directory`, loop-mounted inside `unshare -m` by a helper process that waits on
  its stdin; the mount is seen through `/proc/<helper>/root` and vanishes with the helper, even if this process
  is killed. The image is removed at the end.
  """
  why = ("needs root" if os.geteuid() != 0 else
         "needs mkfs.xfs (xfsprogs) and unshare" if not (shutil.which("mkfs.xfs") and shutil.which("unshare")) else "")
  if why:
    print(f"XFS methods left out: {why}.", file=sys.stderr)
    yield None
    return
  image, mountpoint = os.path.join(directory, "xfs.img"), os.path.join(directory, "xfs-mnt")
  os.makedirs(mountpoint, exist_ok=True)
  with open(image, "wb") as f:
    f.truncate(size_bytes)
  helper = None
  try:
    made = subprocess.run(["mkfs.xfs", "-q", "-m", "reflink=1", image], capture_output=True, text=True, check=False)
    if made.returncode == 0:
      helper = subprocess.Popen(  # pylint: disable=consider-using-with
          ["unshare", "-m", "--propagation", "private", "sh", "-c",
           f"mount -o loop {image} {mountpoint} && echo READY && read _"],
          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if helper is None or helper.stdout.readline().strip() != "READY":
      print(f"XFS methods left out: cannot make or mount an XFS image "
            f"({made.stderr.strip() or (helper.stderr.read().strip() if helper else '')}).", file=sys.stderr)
      yield None
    else:
      yield f"/proc/{helper.pid}/root{mountpoint}"
  finally:
    if helper is not None and helper.poll() is None:
      helper.stdin.close()
      helper.wait(timeout=60)
    os.remove(image)


def _rows(runs: dict, largest: int, filesystems: dict) -> List[dict]:
  rows = []
  for method, measured in runs.items():
    if not measured:
      continue
    base = "cp_xfs" if method in XFS_METHODS else "cp"
    cp_seconds = statistics.median(x["seconds"] for x in runs[base])
    seconds = statistics.median(x["seconds"] for x in measured)
    peak = max(x["peak_above_baseline"] for x in measured)
    row = {"method": method, "filesystem": filesystems[method], "seconds": seconds,
           "seconds_all": [x["seconds"] for x in measured], "baseline_cp": base, "ratio_to_cp": seconds / cp_seconds,
           "peak_rss_above_baseline_mib": peak / _MIB, "baseline_rss_mib": measured[0]["baseline_rss"] / _MIB,
           "baseline": measured[0]["baseline"], "largest_tensor_mib": largest / _MIB}
    for key in ("data", "verified"):
      if key in measured[0]:
        row[key] = measured[0][key]
    if not method.startswith("cp"):
      beside = statistics.median(t for x in measured for t in x["cp_beside_seconds"])
      row["cp_beside_seconds"] = beside
      row["ratio_to_cp_beside"] = seconds / beside
    if base == "cp" and runs.get("cp_sync"):
      row["ratio_to_cp_sync"] = seconds / statistics.median(x["seconds"] for x in runs["cp_sync"])
    if method in TIME_TARGETS:
      row["time_target_ratio"] = TIME_TARGETS[method]
      row["time_target_met"] = row["ratio_to_cp"] <= TIME_TARGETS[method]
      row["time_target_met_beside"] = row["ratio_to_cp_beside"] <= TIME_TARGETS[method]
      row["rss_target_mib"] = SMALL_CONSTANT_MIB + (largest / _MIB if method in _TENSOR_IN_RSS_TARGET else 0)
      row["rss_target_met"] = peak / _MIB <= row["rss_target_mib"]
    rows.append(row)
  return rows


def run_benchmark(size_gib: float = 2.0, num_vars: int = 32, workdir=None, json_path=None, keep=False,
                  repeats: int = 3, in_process: bool = False, xfs: bool = False) -> dict:
  """Generates the checkpoint, measures every method, prints the table; returns (and writes) the results.

  Args:
    size_gib, num_vars, workdir, json_path, keep, repeats: as the flags of the same names (one size).
    in_process: run the methods in this process instead of a fresh process each. Only for quick smoke
      tests: each peak then includes what earlier methods left behind, and `cp`'s is the largest of all
      children of this process so far.
    xfs: also run `XFS_METHODS` on an XFS loop mount (see `xfs_mount`).

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
    runs = {m: [] for m in METHODS + XFS_METHODS}
    filesystems = {m: filesystem_type(workdir) for m in METHODS}

    def measure(methods, source, root):
      for r in range(repeats):
        for method in methods:
          dst = os.path.join(root, f"out-{method}-{r}", "ckpt")
          os.sync()
          spec = {"method": method, "src": source, "dst": dst, "n": n, "num_vars": num_vars}
          runs[method].append(_measure(spec) if in_process else _run_worker(spec))
          _remove(os.path.dirname(dst))

    measure(METHODS, src, workdir)
    if xfs:
      # The source, a cp reference and one output at a time, with room for XFS's own metadata.
      with xfs_mount(workdir, 3 * ckpt_bytes + (1 << 30)) as mount:
        if mount is not None:
          xfs_src = os.path.join(mount, "src", "model.ckpt")
          _cp(src, os.path.dirname(xfs_src))
          filesystems.update({m: filesystem_type(mount) for m in XFS_METHODS})
          measure(XFS_METHODS, xfs_src, mount)
    results = {
        "config": {"size_gib": size_gib, "num_vars": num_vars, "kernel_shape": [n, n], "tensors": 2 * num_vars,
                   "checkpoint_bytes": ckpt_bytes, "largest_tensor_bytes": largest, "repeats": repeats,
                   "generate_seconds": generate_seconds, "small_constant_mib": SMALL_CONSTANT_MIB,
                   "time_targets": TIME_TARGETS, "cpus": os.cpu_count(), "in_process": in_process},
        "rows": _rows(runs, largest, filesystems),
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


def growth(small: dict, large: dict) -> List[dict]:
  """Per method, how seconds and peak RSS grow from the `small` to the `large` run (ratios)."""
  factor = large["config"]["checkpoint_bytes"] / small["config"]["checkpoint_bytes"]
  before = {r["method"]: r for r in small["rows"]}
  out = []
  for r in large["rows"]:
    s = before.get(r["method"])
    if s is None:
      continue
    out.append({"method": r["method"], "size_factor": factor, "seconds_growth": r["seconds"] / s["seconds"],
                "peak_rss_growth_mib": r["peak_rss_above_baseline_mib"] - s["peak_rss_above_baseline_mib"],
                "ratio_to_cp": [s["ratio_to_cp"], r["ratio_to_cp"]]})
  return out


def format_growth(rows: List[dict], small_gib: float, large_gib: float) -> str:
  header = ("method", f"seconds x ({small_gib} -> {large_gib} GiB)", "peak RSS change (MiB)", "x cp (small, large)")
  table = [(g["method"], f"{g['seconds_growth']:.2f} (bytes x{g['size_factor']:.1f})",
            f"{g['peak_rss_growth_mib']:+.0f}", f"{g['ratio_to_cp'][0]:.2f}, {g['ratio_to_cp'][1]:.2f}") for g in rows]
  return _table(header, table)


def _table(header, rows) -> str:
  widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(header)]
  fmt = "  ".join("{:<%d}" % w for w in widths)
  return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows])


def format_table(results: dict) -> str:
  """The results as a fixed-width table."""
  c = results["config"]
  header = ("method", "fs", "seconds", "x cp", "x cp beside", "x cp_sync", "peak RSS above baseline (MiB)",
            "targets")
  rows = []
  for r in results["rows"]:
    targets = ""
    if "time_target_met" in r and c["size_gib"] < _JUDGED_GIB:
      targets = f"not judged (< {_JUDGED_GIB} GiB)"
    elif "time_target_met" in r:
      met = lambda ok: "met" if ok else "MISSED"
      targets = (f"time <= {r['time_target_ratio']}x {met(r['time_target_met'])} / beside "
                 f"{met(r['time_target_met_beside'])}, RSS <= {r['rss_target_mib']:.0f} {met(r['rss_target_met'])}")
    beside = f"{r['ratio_to_cp_beside']:.2f}" if "ratio_to_cp_beside" in r else "-"
    synced = f"{r['ratio_to_cp_sync']:.2f}" if "ratio_to_cp_sync" in r else "-"
    rows.append((r["method"], r["filesystem"], f"{r['seconds']:.2f}", f"{r['ratio_to_cp']:.2f}", beside, synced,
                 f"{r['peak_rss_above_baseline_mib']:.0f}", targets))
  return "\n".join([
      f"Checkpoint: {c['checkpoint_bytes'] / (1 << 30):.2f} GiB in {c['tensors']} tensors ({c['num_vars']} kernels "
      f"{c['kernel_shape']} float32 + biases, largest {c['largest_tensor_bytes'] / _MIB:.0f} MiB); median of "
      f"{c['repeats']} run(s); {c['cpus']} CPUs",
      _table(header, rows),
      "'x cp': against `cp --reflink=never` of the same files on the same filesystem (cp_xfs for the XFS rows); "
      "'x cp beside': against cp timed in the same worker right before and after the conversion (median); "
      "'x cp_sync': against cp followed by an fsync of each copy, as the bridge's commit requires."])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _WORKER.value:
    print(json.dumps(_measure(json.loads(_WORKER.value))))
    return
  json_path = _JSON.value or (os.path.join(REPO_ROOT, "benchmarks", "results", "convert.json")
                              if _UPDATE_COMMITTED.value else os.path.join("runs", "benchmarks", "convert.json"))
  try:
    sizes = [float(x) for x in _SIZES_GIB.value]
  except ValueError as e:
    raise app.UsageError(f"--sizes_gib={','.join(_SIZES_GIB.value)}: {e}; give sizes in GiB, e.g. 0.25,2") from e
  by_size = []
  for size in sizes:
    workdir = os.path.join(_WORKDIR.value, f"{size:g}gib") if _WORKDIR.value else None
    by_size.append(run_benchmark(size, _NUM_VARS.value, workdir, None, _KEEP.value, _REPEATS.value, xfs=_XFS.value))
  results = {"sizes": by_size}
  if len(by_size) > 1:
    results["growth"] = growth(by_size[0], by_size[-1])
    print(format_growth(results["growth"], sizes[0], sizes[-1]))
  os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
  with open(json_path, "w") as f:
    json.dump(results, f, indent=2)
  print(f"Results: {json_path}")


if __name__ == "__main__":
  app.run(main)
