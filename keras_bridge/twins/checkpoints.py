"""Checkpoints of the twins: which reference model a checkpoint holds, its sizes, and conversion by twin.

A name-based checkpoint of the 002 DNN names its kernels `hidden<i>/kernel` and `outputs/kernel`; the 003 GAN's
are `generator/hidden/kernel` and `generator/output/kernel`. Their shapes give the layer sizes, so a twin can
be built for any checkpoint without being told its sizes (`model_for_checkpoint`), in any of the three formats
(DNNs) or name-based (the GAN).

Here `kind` names a reference model ("dnn", "transfer_dnn" or "gan"); `keras_model` is a built Keras model.
"""

import re
from typing import List, Mapping, Optional, Sequence, Tuple

import numpy as np

from keras_bridge import _errors

#: The reference models a checkpoint can be read as.
KINDS = ("dnn", "transfer_dnn", "gan")

_HIDDEN_KERNEL_RE = re.compile(r"hidden(\d+)/kernel")


def dnn_sizes(variables: Mapping[str, tuple], source: str = "the checkpoint") -> Tuple[int, List[int], int]:
  """Reads the 002 DNN's sizes off name-based checkpoint keys: `hidden<i>/kernel` and `outputs/kernel`.

  Args:
    variables: `{key: (shape, dtype)}`, as `keras_bridge.read_variables` returns.
    source: how to name the checkpoint in error messages.

  Returns:
    `(n_inputs, hidden_sizes, n_outputs)`.

  Raises:
    keras_bridge.MappingError: the keys are not those of a DNN (no `outputs/kernel`, no `hidden1/kernel`,
      a gap in the hidden layers, or kernels whose shapes do not chain).
  """
  hidden = {int(m.group(1)): tuple(variables[k][0]) for k in variables
            if (m := _HIDDEN_KERNEL_RE.fullmatch(k))}
  problems = []
  if "outputs/kernel" not in variables:
    problems.append("no 'outputs/kernel'")
  expected = list(range(1, len(hidden) + 1))
  if sorted(hidden) != expected or not hidden:
    problems.append(f"hidden layer kernels {['hidden%d/kernel' % i for i in sorted(hidden)]} instead of "
                    "hidden1/kernel, hidden2/kernel, ... without gaps")
  if not problems:
    shapes = [hidden[i] for i in expected] + [tuple(variables["outputs/kernel"][0])]
    names = _layer_names(len(hidden))
    for i in range(len(shapes) - 1):
      if len(shapes[i]) != 2 or len(shapes[i + 1]) != 2 or shapes[i][1] != shapes[i + 1][0]:
        problems.append(f"{names[i]}/kernel {shapes[i]} does not feed {names[i + 1]}/kernel {shapes[i + 1]}")
  if problems:
    keys = ", ".join(sorted(variables)[:12]) + (", ..." if len(variables) > 12 else "")
    raise _errors.MappingError(
        f"Cannot read the 002 DNN's layer sizes from {source}: {'; '.join(problems)}. Its keys: {keys}. "
        "Pass a checkpoint written by train_tf1/transfer_tf1.")
  return shapes[0][0], [hidden[i][1] for i in expected], shapes[-1][1]


def _layer_names(n_hidden: int) -> List[str]:
  return [f"hidden{i}" for i in range(1, n_hidden + 1)] + ["outputs"]


_OBJECT_KERNEL_RE = re.compile(r"model/_operations/(\d+)/_kernel")


def _kernel_shapes(path: str) -> Tuple[str, dict]:
  """`(format, {"hidden1/kernel": (shape, dtype), ...})` for a DNN in any of the three formats."""
  from keras_bridge import _convert  # pylint: disable=g-import-not-at-top
  from keras_bridge import _inspect  # pylint: disable=g-import-not-at-top
  from keras_bridge import _tf1_checkpoint  # pylint: disable=g-import-not-at-top

  fmt, location = _convert.locate(path)
  if fmt == _convert.NAME_BASED:
    return fmt, _tf1_checkpoint.read_variables(location)
  info = _inspect.inspect_checkpoint(location)
  if fmt == _convert.KERAS_H5:
    # Keras stores each layer's own name next to its variables; a Dense layer's vars/0 is its kernel.
    return fmt, {f"{t.layer}/kernel": (t.shape, t.dtype) for t in info.tensors
                 if t.key.endswith("/vars/0") and len(t.shape) == 2 and t.layer}
  # Object-based keys hold no layer names, only the functional model's operation order.
  kernels = sorted((int(m.group(1)), t) for t in info.tensors
                   if t.object_path and (m := _OBJECT_KERNEL_RE.fullmatch(t.object_path)))
  names = _layer_names(len(kernels) - 1)
  return fmt, {f"{name}/kernel": (t.shape, t.dtype) for name, (_, t) in zip(names, kernels)}


def gan_sizes(variables: Mapping[str, tuple], source: str = "the checkpoint") -> dict:
  """`{"noise_dim", "hidden_units", "data_dim"}` from name-based keys of `tf1_reference.gan.build_gan`."""
  hidden, output = variables.get("generator/hidden/kernel"), variables.get("generator/output/kernel")
  if hidden is None or output is None:
    raise _errors.MappingError(
        f"Cannot read the GAN's sizes from {source}: it has no 'generator/hidden/kernel' and "
        f"'generator/output/kernel'. Pass a name-based checkpoint written by gan_tf1.")
  return {"noise_dim": hidden[0][0], "hidden_units": hidden[0][1], "data_dim": output[0][1]}


def model_for_checkpoint(kind: str, path: str, *, n_inputs: Optional[int] = None,
                         n_outputs: Optional[int] = None, hidden_sizes: Optional[List[int]] = None):
  """Builds the keras_bridge twin that `path` belongs to, with sizes read from the checkpoint itself.

  Args:
    kind: "dnn", "transfer_dnn" or "gan".
    path: a name-based or object-based checkpoint, or a `.weights.h5` file (the GAN: name-based only).
    n_inputs: overrides the input size read from the checkpoint (DNNs).
    n_outputs: overrides the output size (DNNs).
    hidden_sizes: overrides the hidden sizes (DNNs).

  Returns:
    `(keras_model, sizes)`: the built model and a one-line description of its sizes.

  Raises:
    keras_bridge.Error: the checkpoint is missing, unreadable, or not of that model.
  """
  from keras_bridge.twins import models  # pylint: disable=g-import-not-at-top

  if kind not in KINDS:
    raise _errors.ArgumentError(f"kind must be one of {', '.join(KINDS)}. Received: kind={kind!r}")
  if kind == "gan":
    from keras_bridge import _convert  # pylint: disable=g-import-not-at-top
    from keras_bridge import _tf1_checkpoint  # pylint: disable=g-import-not-at-top

    fmt, location = _convert.locate(path)
    variables = _tf1_checkpoint.read_variables(location) if fmt == _convert.NAME_BASED else {}
    sizes = gan_sizes(variables, f"{fmt} {location!r}")
    gan = models.GAN(**sizes)
    gan([np.zeros((1, sizes["data_dim"]), np.float32), np.zeros((1, sizes["noise_dim"]), np.float32)])
    return gan, ", ".join(f"{k}={v}" for k, v in sizes.items())
  if n_inputs is None or n_outputs is None or hidden_sizes is None:
    fmt, kernels = _kernel_shapes(path)
    read = dnn_sizes(kernels, f"{fmt} checkpoint {path!r}")
    n_inputs = n_inputs or read[0]
    hidden_sizes = hidden_sizes or read[1]
    n_outputs = n_outputs or read[2]
  build = models.transfer_dnn if kind == "transfer_dnn" else models.dnn
  return (build(n_inputs, n_outputs, hidden_sizes),
          f"n_inputs={n_inputs}, hidden_sizes={','.join(map(str, hidden_sizes))}, n_outputs={n_outputs}")


def convert(src: str, dst: str, *, kind: str = "dnn", src_format: Optional[str] = None,
            dst_format: Optional[str] = None, rules: Sequence[Tuple[str, str]] = (), overwrite: bool = False,
            dry_run: bool = False, progress=False, n_inputs: Optional[int] = None,
            n_outputs: Optional[int] = None, hidden_sizes: Optional[List[int]] = None, data: str = "auto",
            verify: bool = True):
  """Builds the twin `src` belongs to (sizes read from `src`) and converts; returns `(report, sizes)`.

  Args:
    src: the source checkpoint or `.weights.h5` file.
    dst: the output path.
    kind: "dnn", "transfer_dnn" or "gan": the twin to build.
    src_format, dst_format, rules, overwrite, dry_run, progress, data, verify: as for
      `keras_bridge.convert_checkpoint`.
    n_inputs, n_outputs, hidden_sizes: override the sizes read from `src` (DNNs).

  Returns:
    `(ConversionReport, sizes)`, `sizes` a one-line description of the twin's sizes.

  Raises:
    keras_bridge.Error: from `keras_bridge.convert_checkpoint` (missing or unreadable source, same format on
      both sides, incomplete mapping, existing output).
  """
  from keras_bridge import _convert  # pylint: disable=g-import-not-at-top

  try:
    keras_model, sizes = model_for_checkpoint(kind, src, n_inputs=n_inputs, n_outputs=n_outputs,
                                              hidden_sizes=hidden_sizes)
  except _errors.MappingError as e:
    if kind == "gan":
      raise
    # Only conversion takes a DNN's sizes from its caller (convert_checkpoint's size flags); say so only here.
    raise _errors.MappingError(f"{e} Or give the sizes: --n_inputs, --hidden_sizes and --n_outputs.") from None
  report = _convert.convert_checkpoint(src, dst, keras_model, src_format=src_format, dst_format=dst_format,
                                       rules=rules, overwrite=overwrite, dry_run=dry_run, progress=progress,
                                       data=data, verify=verify)
  return report, sizes


def inspect(path: str, *, diff: Optional[str] = None, kind: Optional[str] = None) -> dict:
  """Inspects `path` (and diffs it with `diff`); returns `{"info": CheckpointInfo, "diff": CheckpointDiff}`.

  Args:
    path: a checkpoint (prefix, step prefix, directory with a state file, one of its files) or a
      `.weights.h5` file.
    diff: optional second checkpoint or weights file.
    kind: "dnn", "transfer_dnn" or "gan": compare by Keras weight (needed across formats); its sizes are
      read from `path`. None compares raw keys.

  Raises:
    keras_bridge.Error: a path is missing or not a checkpoint.
  """
  from keras_bridge import _inspect  # pylint: disable=g-import-not-at-top

  result = {"info": _inspect.inspect_checkpoint(path), "diff": None}
  if diff:
    keras_model = model_for_checkpoint(kind, path)[0] if kind else None
    result["diff"] = _inspect.diff_checkpoints(path, diff, model=keras_model)
  return result
