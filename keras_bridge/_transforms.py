"""Weight transforms: a Keras weight assembled from slices of TF1 checkpoint tensors, with an exact inverse.

Most Keras weights take one TF1 key as it is (`"hidden1/kernel"`). Some do not:

* a TF1 `BasicLSTMCell` keeps one kernel `rnn/basic_lstm_cell/kernel` of shape (in + units, 4 * units) with
  the gates in the order i, j, f, o, and adds `forget_bias` to the forget gate at run time; a Keras `LSTM`
  has `kernel` (in, 4u) and `recurrent_kernel` (u, 4u), gates i, f, c, o, and the forget bias inside `bias`;
* a TF1 `GRUCell` keeps `gates/kernel` (r, u) and `candidate/kernel` apart; a Keras `GRU` has one `kernel`
  (z, r, h);
* `tf.matmul(x, w, transpose_b=True)` reads `w` transposed.

A transform says, for one Keras weight, how to assemble it:

    {"parts": [{"key": "rnn/basic_lstm_cell/kernel", "rows": [0, 3], "cols": [0, 8]},
               {"key": "rnn/basic_lstm_cell/kernel", "rows": [0, 3], "cols": [16, 24]}, ...],
     "axis": -1}

Each part is `tensor[key][rows, cols]` (rows: first axis; cols: last axis; either may be omitted), then
transposed if `"transpose": True`, then `+ add` (`"add": 1.0`, applied to the weight's value and never to
optimizer slots); the parts are concatenated along `axis`. The plain data form is what a generated module's
`TF1_NAMES` holds. `to_tf1` inverts every transform of a model at once: each TF1 key is put back together
from all the Keras weights that took a slice of it, and must be covered exactly once. Slicing, permuting and
transposing are exact; `add` is exact on load and within float32 rounding on write-back (`x + 1 - 1`).
"""

from typing import Dict, Iterable, List, Mapping, Tuple

import numpy as np

from keras_bridge import _errors


def is_transform(spec) -> bool:
  return isinstance(spec, Mapping)


def keys(spec) -> List[str]:
  """The TF1 keys a names entry reads, in order, without repeats."""
  if not is_transform(spec):
    return [spec]
  out = []
  for part in spec["parts"]:
    if part["key"] not in out:
      out.append(part["key"])
  return out


def _index(part, ndim):
  index = [slice(None)] * ndim
  if part.get("rows") is not None:
    index[0] = slice(*part["rows"])
  if part.get("cols") is not None:
    index[-1] = slice(*part["cols"])
  return tuple(index)


def _check(spec, where):
  if not is_transform(spec):
    if not isinstance(spec, str):
      raise _errors.MappingError(f"{where}: a names entry is a TF1 key (str) or a transform dict with 'parts'; "
                                 f"received {spec!r}.")
    return
  parts = spec.get("parts")
  if not parts or not all(isinstance(p, Mapping) and isinstance(p.get("key"), str) for p in parts):
    raise _errors.MappingError(f"{where}: a transform needs 'parts', a list of dicts each with a 'key'; "
                               f"received {spec!r}.")


def keras_shape(spec, key_shapes: Mapping[str, Tuple[int, ...]]) -> Tuple[int, ...]:
  """The shape of the Keras weight a names entry produces from tensors of `key_shapes`."""
  if not is_transform(spec):
    return tuple(key_shapes[spec])
  return to_keras(spec, {k: np.zeros(key_shapes[k], np.int8) for k in keys(spec)}, slot=True).shape


def to_keras(spec, tensors: Mapping[str, np.ndarray], *, slot: bool = False) -> np.ndarray:
  """Assembles a Keras weight (or, with `slot=True`, its optimizer slot: no `add`) from TF1 tensors."""
  if not is_transform(spec):
    return np.asarray(tensors[spec])
  pieces = []
  for part in spec["parts"]:
    src = np.asarray(tensors[part["key"]])
    piece = src[_index(part, src.ndim)]
    if part.get("transpose"):
      piece = piece.T
    if part.get("add") and not slot:
      piece = (piece + np.asarray(part["add"], piece.dtype)).astype(piece.dtype)
    pieces.append(piece)
  return np.concatenate(pieces, axis=spec.get("axis", -1)) if len(pieces) > 1 else np.array(pieces[0])


def to_tf1(specs: Mapping[str, object], values: Mapping[str, np.ndarray],
           key_shapes: Mapping[str, Tuple[int, ...]], *, slot: bool = False) -> Dict[str, np.ndarray]:
  """Inverts the transforms of several Keras weights at once.

  Args:
    specs: Keras path -> names entry (a TF1 key or a transform).
    values: Keras path -> the weight's value (or slot value with `slot=True`).
    key_shapes: TF1 key -> shape, for every key a transform reads.
    slot: the values are optimizer slots: no `add` to undo.

  Returns:
    TF1 key -> array.

  Raises:
    MappingError: a TF1 key is not covered exactly once by the transforms' parts.
  """
  out, covered = {}, {}
  for path, spec in specs.items():
    _check(spec, f"Keras weight {path!r}")
    value = np.asarray(values[path])
    if not is_transform(spec):
      out[spec] = value
      covered[spec] = np.ones(value.shape, np.int32)
      continue
    parts = spec["parts"]
    axis = spec.get("axis", -1) % value.ndim
    sizes = []
    for part in parts:
      shape = key_shapes[part["key"]]
      sizes.append(_part_shape(part, shape)[axis])
    offsets = np.cumsum([0] + sizes)
    for part, start, stop in zip(parts, offsets[:-1], offsets[1:]):
      key = part["key"]
      index = [slice(None)] * value.ndim
      index[axis] = slice(int(start), int(stop))
      piece = value[tuple(index)]
      if part.get("add") and not slot:
        piece = (piece - np.asarray(part["add"], piece.dtype)).astype(piece.dtype)
      if part.get("transpose"):
        piece = piece.T
      if key not in out:
        out[key] = np.zeros(key_shapes[key], value.dtype)
        covered[key] = np.zeros(key_shapes[key], np.int32)
      target = _index(part, len(key_shapes[key]))
      out[key][target] = piece
      covered[key][target] += 1
  bad = sorted(k for k, c in covered.items() if not np.all(c == 1))
  if bad:
    raise _errors.MappingError(
        f"The names transforms do not cover TF1 key(s) {bad!r} exactly once, so they cannot be written back; "
        f"give every element of each key to exactly one Keras weight part. Nothing was written.")
  return out


def _part_shape(part, shape):
  shape = list(np.empty(shape, np.int8)[_index(part, len(shape))].shape)
  return shape[::-1] if part.get("transpose") else shape


def exact(spec) -> bool:
  """Whether the write-back of this entry is bit-exact (no `add`)."""
  return not is_transform(spec) or not any(p.get("add") for p in spec["parts"])


def describe(spec) -> str:
  """One line for reports: `rnn/basic_lstm_cell/kernel[0:3, 0:8] + [..16:24] ...`."""
  if not is_transform(spec):
    return spec
  out = []
  for part in spec["parts"]:
    index = []
    if part.get("rows") is not None:
      index.append("%d:%d" % tuple(part["rows"]))
    if part.get("cols") is not None:
      index.append(("..., " if index == [] else "") + "%d:%d" % tuple(part["cols"]))
    text = part["key"] + (f"[{', '.join(index)}]" if index else "")
    if part.get("transpose"):
      text += ".T"
    if part.get("add"):
      text += f" + {part['add']:g}"
    out.append(text)
  return " | ".join(out)


def all_keys(specs: Iterable) -> List[str]:
  seen = []
  for spec in specs:
    for key in keys(spec):
      if key not in seen:
        seen.append(key)
  return seen


def infer_key_shapes(specs: Mapping[str, object], keras_shapes: Mapping[str, Tuple[int, ...]]
                     ) -> Dict[str, Tuple[int, ...]]:
  """The shapes of the TF1 keys that transforms read, from the Keras weights' shapes (for a write-back
  with no source checkpoint at hand): each axis is as long as the furthest slice that reaches it."""
  out: Dict[str, List[int]] = {}
  for path, spec in specs.items():
    shape = list(keras_shapes[path])
    axis = spec.get("axis", -1) % len(shape)
    sizes = []
    for part in spec["parts"]:
      span = part.get("cols") if axis == len(shape) - 1 else part.get("rows") if axis == 0 else None
      sizes.append(span[1] - span[0] if span is not None else None)
    if sizes.count(None) == 1:
      sizes[sizes.index(None)] = shape[axis] - sum(x for x in sizes if x is not None)
    for part, size in zip(spec["parts"], sizes):
      piece = list(shape)
      piece[axis] = size
      if part.get("transpose"):
        piece = piece[::-1]
      dims = out.setdefault(part["key"], [0] * len(piece))
      for i, d in enumerate(piece):
        if i == 0 and part.get("rows") is not None:
          d = part["rows"][1]
        elif i == len(piece) - 1 and part.get("cols") is not None:
          d = part["cols"][1]
        if d is not None:
          dims[i] = max(dims[i], d)
  return {k: tuple(v) for k, v in out.items()}
