"""The names of the three checkpoint formats, as reports, errors and `convert_checkpoint` spell them.

This module imports nothing, so command-line flags can list the formats without loading TensorFlow.
"""

#: A TF1 `tf.compat.v1.train.Saver` checkpoint: tensors keyed by variable name.
NAME_BASED = "name-based"
#: A TF2 `tf.train.Checkpoint`: tensors keyed by object path, plus the object graph.
OBJECT_BASED = "object-based"
#: A Keras 3 `.weights.h5` file.
KERAS_H5 = "keras-h5"
#: The formats `convert_checkpoint` reads and writes.
FORMATS = (NAME_BASED, OBJECT_BASED, KERAS_H5)
