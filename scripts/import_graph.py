"""Imports a TF1 model (MetaGraph + name-based checkpoint) as a Keras 3 model, with no hand-written twin.

Writes, into --out_dir: model.py (the model's source: ordinary Keras layers, build_model(), TF1_NAMES),
model.weights.h5, an object-based checkpoint (ckpt/), model.keras and report.txt (every TF1 node and the
Keras layer it became, then the verification), after checking the model against the TF1 graph itself on the
same probe inputs. Ops without a Keras equivalent: exit 2, one line per node.

Examples:
  python -m scripts.import_graph --checkpoint=runs/migrate/tf1_transfer --out_dir=runs/imported
  python -m scripts.import_graph --checkpoint=model.ckpt-1000 --feeds=keep_prob:0=1.0,training:0=false \\
      --outputs=logits/BiasAdd:0 --out_dir=out

The work is `keras_bridge.importer.import_to_directory` (`import_tf1_graph`, `verify`, `export`).
"""

from absl import flags

from . import _cli

_INPUTS = flags.DEFINE_list("inputs", None, "TF1 input tensor names (e.g. input/X:0); default: the "
                            "placeholders that reach the outputs, less --feeds and the loss's labels.")
_OUTPUTS = flags.DEFINE_list("outputs", None, "TF1 output tensor names; default: what the loss op is "
                             "computed from, and the softmax/sigmoid on it.")
_FEEDS = flags.DEFINE_list("feeds", [], "name=value pairs fixed for inference, e.g. keep_prob:0=1.0,"
                           "training:0=false.")
_DROPOUT_RATES = flags.DEFINE_list("dropout_rates", [], "scope_or_placeholder=rate pairs for dropouts whose "
                                   "training rate the graph does not hold.")
_OUT_DIR = flags.DEFINE_string("out_dir", None, "Directory to write model.py, model.weights.h5, ckpt/, "
                               "model.keras and report.txt into.")

for _name in ("checkpoint", "overwrite", "meta"):
  flags.declare_key_flag(_name)


def _value(text: str):
  low = text.strip().lower()
  if low in ("true", "false"):
    return low == "true"
  try:
    return int(low)
  except ValueError:
    return float(low)


def _pairs(items, flag):
  out, bad = {}, []
  for item in items:
    name, sep, value = item.rpartition("=")
    try:
      out[name] = _value(value)
    except ValueError:
      bad.append(item)
    if not sep or not name:
      bad.append(item)
  _cli.require([f"--{flag} takes name=value pairs (e.g. keep_prob:0=1.0); received {sorted(set(bad))}"
                if bad else ""])
  return out


def main(argv):
  _cli.no_positional_args(argv)
  _cli.require(["--checkpoint is required: the TF1 checkpoint (prefix, directory or one of its files)."
                if not _cli.CHECKPOINT.value else "",
                "--out_dir is required: where to write the imported model." if not _OUT_DIR.value else ""])
  feeds = _pairs(_FEEDS.value, "feeds")
  rates = _pairs(_DROPOUT_RATES.value, "dropout_rates")
  with _cli.tensorflow_quietly():
    from keras_bridge import importer  # pylint: disable=g-import-not-at-top
  result, verification, paths = importer.import_to_directory(
      _cli.CHECKPOINT.value, _OUT_DIR.value, meta=_cli.META.value, inputs=_INPUTS.value, outputs=_OUTPUTS.value,
      feeds=feeds, dropout_rates=rates, overwrite=_cli.OVERWRITE.value)
  layers = len(result.report.layers)
  print(f"Imported {result.meta} into {layers} Keras layer(s); inputs {result.inputs}, outputs "
        f"{result.outputs}.")
  print(verification)
  print(f"Max |difference| against the TF1 graph: {verification.max_diff:.3g} "
        f"({'equal' if verification.ok else 'NOT equal'} within 1e-5 * max(1, max|y|)).")
  for note in result.report.notes:
    print(f"Note: {note}")
  print("Wrote " + ", ".join(paths[k] for k in ("source", "weights", "checkpoint", "keras", "report")))
  return 0 if verification.ok else 1


def run():
  _cli.run(main)


if __name__ == "__main__":
  run()
