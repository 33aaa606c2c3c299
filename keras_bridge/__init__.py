"""keras_bridge: TF1 name-based checkpoints <-> Keras 3 models, optimizer state included.

- Load and save: `load_tf1_checkpoint`, `save_tf1_checkpoint` (with a `MappingReport` of every match and miss).
- Convert and inspect: `convert_checkpoint` (name-based <-> object-based <-> `.weights.h5`), `inspect_checkpoint`,
  `diff_checkpoints`.
- Optimizer state: `load_tf1_training_state`, `save_tf1_training_state` (see docs/OPTIMIZERS.md).
- Proof: `compare_outputs`, `compare_training` and the twin builders of the equivalence harness.
- `keras_bridge.models`: Keras 3 twins of every `tf1_reference` model.

Canonical weight paths and the default TF1 rules are described in `keras_bridge._naming`.
"""

from keras_bridge import models
from keras_bridge._equivalence import affine_reuseable_twin
from keras_bridge._equivalence import auto_reuse_twin
from keras_bridge._equivalence import Comparison
from keras_bridge._equivalence import compare_outputs
from keras_bridge._equivalence import compare_training
from keras_bridge._equivalence import compare_weights
from keras_bridge._equivalence import copy_weights
from keras_bridge._equivalence import copy_weights_via_checkpoint
from keras_bridge._equivalence import CPU_FORWARD_TOL
from keras_bridge._equivalence import CPU_TRAINING_TOL
from keras_bridge._equivalence import dnn_twin
from keras_bridge._equivalence import gan_twin
from keras_bridge._equivalence import GPU_FORWARD_TOL
from keras_bridge._equivalence import GPU_TRAINING_TOL
from keras_bridge._equivalence import image_filter_twin
from keras_bridge._equivalence import shared_fc_twin
from keras_bridge._equivalence import TrainingComparison
from keras_bridge._equivalence import Twin
from keras_bridge._errors import CheckpointFormatError
from keras_bridge._errors import CheckpointNotFoundError
from keras_bridge._errors import Error
from keras_bridge._errors import MappingError
from keras_bridge._errors import OptimizerStateError
from keras_bridge._errors import OutputExistsError
from keras_bridge._formats import ConversionReport
from keras_bridge._formats import convert_checkpoint
from keras_bridge._formats import detect_format
from keras_bridge._inspect import CheckpointDiff
from keras_bridge._inspect import CheckpointInfo
from keras_bridge._inspect import diff_checkpoints
from keras_bridge._inspect import inspect_checkpoint
from keras_bridge._mapping import build_mapping
from keras_bridge._mapping import MappingReport
from keras_bridge._mapping import Match
from keras_bridge._naming import canonical_weights
from keras_bridge._naming import DEFAULT_RULES
from keras_bridge._optimizers import keras_optimizer_from_tf1
from keras_bridge._optimizers import load_tf1_training_state
from keras_bridge._optimizers import OptimizerStateReport
from keras_bridge._optimizers import save_tf1_training_state
from keras_bridge._optimizers import SlotMatch
from keras_bridge._optimizers import tf1_optimizer_from_keras
from keras_bridge._optimizers import tf1_optimizer_spec
from keras_bridge._optimizers import TF1OptimizerSpec
from keras_bridge._optimizers import TrainingStateReport
from keras_bridge._tf1_checkpoint import checkpoint_format
from keras_bridge._tf1_checkpoint import load_tf1_checkpoint
from keras_bridge._tf1_checkpoint import read_variables
from keras_bridge._tf1_checkpoint import resolve_checkpoint
from keras_bridge._tf1_checkpoint import save_tf1_checkpoint

__all__ = (
    # Errors.
    "Error",
    "CheckpointFormatError",
    "CheckpointNotFoundError",
    "MappingError",
    "OptimizerStateError",
    "OutputExistsError",
    # Naming and mapping.
    "canonical_weights",
    "DEFAULT_RULES",
    "build_mapping",
    "MappingReport",
    "Match",
    # Name-based (TF1) checkpoints.
    "resolve_checkpoint",
    "checkpoint_format",
    "read_variables",
    "load_tf1_checkpoint",
    "save_tf1_checkpoint",
    # Conversion and inspection.
    "convert_checkpoint",
    "ConversionReport",
    "detect_format",
    "inspect_checkpoint",
    "CheckpointInfo",
    "diff_checkpoints",
    "CheckpointDiff",
    # Optimizer state.
    "load_tf1_training_state",
    "save_tf1_training_state",
    "keras_optimizer_from_tf1",
    "tf1_optimizer_from_keras",
    "tf1_optimizer_spec",
    "TF1OptimizerSpec",
    "TrainingStateReport",
    "OptimizerStateReport",
    "SlotMatch",
    # Equivalence harness.
    "Twin",
    "Comparison",
    "TrainingComparison",
    "copy_weights",
    "copy_weights_via_checkpoint",
    "compare_weights",
    "compare_outputs",
    "compare_training",
    "dnn_twin",
    "image_filter_twin",
    "shared_fc_twin",
    "affine_reuseable_twin",
    "auto_reuse_twin",
    "gan_twin",
    "CPU_FORWARD_TOL",
    "CPU_TRAINING_TOL",
    "GPU_FORWARD_TOL",
    "GPU_TRAINING_TOL",
    # Keras 3 twins.
    "models",
)
