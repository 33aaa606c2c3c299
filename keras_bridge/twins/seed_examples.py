"""Every registered example of the seed documents, reproduced, in one table: OK or the erratum it shows."""

import sys
import time
from typing import List, Optional

from keras_bridge import _tables


def reproduce(only: Optional[str] = None, out=None, wrap: bool = True) -> List[dict]:
  """Runs the examples and prints the table; returns the rows as dicts (status "OK", "erratum" or "FAILED").

  Args:
    only: run only the examples whose seed file name starts with this.
    out: where the table goes; default `sys.stdout`.
    wrap: show each result in full, wrapped onto more lines; False cuts it to one line (the main job's
      table; `reproduce_seeds` and its `--report_json` give the full text).

  Returns:
    One dict per example: seed, section, example, status, result, seconds.
  """
  # The 004 Keras examples live in the bridge; importing the module registers their demos.
  from keras_bridge.twins import keras_examples  # noqa: F401  # pylint: disable=g-import-not-at-top,unused-import
  from tf1_reference import _registry  # pylint: disable=g-import-not-at-top

  out = out or sys.stdout
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
  # Seed files are named by their number (000..004); examples beyond the seed articles come last, as "ext".
  shown = sorted(rows, key=lambda r: not r["seed"][:1].isdigit())
  print(_tables.format_table([(r["seed"][:3] if r["seed"][:1].isdigit() else "ext",
                               r["example"].removeprefix("demo_"), r["status"].removeprefix("erratum "), r["result"])
                              for r in shown], ("seed", "example", "OK or erratum", "result"), max_width=_tables.WIDTH,
                             overflow="wrap" if wrap else "truncate"), file=out)
  if len(shown) > 0 and not shown[-1]["seed"][:1].isdigit():
    print("ext: an example beyond the seed articles (docs/ERRATA.md lists the articles).", file=out)
  n_failed = sum(r["status"] == "FAILED" for r in rows)
  n_errata = sum(r["status"].startswith("erratum") for r in rows)
  print(f"\n{len(rows)} examples reproduced: {len(rows) - n_errata - n_failed} OK, {n_errata} errata "
        f"(see docs/ERRATA.md), {n_failed} failed", file=out)
  return rows
