"""Keras 3 twins of the `tf1_reference` models, the fixtures that pair them with their TF1 graphs, and the runs.

This subpackage is the only part of `keras_bridge` that imports `tf1_reference`; the bridge's core (naming,
mapping, checkpoints, formats, optimizer state, inspection, the equivalence harness) works without it.

- `models`: the Keras 3 twins (`dnn`, `transfer_dnn`, `image_filter`, `shared_fc`, `affine_reuseable`,
  `auto_reuse`, `GAN`).
- `dnn_twin` ... `gan_twin`: a reference graph in a live session paired with its twin, for
  `keras_bridge.compare_outputs` and `keras_bridge.compare_training`.
- The work behind the scripts, one module each: `datasets` (digits, MNIST), `training` (the TF1 runs of the
  002 DNN, its transfer learning and the 003 GAN), `checkpoints` (a twin's sizes read off a checkpoint,
  conversion and inspection by twin), `verification` (one checkpoint in TF1 and in Keras, layer by layer),
  `migration` (the whole story), `seed_examples` (the table of reproduced seed examples), `progress`,
  `plots` and `quiet` (TensorFlow's logging kept off a script's terminal).

Like `keras_bridge`, the subpackage is lazy: each name imports its module on first use, so `datasets`,
`progress` and `quiet` can be read by command-line flags without loading TensorFlow.
"""

import importlib

# Public name -> the module that defines it.
_EXPORTS = {
    "dnn_twin": "_fixtures",
    "image_filter_twin": "_fixtures",
    "shared_fc_twin": "_fixtures",
    "affine_reuseable_twin": "_fixtures",
    "auto_reuse_twin": "_fixtures",
    "gan_twin": "_fixtures",
}
_SUBMODULES = ("models", "datasets", "training", "checkpoints", "verification", "migration", "seed_examples",
               "progress", "plots", "quiet")

__all__ = (
    # Keras 3 twins.
    "models",
    # Reference graph + twin pairs.
    "dnn_twin",
    "image_filter_twin",
    "shared_fc_twin",
    "affine_reuseable_twin",
    "auto_reuse_twin",
    "gan_twin",
    # The runs behind the scripts.
    "datasets",
    "training",
    "checkpoints",
    "verification",
    "migration",
    "seed_examples",
    "progress",
    "plots",
    "quiet",
)


def __getattr__(name):
  if name in _EXPORTS:
    value = getattr(importlib.import_module(f"keras_bridge.twins.{_EXPORTS[name]}"), name)
  elif name in _SUBMODULES:
    value = importlib.import_module(f"keras_bridge.twins.{name}")
  else:
    raise AttributeError(f"module 'keras_bridge.twins' has no attribute {name!r}")
  globals()[name] = value  # Later lookups skip __getattr__.
  return value


def __dir__():
  return sorted(set(globals()) | set(__all__))
