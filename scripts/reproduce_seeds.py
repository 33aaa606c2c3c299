"""Reproduces every registered seed example and prints a table: seed, example, OK or erratum, result.

Each example of the five source articles runs in TF1 graph mode; an example whose article is wrong for TF 2.21
shows the erratum it reproduces (docs/ERRATA.md). The main job prints the same table, cut to one line a row.
The work is `keras_bridge.twins.seed_examples.reproduce`.

Example: python -m scripts.reproduce_seeds --only=003 --report_json=report.json
"""

import json

from absl import flags

from . import _cli

_ONLY = flags.DEFINE_string("only", None, "Run only examples whose seed file name starts with this.")
_JSON = flags.DEFINE_string("report_json", None, "Also write the table as JSON to this path.")


def main(argv):
  _cli.no_positional_args(argv)
  with _cli.tensorflow_quietly():
    from keras_bridge.twins import seed_examples  # pylint: disable=g-import-not-at-top

  rows = seed_examples.reproduce(_ONLY.value)
  if _JSON.value:
    with open(_JSON.value, "w", encoding="utf-8") as f:
      json.dump(rows, f, ensure_ascii=False, indent=2)
  return 1 if any(r["status"] == "FAILED" for r in rows) else 0


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
