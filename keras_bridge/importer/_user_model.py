"""A user's own model for the command-line tools: imported from a MetaGraph, or built by a Python file.

`convert_checkpoint`, `verify_equivalence` and `inspect_checkpoint --diff` know the reference models by name
(`--model=dnn|transfer_dnn|gan`). For any other model they take either

* `--meta=model.ckpt-100.meta` (or the `.meta` beside the checkpoint): the graph is imported with
  `import_tf1_graph`, so no code is needed; or
* `--model=path/to/model.py:build_model`: a module such as the one `import_tf1_graph` generates (or one
  written by hand) whose function builds the Keras model; its `TF1_NAMES` (Keras path -> TF1 key or
  transform), `TF1_INPUTS`, `TF1_OUTPUTS` and `TF1_FEEDS`, when defined, say how it maps onto the graph.
"""

import dataclasses
import importlib.util
import os
import re
from typing import Dict, List, Optional

from keras_bridge.importer import _errors as ierr

_SPEC = re.compile(r"^(?P<path>.+\.py):(?P<fn>[A-Za-z_]\w*)$")


def is_model_file(spec: Optional[str]) -> bool:
  """Whether `spec` has the `path/to/file.py:function` form."""
  return bool(spec) and _SPEC.match(spec) is not None


@dataclasses.dataclass
class UserModel:
  """A model for the tools, with what is known of how it maps onto the TF1 graph.

  Attributes:
    model: the built Keras 3 model (weights not loaded).
    names: canonical Keras path -> TF1 key or transform, or None (the default rules then apply).
    inputs, outputs, feeds: the TF1 tensors the model stands for, when known.
    origin: where it came from, for messages ("MetaGraph 'x.meta'" or "'model.py:build_model'").
  """

  model: object
  names: Optional[Dict[str, object]]
  inputs: Optional[List[str]]
  outputs: Optional[List[str]]
  feeds: Dict[str, object]
  origin: str


def from_file(spec: str) -> UserModel:
  """Builds the model of a `path/to/file.py:function` spec.

  Raises:
    GraphImportError: the spec is malformed, the file is missing or fails to import, the function is
      missing, or it does not return a Keras model.
  """
  import keras  # pylint: disable=import-outside-toplevel
  match = _SPEC.match(spec or "")
  if match is None:
    raise ierr.GraphImportError(
        f"--model={spec!r} is neither a reference model (dnn, transfer_dnn, gan) nor 'path/to/file.py:function'; "
        f"for example --model=imported/model.py:build_model (the module import_tf1_graph writes).")
  path, fn = os.path.expanduser(match["path"]), match["fn"]
  if not os.path.isfile(path):
    raise ierr.GraphImportError(f"Model file {path!r} does not exist; pass --model=path/to/file.py:{fn} with "
                                f"an existing file (import_graph writes model.py into its --out_dir).")
  module_spec = importlib.util.spec_from_file_location(f"tf1kb_user_model_{abs(hash(path))}", path)
  module = importlib.util.module_from_spec(module_spec)
  try:
    module_spec.loader.exec_module(module)
  except Exception as e:  # the user's code: any error it raises is reported in one line
    raise ierr.GraphImportError(f"Model file {path!r} fails to import ({type(e).__name__}: {e}); fix the "
                                f"file, or regenerate it with scripts/import_graph.py.") from e
  build = getattr(module, fn, None)
  if not callable(build):
    found = sorted(n for n in vars(module) if callable(getattr(module, n)) and not n.startswith("_"))
    raise ierr.GraphImportError(f"Model file {path!r} defines no function {fn!r} (its functions: {found}); "
                                f"pass --model={path}:<function that returns the Keras model>.")
  model = build()
  if not isinstance(model, keras.Model):
    raise ierr.GraphImportError(f"{path}:{fn}() returned {type(model).__name__}, not a keras.Model; make it "
                                f"return the built model.")
  return UserModel(model=model, names=getattr(module, "TF1_NAMES", None),
                   inputs=getattr(module, "TF1_INPUTS", None), outputs=getattr(module, "TF1_OUTPUTS", None),
                   feeds=dict(getattr(module, "TF1_FEEDS", {}) or {}), origin=f"{path}:{fn}")


def from_meta(checkpoint, meta=None, **kwargs) -> UserModel:
  """Imports the checkpoint's MetaGraph (`import_tf1_graph`, weights not loaded)."""
  from keras_bridge.importer import _api  # pylint: disable=import-outside-toplevel
  result = _api.import_tf1_graph(checkpoint, meta=meta, load_weights=False, **kwargs)
  return UserModel(model=result.model, names=result.names, inputs=result.inputs, outputs=result.outputs,
                   feeds=result.feeds, origin=f"MetaGraph {result.meta!r}")


def user_model(checkpoint, *, model: Optional[str] = None, meta=None) -> UserModel:
  """`from_file(model)` for a `file.py:function` spec, else `from_meta(checkpoint, meta)`."""
  if is_model_file(model):
    return from_file(model)
  return from_meta(checkpoint, meta)


def verify(checkpoint, user: UserModel, meta=None):
  """Loads the checkpoint into the user's model (through its `names`) and compares it with the TF1 graph
  on probe inputs, output by output; returns a `Verification`.

  Raises:
    GraphImportError: the model does not say which TF1 tensors it stands for (`TF1_INPUTS`/`TF1_OUTPUTS`).
  """
  from keras_bridge import _tf1_checkpoint  # pylint: disable=import-outside-toplevel
  from keras_bridge.importer import _api  # pylint: disable=import-outside-toplevel
  from keras_bridge.importer import _graph  # pylint: disable=import-outside-toplevel
  if not (user.inputs and user.outputs):
    raise ierr.GraphImportError(
        f"{user.origin} does not say which TF1 tensors it reproduces: define TF1_INPUTS and TF1_OUTPUTS (lists "
        f"of tensor names) in the module, as import_tf1_graph's generated module does, or pass --meta.")
  prefix = _tf1_checkpoint.resolve_checkpoint(checkpoint)
  meta_path = _graph.find_meta(prefix, meta)
  _tf1_checkpoint.load_tf1_checkpoint(user.model, prefix, names=user.names)
  result = _api.ImportResult(model=user.model, source="", names=user.names or {}, report=None, prefix=prefix,
                             meta=meta_path, inputs=list(user.inputs), outputs=list(user.outputs),
                             feeds=dict(user.feeds))
  return result.verify()


def name_rules(user: UserModel, *, tf1_side: str) -> list:
  """`names` as exact `(regex, replacement)` rules for the tools that take rules.

  Args:
    user: the model and its `names`.
    tf1_side: "source" (TF1 keys are rewritten to Keras paths, as `load_tf1_checkpoint` does) or "output"
      (Keras paths are rewritten to TF1 keys, as `save_tf1_checkpoint` does).

  Raises:
    GraphImportError: a weight is assembled by a transform (an LSTM's kernels), which rules cannot express.
  """
  rules, transformed = [], []
  for path, spec in (user.names or {}).items():
    if not isinstance(spec, str):
      transformed.append(path)
    elif tf1_side == "source":
      rules.append((f"^{re.escape(spec)}$", path))
    else:
      rules.append((f"^{re.escape(path)}$", spec))
  if transformed:
    raise ierr.GraphImportError(
        f"{user.origin}: weights {transformed} are assembled from slices of TF1 keys (an RNN's kernels), which "
        f"this tool's key rules cannot express. Load with keras_bridge.load_tf1_checkpoint(model, checkpoint, "
        f"names=TF1_NAMES) and save with model.save_weights(...) or tf.train.Checkpoint(model=model).write(...).")
  return rules


def convert(src, dst, user: UserModel, **kwargs):
  """`keras_bridge.convert_checkpoint` with the user's model and its `names` (see `name_rules`)."""
  from keras_bridge import _convert  # pylint: disable=import-outside-toplevel
  side = "source" if _convert.detect_format(src) == "name-based" else "output"
  return _convert.convert_checkpoint(src, dst, user.model, rules=name_rules(user, tf1_side=side), **kwargs)


def diff(a, b, user: UserModel):
  """`keras_bridge.diff_checkpoints` by the user's model's Keras paths (a name-based side through `names`)."""
  from keras_bridge import _inspect  # pylint: disable=import-outside-toplevel
  return _inspect.diff_checkpoints(a, b, model=user.model, rules=name_rules(user, tf1_side="source"))
