"""Every private TensorFlow API the bridge uses, each behind one named function.

TensorFlow is pinned in pyproject.toml to the versions the suite has passed on. Each name here is exercised by
tests/conformance/test_tf_private.py, so a new TensorFlow that moves one fails there, by name. See BUILD.md,
"Checking a new TF/Keras version".
"""

from typing import Dict, List, Tuple

import tensorflow as tf
from tensorflow.core.protobuf import tensor_bundle_pb2
from tensorflow.core.protobuf import trackable_object_graph_pb2
from tensorflow.python.ops import resource_variable_ops
from tensorflow.python.trackable import trackable_utils
from tensorflow.python.training.saving import saveable_object

#: TF1 optimizer class name -> {hyperparameter: private attribute}; the learning rate is `learning_rate`.
TF1_OPTIMIZER_ATTRS = {
    "GradientDescent": {"learning_rate": "_learning_rate"},
    "Momentum": {"learning_rate": "_learning_rate", "momentum": "_momentum", "use_nesterov": "_use_nesterov"},
    "Adam": {"learning_rate": "_lr", "beta1": "_beta1", "beta2": "_beta2", "epsilon": "_epsilon"},
    "RMSProp": {"learning_rate": "_learning_rate", "decay": "_decay", "momentum": "_momentum",
                "epsilon": "_epsilon", "centered": "_centered"},
    "Adagrad": {"learning_rate": "_learning_rate", "initial_accumulator_value": "_initial_accumulator_value"},
}


def tf1_optimizer_hparams(optimizer, kind: str) -> Dict[str, object]:
  """The constructor arguments a `tf.compat.v1.train.<kind>Optimizer` keeps in private attributes."""
  return {name: getattr(optimizer, attr) for name, attr in TF1_OPTIMIZER_ATTRS[kind].items()}


def gather_serialized_tensors(checkpoint) -> Tuple[dict, List[str], object]:
  """What `checkpoint.write` would save, values unread: `(serialized, registered savers, object graph proto)`.

  `serialized` maps each trackable to `{checkpoint key: value or SaveSpec}` (`None` -> the object graph tensor);
  the same call `Checkpoint.write` makes (`checkpoint._saver._gather_serialized_tensors`).
  """
  saver = checkpoint._saver  # pylint: disable=protected-access
  serialized, _, registered, graph = saver._gather_serialized_tensors(None)  # pylint: disable=protected-access
  return serialized, list(registered), graph


def saved_value(value):
  """A value of `gather_serialized_tensors`: a tensor, or a callable; a `SaveSpec` reads its tensor when asked."""
  return value.tensor if isinstance(value, saveable_object.SaveSpec) else value


def escape_local_name(name: str) -> str:
  """An object graph child's name as it appears in checkpoint keys (`/` and `.` escaped)."""
  return trackable_utils.escape_local_name(name)


def parse_object_graph(data: bytes):
  """A serialized `TrackableObjectGraph` proto."""
  return trackable_object_graph_pb2.TrackableObjectGraph.FromString(data)


def parse_bundle_header(data: bytes):
  """The `BundleHeaderProto` record (key "") of a checkpoint index."""
  return tensor_bundle_pb2.BundleHeaderProto.FromString(data)


def parse_bundle_entry(data: bytes):
  """A `BundleEntryProto` record of a checkpoint index: shard, offset, size, crc32c, slices."""
  return tensor_bundle_pb2.BundleEntryProto.FromString(data)


def variable_strategy(variable):
  """The `tf.distribute.Strategy` a (Keras or TF) variable was created under, or None for an ordinary variable:
  a `DistributedVariable`'s `distribute_strategy` (not exported by `tf.distribute`)."""
  if not isinstance(variable, tf.distribute.DistributedValues):
    variable = getattr(variable, "value", None)  # A Keras variable's `.value` is its tf.Variable.
  return variable.distribute_strategy if isinstance(variable, tf.distribute.DistributedValues) else None


def is_resource_variable(variable) -> bool:
  """Whether `variable` is an ordinary `tf.Variable` holding its own buffer (a `BaseResourceVariable`), not a
  `tf.distribute` variable, a Keras wrapper or anything else."""
  return isinstance(variable, resource_variable_ops.BaseResourceVariable)
