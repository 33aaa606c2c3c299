"""The mapping engine: which name-based (TF1) checkpoint key fills which Keras 3 weight, and why not.

`build_mapping` compares the keys of a checkpoint with the canonical paths of a model's weights
(`keras_bridge._naming.canonical_weights`) and returns a `MappingReport` before anything is assigned.

How a TF1 key becomes a canonical Keras path:

1. `include` / `exclude` select keys. A pattern selects a key when it matches (`re.fullmatch`) the whole
   key or a whole leading part of it that ends at a "/": `"hidden1"` selects `hidden1/kernel` and
   `hidden1/kernel/Adam` but never `hidden10/kernel`, which is the `get_collection(scope=...)` prefix pitfall
   of 002_9773991e7c1a2830.txt. Write `"hidden[123]"` for several layers. No `include` means every key;
   `exclude` wins over `include`. Dropped keys are listed in `MappingReport.excluded`.
2. Optimizer slots (`hidden1/kernel/Adam`, `.../Adam_1`, `.../Momentum`, ...) and step variables
   (`global_step`, `beta1_power`, `beta2_power`, and the `_1`, `_2` forms TF1 makes on name collisions)
   are recognised and reported, never mapped to model weights.
3. The user `rules` (ordered `(regex, replacement)` pairs, applied with `re.sub` like tf-slim's
   `name_in_checkpoint` or `init_from_checkpoint`'s assignment map) run first, then `_naming.DEFAULT_RULES`
   (`weights`/`W`/`w` -> `kernel`, `biases`/`b` -> `bias`) unless `default_rules=False`.
4. The result must equal a canonical path, with the same shape and dtype. Each Keras weight takes exactly
   one key: a TF1 variable shared by several layers is one key and fills one Keras weight, and two keys
   that land on the same weight are a conflict.

Example:

  >>> model = keras_bridge.models.dnn(8, 3, (6, 5))
  >>> report = build_mapping(model, {"hidden1/kernel": ((8, 6), "float32")})
  >>> report.matched[0]
  Match(tf1_key='hidden1/kernel', keras_path='hidden1/kernel', shape=(8, 6), dtype='float32')
  >>> report.ok   # hidden1/bias, hidden2/... and outputs/... are unfilled
  False
"""

import dataclasses
import difflib
import re
from typing import Dict, List, NamedTuple, Sequence, Tuple


from keras_bridge import _errors
from keras_bridge import _naming
from keras_bridge import _specs
from keras_bridge import _tables

#: Slot names of the TF1 optimizers (`<var>/<slot>`); TF1 appends `_1`, `_2`, ... for a second slot of the
#: same optimizer (Adam's `v`, RMSProp's `momentum`, Ftrl's `linear`) and for a second optimizer.
OPTIMIZER_SLOT_NAMES = ("Adam", "Momentum", "RMSProp", "Adagrad", "AdagradDA", "Adadelta", "Ftrl",
                        "ProximalAdagrad", "Nadam", "AdaMax")
#: Non-slot variables: the step counter and Adam's bias-correction powers.
STEP_NAMES = ("global_step", "beta1_power", "beta2_power")

_SLOT_RE = re.compile(r"(?P<var>.+)/(?P<slot>%s)(_\d+)?" % "|".join(OPTIMIZER_SLOT_NAMES))
_STEP_RE = re.compile(r"(?:.*/)?(?:%s)(_\d+)?" % "|".join(STEP_NAMES))


class Match(NamedTuple):
  """A TF1 key and the Keras weight it fills."""

  tf1_key: str
  keras_path: str
  shape: Tuple[int, ...]
  dtype: str


class Mismatch(NamedTuple):
  """A TF1 key whose name maps to a Keras weight of another shape (or dtype)."""

  tf1_key: str
  keras_path: str
  checkpoint: object  # shape tuple for shape mismatches, dtype name for dtype mismatches
  keras: object


class Conflict(NamedTuple):
  """Several TF1 keys that map to the same Keras weight."""

  keras_path: str
  tf1_keys: Tuple[str, ...]


def is_optimizer_slot(key: str) -> bool:
  """True for a TF1 optimizer slot key such as `hidden1/kernel/Adam_1`."""
  return _SLOT_RE.fullmatch(key) is not None


def is_step_key(key: str) -> bool:
  """True for `global_step`, `beta1_power`, `beta2_power` and their `_N` forms (optionally scoped)."""
  return _STEP_RE.fullmatch(key) is not None


def selects(patterns: Sequence[str], key: str) -> bool:
  """Whether any pattern fully matches `key` or a leading part of it that ends at a "/"."""
  parts = key.split("/")
  heads = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
  return any(re.fullmatch(p, head) for p in patterns for head in heads)


@dataclasses.dataclass
class MappingReport:
  """What `build_mapping` found. `ok` is True when loading would be complete and exact.

  Attributes:
    matched: the pairs that will be assigned, in checkpoint-key order.
    unused_tf1_keys: model-weight keys of the checkpoint that fill no Keras weight.
    unfilled_keras: canonical Keras paths that no key fills.
    shape_mismatches: `Mismatch(tf1_key, keras_path, checkpoint_shape, keras_shape)`.
    dtype_mismatches: `Mismatch(tf1_key, keras_path, checkpoint_dtype, keras_dtype)`.
    conflicts: `Conflict(keras_path, tf1_keys)` where several keys map to one Keras weight.
    optimizer_slots: recognised optimizer slot keys (reported, never loaded here).
    step_keys: recognised `global_step` / `beta1_power` / `beta2_power` keys (reported, never loaded here).
    candidates: for every miss (an unused key, an unfilled path, a conflict's path), the closest names on
      the other side, best first.
    excluded: keys dropped by `include` / `exclude`.
    transforms: canonical Keras path -> transform (see `keras_bridge._transforms`) for the weights that
      `names` assembles from slices of TF1 keys (an LSTM's kernel from `rnn/basic_lstm_cell/kernel`).
    checkpoint: the checkpoint prefix, when the report came from a file.
    assigned: True once the matched values were assigned to the model.
  """

  matched: List[Match] = dataclasses.field(default_factory=list)
  unused_tf1_keys: List[str] = dataclasses.field(default_factory=list)
  unfilled_keras: List[str] = dataclasses.field(default_factory=list)
  shape_mismatches: List[Mismatch] = dataclasses.field(default_factory=list)
  dtype_mismatches: List[Mismatch] = dataclasses.field(default_factory=list)
  conflicts: List[Conflict] = dataclasses.field(default_factory=list)
  optimizer_slots: List[str] = dataclasses.field(default_factory=list)
  step_keys: List[str] = dataclasses.field(default_factory=list)
  candidates: Dict[str, List[str]] = dataclasses.field(default_factory=dict)
  excluded: List[str] = dataclasses.field(default_factory=list)
  checkpoint: str = ""
  assigned: bool = False
  transforms: Dict[str, object] = dataclasses.field(default_factory=dict)

  @property
  def ok(self) -> bool:
    """True when every Keras weight is filled by exactly one key and every model-weight key is used."""
    return not self.problems()

  def raise_if_incomplete(self, model_name: str, nothing: str = "assigned",
                          fix: str = "Pass rules=/include=/exclude= to fix the names, or strict=False to load "
                                     "only what matches.") -> None:
    """Raises one `MappingError` listing every problem (for strict mode), unless `ok`.

    Args:
      model_name: the model's name, for the message.
      nothing: what did not happen, e.g. "assigned" or "written".
      fix: the closing advice.
    """
    found = self.problems()
    if found:
      raise _errors.MappingError(
          f"Checkpoint {self.checkpoint!r} does not map one-to-one onto the weights of model {model_name!r}; "
          f"nothing was {nothing}. {len(found)} problem(s):\n" + "\n".join(f"  - {p}" for p in found) +
          f"\n{fix}", report=self)

  def problems(self) -> List[str]:
    """One line per problem, each naming the key or weight and how to fix it; empty when `ok`."""
    lines = []
    for key in self.unused_tf1_keys:
      lines.append(f"checkpoint key {key!r} fills no Keras weight{self._hint(key)}; add a rule mapping it "
                   f"to a canonical path, or exclude it")
    for path in self.unfilled_keras:
      lines.append(f"Keras weight {path!r} is filled by no checkpoint key{self._hint(path)}; add a rule "
                   f"mapping a key to it, or load with strict=False")
    for m in self.shape_mismatches:
      lines.append(f"shape mismatch: checkpoint key {m.tf1_key!r} has shape {m.checkpoint}, Keras weight "
                   f"{m.keras_path!r} has shape {m.keras}; build the model with matching sizes, or exclude "
                   f"the key")
    for m in self.dtype_mismatches:
      lines.append(f"dtype mismatch: checkpoint key {m.tf1_key!r} is {m.checkpoint}, Keras weight "
                   f"{m.keras_path!r} is {m.keras}; build the layer with dtype={m.checkpoint!r}, or exclude "
                   f"the key")
    for c in self.conflicts:
      lines.append(f"conflict: checkpoint keys {list(c.tf1_keys)} all map to Keras weight {c.keras_path!r}; "
                   f"exclude all but one, or change the rules")
    return lines

  def _hint(self, name):
    close = self.candidates.get(name)
    return f" (closest: {', '.join(repr(c) for c in close)})" if close else ""

  def __str__(self):
    rows = [(m.tf1_key, m.keras_path, str(m.shape), m.dtype) for m in self.matched]
    lines = [f"Mapping report{' for ' + self.checkpoint if self.checkpoint else ''}: "
             f"{len(self.matched)} matched, {len(self.problems())} problem(s)",
             _tables.format_table(rows, ("TF1 key", "Keras weight", "shape", "dtype"))]
    problems = self.problems()
    if problems:
      lines.append("Problems:")
      lines += [f"  - {p}" for p in problems]
    if self.optimizer_slots:
      lines.append(f"Optimizer slots (recognised, not loaded): {', '.join(self.optimizer_slots)}")
    if self.step_keys:
      lines.append(f"Step variables (recognised, not loaded): {', '.join(self.step_keys)}")
    if self.excluded:
      lines.append(f"Excluded by include/exclude: {', '.join(self.excluded)}")
    return "\n".join(lines)

  def to_dict(self) -> dict:
    """A JSON-serialisable dict of every field, plus `ok` and `problems`."""
    return {
        "checkpoint": self.checkpoint,
        "ok": self.ok,
        "assigned": self.assigned,
        "matched": [{"tf1_key": m.tf1_key, "keras_path": m.keras_path, "shape": list(m.shape),
                     "dtype": m.dtype} for m in self.matched],
        "unused_tf1_keys": list(self.unused_tf1_keys),
        "unfilled_keras": list(self.unfilled_keras),
        "shape_mismatches": [{"tf1_key": m.tf1_key, "keras_path": m.keras_path, "checkpoint": list(m.checkpoint),
                              "keras": list(m.keras)} for m in self.shape_mismatches],
        "dtype_mismatches": [m._asdict() for m in self.dtype_mismatches],
        "conflicts": [{"keras_path": c.keras_path, "tf1_keys": list(c.tf1_keys)} for c in self.conflicts],
        "optimizer_slots": list(self.optimizer_slots),
        "step_keys": list(self.step_keys),
        "candidates": {k: list(v) for k, v in self.candidates.items()},
        "excluded": list(self.excluded),
        "transforms": dict(self.transforms),
        "problems": self.problems(),
    }


def _closest(name, shape, pool, n=3):
  """Names in `pool` (`{name: shape}`) closest to `name`.

  Names of the same shape come first, however different they look (`custom/fc1/fc_weights` for
  `hidden1/kernel`), ranked by similarity; then similar-looking names of other shapes.
  """
  same = sorted((p for p, s in pool.items() if s == shape),
                key=lambda p: (-difflib.SequenceMatcher(None, name, p).ratio(), p))[:n]
  rest = difflib.get_close_matches(name, sorted(pool), n=n, cutoff=0.4)
  return (same + [r for r in rest if r not in same])[:n]


def map_key(key: str, rules=(), default_rules: bool = True) -> str:
  """The canonical Keras path a TF1 key maps to: user `rules` first, then `_naming.DEFAULT_RULES`."""
  name = _naming.apply_rules(key, rules)
  if default_rules:
    name = _naming.apply_rules(name, _naming.DEFAULT_RULES)
  return name


def check_patterns(rules=(), include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
  """Raises one `MappingError` listing every invalid regex in `rules`, `include` and `exclude`."""
  problems = []
  for what, patterns in (("rules", [r[0] if isinstance(r, (tuple, list)) else r for r in rules]),
                         ("include", include), ("exclude", exclude)):
    for pattern in patterns:
      try:
        re.compile(pattern)
      except (re.error, TypeError) as e:
        problems.append(f"{what} pattern {pattern!r}: {e}")
  for rule in rules:
    if not (isinstance(rule, (tuple, list)) and len(rule) == 2):
      problems.append(f"rules entry {rule!r} is not a (regex, replacement) pair")
  if problems:
    raise _errors.MappingError(
        "Invalid mapping patterns: " + "; ".join(problems) +
        ". Fix the regular expressions (re.escape() quotes literal text such as '[' or '.'). Nothing was assigned.")


def _named(report, names, keras_specs, checkpoint_vars, model) -> set:
  """Maps the `names` entries (explicit keys and transforms) into `report`; returns the keys they read."""
  from keras_bridge import _transforms  # pylint: disable=import-outside-toplevel
  used, problems = set(), []
  for path, spec in names.items():
    if path not in keras_specs:
      problems.append(f"{path!r} is not a weight of model {model.name!r}")
      continue
    keys = _transforms.keys(spec)
    missing = [k for k in keys if k not in checkpoint_vars]
    if missing:
      report.unfilled_keras.append(path)
      report.candidates[path] = missing
      problems.append(f"the checkpoint has no key {missing[0]!r} for {path!r}")
      continue
    used.update(keys)
    shapes = {k: _specs.shape_tuple(checkpoint_vars[k][0]) for k in keys}
    shape = _transforms.keras_shape(spec, shapes)
    dtype = _specs.dtype_name(checkpoint_vars[keys[0]][1])
    keras_shape, keras_dtype = keras_specs[path]
    if shape != keras_shape:
      report.shape_mismatches.append(Mismatch(_transforms.describe(spec), path, shape, keras_shape))
    elif dtype != keras_dtype:
      report.dtype_mismatches.append(Mismatch(_transforms.describe(spec), path, dtype, keras_dtype))
    elif _transforms.is_transform(spec):
      report.transforms[path] = spec
    else:
      report.matched.append(Match(spec, path, shape, dtype))
  if problems and any("is not a weight" in p for p in problems):
    raise _errors.MappingError(
        f"`names` does not fit model {model.name!r}: {'; '.join(problems)}. Pass the TF1_NAMES generated for "
        f"this model (import_tf1_graph), or fix the paths; its weights are {sorted(keras_specs)!r}. Nothing "
        f"was assigned.")
  return used


def build_mapping(model,
                  checkpoint_vars,
                  *,
                  rules=(),
                  include: Sequence[str] = (),
                  exclude: Sequence[str] = (),
                  default_rules: bool = True,
                  names=None) -> MappingReport:
  """Maps checkpoint keys onto the canonical weights of `model`; assigns nothing.

  Args:
    model: a built Keras 3 model or layer.
    checkpoint_vars: `{tf1_key: (shape, dtype)}`, e.g. from `keras_bridge._tf1_checkpoint.read_variables`.
      `dtype` may be a `tf.DType`, a NumPy dtype or a name.
    rules: ordered `(regex, replacement)` pairs applied with `re.sub` to each TF1 key before the default
      rules, e.g. `[(r"^custom/fc_weights$", "hidden1/kernel")]`.
    include: regexes; only keys they select are mapped (see the module docstring for "select").
    exclude: regexes; keys they select are not mapped. Wins over `include`.
    default_rules: also apply `_naming.DEFAULT_RULES` (`weights` -> `kernel`, `biases` -> `bias`).
    names: `{canonical Keras path: TF1 key or transform}` that decides those weights outright, before any
      rule (the `TF1_NAMES` of a module generated by `import_tf1_graph`). The keys it reads are used; with
      `names`, keys that fill no weight are left out (listed in `excluded`) instead of reported unused.

  Returns:
    A `MappingReport`.

  Example:

    >>> ckpt_vars = {"custom/fc_weights": ((8, 6), "float32"), "custom/fc_biases": ((6,), "float32")}
    >>> model = keras_bridge.models.dnn(8, 3, (6,))
    >>> report = build_mapping(model, ckpt_vars, rules=[(r"^custom/fc_", "hidden1/")])
    >>> [m.keras_path for m in report.matched]   # fc_weights -> hidden1/weights -> hidden1/kernel
    ['hidden1/bias', 'hidden1/kernel']
    >>> report.unfilled_keras
    ['outputs/kernel', 'outputs/bias']
  """
  check_patterns(rules, include, exclude)
  weights = _naming.canonical_weights(model)
  if not weights:
    raise _errors.MappingError(
        f"Model {model.name!r} has no weights yet: Keras 3 creates a layer's variables when it is built. Give "
        f"the model a keras.Input(shape) or call it once on a batch, then map or load. Nothing was assigned.")
  keras_specs = {path: (_specs.shape_tuple(var.shape), _specs.dtype_name(var.dtype)) for path, var in weights.items()}
  report = MappingReport()
  by_target = {}
  unused_targets = {}
  named_keys = _named(report, names or {}, keras_specs, checkpoint_vars, model)
  for key in sorted(checkpoint_vars):
    if key in named_keys:
      continue
    if (include and not selects(include, key)) or (exclude and selects(exclude, key)):
      report.excluded.append(key)
      continue
    if is_step_key(key):
      report.step_keys.append(key)
      continue
    if is_optimizer_slot(key):
      report.optimizer_slots.append(key)
      continue
    target = map_key(key, rules, default_rules)
    if target in keras_specs and target not in (names or {}):
      by_target.setdefault(target, []).append(key)
    elif names:  # `names` says what the model needs; the rest of the checkpoint is left out.
      report.excluded.append(key)
    else:
      report.unused_tf1_keys.append(key)
      unused_targets[key] = target

  filled = set()
  for target, keys in by_target.items():
    if len(keys) > 1:
      report.conflicts.append(Conflict(target, tuple(keys)))
      report.candidates[target] = list(keys)
      filled.add(target)
      continue
    key = keys[0]
    ckpt_shape, ckpt_dtype = checkpoint_vars[key]
    ckpt_shape, ckpt_dtype = _specs.shape_tuple(ckpt_shape), _specs.dtype_name(ckpt_dtype)
    keras_shape, keras_dtype = keras_specs[target]
    filled.add(target)
    if ckpt_shape != keras_shape:
      report.shape_mismatches.append(Mismatch(key, target, ckpt_shape, keras_shape))
    elif ckpt_dtype != keras_dtype:
      report.dtype_mismatches.append(Mismatch(key, target, ckpt_dtype, keras_dtype))
    else:
      report.matched.append(Match(key, target, ckpt_shape, ckpt_dtype))
  report.matched.sort()
  report.conflicts.sort()
  filled.update(names or {})
  report.unfilled_keras = [p for p in weights if p not in filled]

  unfilled = {p: keras_specs[p][0] for p in report.unfilled_keras}
  for key, target in unused_targets.items():
    shape = _specs.shape_tuple(checkpoint_vars[key][0])
    close = _closest(target, shape, unfilled) or _closest(target, shape,
                                                          {p: s for p, (s, _) in keras_specs.items()})
    if close:
      report.candidates[key] = close
  # Compare with the raw keys and with what they map to, but always show the keys to write rules for.
  raw = {k: _specs.shape_tuple(checkpoint_vars[k][0]) for k in unused_targets}
  mapped = {t: _specs.shape_tuple(checkpoint_vars[k][0]) for k, t in unused_targets.items()}
  key_of = {t: k for k, t in unused_targets.items()}
  for path in report.unfilled_keras:
    close = _closest(path, unfilled[path], raw) or [key_of[t] for t in _closest(path, unfilled[path], mapped)]
    if close:
      report.candidates[path] = close
  return report
