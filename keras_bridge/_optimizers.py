"""Optimizer state: TF1 optimizer slots <-> Keras 3 optimizer variables, so training continues where it stopped.

A TF1 optimizer keeps its state in variables that `tf.compat.v1.train.Saver` writes next to the weights:

| TF1 optimizer (default name) | slots of variable `V`, in creation order     | non-slot variables            |
|------------------------------|----------------------------------------------|-------------------------------|
| GradientDescent              | none                                         |                               |
| Momentum                     | `V/Momentum` (accumulation)                  |                               |
| Adam                         | `V/Adam` (m), `V/Adam_1` (v)                 | `beta1_power`, `beta2_power`  |
| RMSProp                      | `V/RMSProp` (ms), `V/RMSProp_1` (mom)        |                               |
| RMSProp, centered            | `V/RMSProp` (ms), `V/RMSProp_1` (mg), `V/RMSProp_2` (mom) |                  |
| Adagrad                      | `V/Adagrad` (accumulator)                    |                               |

The `_1`, `_2` suffixes are TF1's name uniquification: the slots of one variable share the scope
`V/<optimizer name>`. A second Adam in the same graph (the 003_edbfd8374a89a122.txt GAN trains the
discriminator and the generator with one optimizer each) gets `beta1_power_1` and `beta2_power_1`, and both are
prefixed by the name scope the optimizer was applied in (`train/beta1_power`).

`load_tf1_training_state` maps these onto a Keras 3 optimizer built with the hyperparameters that reproduce
TF1's update rule (`keras_optimizer_from_tf1`), sets `iterations` from `beta1_power`/`beta2_power` and
`global_step` after checking that they agree, and loads the weights through `load_tf1_checkpoint`.
`save_tf1_training_state` writes the reverse: weights, slots, beta powers and `global_step`, which the TF1 graph
with the same optimizer restores with its `Saver` and continues from. See docs/OPTIMIZERS.md for the rules and
for what is not reproducible exactly.
"""

import dataclasses
import os
import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

from keras_bridge import _beta_powers
from keras_bridge import _bundle
from keras_bridge import _distributed
from keras_bridge import _errors
from keras_bridge import _keras_private
from keras_bridge import _loading
from keras_bridge import _mapping
from keras_bridge import _naming
from keras_bridge import _tf1_checkpoint
from keras_bridge import _tf_private
from keras_bridge import _transforms

v1 = tf.compat.v1

#: TF1 constructor hyperparameters (besides `learning_rate`) and their defaults; None means required.
_TF1_HPARAMS = {
    "GradientDescent": {},
    "Momentum": {"momentum": None, "use_nesterov": False},
    "Adam": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "RMSProp": {"decay": 0.9, "momentum": 0.0, "epsilon": 1e-10, "centered": False},
    "Adagrad": {"initial_accumulator_value": 0.1},
}
#: Only AdamOptimizer has a default learning rate.
_TF1_DEFAULT_LR = {"Adam": 0.001}
_TF1_CLASSES = {
    "GradientDescent": v1.train.GradientDescentOptimizer,
    "Momentum": v1.train.MomentumOptimizer,
    "Adam": v1.train.AdamOptimizer,
    "RMSProp": v1.train.RMSPropOptimizer,
    "Adagrad": v1.train.AdagradOptimizer,
}
#: TF1 slot names of one variable in creation order -> the Keras optimizer attribute holding that state.
_KERAS_SLOT_ATTR = _keras_private.SLOT_ATTRS
#: Differences that remain after translation; listed in every report and in docs/OPTIMIZERS.md.
_NOTES = {
    "Momentum": ("Keras SGD keeps velocity = -learning_rate * TF1 accumulation; the conversion uses the current "
                 "learning rate, so it is exact for a constant learning rate (equal up to float32 rounding)"),
    "Adam": ("Keras computes beta**(t+1) with pow, TF1 by repeated float32 multiplication (beta1_power); the "
             "update rules are identical (both use TF1's epsilon-hat form), results equal up to float32 "
             "rounding"),
    "RMSProp": ("TF1 initialises ms to 1.0, Keras its velocity to 0.0: a fresh Keras RMSprop does not replay a "
                "fresh TF1 run, but loaded state carries ms over, so continuation is exact up to float32 "
                "rounding"),
    "Adagrad": "Keras Adagrad(epsilon=0.0) is TF1's rule; TF1 AdagradOptimizer has no epsilon",
    "GradientDescent": "no state besides the step counter",
}
_UNSUPPORTED_KERAS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "loss_scale_factor",
                      "gradient_accumulation_steps")
_BETA_RE = re.compile(r"(?P<scope>(?:.*/)?)beta1_power(?P<suffix>(?:_\d+)?)")


@dataclasses.dataclass(frozen=True)
class TF1OptimizerSpec:
  """A TF1 optimizer: its kind, hyperparameters, and the name that prefixes its slots.

  Build one with `tf1_optimizer_spec`. `create()` makes the `tf.compat.v1.train` optimizer (call it inside
  the graph), `to_keras()` the Keras 3 optimizer that applies the same update.

  Attributes:
    kind: "GradientDescent", "Momentum", "Adam", "RMSProp" or "Adagrad".
    learning_rate: a Python float (TF1 learning-rate tensors and Keras schedules are not translated).
    hparams: the other constructor arguments of the TF1 class, defaults filled in.
    name: the TF1 optimizer's `name`, which names its slots (`<var>/<name>`); the kind by default.
    beta_power_keys: Adam only: the checkpoint keys of `beta1_power` and `beta2_power`, when they are not
      the defaults (`beta1_power`, `beta1_power_1`, ... in creation order, with the optimizer's name scope).
    learning_rate_source: None for a constant learning rate; for one read from a graph that is not a constant,
      what it is (`"placeholder 'lr:0'"`, `"tensor 'ExponentialDecay:0' (...)"`), and `learning_rate` is NaN.
  """

  kind: str
  learning_rate: float
  hparams: Mapping[str, object]
  name: str
  beta_power_keys: Optional[Tuple[str, str]] = None
  learning_rate_source: Optional[str] = None

  @property
  def slot_names(self) -> Tuple[str, ...]:
    """TF1's slot names for one variable, in creation order (so `V/<name>`, `V/<name>_1`, ...)."""
    if self.kind == "Momentum":
      return ("momentum",)
    if self.kind == "Adam":
      return ("m", "v")
    if self.kind == "RMSProp":
      return ("rms", "mg", "momentum") if self.hparams["centered"] else ("rms", "momentum")
    if self.kind == "Adagrad":
      return ("accumulator",)
    return ()

  def slot_key(self, tf1_var_key: str, index: int) -> str:
    """The checkpoint key of the `index`-th slot of `tf1_var_key`."""
    return f"{tf1_var_key}/{self.name}" + (f"_{index}" if index else "")

  def _constant_learning_rate(self, what):
    if self.learning_rate_source:
      raise _errors.OptimizerStateError(
          f"TF1 {self.kind} {self.name!r} has no constant learning rate (it is a {self.learning_rate_source}), "
          f"so {what} cannot be built from it. Pass a Keras optimizer built with the learning rate the graph "
          f"was fed, or tf1_optimizer_spec({self.kind!r}, <learning rate>, ...).")

  def create(self) -> "v1.train.Optimizer":
    """The `tf.compat.v1.train` optimizer; create it inside the graph that uses it."""
    self._constant_learning_rate("a TF1 optimizer")
    return _TF1_CLASSES[self.kind](self.learning_rate, name=self.name, **self.hparams)

  def to_keras(self) -> keras.optimizers.Optimizer:
    """The Keras 3 optimizer whose update equals TF1's (see `keras_optimizer_from_tf1`)."""
    self._constant_learning_rate("a Keras optimizer")
    h, lr = self.hparams, self.learning_rate
    if self.kind == "GradientDescent":
      return keras.optimizers.SGD(lr)
    if self.kind == "Momentum":
      return keras.optimizers.SGD(lr, momentum=h["momentum"], nesterov=h["use_nesterov"])
    if self.kind == "Adam":
      return keras.optimizers.Adam(lr, beta_1=h["beta1"], beta_2=h["beta2"], epsilon=h["epsilon"])
    if self.kind == "RMSProp":
      return keras.optimizers.RMSprop(lr, rho=h["decay"], momentum=h["momentum"], epsilon=h["epsilon"],
                                      centered=h["centered"])
    return keras.optimizers.Adagrad(lr, initial_accumulator_value=h["initial_accumulator_value"], epsilon=0.0)


def _kind(name: str) -> str:
  key = name.lower()
  key = key[:-len("optimizer")] if key.endswith("optimizer") else key
  for kind in _TF1_HPARAMS:
    if kind.lower() == key:
      return kind
  raise _errors.OptimizerStateError(
      f"Unknown TF1 optimizer {name!r}. Expected one of {', '.join(repr(k) for k in _TF1_HPARAMS)} "
      f"(with or without the 'Optimizer' suffix).")


def tf1_optimizer_spec(optimizer, learning_rate: Optional[float] = None, *, name: Optional[str] = None,
                       beta_power_keys: Optional[Tuple[str, str]] = None, **hparams) -> TF1OptimizerSpec:
  """Describes a TF1 optimizer, from a kind name, a `tf.compat.v1.train` optimizer or a Keras 3 optimizer.

  Args:
    optimizer: a kind ("Adam", "MomentumOptimizer", ...), a `tf.compat.v1.train.Optimizer` of one of the five
      supported classes, a Keras 3 optimizer (translated with `tf1_optimizer_from_keras`), or a
      `TF1OptimizerSpec` (returned as is when nothing else is given).
    learning_rate: with a kind: the learning rate (AdamOptimizer's default is 0.001; the others need one).
    name: with a kind or a Keras optimizer: the TF1 optimizer name; the kind by default.
    beta_power_keys: Adam: the keys of `beta1_power` and `beta2_power` when the defaults are ambiguous.
    **hparams: with a kind: TF1 constructor arguments, e.g. `momentum=0.9, use_nesterov=True`.

  Returns:
    A `TF1OptimizerSpec`.

  Raises:
    OptimizerStateError: unknown kind or argument, a missing required argument, or a setting TF1 cannot
      express.

  Example:

    >>> tf1_optimizer_spec("Momentum", 0.01, momentum=0.9).slot_key("hidden1/kernel", 0)
    'hidden1/kernel/Momentum'
  """
  if isinstance(optimizer, TF1OptimizerSpec):
    if learning_rate is None and name is None and beta_power_keys is None and not hparams:
      return optimizer
    optimizer = optimizer.kind
  if isinstance(optimizer, keras.optimizers.Optimizer):
    spec = tf1_optimizer_from_keras(optimizer, name=name)
    return dataclasses.replace(spec, beta_power_keys=beta_power_keys)
  if isinstance(optimizer, v1.train.Optimizer):
    return _from_tf1_instance(optimizer, beta_power_keys)
  kind = _kind(optimizer)
  defaults = _TF1_HPARAMS[kind]
  problems = [f"unknown argument {k}={v!r} (TF1 {kind}Optimizer takes {sorted(defaults) or 'none'})"
              for k, v in hparams.items() if k not in defaults]
  full = {k: hparams.get(k, d) for k, d in defaults.items()}
  problems += [f"{k} is required by TF1 {kind}Optimizer" for k, v in full.items() if v is None]
  lr = _TF1_DEFAULT_LR.get(kind) if learning_rate is None else learning_rate
  if lr is None:
    problems.append(f"learning_rate is required by TF1 {kind}Optimizer")
  if beta_power_keys is not None and kind != "Adam":
    problems.append(f"beta_power_keys is for Adam only, not {kind}")
  if problems:
    raise _errors.OptimizerStateError(
        f"Cannot describe TF1 {kind}Optimizer: {'; '.join(problems)}. Pass the arguments the TF1 graph used, "
        f"e.g. tf1_optimizer_spec({kind!r}, 0.01{', momentum=0.9' if kind == 'Momentum' else ''}).")
  full = {k: (bool(v) if isinstance(defaults[k], bool) else float(v)) for k, v in full.items()}
  return TF1OptimizerSpec(kind, float(lr), full, name or kind, beta_power_keys)


def _from_tf1_instance(opt, beta_power_keys) -> TF1OptimizerSpec:
  kind = type(opt).__name__[:-len("Optimizer")] if type(opt).__name__.endswith("Optimizer") else ""
  if type(opt) is not _TF1_CLASSES.get(kind):  # pylint: disable=unidiomatic-typecheck
    raise _errors.OptimizerStateError(
        f"TF1 optimizer class {type(opt).__name__} is not supported. Expected one of "
        f"{', '.join(c.__name__ for c in _TF1_CLASSES.values())}.")
  values = _tf_private.tf1_optimizer_hparams(opt, kind)
  lr = values.pop("learning_rate")
  tensors = [k for k, v in dict(values, learning_rate=lr).items() if not isinstance(v, (int, float, bool))]
  if tensors:
    raise _errors.OptimizerStateError(
        f"TF1 {type(opt).__name__} {opt.get_name()!r} has non-constant {', '.join(tensors)} (tensors or "
        f"callables); only Python numbers can be translated. Pass tf1_optimizer_spec({kind!r}, <value>, ...) "
        f"with the values in effect.")
  return tf1_optimizer_spec(kind, lr, name=opt.get_name(), beta_power_keys=beta_power_keys, **values)


def tf1_optimizer_from_keras(optimizer: keras.optimizers.Optimizer, *, name: Optional[str] = None
                             ) -> TF1OptimizerSpec:
  """The TF1 optimizer whose update equals the Keras 3 optimizer's.

  Args:
    optimizer: a `keras.optimizers.SGD`, `Adam`, `RMSprop` or `Adagrad` with a constant learning rate.
    name: the TF1 optimizer name; the kind by default.

  Returns:
    A `TF1OptimizerSpec`.

  Raises:
    OptimizerStateError: another class, or settings TF1's optimizers do not have (amsgrad, weight decay,
      clipping, EMA, gradient accumulation, loss scaling, a learning-rate schedule, Adagrad epsilon != 0);
      all of them are listed.
  """
  cls = type(optimizer)
  known = {keras.optimizers.SGD: "SGD", keras.optimizers.Adam: "Adam", keras.optimizers.RMSprop: "RMSprop",
           keras.optimizers.Adagrad: "Adagrad"}
  if cls not in known:
    raise _errors.OptimizerStateError(
        f"Keras optimizer {cls.__name__} has no TF1 counterpart here. Expected one of keras.optimizers.SGD, "
        f"Adam, RMSprop or Adagrad.")
  problems = [f"{attr}={getattr(optimizer, attr)!r}" for attr in _UNSUPPORTED_KERAS
              if getattr(optimizer, attr, None) not in (None, False, 0)]
  if not isinstance(_keras_private.learning_rate_value(optimizer), keras.Variable):
    problems.append(f"learning_rate={_keras_private.learning_rate_value(optimizer)!r} (a schedule)")
  if getattr(optimizer, "amsgrad", False):
    problems.append("amsgrad=True")
  if cls is keras.optimizers.Adagrad and optimizer.epsilon != 0:
    problems.append(f"epsilon={optimizer.epsilon!r} (TF1 AdagradOptimizer divides by sqrt(accumulator) with no "
                    f"epsilon; use keras.optimizers.Adagrad(..., epsilon=0.0))")
  if problems:
    raise _errors.OptimizerStateError(
        f"Keras {cls.__name__} {optimizer.name!r} has settings no TF1 optimizer reproduces: "
        f"{', '.join(problems)}. Remove them (clip gradients in the train step instead), or keep training "
        f"in Keras.")
  lr = float(optimizer.learning_rate.numpy())
  if cls is keras.optimizers.SGD:
    if optimizer.momentum:
      return tf1_optimizer_spec("Momentum", lr, name=name, momentum=optimizer.momentum,
                                use_nesterov=optimizer.nesterov)
    return tf1_optimizer_spec("GradientDescent", lr, name=name)
  if cls is keras.optimizers.Adam:
    return tf1_optimizer_spec("Adam", lr, name=name, beta1=optimizer.beta_1, beta2=optimizer.beta_2,
                              epsilon=optimizer.epsilon)
  if cls is keras.optimizers.RMSprop:
    return tf1_optimizer_spec("RMSProp", lr, name=name, decay=optimizer.rho, momentum=optimizer.momentum,
                              epsilon=optimizer.epsilon, centered=optimizer.centered)
  return tf1_optimizer_spec("Adagrad", lr, name=name,
                            initial_accumulator_value=optimizer.initial_accumulator_value)


def keras_optimizer_from_tf1(optimizer, learning_rate: Optional[float] = None, **hparams
                             ) -> keras.optimizers.Optimizer:
  """The Keras 3 optimizer that applies TF1's update rule, with translated hyperparameters.

  | TF1                                              | Keras 3                                            |
  |--------------------------------------------------|----------------------------------------------------|
  | GradientDescentOptimizer(lr)                     | SGD(lr)                                            |
  | MomentumOptimizer(lr, m, use_nesterov=n)         | SGD(lr, momentum=m, nesterov=n)                    |
  | AdamOptimizer(lr, beta1, beta2, epsilon)         | Adam(lr, beta_1=beta1, beta_2=beta2, epsilon=epsilon) |
  | RMSPropOptimizer(lr, decay, momentum, epsilon, centered) | RMSprop(lr, rho=decay, momentum, epsilon, centered) |
  | AdagradOptimizer(lr, initial_accumulator_value)  | Adagrad(lr, initial_accumulator_value, epsilon=0.0) |

  Args:
    optimizer: anything `tf1_optimizer_spec` accepts except a Keras optimizer: a kind, a TF1 optimizer or a
      `TF1OptimizerSpec`.
    learning_rate: with a kind, the learning rate.
    **hparams: with a kind, TF1 constructor arguments.

  Returns:
    A new, unbuilt Keras 3 optimizer.

  Example:

    >>> keras_optimizer_from_tf1("Adagrad", 0.1).get_config()["epsilon"]
    0.0
  """
  return tf1_optimizer_spec(optimizer, learning_rate, **hparams).to_keras()


@dataclasses.dataclass(frozen=True)
class SlotMatch:
  """One TF1 slot and the Keras optimizer variable holding the same state.

  Attributes:
    tf1_key: the checkpoint key, e.g. "hidden1/kernel/Adam_1".
    slot: TF1's slot name ("m", "v", "momentum", "rms", "mg", "accumulator").
    keras_variable: the canonical path of the model weight the slot belongs to.
    keras_slot: the Keras optimizer's attribute for that state ("_velocities", ...), None when dropped.
    shape: the slot's shape.
    conversion: "copy", "keras = -learning_rate * tf1" (Momentum), or why the value is dropped.
  """

  tf1_key: str
  slot: str
  keras_variable: str
  keras_slot: Optional[str]
  shape: Tuple[int, ...]
  conversion: str


@dataclasses.dataclass
class OptimizerStateReport:
  """The state of one optimizer: which TF1 key goes where, the step, and what is not exact.

  Attributes:
    scope: the canonical path prefix of the weights this optimizer trains ("" for all trainable weights).
    tf1: the TF1 optimizer.
    keras_optimizer: the Keras 3 optimizer that was (or would be) filled.
    slots: the slot matches.
    iterations: the Keras `iterations` value (steps already taken).
    step_sources: `{checkpoint key: steps it implies}` for `global_step` and the beta powers used.
    notes: what is not a bit-exact copy, and dropped values; never empty for a silent approximation.
  """

  scope: str
  tf1: TF1OptimizerSpec
  keras_optimizer: keras.optimizers.Optimizer
  slots: List[SlotMatch] = dataclasses.field(default_factory=list)
  iterations: int = 0
  step_sources: Dict[str, int] = dataclasses.field(default_factory=dict)
  notes: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class TrainingStateReport:
  """What `load_tf1_training_state` / `save_tf1_training_state` matched, per optimizer, and the weights.

  Pass the report of a load as `save_tf1_training_state(..., names=report)` to write back under exactly the
  source's keys: the weights' TF1 keys (and transforms), each optimizer's name and beta-power keys, and
  `global_step`'s key and dtype.

  Attributes:
    weights: the weights' `MappingReport` (load only; None after a save).
    optimizers: one `OptimizerStateReport` per optimizer.
    checkpoint: the checkpoint prefix read or written.
    assigned: True once values were assigned (load) or written (save).
    global_step_key: the checkpoint's step variable (read or written), None if there is none.
    global_step_dtype: its dtype, "int64" or "int32".
    meta_graph: the `.meta` file the TF1 hyperparameters were read from, "" if none was used.
  """

  weights: Optional[_mapping.MappingReport]
  optimizers: List[OptimizerStateReport]
  checkpoint: str = ""
  assigned: bool = False
  global_step_key: Optional[str] = None
  global_step_dtype: Optional[str] = None
  meta_graph: str = ""
  @property
  def optimizer(self) -> keras.optimizers.Optimizer:
    """The Keras optimizer when there is exactly one (use `optimizers[i].keras_optimizer` otherwise)."""
    if len(self.optimizers) != 1:
      raise _errors.OptimizerStateError(
          f"This report has {len(self.optimizers)} optimizers (scopes "
          f"{[o.scope for o in self.optimizers]}); use report.optimizers[i].keras_optimizer.")
    return self.optimizers[0].keras_optimizer

  def __str__(self):
    lines = [f"Training state {'loaded from' if self.weights is not None else 'written to'} {self.checkpoint}"
             f" ({'assigned' if self.assigned else 'nothing assigned'})"]
    if self.weights is not None:
      lines.append(f"Weights: {len(self.weights.matched)} matched, {len(self.weights.problems())} problem(s)")
    for o in self.optimizers:
      lines.append(f"Optimizer {o.scope or '(all weights)'}: TF1 {o.tf1.kind} {o.tf1.name!r} "
                   f"lr={o.tf1.learning_rate} {dict(o.tf1.hparams)} <-> Keras "
                   f"{type(o.keras_optimizer).__name__}; iterations={o.iterations} from {o.step_sources or 'nothing'}")
      lines += [f"  {s.tf1_key} ({s.slot}) -> {s.keras_variable} {s.keras_slot} {s.shape}: {s.conversion}"
                for s in o.slots]
      lines += [f"  note: {n}" for n in o.notes]
    return "\n".join(lines)


def _group_scopes(optimizer, tf1_optimizer) -> List[Tuple[str, object, object]]:
  """(scope, Keras optimizer or None, TF1 description or None) per optimizer."""
  if isinstance(optimizer, Mapping):
    tf1 = tf1_optimizer if isinstance(tf1_optimizer, Mapping) else {s: tf1_optimizer for s in optimizer}
    return [(s, o, tf1.get(s)) for s, o in optimizer.items()]
  if isinstance(tf1_optimizer, Mapping):
    return [(s, optimizer, t) for s, t in tf1_optimizer.items()]
  return [("", optimizer, tf1_optimizer)]


def _scope_weights(model, scope: str) -> "Dict[str, keras.Variable]":
  return {p: v for p, v in _naming.canonical_weights(model).items()
          if v.trainable and (not scope or p.startswith(scope + "/"))}


def _slot_keys(checkpoint_vars, tf1_key: str, name: str) -> List[str]:
  pattern = re.compile(re.escape(f"{tf1_key}/{name}") + r"(?:_(\d+))?")
  found = [(int(m.group(1) or 0), k) for k in checkpoint_vars for m in [pattern.fullmatch(k)] if m]
  return [k for _, k in sorted(found)]


def _detect(checkpoint_vars, tf1_keys) -> Tuple[Optional[str], int, str]:
  """(kind or None when ambiguous, slots per variable, description) from the slot names of `tf1_keys`."""
  counts = {}
  for key in tf1_keys:
    for name in ("Momentum", "Adam", "RMSProp", "Adagrad"):
      n = len(_slot_keys(checkpoint_vars, key, name))
      if n:
        counts.setdefault((name, n), []).append(key)
  if not counts:
    return "GradientDescent", 0, "no slots"
  described = "; ".join(f"{n} {name} slot(s) for {keys[:3]}" for (name, n), keys in sorted(counts.items()))
  if len(counts) > 1:
    return None, 0, described
  (name, n), = counts
  return name, n, described


def _other_slots(checkpoint_vars, tf1_keys, name) -> List[str]:
  """Slot keys of `tf1_keys` that belong to an optimizer other than `name`."""
  own = re.compile(re.escape(name) + r"(?:_\d+)?")
  return sorted(k for t in tf1_keys for k in checkpoint_vars
                if k.startswith(t + "/") and _mapping.is_optimizer_slot(k) and not own.fullmatch(k[len(t) + 1:]))


def _beta_pairs(checkpoint_vars) -> List[Tuple[str, str]]:
  pairs = []
  for key in sorted(checkpoint_vars, key=lambda k: (len(k), k)):
    m = _BETA_RE.fullmatch(key)
    if m and f"{m.group('scope')}beta2_power{m.group('suffix')}" in checkpoint_vars:
      pairs.append((key, f"{m.group('scope')}beta2_power{m.group('suffix')}"))
  return pairs



def _slot_entry(entry, slot_key):
  """A slot's names entry: the weight's key or transform with every key `k` replaced by `slot_key(k)`, and no
  `add` (a folded bias shifts the weight, never its optimizer state)."""
  if not _transforms.is_transform(entry):
    return slot_key(entry)
  return dict(entry, parts=[{**{k: v for k, v in p.items() if k != "add"}, "key": slot_key(p["key"])}
                            for p in entry["parts"]])


def _graph_optimizer_for(graph_opts, keys, where, problems):
  """The MetaGraph optimizer that updates `keys`; None (and a problem when several do)."""
  owners = {s: g for s, g in graph_opts.items() if set(keys) & set(g.variables)}
  if len(owners) > 1:
    problems.append(
        f"{where}: its weights are updated by {len(owners)} TF1 optimizers in the MetaGraph: "
        + "; ".join(f"{s!r} ({g.spec.kind}) updates {sorted(set(keys) & set(g.variables))[:3]}"
                    for s, g in owners.items())
        + ". Fix: pass optimizer={scope: ...} with one entry per TF1 optimizer (the canonical path prefix of "
        "the weights each trains), or tf1_optimizer= naming one.")
  return next(iter(owners.values())) if len(owners) == 1 else None


def _resolve_spec(where, keras_opt, tf1_desc, graph_opt, meta_path, detected, per_var):
  """(TF1 spec, where it came from): tf1_optimizer=, else the MetaGraph, else the slot names with TF1 defaults."""
  if isinstance(tf1_desc, str) and keras_opt is not None:
    spec = tf1_optimizer_from_keras(keras_opt)
    if spec.kind != _kind(tf1_desc):
      raise _errors.OptimizerStateError(
          f"tf1_optimizer={tf1_desc!r} but the Keras {type(keras_opt).__name__} translates to TF1 {spec.kind}")
    return spec, None
  if tf1_desc is not None:
    spec = tf1_optimizer_spec(tf1_desc)
    if spec.beta_power_keys is None and graph_opt is not None and graph_opt.spec.kind == spec.kind:
      spec = dataclasses.replace(spec, beta_power_keys=graph_opt.spec.beta_power_keys)
    return spec, "tf1_optimizer"
  if graph_opt is not None:
    return graph_opt.spec, f"the MetaGraph {meta_path!r} (optimizer scope {graph_opt.scope!r})"
  if keras_opt is not None:
    given = tf1_optimizer_from_keras(keras_opt)
    if given.kind != detected:
      return given, None  # The slot checks report the other optimizer's slots.
    # The checkpoint records no learning rate, and Momentum's momentum has no default: those are the Keras ones.
    hparams = {k: given.hparams[k] if d is None else d for k, d in _TF1_HPARAMS[detected].items()}
    if detected == "RMSProp":
      hparams["centered"] = per_var == 3
    spec = tf1_optimizer_spec(detected, given.learning_rate, **hparams)
    return spec, f"TF1's defaults for the {detected} slots found (no .meta beside the checkpoint)"
  if detected is None:
    raise _errors.OptimizerStateError("the slots belong to several optimizers")
  return tf1_optimizer_spec(detected, **({"centered": per_var == 3} if detected == "RMSProp" else {})), None


def _differences(spec, keras_spec) -> List[str]:
  """Each hyperparameter on which a Keras optimizer (as TF1) and a TF1 spec differ in float32."""
  if spec.kind != keras_spec.kind:
    return [f"kind: the Keras optimizer is TF1 {keras_spec.kind}, the TF1 one {spec.kind}"]
  out = []
  if spec.learning_rate_source is None and np.float32(spec.learning_rate) != np.float32(keras_spec.learning_rate):
    out.append(f"learning_rate: Keras {keras_spec.learning_rate!r}, TF1 {spec.learning_rate!r}")
  for k, v in spec.hparams.items():
    if np.float32(v) != np.float32(keras_spec.hparams[k]):
      out.append(f"{k}: Keras {keras_spec.hparams[k]!r}, TF1 {v!r}")
  return out


def _keras_for(where, spec, source, keras_opt, keep, report, problems):
  """The Keras optimizer to fill and the spec its slots convert with; checks its hyperparameters."""
  if keras_opt is None:
    return spec.to_keras(), spec
  keras_spec = tf1_optimizer_from_keras(keras_opt)
  diffs = _differences(spec, keras_spec) if source else []
  if diffs and spec.kind == keras_spec.kind and keep:
    report.notes.append(f"keep_keras_hyperparameters: the Keras values differ from {source}: {'; '.join(diffs)}")
  elif diffs:
    problems.append(
        f"{where}: the Keras {type(keras_opt).__name__} contradicts the TF1 optimizer from {source}: "
        f"{'; '.join(diffs)}. Fix: pass optimizer=None to get the Keras optimizer that reproduces TF1's update, "
        f"build the Keras optimizer with the TF1 values, or pass keep_keras_hyperparameters=True to train on "
        f"with the Keras values.")
  if spec.learning_rate_source:
    report.notes.append(f"the TF1 learning rate is a {spec.learning_rate_source}; Keras keeps its own, "
                        f"{keras_spec.learning_rate!r}")
  if spec.kind != keras_spec.kind:
    return keras_opt, keras_spec  # The slot checks list the other optimizer's slots.
  # Slots convert with the Keras optimizer's own values (Momentum: its learning rate).
  return keras_opt, dataclasses.replace(keras_spec, name=spec.name, beta_power_keys=spec.beta_power_keys)


def _plan_group(scope, keras_opt, tf1_desc, model, report_weights, bundle, steps_args, graph, keep, problems):
  """Validates one optimizer's state; returns (OptimizerStateReport, [(keras var, Keras attr, slot entry)])."""
  checkpoint_vars = bundle.specs
  weights = _scope_weights(model, scope)
  where = f"optimizer for scope {scope!r}" if scope else "optimizer"
  if not weights:
    problems.append(f"{where}: the model has no trainable weight under {scope + '/'!r}; expected scopes like "
                    f"{sorted({p.split('/')[0] for p in _naming.canonical_weights(model)})}")
    return None, []
  entries = dict({m.keras_path: m.tf1_key for m in report_weights.matched}, **report_weights.transforms)
  entries = {p: entries[p] for p in weights if p in entries}
  part_keys = _transforms.all_keys(entries.values())
  detected, per_var, found = _detect(checkpoint_vars, part_keys)
  meta_path, graph_opts = graph
  graph_opt = None
  if graph_opts and tf1_desc is None:
    graph_opt = _graph_optimizer_for(graph_opts, part_keys, where, problems)
  elif graph_opts and not isinstance(tf1_desc, str):  # Only for its beta-power keys; tf1_optimizer wins.
    graph_opt = _graph_optimizer_for(graph_opts, part_keys, where, [])
  try:
    spec, source = _resolve_spec(where, keras_opt, tf1_desc, graph_opt, meta_path, detected, per_var)
    report = OptimizerStateReport(scope=scope, tf1=spec, keras_optimizer=keras_opt, notes=[_NOTES[spec.kind]])
    keras_opt, spec = _keras_for(where, spec, source, keras_opt, keep, report, problems)
  except _errors.OptimizerStateError as e:
    problems.append(f"{where}: {e} (slots found: {found}). Fix: pass tf1_optimizer=tf1_optimizer_spec(...) "
                    f"with the TF1 graph's optimizer and hyperparameters, or the matching Keras optimizer.")
    return None, []
  report.keras_optimizer = keras_opt
  report.tf1 = spec
  if source:
    report.notes.append(f"TF1 hyperparameters from {source}")
  plan = []
  if keras_opt.built:
    unknown = [p for p, v in weights.items() if not _keras_private.tracks(keras_opt, v)]
    if unknown:
      problems.append(f"{where}: the Keras optimizer is already built for other variables; it does not track "
                      f"{unknown}. Fix: pass a new, unbuilt optimizer.")
  unmapped = [p for p in weights if p not in entries]
  if unmapped:
    report.notes.append(f"no checkpoint key for {unmapped}: their optimizer state keeps its initial value")
  roles = spec.slot_names
  missing, wrong_count, shapes = [], [], []
  for path, entry in entries.items():
    found_keys = {k: _slot_keys(checkpoint_vars, k, spec.name) for k in _transforms.keys(entry)}
    if roles and not all(found_keys.values()):
      missing += [spec.slot_key(k, 0) for k, v in found_keys.items() if not v]
      continue
    bad = [f"{k!r} has {len(v)} slot(s) {v}" for k, v in found_keys.items() if len(v) != len(roles)]
    if bad:
      wrong_count.append(f"{'; '.join(bad)}, TF1 {spec.kind}"
                         f"{' (centered)' if spec.hparams.get('centered') else ''} makes {len(roles)} {list(roles)}")
      continue
    var_shape = tuple(weights[path].shape)
    for n, role in enumerate(roles):
      slot = _slot_entry(entry, lambda k, n=n: found_keys[k][n])
      keys = _transforms.keys(slot)
      shape = _transforms.keras_shape(slot, {k: tuple(checkpoint_vars[k][0]) for k in keys})
      dtypes = sorted({checkpoint_vars[k][1] for k in keys})
      described = _transforms.describe(slot)
      if shape != var_shape or dtypes != [weights[path].dtype]:
        shapes.append(f"{described!r} is {shape} {'/'.join(dtypes)}, weight {path!r} is {var_shape} "
                      f"{weights[path].dtype}")
        continue
      attr = _KERAS_SLOT_ATTR[(spec.kind, role)]
      if attr == "_momentums" and spec.kind == "RMSProp" and not spec.hparams["momentum"]:
        report.slots.append(SlotMatch(described, role, path, None, var_shape,
                                      "dropped: momentum=0, TF1 multiplies it by 0 and Keras has no such slot"))
        continue
      conversion = "keras = -learning_rate * tf1" if spec.kind == "Momentum" else "copy"
      if _transforms.is_transform(slot):
        conversion += " (transform, no add)"
      report.slots.append(SlotMatch(described, role, path, attr, var_shape, conversion))
      plan.append((weights[path], attr, slot))
  if missing:
    others = _other_slots(checkpoint_vars, part_keys, spec.name)
    problems.append(
        f"{where}: no {spec.kind} slots in the checkpoint for {len(missing)} variable(s): expected "
        f"{missing[:4]}{' ...' if len(missing) > 4 else ''}, found "
        + (f"slots of another optimizer: {others[:4]} ({found})" if others else "no optimizer slots at all")
        + ". Fix: pass the optimizer the TF1 graph trained with (tf1_optimizer=... or the matching Keras "
        "optimizer), or load the weights alone with load_tf1_checkpoint.")
  if not roles:
    others = _other_slots(checkpoint_vars, part_keys, spec.name)
    if others:
      problems.append(f"{where}: TF1 GradientDescent keeps no slots, but the checkpoint holds {others[:4]} "
                      f"({found}). Fix: pass the optimizer that wrote them (tf1_optimizer=... or the matching "
                      f"Keras optimizer), or load the weights alone with load_tf1_checkpoint.")
  if wrong_count:
    problems.append(f"{where}: wrong number of slots: {'; '.join(wrong_count)}. Fix: check the optimizer "
                    f"(centered RMSProp has 3 slots, plain 2) and its TF1 name.")
  if shapes:
    problems.append(f"{where}: slot shape/dtype mismatch: {'; '.join(shapes)}. Fix: the slots belong to a "
                    f"model of other sizes; build the Keras model with the checkpoint's sizes.")
  _plan_steps(where, spec, bundle, steps_args, report, problems)
  return report, plan


def _check_same_hparams(where, spec, keras_opt, problems):
  try:
    given = tf1_optimizer_from_keras(keras_opt)
  except _errors.OptimizerStateError as e:
    problems.append(f"{where}: {e}")
    return
  diffs = _differences(spec, given)
  if diffs:
    problems.append(
        f"{where}: the Keras {type(keras_opt).__name__} contradicts tf1_optimizer: {'; '.join(diffs)}. Fix: "
        f"pass optimizer=None to get keras_optimizer_from_tf1(tf1_optimizer), or make the two agree.")


def _plan_steps(where, spec, bundle, steps_args, report, problems):
  """Sets report.iterations from `iterations=`, `global_step` and the beta powers, which must agree.

  An underflowed power (0.0) says only that at least `underflow_step(beta)` steps were taken; with nothing
  else to go by, that smallest step is taken, where TF1's powers are both 0 and Keras's bias correction is 1.
  """
  global_step_key, iterations = steps_args
  checkpoint_vars = bundle.specs
  sources, bounds = {}, {}
  if iterations is not None:
    sources["iterations="] = int(iterations)
  if global_step_key and global_step_key in checkpoint_vars:
    sources[global_step_key] = int(bundle.read_numpy(global_step_key))
  if spec.kind == "Adam":
    pair = _beta_pair(where, spec, checkpoint_vars, bundle, problems)
    if pair is None:
      return
    for key, beta in zip(pair, (spec.hparams["beta1"], spec.hparams["beta2"])):
      value = float(bundle.read_numpy(key))
      steps = _beta_powers.steps_from_power(value, beta) if value else None
      if value == 0.0 and _beta_powers.underflow_step(beta) is not None:
        bounds[key] = _beta_powers.underflow_step(beta)
      elif steps is None or steps == -1:
        problems.append(f"{where}: {key!r} = {value!r} is not {beta}**(t+1) for any step t; expected the beta of "
                        f"the TF1 optimizer. Fix: pass the beta1/beta2 the TF1 graph used.")
      else:
        sources[key] = steps
  report.step_sources = {k: v for k, v in sources.items() if k != "iterations="}
  named = ", ".join(f"{k} implies {v} step(s)" if k == "iterations=" else f"{k!r} implies {v} step(s)"
                    for k, v in sources.items())
  if len(set(sources.values())) > 1:
    problems.append(
        f"{where}: inconsistent step counters: {named}. Fix: "
        + (f"if {global_step_key!r} also counts other train ops (another optimizer), pass global_step_key=None; "
           if global_step_key in sources else "")
        + "check beta1/beta2, iterations= or the checkpoint.")
    return
  if sources:
    step = next(iter(sources.values()))
    early = [f"{k!r} is 0.0, which TF1's float32 power reaches only after {b} steps" for k, b in bounds.items()
             if step < b]
    if early:
      problems.append(f"{where}: inconsistent step counters: {named}, but {'; '.join(early)}. Fix: check "
                      f"beta1/beta2, iterations= or the checkpoint.")
    report.iterations = step
  elif bounds:
    report.iterations = max(bounds.values())
    report.notes.append(
        f"{' and '.join(repr(k) for k in bounds)} underflowed to 0.0 and no step counter says more: "
        f"iterations={report.iterations}, the smallest step at which TF1's float32 powers are both 0 (TF1's and "
        f"Keras's bias corrections are exactly 1 from there on, and a write-back writes 0.0 again). Pass "
        f"iterations= if a learning-rate schedule needs the true step.")
  elif spec.kind != "Adam":
    report.notes.append("no step counter in the checkpoint: iterations=0 (it only matters to "
                        "learning-rate schedules)")
def _beta_pair(where, spec, checkpoint_vars, reader, problems):
  if spec.beta_power_keys:
    absent = [k for k in spec.beta_power_keys if k not in checkpoint_vars]
    if absent:
      problems.append(f"{where}: beta_power_keys {absent} are not in the checkpoint; it has "
                      f"{_beta_pairs(checkpoint_vars)}")
      return None
    return spec.beta_power_keys
  pairs = _beta_pairs(checkpoint_vars)
  if not pairs:
    problems.append(f"{where}: Adam needs 'beta1_power' and 'beta2_power'; the checkpoint has neither (keys: "
                    f"{sorted(k for k in checkpoint_vars if _mapping.is_step_key(k))}). Fix: the checkpoint was "
                    f"not written by AdamOptimizer; pass the optimizer that wrote it.")
    return None
  values = {tuple(float(reader.read_numpy(k)) for k in pair) for pair in pairs}
  if len(values) > 1:
    problems.append(f"{where}: {len(pairs)} Adam beta-power pairs {pairs} with different values; which one is "
                    f"this optimizer's is ambiguous. Fix: pass tf1_optimizer=tf1_optimizer_spec(..., "
                    f"beta_power_keys=('beta1_power_1', 'beta2_power_1')) naming its pair.")
    return None
  return pairs[0]


def _tf1_value(spec, attr, value):
  return value / -np.float32(spec.learning_rate) if attr == "momentums" else value




def _meta_graph(prefix, groups):
  """(path, {scope: GraphOptimizer}) of the `.meta` beside the checkpoint, when some group needs it."""
  path = prefix + ".meta"
  if all(isinstance(desc, str) for _, _, desc in groups) or not os.path.isfile(path):
    return "", {}
  from keras_bridge import _graph_optimizers  # pylint: disable=import-outside-toplevel  (it imports this module)
  try:
    return path, _graph_optimizers.tf1_optimizers_in_graph(path)
  except _errors.Error:
    return "", {}


@_distributed.in_model_scope
def load_tf1_training_state(model, optimizer, path, *, tf1_optimizer=None, rules=(), include: Sequence[str] = (),
                            exclude: Sequence[str] = (), strict: bool = True, dry_run: bool = False,
                            global_step_key: Optional[str] = "global_step", names=None,
                            iterations: Optional[int] = None, keep_keras_hyperparameters: bool = False
                            ) -> TrainingStateReport:
  """Loads a name-based (TF1) checkpoint into a Keras 3 model and its optimizer, so training continues.

  Everything is checked first: the weight mapping (`load_tf1_checkpoint`'s rules and `names`), every slot's
  key, count, shape and dtype, the hyperparameters, the step counters, and the CRC-32C of every tensor to load
  (streamed). On any problem an error lists all of them and nothing is assigned, to the model or the
  optimizer. Then the optimizer is built on the trainable weights, and the weights, the slots (one tensor at a
  time, as `load_tf1_checkpoint` does) and `iterations` are set.

  The TF1 hyperparameters come from, in order: `tf1_optimizer`; else the `.meta` file beside the checkpoint
  (`tf1_optimizers_in_graph`: the optimizer whose update ops write these weights); else the slot names, with
  TF1's defaults (the learning rate, which a checkpoint does not record, is then the Keras optimizer's). A
  Keras optimizer whose hyperparameters contradict them is refused, naming each difference, unless
  `keep_keras_hyperparameters=True`.

  The step: `iterations`, `global_step` and Adam's `beta1_power`/`beta2_power` must all imply the same one. A
  power that underflowed to 0.0 (after 828 steps for beta 0.9, 87,293 for 0.999) carries no count; when
  nothing else does, the smallest step at which both powers are 0 is taken (TF1's and Keras's bias
  corrections are then exactly 1) and the report says so.

  Args:
    model: a built Keras 3 model whose weights the checkpoint fills (see `load_tf1_checkpoint`).
    optimizer: the Keras 3 optimizer to fill, or None to create the one that reproduces the TF1 optimizer
      (`keras_optimizer_from_tf1`). Several optimizers (a GAN): a dict `{scope: optimizer or None}`, where
      scope is the canonical path prefix of the weights it trains, e.g. `{"discriminator": d_opt,
      "generator": g_opt}`.
    path: checkpoint prefix, `-N` prefix, directory with a `checkpoint` state file, or a checkpoint file.
    tf1_optimizer: the TF1 optimizer that wrote the slots: a `TF1OptimizerSpec`, a `tf.compat.v1.train`
      optimizer, or a kind ("Adam": the kind only, hyperparameters from the Keras optimizer). With several
      optimizers, a dict keyed like `optimizer`.
    rules: TF1-name rules for the weights (see `load_tf1_checkpoint`); slots follow their variable.
    include: regexes selecting the keys to map.
    exclude: regexes selecting keys to leave out.
    strict: the weights' mapping must be complete (see `load_tf1_checkpoint`). Optimizer state is always
      checked strictly.
    dry_run: only build and return the report.
    global_step_key: the step variable to check against (and, without Adam, take `iterations` from); None
      when it counts something else (a GAN's `global_step` that one of two train ops increments).
    names: `{canonical Keras path: TF1 key or transform}` as in `load_tf1_checkpoint` (a generated module's
      `TF1_NAMES`, `ImportResult.names`). A transformed weight's slots are assembled by the same transform
      applied to the slot keys of every part key (`<key>/Adam`, `<key>/Adam_1`), without `add`.
    iterations: the step count, when the checkpoint has no counter that says it (underflowed powers and no
      `global_step`); checked against the counters that exist.
    keep_keras_hyperparameters: train on with the Keras optimizer's hyperparameters where they differ from
      the TF1 ones (each difference is listed in the report's notes).

  Returns:
    A `TrainingStateReport`; `report.optimizer` (or `report.optimizers[i].keras_optimizer`) is the filled
    Keras optimizer. Pass it as `save_tf1_training_state(..., names=report)` to write back to the same keys.

  Raises:
    CheckpointNotFoundError, CheckpointFormatError: see `load_tf1_checkpoint`.
    MappingError: strict, and the weights do not map one-to-one.
    OptimizerStateError: missing slots, slots of another optimizer, inconsistent step counters, slot shape
      mismatches, or hyperparameters that contradict each other; all listed.
    PartialLoadError: a tensor became unreadable after the check; it names the weights and slots already
      assigned.

  Example:

    >>> report = load_tf1_training_state(model, None, "run/")   # hyperparameters from run/model.ckpt-N.meta
    >>> optimizer = report.optimizer   # keras.optimizers.Adam, iterations == the TF1 step
  """
  bundle = _bundle.open_bundle(path)  # Opened once; every read below goes through it.
  prefix = bundle.prefix
  weights_report = _tf1_checkpoint.load_tf1_checkpoint(model, bundle, rules=rules, include=include,
                                                       exclude=exclude, dry_run=True, names=names)
  if strict:
    weights_report.raise_if_incomplete(model.name)
  checkpoint_vars = bundle.specs
  groups = _group_scopes(optimizer, tf1_optimizer)
  graph = _meta_graph(prefix, groups)
  problems, reports, plans = [], [], []
  for scope, keras_opt, tf1_desc in groups:
    report, plan = _plan_group(scope, keras_opt, tf1_desc, model, weights_report, bundle,
                               (global_step_key, iterations), graph, keep_keras_hyperparameters, problems)
    if report is not None:
      reports.append(report)
      plans.append(plan)
  problems += _distributed.check_same_strategy(model, [r.keras_optimizer for r in reports], "optimizer")
  if problems:
    raise _errors.OptimizerStateError(
        f"Optimizer state in checkpoint {prefix!r} does not fit; nothing was assigned. {len(problems)} "
        f"problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
  step_key = global_step_key if global_step_key in checkpoint_vars else (
      "global_step" if "global_step" in checkpoint_vars else None)
  result = TrainingStateReport(weights=weights_report, optimizers=reports, checkpoint=prefix,
                               global_step_key=step_key,
                               global_step_dtype=checkpoint_vars[step_key][1] if step_key else None,
                               meta_graph=graph[0])
  if dry_run:
    return result
  weights = _tf1_checkpoint.weight_assignments(model, weights_report)
  slots = [(report, var, attr, entry) for report, plan in zip(reports, plans) for var, attr, entry in plan]
  bundle.verify(_loading.keys(weights) + _transforms.all_keys(entry for _, _, _, entry in slots))
  for report in reports:
    if not report.keras_optimizer.built:
      report.keras_optimizer.build(list(_scope_weights(model, report.scope).values()))
  assignments = list(weights)
  paths = {id(v): p for p, v in _naming.canonical_weights(model).items()}
  for report, var, attr, entry in slots:
    opt = report.keras_optimizer
    slot = _keras_private.slot_variables(opt, attr)[_keras_private.variable_index(opt, var)]
    assignments.append(_loading.Assignment(
        f"{type(opt).__name__} {attr.lstrip('_')} of {paths[id(var)]!r}", slot, entry, slot=True,
        scale=-report.tf1.learning_rate if attr == "momentums" else None))  # Keras = -lr * TF1 accumulation.
  _loading.assign(bundle, assignments)
  weights_report.assigned = True
  result.weights = weights_report
  for report in reports:
    report.keras_optimizer.iterations.assign(report.iterations)
  result.assigned = True
  return result


def _write_names(names):
  """(weight names for save_tf1_checkpoint, {scope: loaded OptimizerStateReport}, the loaded report)."""
  if isinstance(names, TrainingStateReport):
    return names.weights, {o.scope: o for o in names.optimizers}, names
  if isinstance(names, _mapping.MappingReport):
    return names, {}, None
  return names, {}, None


@_distributed.in_model_scope
def save_tf1_training_state(model, optimizer, path, *, tf1_optimizer=None, rules=(), overwrite: bool = False,
                            global_step: Optional[int] = None, global_step_key: Optional[str] = "global_step",
                            global_step_dtype: Optional[str] = None, names=None) -> TrainingStateReport:
  """Writes a Keras 3 model and its optimizer state as a name-based (TF1) checkpoint a TF1 graph continues from.

  The weights go under their TF1 names (`save_tf1_checkpoint`), each slot under `<TF1 name>/<optimizer
  name>[_N]` in TF1's creation order, Adam's `beta1_power`/`beta2_power` as TF1 would hold them after
  `iterations` steps (TF1's float32 arithmetic, replayed in O(1) memory and at most 87,293 multiplications
  for beta 0.999), and `global_step`. With `names=` the report of the load, everything goes back under the
  source's own keys, so the original MetaGraph's `Saver` (from `import_meta_graph`) restores it unchanged.

  Args:
    model: the Keras 3 model.
    optimizer: its Keras 3 optimizer, or `{scope: optimizer}` for several (a GAN), in the order the TF1 graph
      creates its optimizers: the second Adam's powers are written as `beta1_power_1`/`beta2_power_1`.
      An unbuilt optimizer is built on the scope's trainable weights first.
    path: the checkpoint prefix to write (written exactly, no `-N` added).
    tf1_optimizer: overrides the translated TF1 optimizer, e.g. to set its `name` or `beta_power_keys`
      (`tf1_optimizer_spec(keras_optimizer, name=..., beta_power_keys=("train/beta1_power", ...))`). A dict
      with several optimizers.
    rules: canonical-path -> TF1-name rules, as in `save_tf1_checkpoint`.
    overwrite: replace an existing checkpoint.
    global_step: the `global_step` value; default: the first optimizer's `iterations`.
    global_step_key: the step variable's key; None writes no step variable. Left at "global_step", a `names`
      report's key is used.
    global_step_dtype: "int64" or "int32"; default: the `names` report's, else "int64". An int32 step above
      2**31 - 1 is refused.
    names: where each weight goes: the `TrainingStateReport` of `load_tf1_training_state` (weights' keys and
      transforms, each optimizer's slot name and beta-power keys, `global_step`'s key and dtype), a
      `MappingReport`, or `{canonical Keras path: TF1 key or transform}` (`TF1_NAMES`). A transformed weight's
      slots are inverted with the same transform (`to_tf1(..., slot=True)`), bit-exactly.

  Returns:
    A `TrainingStateReport` (with `weights=None`).

  Raises:
    OptimizerStateError: an optimizer TF1 cannot reproduce (see `tf1_optimizer_from_keras`), an optimizer
      that does not track the scope's weights, or a step that does not fit the step variable's dtype.
      Nothing is written.
    OutputExistsError, MappingError: see `save_tf1_checkpoint`.
  """
  weight_names, loaded, source = _write_names(names)
  entries = {}
  if isinstance(weight_names, _mapping.MappingReport):
    entries = dict({m.keras_path: m.tf1_key for m in weight_names.matched}, **weight_names.transforms)
  elif weight_names:
    entries = dict(weight_names)
  problems, reports, extra = [], [], {}
  slot_transforms, slot_values = {}, {}
  adam_index = 0
  for scope, keras_opt, tf1_desc in _group_scopes(optimizer, tf1_optimizer):
    where = f"optimizer for scope {scope!r}" if scope else "optimizer"
    weights = _scope_weights(model, scope)
    try:
      spec = tf1_optimizer_spec(tf1_desc if tf1_desc is not None else keras_opt)
    except _errors.OptimizerStateError as e:
      problems.append(f"{where}: {e}")
      continue
    if tf1_desc is not None:
      _check_same_hparams(where, spec, keras_opt, problems)
    elif scope in loaded:
      spec = dataclasses.replace(spec, name=loaded[scope].tf1.name, beta_power_keys=loaded[scope].tf1.beta_power_keys)
    mismatch = _distributed.check_same_strategy(model, [keras_opt], where)
    if mismatch:
      problems += mismatch
      continue
    if not keras_opt.built:
      keras_opt.build(list(weights.values()))
    unknown = [p for p, v in weights.items() if not _keras_private.tracks(keras_opt, v)]
    if unknown or not weights:
      problems.append(f"{where}: it does not track the weights {unknown or '(none under ' + scope + '/)'}; pass "
                      f"the optimizer that trains them, with the scope of their canonical paths.")
      continue
    iterations = int(keras_opt.iterations.numpy())
    report = OptimizerStateReport(scope=scope, tf1=spec, keras_optimizer=keras_opt, iterations=iterations,
                                  notes=[_NOTES[spec.kind]])
    for path_, var in weights.items():
      entry = entries.get(path_, _naming.apply_rules(path_, rules))
      i = _keras_private.variable_index(keras_opt, var)
      for n, role in enumerate(spec.slot_names):
        attr = _KERAS_SLOT_ATTR[(spec.kind, role)]
        slots = _keras_private.slot_variables(keras_opt, attr)
        if slots:
          value = np.asarray(_tf1_value(spec, attr, slots[i].numpy()), dtype=var.dtype)
          conversion = "tf1 = keras / -learning_rate" if attr == "momentums" else "copy"
        else:  # RMSprop(momentum=0) has no momentum slot; TF1 multiplies its mom by 0.
          value = np.zeros(var.shape, dtype=var.dtype)
          conversion = "zeros: momentum=0, Keras has no such slot"
        slot = _slot_entry(entry, lambda k, n=n: spec.slot_key(k, n))
        if _transforms.is_transform(slot):
          slot_transforms[(path_, n)], slot_values[(path_, n)] = slot, value
          conversion += " (inverse transform, no add)"
        else:
          extra[slot] = value
        report.slots.append(SlotMatch(_transforms.describe(slot), role, path_, attr if slots else None,
                                      tuple(var.shape), conversion))
    if spec.kind == "Adam":
      suffix = f"_{adam_index}" if adam_index else ""
      keys = spec.beta_power_keys or (f"beta1_power{suffix}", f"beta2_power{suffix}")
      adam_index += 1
      for key, beta in zip(keys, (spec.hparams["beta1"], spec.hparams["beta2"])):
        extra[key] = _beta_powers.tf1_power(beta, iterations)
        report.step_sources[key] = iterations
    reports.append(report)
  if source is not None and global_step_key == "global_step":
    global_step_key = source.global_step_key
  dtype = global_step_dtype or (source.global_step_dtype if source is not None else None) or "int64"
  step = None
  if global_step_key and reports:
    step = reports[0].iterations if global_step is None else int(global_step)
    if dtype not in ("int32", "int64"):
      problems.append(f"global_step_dtype={dtype!r}: expected 'int64' or 'int32'.")
    elif dtype == "int32" and not -2**31 <= step <= 2**31 - 1:
      problems.append(
          f"global step {step} does not fit {global_step_key!r}, an int32 step variable (at most 2**31 - 1 = "
          f"{2**31 - 1}). Fix: pass global_step= a value that fits (the TF1 graph's own counter would have "
          f"overflowed), or global_step_dtype='int64' for a graph whose step variable is int64.")
  if problems:
    raise _errors.OptimizerStateError(
        f"Cannot write the optimizer state as TF1; nothing was written. {len(problems)} problem(s):\n"
        + "\n".join(f"  - {p}" for p in problems))
  if slot_transforms:
    weight_transforms = {p: e for p, e in entries.items() if _transforms.is_transform(e)}
    shapes = _transforms.infer_key_shapes(
        weight_transforms, {p: tuple(v.shape) for p, v in _naming.canonical_weights(model).items()
                            if p in weight_transforms})
    slot_shapes = {}
    for (path_, n), slot in slot_transforms.items():
      for part, weight_part in zip(slot["parts"], entries[path_]["parts"]):
        slot_shapes[part["key"]] = shapes[weight_part["key"]]
    extra.update(_transforms.to_tf1({f"{p}#{n}": s for (p, n), s in slot_transforms.items()},
                                    {f"{p}#{n}": v for (p, n), v in slot_values.items()}, slot_shapes, slot=True))
  if step is not None:
    extra[global_step_key] = np.asarray(step, dtype=dtype)
  prefix = _tf1_checkpoint.save_tf1_checkpoint(model, path, rules=rules, extra=extra, overwrite=overwrite,
                                               names=weight_names)
  return TrainingStateReport(weights=None, optimizers=reports, checkpoint=prefix, assigned=True,
                             global_step_key=global_step_key if step is not None else None,
                             global_step_dtype=dtype if step is not None else None)
