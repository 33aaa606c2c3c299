"""Reading a TF1 MetaGraph: find it beside the checkpoint, import it, and read what the Saver knows.

A MetaGraph (`.meta`, written by `tf.compat.v1.train.Saver.save`) holds the graph, the collections and the
Saver's own description (`saver_def`). The importer needs three things from it:

* the graph itself, imported into a fresh `tf.Graph` with `import_meta_graph(clear_devices=True)`; op types
  that TF 2.21 does not register (`tf.contrib` ops) are listed before the import, which would stop at the
  first of them;
* for every variable, the checkpoint key it is saved under: `var.op.name` unless the Saver was built with
  a `var_list` dict, so the keys are read from the Saver's own `RestoreV2` op and the assignments it feeds;
* the default inputs and outputs when the user names none (`default_io`).
"""

import glob
import os
from typing import Dict, List, Sequence, Tuple

from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow.python.framework import op_def_registry
import tensorflow as tf

from keras_bridge.importer import _errors as ierr

VARIABLE_OPS = ("VariableV2", "Variable", "VarHandleOp", "VariableV1")
LOSS_OPS = ("SparseSoftmaxCrossEntropyWithLogits", "SoftmaxCrossEntropyWithLogits")
TRAINING_SCOPES = ("gradients", "save", "train", "optimizer")



def find_meta(prefix: str, meta=None) -> str:
  """The MetaGraph file for a checkpoint prefix: `meta`, else `prefix.meta`, else one clear error."""
  if meta is not None:
    meta = os.path.expanduser(os.fspath(meta))
    if not os.path.isfile(meta):
      raise ierr.GraphImportError(
          f"MetaGraph {meta!r} does not exist. Pass the '.meta' file that Saver.save wrote beside the "
          f"checkpoint (for example {prefix + '.meta'!r}).")
    return meta
  if os.path.isfile(prefix + ".meta"):
    return prefix + ".meta"
  directory = os.path.dirname(prefix) or "."
  metas = sorted(glob.glob(os.path.join(glob.escape(directory), "*.meta")))
  listed = (f"The .meta files in {directory!r}: {', '.join(repr(m) for m in metas)}; pass one as meta=."
            if metas else f"{directory!r} holds no .meta file.")
  raise ierr.GraphImportError(
      f"No MetaGraph for checkpoint {prefix!r}: {prefix + '.meta'!r} does not exist. {listed} A checkpoint "
      f"alone has values but no graph; import_tf1_graph needs the '.meta' file Saver.save wrote "
      f"(write_meta_graph=True, the default), or rebuild the graph and export it with "
      f"tf.compat.v1.train.export_meta_graph.")


def read_meta(path: str) -> meta_graph_pb2.MetaGraphDef:
  meta = meta_graph_pb2.MetaGraphDef()
  try:
    with open(path, "rb") as f:
      meta.ParseFromString(f.read())
  except Exception as e:  # protobuf raises DecodeError; an unreadable file OSError
    raise ierr.GraphImportError(
        f"{path!r} is not a readable MetaGraph ({type(e).__name__}: {e}); pass the '.meta' file that "
        f"Saver.save wrote.") from e
  if not meta.graph_def.node:
    raise ierr.GraphImportError(f"MetaGraph {path!r} holds an empty graph; pass the '.meta' file that "
                                f"Saver.save wrote beside the checkpoint.")
  return meta


def unregistered_ops(meta: meta_graph_pb2.MetaGraphDef) -> List[Tuple[str, str]]:
  """(node name, op type) of every node whose op TF 2.21 does not register (contrib ops)."""
  out = [(n.name, n.op) for n in meta.graph_def.node if op_def_registry.get(n.op) is None]
  for fdef in meta.graph_def.library.function:
    out += [(f"{fdef.signature.name}/{n.name}", n.op) for n in fdef.node_def
            if op_def_registry.get(n.op) is None]
  return out


def import_graph(meta_path: str, meta: meta_graph_pb2.MetaGraphDef):
  """Imports the MetaGraph into a fresh graph. Returns (graph, saver or None)."""
  unknown = unregistered_ops(meta)
  if unknown:
    lines = "\n".join(f"  - {name} ({op}) in scope {os.path.dirname(name) or '(root)'!r}"
                      for name, op in unknown)
    raise ierr.UnsupportedGraphError(
        f"MetaGraph {meta_path!r} uses {len(unknown)} op(s) that TensorFlow 2.21 does not register (tf.contrib "
        f"ops were removed in TF 2), so the graph cannot be imported:\n{lines}\nRebuild that part of the model "
        f"with core TF ops before exporting it. Nothing was imported.", unsupported=unknown)
  graph = tf.Graph()
  with graph.as_default():
    try:
      saver = tf.compat.v1.train.import_meta_graph(meta, clear_devices=True)
    except (ValueError, tf.errors.OpError, KeyError) as e:
      raise ierr.GraphImportError(f"TensorFlow cannot import MetaGraph {meta_path!r}: {e}") from e
  return graph, saver


def variable_keys(graph: tf.Graph, meta: meta_graph_pb2.MetaGraphDef) -> Dict[str, Tuple[str, str]]:
  """Variable op name -> (checkpoint key, slice spec) as the graph's Saver restores it.

  The slice spec is "" for a whole variable and TF's "dims start,len:..." form for a partition.
  """
  keys = {}
  saver_def = meta.saver_def
  scope = saver_def.restore_op_name.rsplit("/", 1)[0] if saver_def.restore_op_name else ""
  for op in graph.get_operations():
    if op.type != "RestoreV2" or (scope and not op.name.startswith(scope + "/")):
      continue
    names = tf.get_static_value(op.inputs[1])
    slices = tf.get_static_value(op.inputs[2])
    if names is None:
      continue
    for i, out in enumerate(op.outputs):
      for var in _assigned_variables(out):
        keys.setdefault(var, (names[i].decode(), slices[i].decode() if slices is not None else ""))
  for op in graph.get_operations():
    if op.type in VARIABLE_OPS and op.name not in keys:
      keys[op.name] = (op.name, "")
  return keys


def _assigned_variables(tensor, depth=0) -> List[str]:
  out = []
  for consumer in tensor.consumers():
    if consumer.type in ("Assign", "AssignVariableOp"):
      target = consumer.inputs[0].op
      while target.type == "Identity" and target.inputs:
        target = target.inputs[0].op
      if target.type in VARIABLE_OPS:
        out.append(target.name)
    elif consumer.type == "Identity" and depth < 4:
      out += _assigned_variables(consumer.outputs[0], depth + 1)
  return out


def _scope(name: str) -> str:
  return name.split("/", 1)[0]


def backward(graph: tf.Graph, tensors: Sequence[tf.Tensor], stop=()) -> List[tf.Operation]:
  """Ops that `tensors` depend on through data inputs (and the graph's function calls), outputs first."""
  seen, order, stack = set(), [], [t.op for t in tensors]
  stop = set(stop)
  while stack:
    op = stack.pop()
    if op.name in seen:
      continue
    seen.add(op.name)
    order.append(op)
    if op.name in stop:
      continue
    stack.extend(t.op for t in op.inputs)
  return order


def default_io(graph: tf.Graph, feeds: Dict[str, object], inputs=None, outputs=None):
  """Default inputs and outputs, following import_tf1_graph's rules. Returns (inputs, outputs, labels).

  Outputs: for each loss op, its prediction input (the non-label argument) and the softmax/sigmoid applied
  to it; with no loss op, the sinks of the inference subgraph. Inputs: the placeholders without a default
  that reach the outputs, less the feeds and the labels.
  """
  labels = set()
  if outputs is None:
    predictions = []
    for op in graph.get_operations():
      pred, label = _loss_arguments(op)
      if pred is None:
        continue
      labels.update(p.name for p in _placeholders_of([label]))
      if pred.name not in [p.name for p in predictions]:
        predictions.append(pred)
    outs = []
    for pred in predictions:
      outs.append(pred)
      for consumer in pred.consumers():
        if consumer.type in ("Softmax", "Sigmoid") and not _under_training(consumer.name):
          outs.append(consumer.outputs[0])
    if not outs:
      outs = _sinks(graph, feeds)
    outputs = [t.name for t in outs]
  if inputs is None:
    reached = _placeholders_of([graph.get_tensor_by_name(n) for n in outputs])
    inputs = [p.name for p in reached if p.name not in feeds and p.name not in labels]
    controls = [p for p in inputs if graph.get_tensor_by_name(p).shape.rank in (0, None) or
                graph.get_tensor_by_name(p).dtype == tf.bool]
    if controls:
      raise ierr.GraphImportError(
          f"Placeholder(s) {controls!r} reach the outputs {outputs!r} but look like training controls (a "
          f"scalar or a boolean: a dropout keep_prob, a training flag), not inputs. Pass their inference "
          f"values in feeds=, for example feeds={{{', '.join(f'{c!r}: {_guess_feed(graph, c)}' for c in controls)}}}"
          f" (on the command line: --feeds={','.join(f'{c}={_guess_feed(graph, c).lower()}' for c in controls)}"
          f"), or name the inputs explicitly with inputs= (--inputs).")
  return list(inputs), list(outputs), sorted(labels)


def _guess_feed(graph, name):
  return "False" if graph.get_tensor_by_name(name).dtype == tf.bool else "1.0"


def _under_training(name: str) -> bool:
  return any(part in TRAINING_SCOPES for part in name.split("/")[:-1])


def _loss_arguments(op):
  """(prediction tensor, label tensor) if `op` is a loss op, else (None, None)."""
  if op.type in LOSS_OPS:
    return op.inputs[0], op.inputs[1]
  if _under_training(op.name):
    return None, None
  scope = op.name.rsplit("/", 1)[0] if "/" in op.name else ""
  # sigmoid_cross_entropy_with_logits: logits * labels inside "logistic_loss".
  if op.type == "Mul" and scope.split("/")[-1].startswith("logistic_loss"):
    a, b = op.inputs
    return (a, b) if _placeholders_of([b]) and not _has_variables(b) else (b, a)
  # mean squared error: SquaredDifference(prediction, labels), or Square(prediction - labels).
  if op.type == "SquaredDifference":
    a, b = op.inputs
    if _is_label(b):
      return a, b
    if _is_label(a):
      return b, a
  return None, None


def _is_label(tensor) -> bool:
  return bool(_placeholders_of([tensor])) and not _has_variables(tensor)


def _has_variables(tensor) -> bool:
  return any(op.type in VARIABLE_OPS for op in backward(tensor.graph, [tensor]))


def _placeholders_of(tensors) -> List[tf.Operation]:
  if not tensors:
    return []
  ops = backward(tensors[0].graph, tensors)
  return sorted((op.outputs[0] for op in ops if op.type == "Placeholder"), key=lambda t: t.name)


def _sinks(graph, feeds):
  """Float tensors that depend on an input placeholder, are not training-only, and feed nothing else."""
  sources = [op for op in graph.get_operations() if op.type == "Placeholder" and op.outputs[0].name not in feeds
             and op.outputs[0].shape.rank not in (0, None) and op.outputs[0].dtype != tf.bool]
  forward, stack = {}, list(sources)
  while stack:
    op = stack.pop()
    if op.name in forward or _under_training(op.name) or op.type in ("Assign", "AssignVariableOp", "NoOp",
                                                                      "SaveV2", "RestoreV2", "MergeSummary"):
      continue
    forward[op.name] = op
    for out in op.outputs:
      stack.extend(out.consumers())
  sinks = []
  for op in forward.values():
    if op.type in ("Placeholder", "Shape", "Const") or not op.outputs:
      continue
    uses = [c for out in op.outputs for c in out.consumers() if c.name in forward]
    if not uses and op.outputs[0].dtype.is_floating:
      sinks.append(op.outputs[0])
  if len(sinks) != 1:
    raise ierr.GraphImportError(
        f"Cannot tell the model's outputs: the graph has no loss op, and the inference subgraph has "
        f"{len(sinks)} end tensor(s): {sorted(t.name for t in sinks)!r}. Pass outputs=[...] naming the tensors "
        f"to import, for example outputs={[sorted(t.name for t in sinks)[0]] if sinks else ['logits:0']!r}.")
  return sinks
