"""`import_tf1_graph`: a TF1 MetaGraph and its checkpoint in, a Keras 3 model, its source and a proof out."""

import dataclasses
import os
import shutil
import tempfile
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf

from keras_bridge._errors import OutputExistsError
from keras_bridge import _tables
from keras_bridge import _tf1_checkpoint
from keras_bridge.importer import _codegen
from keras_bridge.importer import _errors as ierr
from keras_bridge.importer import _evaluate
from keras_bridge.importer import _fuse
from keras_bridge.importer import _graph
from keras_bridge.importer import _ir
# The op families register their handlers when imported.
from keras_bridge.importer import _activations  # noqa: F401  pylint: disable=unused-import
from keras_bridge.importer import _arith  # noqa: F401  pylint: disable=unused-import
from keras_bridge.importer import _control  # noqa: F401  pylint: disable=unused-import
from keras_bridge.importer import _conv  # noqa: F401  pylint: disable=unused-import
from keras_bridge.importer import _dense  # noqa: F401  pylint: disable=unused-import
from keras_bridge.importer import _norm  # noqa: F401  pylint: disable=unused-import
from keras_bridge.importer import _rnn  # noqa: F401  pylint: disable=unused-import
from keras_bridge.importer import _structure  # noqa: F401  pylint: disable=unused-import
from keras_bridge.importer._verify import Verification
from keras_bridge.importer._verify import verify as _verify


@dataclasses.dataclass
class ImportReport:
  """Every TF1 node of the inference subgraph and what it became.

  Attributes:
    rows: (TF1 node, op type, what it became: a Keras layer name, "folded (feed)", "weight 'key'", ...).
    layers: Keras layer name -> (class, the TF1 scope, notes).
    notes: what the user should know (unknown dropout rates, folded LSTM forget biases...).
    inputs, outputs, feeds: what was imported, as TF1 tensor names.
  """

  rows: List[tuple]
  layers: Dict[str, tuple]
  notes: List[str]
  inputs: List[str]
  outputs: List[str]
  feeds: Dict[str, object]

  def __str__(self):
    lines = [f"Imported {len(self.rows)} TF1 node(s) into {len(self.layers)} Keras layer(s); inputs "
             f"{self.inputs}, outputs {self.outputs}" + (f", feeds {self.feeds}" if self.feeds else ""),
             _tables.format_table(self.rows, ("TF1 node", "op", "Keras"))]
    if self.notes:
      lines.append("Notes:")
      lines += [f"  - {n}" for n in self.notes]
    return "\n".join(lines)

  def to_dict(self) -> dict:
    return {"rows": [list(r) for r in self.rows], "layers": {k: list(v) for k, v in self.layers.items()},
            "notes": list(self.notes), "inputs": list(self.inputs), "outputs": list(self.outputs),
            "feeds": {k: np.asarray(v).tolist() for k, v in self.feeds.items()}}


@dataclasses.dataclass
class ImportResult:
  """What `import_tf1_graph` returns.

  Attributes:
    model: the Keras 3 functional model, built by executing `source`, with the checkpoint's weights.
    source: the generated module (imports only `keras`; defines `build_model()`, `PREFIX`, `TF1_NAMES`).
    names: `TF1_NAMES`: canonical Keras weight path -> TF1 key or transform; pass it as `names=` to the
      load and save functions.
    report: the `ImportReport`.
    prefix, meta: the checkpoint prefix and the MetaGraph file.
    inputs, outputs, feeds: the TF1 tensor names imported and the feeds folded in.
  """

  model: object
  source: str
  names: Dict[str, object]
  report: ImportReport
  prefix: str
  meta: str
  inputs: List[str]
  outputs: List[str]
  feeds: Dict[str, object]
  probe_vocab: Dict[str, int] = dataclasses.field(default_factory=dict)

  def verify(self, inputs: Optional[Mapping[str, np.ndarray]] = None, *, batch_size: int = 3,
             seed: int = 0, unknown_dim: int = 5) -> Verification:
    """Runs the TF1 graph (imported afresh, restored from the checkpoint) and the Keras model on the same
    probe inputs, and compares them output by output.

    Args:
      inputs: TF1 input tensor name -> array; by default random probes: floats from a normal
        distribution, integer ids below the vocabulary size of the embedding they feed.
      batch_size: the batch size of the probes.
      seed: the probes' random seed.
      unknown_dim: the size given to unknown dimensions other than the batch.

    Returns:
      A `Verification`: per output, the max |difference| and the tolerance 1e-5 * max(1, max|y|).
    """
    return _verify(self, inputs, batch_size=batch_size, seed=seed, unknown_dim=unknown_dim)

  def export(self, out_dir, *, overwrite: bool = False, verification: Optional[Verification] = None) -> dict:
    """Writes the import: `model.py`, `model.weights.h5`, an object-based checkpoint (`ckpt/model-1`),
    `model.keras` and `report.txt` (the report, and the verification table when given).

    Everything is written into a temporary directory beside `out_dir`, then renamed into place, so a
    failure leaves nothing behind and never a half-written `out_dir`.

    Returns:
      {what: path} of the files written.

    Raises:
      OutputExistsError: `out_dir` exists and is not empty, and `overwrite` is False.
    """
    out_dir = os.path.abspath(os.path.expanduser(os.fspath(out_dir)))
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
      raise OutputExistsError(
          f"Output directory {out_dir!r} exists and is not empty ({', '.join(sorted(os.listdir(out_dir))[:5])}"
          f"); pass overwrite=True (--overwrite) to replace it, or choose another directory. Nothing was "
          f"written.")
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.tmp-", dir=parent)
    names = {"source": "model.py", "weights": "model.weights.h5", "checkpoint": "ckpt/model-1",
             "keras": "model.keras", "report": "report.txt"}
    try:
      with open(os.path.join(tmp, names["source"]), "w", encoding="utf-8") as f:
        f.write(self.source)
      self.model.save_weights(os.path.join(tmp, names["weights"]))
      written = tf.train.Checkpoint(model=self.model).write(os.path.join(tmp, "ckpt", "model"))
      names["checkpoint"] = os.path.relpath(written, tmp)
      self.model.save(os.path.join(tmp, names["keras"]))
      with open(os.path.join(tmp, names["report"]), "w", encoding="utf-8") as f:
        f.write(str(self.report) + "\n")
        if verification is not None:
          f.write("\nVerification against the TF1 graph:\n" + str(verification) + "\n")
      old = None
      if os.path.exists(out_dir):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.old-", dir=parent)
        os.rename(out_dir, os.path.join(old, "previous"))
      os.rename(tmp, out_dir)
      if old:
        shutil.rmtree(old)
    finally:
      if os.path.isdir(tmp):
        shutil.rmtree(tmp)
    return {what: os.path.join(out_dir, rel) for what, rel in names.items()}


def _library(graph) -> Dict[str, object]:
  return {f.signature.name: f for f in graph.as_graph_def().library.function}


def import_tf1_graph(checkpoint, *, meta=None, inputs: Optional[Sequence[str]] = None,
                     outputs: Optional[Sequence[str]] = None, feeds: Optional[Mapping[str, object]] = None,
                     dropout_rates: Optional[Mapping[str, float]] = None, name: str = "imported",
                     load_weights: bool = True) -> ImportResult:
  """Imports a TF1 model (MetaGraph + name-based checkpoint) as a Keras 3 model of ordinary layers.

  Args:
    checkpoint: a checkpoint prefix, a `-N` prefix, a directory with a `checkpoint` state file, or one of
      the checkpoint's files.
    meta: the MetaGraph file; default `prefix + ".meta"`.
    inputs: TF1 tensor names that become `keras.Input`s (e.g. `["input/X:0"]`); default: the placeholders
      without a default that reach the outputs, less `feeds` and the loss's labels.
    outputs: TF1 tensor names that become the model's outputs; default: the prediction input of each loss
      op and the softmax/sigmoid applied to it, or with no loss op the one end of the inference subgraph.
    feeds: TF1 tensor name -> value fixed for inference (`{"keep_prob:0": 1.0, "training:0": False}`).
    dropout_rates: dropout scope or fed `keep_prob` tensor name -> training rate, for dropouts whose rate
      the graph does not hold.
    name: the Keras model's name.
    load_weights: load the checkpoint into the model (the default).

  Returns:
    An `ImportResult`; `result.verify()` compares the model with the TF1 graph.

  Raises:
    CheckpointNotFoundError, CheckpointFormatError: the checkpoint cannot be found or read.
    GraphImportError: no MetaGraph, a wrong feed or tensor name, ambiguous outputs.
    UnsupportedGraphError: ops without a Keras equivalent; the message lists every one (name, op type,
      scope, why) and no model is returned.
  """
  prefix = _tf1_checkpoint.resolve_checkpoint(checkpoint)
  meta_path = _graph.find_meta(prefix, meta)
  meta_def = _graph.read_meta(meta_path)
  graph, _ = _graph.import_graph(meta_path, meta_def)
  feeds = _check_feeds(graph, dict(feeds or {}))
  for what, names in (("inputs", inputs), ("outputs", outputs)):
    if names is not None:
      _check_tensors(graph, what, names)
  inputs, outputs, _ = _graph.default_io(graph, feeds, inputs, outputs)
  key_specs = _tf1_checkpoint.read_variables(prefix)
  var_keys = _graph.variable_keys(graph, meta_def)
  ev = _evaluate.Evaluator(graph, var_keys, key_specs, feeds, inputs, dropout_rates, _library(graph))
  values = ev.evaluate([graph.get_tensor_by_name(n) for n in outputs])
  out_syms = []
  for tname, value in zip(outputs, values):
    if isinstance(value, _evaluate.Bad):
      ev.unsupported += [e for e in value.errors if e not in ev.unsupported]
      continue
    try:
      out_syms.append(ev.sym(value))
    except _evaluate.Unsupported as e:
      ev.unsupported.append((tname.split(":")[0], graph.get_tensor_by_name(tname).op.type,
                             f"output {tname!r} is {e}"))
  unused = sorted(set(feeds) - ev.used_feeds)
  if unused:
    raise ierr.GraphImportError(
        f"feeds {unused!r} do not reach the outputs {outputs!r}; remove them, or check the tensor names "
        f"(the placeholders that do: {sorted(set(ev.used_feeds)) or 'none'}). Nothing was imported.")
  nodes, out_syms, leftover = ([], out_syms, []) if ev.unsupported else _fuse.fuse(ev.nodes, out_syms)
  for node in leftover:
    ev.unsupported.append((node.tf1_nodes[-1], "BiasAdd", "a bias added to a tensor that no Dense or Conv "
                                                           "layer produced on its own"))
  if ev.unsupported:
    _raise_unsupported(meta_path, ev.unsupported)
  for tname in inputs:
    if tname not in ev.inputs:
      raise ierr.GraphImportError(f"input {tname!r} does not reach the outputs {outputs!r}; remove it from "
                                  f"inputs= or check the outputs.")
  order = [ev.inputs[t] for t in inputs]
  nodes = order + [n for n in nodes if n.layer is not None]
  names = _names(nodes)
  source = _codegen.generate(nodes, out_syms, names, prefix=prefix, meta=meta_path, model_name=name,
                             output_names=outputs, input_names=inputs, feeds=feeds)
  namespace = {"__name__": "tf1_imported_model"}
  exec(compile(source, f"<import_tf1_graph {name}>", "exec"), namespace)  # pylint: disable=exec-used
  model = namespace["build_model"]()
  if load_weights:
    _tf1_checkpoint.load_tf1_checkpoint(model, prefix, names=names)
  report = _report(ev, graph, outputs, nodes, inputs, feeds)
  vocab = {}
  for node in nodes:
    if node.layer is not None and node.layer.cls == "Embedding":
      for s in _ir.input_syms(node):
        if s.node.layer is None:
          vocab[s.node.input_spec[2]] = node.layer.config["input_dim"]
  return ImportResult(model=model, source=source, names=names, report=report, prefix=prefix, meta=meta_path,
                      inputs=list(inputs), outputs=list(outputs), feeds=feeds, probe_vocab=vocab)


def _check_feeds(graph, feeds):
  bad = []
  for key in list(feeds):
    name = key if ":" in key else key + ":0"
    try:
      graph.get_tensor_by_name(name)
    except (KeyError, ValueError):
      bad.append(key)
    feeds[name] = feeds.pop(key)
  if bad:
    raise ierr.GraphImportError(
        f"feeds name tensor(s) {bad!r} that are not in the graph; placeholders of the graph: "
        f"{sorted(op.outputs[0].name for op in graph.get_operations() if op.type.startswith('Placeholder'))!r}. "
        f"Nothing was imported.")
  return feeds


def _check_tensors(graph, what, names):
  bad = []
  for n in names:
    try:
      graph.get_tensor_by_name(n)
    except (KeyError, ValueError):
      bad.append(n)
  if bad:
    raise ierr.GraphImportError(
        f"{what} name tensor(s) {bad!r} that are not in the graph; write tensor names as 'op_name:0' (for "
        f"example {'input/X:0' if what == 'inputs' else 'outputs/BiasAdd:0'!r}). Nothing was imported.")


def _raise_unsupported(meta_path, unsupported):
  lines = "\n".join(f"  - {n} ({t}) in scope {os.path.dirname(n) or '(root)'!r}: {why}"
                    for n, t, why in unsupported)
  raise ierr.UnsupportedGraphError(
      f"The inference subgraph of {meta_path!r} holds {len(unsupported)} node(s) that cannot be imported "
      f"as Keras 3 layers:\n{lines}\nNothing was imported. Name other outputs= or feeds= to leave them out, "
      f"or rewrite that part of the model in Keras by hand.", unsupported=unsupported)


def _names(nodes) -> Dict[str, object]:
  names, seen = {}, set()
  for node in nodes:
    layer = node.layer
    if layer is None or id(layer) in seen:
      continue
    seen.add(id(layer))
    for weight, spec in layer.weights.items():
      names[f"{layer.name}/{weight}"] = spec
  return names


def _report(ev, graph, outputs, nodes, inputs, feeds) -> ImportReport:
  layer_of = {}
  for node in nodes:
    for name in node.tf1_nodes:
      layer_of[name] = node.layer.name if node.layer is not None else f"keras.Input {node.var!r}"
  ops = _graph.backward(graph, [graph.get_tensor_by_name(n) for n in outputs],
                        stop=[t.split(":")[0] for t in list(inputs) + list(feeds)])
  rows = []
  for op in reversed(ops):
    where = layer_of.get(op.name) or ev.op_notes.get(op.name)
    if where is None:
      where = "training branch / dead (not imported)"
    elif where in [n.layer.name for n in nodes if n.layer is not None] and op.name not in layer_of:
      where = f"{where} (not needed by the outputs)"
    rows.append((op.name, op.type, where))
  layers, notes = {}, []
  for node in nodes:
    if node.layer is not None and node.layer.name not in layers:
      layers[node.layer.name] = (node.layer.cls, node.layer.scope, list(node.layer.notes))
      notes += [f"{node.layer.name}: {n}" for n in node.layer.notes]
  return ImportReport(rows=rows, layers=layers, notes=notes, inputs=list(inputs), outputs=list(outputs),
                      feeds=dict(feeds))


def import_to_directory(checkpoint, out_dir, *, overwrite: bool = False, **kwargs):
  """`import_tf1_graph`, `verify()` and `export(out_dir)` in one call: what `scripts/import_graph.py` runs.

  Args:
    checkpoint: as for `import_tf1_graph`.
    out_dir: the directory to write (see `ImportResult.export`).
    overwrite: replace a non-empty `out_dir`.
    **kwargs: `meta`, `inputs`, `outputs`, `feeds`, `dropout_rates`, `name` of `import_tf1_graph`.

  Returns:
    (ImportResult, Verification, {what: path}).
  """
  result = import_tf1_graph(checkpoint, **kwargs)
  verification = result.verify()
  return result, verification, result.export(out_dir, overwrite=overwrite, verification=verification)
