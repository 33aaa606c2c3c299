"""The object graph of object-based (TF2) checkpoints: which key holds which object's attribute.

`tf.train.Checkpoint(model=model)` stores each variable under a key derived from the path of attributes that
reaches it (`model/_operations/1/_kernel/.ATTRIBUTES/VARIABLE_VALUE`) and the serialized
`TrackableObjectGraph` under `_CHECKPOINTABLE_OBJECT_GRAPH`. `object_plan` asks TensorFlow's own serializer what
it would write for a model, without reading any variable; `object_graph_keys` reads a stored graph.
"""

import functools
from typing import Dict, Optional, Tuple

import tensorflow as tf

from keras_bridge import _errors
from keras_bridge import _naming
from keras_bridge import _tf_private

#: The root object name of object-based outputs: `tf.train.Checkpoint(model=model)`.
OBJECT_ROOT = "model"


def object_plan(model, root: str = OBJECT_ROOT, save_counter: Optional[int] = None):
  """What `tf.train.Checkpoint(**{root: model})` would write, without reading any variable.

  Args:
    model: a built Keras 3 model.
    root: the keyword the model is given to `tf.train.Checkpoint`.
    save_counter: None for what `Checkpoint.write` writes; a number to add the `save_counter` variable with
      that value, as `Checkpoint.save` does.

  Returns:
    `(plan, graph)`: `plan` lists `(object, {checkpoint_key: read})` for each checkpointed object (a Keras
    variable, an optimizer variable, ...), in checkpoint order, where `read()` returns the current value;
    `graph` is the serialized `TrackableObjectGraph` the checkpoint stores under
    `_CHECKPOINTABLE_OBJECT_GRAPH`.

  Raises:
    CheckpointFormatError: the model holds state that is saved by a registered saver or as slices, which a
      streaming conversion cannot write.
  """
  checkpoint = tf.train.Checkpoint(**{root: model})
  if save_counter is not None:
    checkpoint.save_counter.assign(save_counter)
  # The same call `Checkpoint.write` makes; the values of variables are functions, called only when needed.
  serialized, registered, graph = _tf_private.gather_serialized_tensors(checkpoint)
  serialized.pop(None, None)  # The object graph as a tensor; the caller writes `graph` itself.
  unsupported = [repr(k) for d in serialized.values() for k, v in d.items() if isinstance(v, dict)]
  unsupported += [repr(name) for name in registered]
  if unsupported:
    raise _errors.CheckpointFormatError(
        f"Model {model.name!r} has state saved as slices or by a registered saver ({', '.join(unsupported)}), "
        f"which convert_checkpoint cannot stream. Load the weights into the model and call "
        f"tf.train.Checkpoint(model=model).write(...) instead.")
  plan = [(obj, {key: functools.partial(_tf_private.saved_value, value) for key, value in d.items()})
          for obj, d in serialized.items() if d]
  return plan, graph.SerializeToString()


def object_graph_keys(graph: bytes) -> Dict[Tuple[str, str], str]:
  """`{(object path, attribute name): checkpoint key}` of a serialized `TrackableObjectGraph`.

  Restore looks every tensor up by the `checkpoint_key` stored in the graph, so readers go through this map
  rather than assume `<path>/.ATTRIBUTES/VARIABLE_VALUE`. Object paths are those TensorFlow gives: the
  first path found breadth-first from the root, local names escaped by `trackable_utils`.
  """
  proto = _tf_private.parse_object_graph(graph)
  paths, queue = {0: ""}, [0]
  for node in queue:  # `queue` grows while it is walked: breadth-first.
    for child in proto.nodes[node].children:
      if child.node_id not in paths:
        name = _tf_private.escape_local_name(child.local_name)
        paths[child.node_id] = f"{paths[node]}/{name}" if node else name
        queue.append(child.node_id)
  return {(paths[i], attr.name): attr.checkpoint_key for i, node in enumerate(proto.nodes) if i in paths
          for attr in node.attributes}


def object_keys(model, plan) -> Dict[str, str]:
  """`{canonical Keras path: object-based checkpoint key}` for every weight of `model`, from its `plan`."""
  by_id = {id(obj): keys for obj, keys in plan}
  out = {}
  for path, var in _naming.canonical_weights(model).items():
    keys = by_id.get(id(var))
    if keys is None or len(keys) != 1:
      raise _errors.CheckpointFormatError(
          f"Keras weight {path!r} of model {model.name!r} is not checkpointed as one tensor by "
          f"tf.train.Checkpoint (found keys: {sorted(keys or ())}); convert_checkpoint cannot map it.")
    out[path] = next(iter(keys))
  return out


def object_root(graph: bytes, prefix: str) -> str:
  """The keyword the model was given to `tf.train.Checkpoint`: "model", or the root's only other child."""
  names = [c.local_name for c in _tf_private.parse_object_graph(graph).nodes[0].children]
  if OBJECT_ROOT in names:
    return OBJECT_ROOT
  others = [n for n in names if n != "save_counter"]
  if len(others) == 1:
    return others[0]
  raise _errors.CheckpointFormatError(
      f"Object-based checkpoint {prefix!r} has root objects {names}; convert_checkpoint expects the model as "
      f"the only one (tf.train.Checkpoint(model=model)). Restore it with tf.train.Checkpoint(...) and write "
      f"tf.train.Checkpoint(model=model) instead.")
