"""keras_bridge: TF1 name-based checkpoints <-> Keras 3 models, optimizer state included."""

from keras_bridge._errors import CheckpointFormatError
from keras_bridge._errors import CheckpointNotFoundError
from keras_bridge._errors import Error
from keras_bridge._errors import MappingError
from keras_bridge._errors import OptimizerStateError
from keras_bridge._errors import OutputExistsError
from keras_bridge._naming import canonical_weights

__all__ = (
    # Errors.
    "Error",
    "CheckpointFormatError",
    "CheckpointNotFoundError",
    "MappingError",
    "OptimizerStateError",
    "OutputExistsError",
    # Naming.
    "canonical_weights",
)
