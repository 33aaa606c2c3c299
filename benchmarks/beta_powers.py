"""Benchmark: `save_tf1_training_state` at huge step counts, where Adam's beta powers must be replayed.

TF1 holds `beta1_power` as float32(beta1) multiplied by float32(beta1) once per step; `pow` does not reproduce
it, so the bridge replays the multiplications (`keras_bridge._beta_powers`) in fixed chunks and stops at the
underflow (87,293 steps for 0.999). Target (issue 10): saving at step 1e9 in <= 0.1 s, memory independent of
the step. The model is the tiny DNN (5-4-3) so that the powers dominate; each row is the median of --repeats
saves, with the peak of Python allocations (tracemalloc) during one save.

    python benchmarks/beta_powers.py                                 # steps 1e3 .. 1e9, 5 runs each
    python benchmarks/beta_powers.py --repeats=1 --results_json=/tmp/beta.json   # smoke run

Prints a table and writes JSON (default: runs/benchmarks/beta_powers.json).
"""

import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc

from absl import app
from absl import flags

_REPEATS = flags.DEFINE_integer("repeats", 5, "Saves per step count; the table gives the median.")
_RESULTS = flags.DEFINE_string("results_json", "runs/benchmarks/beta_powers.json", "Where to write the JSON.")
STEPS = (10**3, 10**5, 10**8, 10**9)


def measure(steps, repeats, directory):
  """(median seconds of one save, peak traced bytes of one save) at `iterations = steps`."""
  import keras  # pylint: disable=import-outside-toplevel
  from keras_bridge import _optimizers  # pylint: disable=import-outside-toplevel
  from keras_bridge import _beta_powers  # pylint: disable=import-outside-toplevel
  inputs = keras.Input((5,))
  model = keras.Model(inputs, keras.layers.Dense(3, name="out")(keras.layers.Dense(4, name="h1")(inputs)))
  optimizer = keras.optimizers.Adam(0.01)
  optimizer.build(model.trainable_variables)
  optimizer.iterations.assign(steps)
  times = []
  for i in range(repeats):
    _beta_powers.underflow_step.cache_clear()  # Every save pays for the replay.
    start = time.perf_counter()
    _optimizers.save_tf1_training_state(model, optimizer, os.path.join(directory, f"{steps}-{i}", "model.ckpt"))
    times.append(time.perf_counter() - start)
  _beta_powers.underflow_step.cache_clear()
  tracemalloc.start()
  _optimizers.save_tf1_training_state(model, optimizer, os.path.join(directory, f"{steps}-peak", "model.ckpt"))
  peak = tracemalloc.get_traced_memory()[1]
  tracemalloc.stop()
  return statistics.median(times), peak


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  rows = []
  with tempfile.TemporaryDirectory() as directory:
    for steps in STEPS:
      seconds, peak = measure(steps, _REPEATS.value, directory)
      rows.append({"steps": steps, "seconds": seconds, "peak_traced_kib": peak / 1024})
  print(f"{'steps':>12} {'save (s)':>10} {'peak traced (KiB)':>18}")
  for r in rows:
    print(f"{r['steps']:>12.0e} {r['seconds']:>10.4f} {r['peak_traced_kib']:>18.1f}")
  os.makedirs(os.path.dirname(os.path.abspath(_RESULTS.value)), exist_ok=True)
  with open(_RESULTS.value, "w") as f:
    json.dump({"repeats": _REPEATS.value, "rows": rows, "target_seconds_at_1e9": 0.1}, f, indent=2)
  print(f"Wrote {_RESULTS.value}")
  return 0


if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  app.run(main)
