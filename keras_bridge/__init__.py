"""keras_bridge: TF1 name-based checkpoints <-> Keras 3 models, optimizer state included.

- Load and save: `load_tf1_checkpoint`, `save_tf1_checkpoint` (with a `MappingReport` of every match and miss).
- Convert and inspect: `convert_checkpoint` (name-based <-> object-based <-> `.weights.h5`), `inspect_checkpoint`,
  `diff_checkpoints`.
- Optimizer state: `load_tf1_training_state`, `save_tf1_training_state`, and `tf1_optimizers_in_graph` to read
  a graph's TF1 optimizers and hyperparameters (see docs/OPTIMIZERS.md).
- Proof: `compare_outputs`, `compare_training`, the generic equivalence harness.
- Several devices and machines: `strategy_from_flags`, `DistributedTrainer` (a custom step under
  `tf.distribute`); the load and save functions work on models created under a strategy, and only the chief
  writes (`keras_bridge._distributed`).
- Graph import: `import_tf1_graph` turns a TF1 MetaGraph + checkpoint into a Keras 3 model of ordinary
  layers, its source code and a proof, with no hand-written twin (`keras_bridge.importer`).
- `keras_bridge.twins`: Keras 3 twins of every `tf1_reference` model (`keras_bridge.twins.models`, also
  reachable as `keras_bridge.models`) and the fixtures that pair them with their TF1 graphs.

Canonical weight paths and the default TF1 rules are described in `keras_bridge._naming`.

The package is lazy: `import keras_bridge` imports neither TensorFlow nor Keras; each name imports its module
on first use, so a script's flags and `--help` cost nothing and the core never loads `tf1_reference`.
"""

import importlib

# Public name -> the private module that defines it.
_EXPORTS = {
    # Errors.
    "Error": "_errors",
    "CheckpointFormatError": "_errors",
    "CheckpointNotFoundError": "_errors",
    "MappingError": "_errors",
    "OptimizerStateError": "_errors",
    "OutputExistsError": "_errors",
    "ArgumentError": "_errors",
    "OutputBusyError": "_errors",
    "StorageError": "_errors",
    # Naming and mapping.
    "canonical_weights": "_naming",
    "DEFAULT_RULES": "_naming",
    "build_mapping": "_mapping",
    "MappingReport": "_mapping",
    "Match": "_mapping",
    # Name-based (TF1) checkpoints.
    "resolve_checkpoint": "_tf1_checkpoint",
    "checkpoint_format": "_tf1_checkpoint",
    "read_variables": "_tf1_checkpoint",
    "load_tf1_checkpoint": "_tf1_checkpoint",
    "save_tf1_checkpoint": "_tf1_checkpoint",
    # Conversion and inspection.
    "convert_checkpoint": "_convert",
    "ConversionReport": "_convert",
    "detect_format": "_convert",
    "FORMATS": "_format_names",
    "inspect_checkpoint": "_inspect",
    "CheckpointInfo": "_inspect",
    "diff_checkpoints": "_inspect",
    "CheckpointDiff": "_inspect",
    # Optimizer state.
    "load_tf1_training_state": "_optimizers",
    "save_tf1_training_state": "_optimizers",
    "keras_optimizer_from_tf1": "_optimizers",
    "tf1_optimizer_from_keras": "_optimizers",
    "tf1_optimizer_spec": "_optimizers",
    "TF1OptimizerSpec": "_optimizers",
    "TrainingStateReport": "_optimizers",
    "OptimizerStateReport": "_optimizers",
    "SlotMatch": "_optimizers",
    "tf1_optimizers_in_graph": "_graph_optimizers",
    # Equivalence harness.
    "Twin": "_equivalence",
    "Comparison": "_equivalence",
    "TrainingComparison": "_equivalence",
    "copy_weights": "_equivalence",
    "copy_weights_via_checkpoint": "_equivalence",
    "compare_weights": "_equivalence",
    "compare_outputs": "_equivalence",
    "compare_training": "_equivalence",
    # Tolerances of "the same model", one per purpose.
    "CPU_FORWARD_TOL": "_tolerances",
    "CPU_TRAINING_TOL": "_tolerances",
    "CPU_CHECKPOINT_TOL": "_tolerances",
    "GPU_FORWARD_TOL": "_tolerances",
    "GPU_TRAINING_TOL": "_tolerances",
    "GPU_TF32_TOL": "_tolerances",
    "CPU_IMPORT_RTOL": "_tolerances",
    # Reports.
    "format_table": "_tables",
    # Training under tf.distribute: strategies from flags, a custom step, chief-only writes.
    "strategy_from_flags": "_distributed",
    "DistributedTrainer": "_distributed",
    # Graph import: a TF1 MetaGraph + checkpoint as a Keras 3 model, no twin needed (keras_bridge.importer).
    "import_tf1_graph": "importer",
    "ImportResult": "importer",
    "GraphImportError": "importer",
    "UnsupportedGraphError": "importer",
}

# Submodules reachable as attributes: the twins subpackage and its `models` under its older name.
_SUBMODULES = {"twins": "keras_bridge.twins", "importer": "keras_bridge.importer",
               "models": "keras_bridge.twins.models"}

# Names that moved to `keras_bridge.twins`; still reachable here, no longer part of `__all__`.
_MOVED = {name: "keras_bridge.twins" for name in (
    "dnn_twin", "image_filter_twin", "shared_fc_twin", "affine_reuseable_twin", "auto_reuse_twin", "gan_twin")}

__all__ = tuple(_EXPORTS) + ("twins", "importer")


def __getattr__(name):
  if name in _EXPORTS:
    value = getattr(importlib.import_module(f"keras_bridge.{_EXPORTS[name]}"), name)
  elif name in _SUBMODULES:
    value = importlib.import_module(_SUBMODULES[name])
  elif name in _MOVED:
    value = getattr(importlib.import_module(_MOVED[name]), name)
  else:
    raise AttributeError(f"module 'keras_bridge' has no attribute {name!r}")
  globals()[name] = value  # Later lookups skip __getattr__.
  return value


def __dir__():
  return sorted(set(globals()) | set(__all__) | set(_SUBMODULES) | set(_MOVED))
