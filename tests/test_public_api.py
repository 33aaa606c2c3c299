"""The package faces are deliberate: `__all__` is pinned, and every listed name resolves."""

import keras_bridge
import tf1_reference


def test_keras_bridge_all_is_pinned():
  assert sorted(keras_bridge.__all__) == sorted([
      "Error", "CheckpointFormatError", "CheckpointNotFoundError", "MappingError", "OptimizerStateError",
      "OutputExistsError", "ArgumentError", "OutputBusyError", "StorageError", "canonical_weights", "DEFAULT_RULES",
      "build_mapping", "MappingReport", "Match",
      "resolve_checkpoint", "checkpoint_format", "read_variables", "load_tf1_checkpoint", "save_tf1_checkpoint",
      "convert_checkpoint", "ConversionReport", "detect_format", "FORMATS", "inspect_checkpoint", "CheckpointInfo",
      "diff_checkpoints", "CheckpointDiff", "load_tf1_training_state", "save_tf1_training_state",
      "keras_optimizer_from_tf1", "tf1_optimizer_from_keras", "tf1_optimizer_spec", "TF1OptimizerSpec",
      "TrainingStateReport", "OptimizerStateReport", "SlotMatch", "tf1_optimizers_in_graph", "Twin",
      "Comparison", "TrainingComparison",
      "copy_weights", "copy_weights_via_checkpoint", "compare_weights", "compare_outputs", "compare_training",
      "CPU_FORWARD_TOL", "CPU_TRAINING_TOL", "CPU_CHECKPOINT_TOL", "GPU_FORWARD_TOL", "GPU_TRAINING_TOL",
      "GPU_TF32_TOL", "format_table", "twins",
      "CPU_IMPORT_RTOL", "import_tf1_graph", "ImportResult", "GraphImportError", "UnsupportedGraphError", "importer",
      "strategy_from_flags", "DistributedTrainer",
  ])


def test_keras_bridge_twins_all_is_pinned():
  assert sorted(keras_bridge.twins.__all__) == sorted([
      "models", "dnn_twin", "image_filter_twin", "shared_fc_twin", "affine_reuseable_twin", "auto_reuse_twin",
      "gan_twin", "datasets", "training", "checkpoints", "verification", "migration", "seed_examples", "progress",
      "plots", "quiet",
  ])


def test_moved_names_still_resolve():
  """`keras_bridge.models` and the twin builders moved to `keras_bridge.twins`; the old names still work."""
  assert keras_bridge.models is keras_bridge.twins.models
  assert keras_bridge.dnn_twin is keras_bridge.twins.dnn_twin
  assert "load_tf1_checkpoint" in dir(keras_bridge) and "models" in dir(keras_bridge)


def test_tf1_reference_all_is_pinned():
  assert sorted(tf1_reference.__all__) == sorted([
      "checkpointing", "distributed", "dnn", "finetune", "gan", "params", "sharing", "variables", "build_tensor_ranks",
      "build_get_variable_initializers", "build_using_variables", "build_assignment", "build_assign_ones",
      "conv_relu", "my_image_filter", "build_image_filter", "affine", "build_affine", "affine_reuseable",
      "build_affine_reuseable", "shared_layer", "build_auto_reuse", "build_shared_fc",
      "build_collection_by_scope", "get_collection_exact", "build_check_numerics", "build_device_placement",
      "build_save_graph", "build_restore_graph", "build_subset_graph", "build_training_graph", "loadmodel",
      "periodic_resumable", "build_frozen_graph", "build_gan", "GANGraph", "scope_variables",
      "trainable_scope_variables", "build_dnn", "build_transfer_dnn", "DNNGraph", "reuse_vars_by_scope",
      "reuse_vars_exact", "build_pretrained", "build_fine_tune",
  ])


def test_every_exported_name_resolves():
  for package in (keras_bridge, keras_bridge.twins, tf1_reference):
    for name in package.__all__:
      assert getattr(package, name) is not None, f"{package.__name__}.{name}"


def test_one_error_base():
  """abseil style: every keras_bridge error derives from keras_bridge.Error."""
  for name in ("CheckpointFormatError", "CheckpointNotFoundError", "MappingError", "OptimizerStateError",
               "OutputExistsError", "ArgumentError", "OutputBusyError", "StorageError"):
    assert issubclass(getattr(keras_bridge, name), keras_bridge.Error)
