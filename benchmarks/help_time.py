"""Benchmark: how long each script's `--help` takes, as `python -m scripts.<name>` and as `tf1kb-<name>`.

`--help` parses flags and prints the module docstring; it imports neither TensorFlow nor Keras (tests check
that), so it should take well under 2 s (the target of issue 12). Each run is a fresh process, timed from
start to exit; the table gives the median of --repeats runs.

    python benchmarks/help_time.py                     # 5 runs each; JSON in runs/benchmarks/help_time.json
    python benchmarks/help_time.py --update_committed  # the same, over benchmarks/results/help_time.json

Entry points are timed only where they are installed (`pip install -e .` puts them beside the Python).
"""

import json
import os
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = ("migrate", "train_tf1", "transfer_tf1", "gan_tf1", "inspect_checkpoint", "convert_checkpoint",
           "verify_equivalence", "reproduce_seeds", "import_graph")
#: Seconds; issue 12's target for one `--help`.
TARGET_SECONDS = 2.0

_REPEATS = flags.DEFINE_integer("repeats", 5, "Runs of each command; the table gives the median.", lower_bound=1)
_RESULTS = flags.DEFINE_string("results_json", None, "Where to write the JSON; default: "
                               "runs/benchmarks/help_time.json, or the committed benchmarks/results/help_time.json "
                               "with --update_committed.")
_UPDATE_COMMITTED = flags.DEFINE_bool("update_committed", False, "Write the JSON over the committed results in "
                                      "benchmarks/results/.")


def _time(command, repeats):
  seconds = []
  for _ in range(repeats):
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, check=False)
    seconds.append(time.perf_counter() - start)
    if proc.returncode != 0:
      raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
  return seconds


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  bin_dir = os.path.dirname(sys.executable)
  rows = []
  for script in SCRIPTS:
    commands = [(f"python -m scripts.{script}", [sys.executable, "-m", f"scripts.{script}", "--help"])]
    entry = os.path.join(bin_dir, "tf1kb-" + script.replace("_", "-"))
    if os.path.exists(entry):
      commands.append((os.path.basename(entry), [entry, "--help"]))
    for name, command in commands:
      seconds = _time(command, _REPEATS.value)
      rows.append({"command": f"{name} --help", "median_seconds": statistics.median(seconds),
                   "seconds": seconds, "met": statistics.median(seconds) <= TARGET_SECONDS})
  width = max(len(r["command"]) for r in rows)
  print(f"--help, median of {_REPEATS.value} fresh processes; target <= {TARGET_SECONDS:g} s")
  print(f"{'command':<{width}}  seconds  target")
  print(f"{'-' * width}  -------  ------")
  for r in rows:
    print(f"{r['command']:<{width}}  {r['median_seconds']:7.2f}  {'met' if r['met'] else 'MISSED'}")
  json_path = _RESULTS.value or (os.path.join(REPO_ROOT, "benchmarks", "results", "help_time.json")
                                 if _UPDATE_COMMITTED.value else os.path.join("runs", "benchmarks", "help_time.json"))
  os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
  with open(json_path, "w", encoding="utf-8") as f:
    json.dump({"repeats": _REPEATS.value, "target_seconds": TARGET_SECONDS, "cpus": os.cpu_count(), "rows": rows},
              f, indent=2)
  print(f"Results: {json_path}")
  return 0


if __name__ == "__main__":
  app.run(main)
