"""Reproduces every registered seed example and prints a table: seed, section, example, OK/erratum, result.

Usage: python -m scripts.reproduce_seeds [--only=003] [--report_json=report.json]
"""

import json
import sys
import time

from absl import flags

from scripts import _common

_ONLY = flags.DEFINE_string("only", None, "Run only examples whose seed file name starts with this.")
_JSON = flags.DEFINE_string("report_json", None, "Also write the table as JSON to this path.")


def report(only=None, out=sys.stdout):
  """Runs the examples and prints the table; returns the rows as dicts (status "OK", "erratum" or "FAILED")."""
  # The 004 Keras examples live in the bridge; importing the module registers their demos.
  from keras_bridge.twins import keras_examples  # noqa: F401  # pylint: disable=g-import-not-at-top,unused-import
  from tf1_reference import _registry  # pylint: disable=g-import-not-at-top

  rows = []
  for ex in _registry.examples():
    if only and not ex.seed.startswith(only):
      continue
    start = time.perf_counter()
    try:
      result = ex.run()
      status = f"erratum {ex.erratum}" if ex.erratum else "OK"
    except Exception as e:  # pylint: disable=broad-except
      result, status = f"{type(e).__name__}: {e}".splitlines()[0], "FAILED"
    rows.append({"seed": ex.seed, "section": ex.section, "example": ex.name, "status": status,
                 "result": result, "seconds": round(time.perf_counter() - start, 3)})
  widths = {"seed": 26, "example": max([len(r["example"]) for r in rows] + [7]),
            "status": max([len(r["status"]) for r in rows] + [6])}
  print(f"{'seed':<{widths['seed']}} {'example':<{widths['example']}} {'status':<{widths['status']}} result",
        file=out)
  for r in rows:
    print(f"{r['seed']:<{widths['seed']}} {r['example']:<{widths['example']}} {r['status']:<{widths['status']}} "
          f"{r['result']}", file=out)
  n_failed = sum(r["status"] == "FAILED" for r in rows)
  n_errata = sum(r["status"].startswith("erratum") for r in rows)
  print(f"\n{len(rows)} examples reproduced: {len(rows) - n_errata - n_failed} OK, {n_errata} errata "
        f"(see docs/ERRATA.md), {n_failed} failed", file=out)
  return rows


def main(argv):
  _common.no_positional_args(argv)
  rows = report(_ONLY.value)
  if _JSON.value:
    with open(_JSON.value, "w", encoding="utf-8") as f:
      json.dump(rows, f, ensure_ascii=False, indent=2)
  return 1 if any(r["status"] == "FAILED" for r in rows) else 0


def run():
  _common.run(main)


if __name__ == "__main__":
  run()
