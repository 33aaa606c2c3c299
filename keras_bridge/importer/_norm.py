"""Batch norm and the other per-channel affine maps: bias adds, batch norms written by hand, rescalings.

`FusedBatchNorm`/`V2`/`V3` at inference (`is_training=False`, which is what a `training` flag fed False
selects) becomes `layers.BatchNormalization` directly. Everything else arrives as an `Affine`
(`x * scale + offset`, built by `_arith`) and is turned into a layer when something needs a Keras tensor:

* `offset` one variable, no scale: a bias, fused into the Dense/Conv before it by `_fuse`;
* `scale`/`offset` expressions of four (or two, three) variables and a constant: a batch norm written by
  hand, or `tf.nn.batch_normalization`: the roles (variance under the `rsqrt`, epsilon added to it, gamma,
  mean, beta) are read from the expression and then proved by evaluating both the expression and the batch
  norm formula on random values for the variables, so a look-alike is never taken for a batch norm;
* constant scalars: `layers.Rescaling(scale, offset)` (`x / keep_prob`, `2 * x - 1`).
"""

import itertools

import numpy as np

from keras_bridge.importer import _arith
from keras_bridge.importer import _ir
from keras_bridge.importer._evaluate import handles
from keras_bridge.importer._evaluate import Unsupported


@handles("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")
def fused_batch_norm(ev, op, ins):
  x, scale, offset, mean, variance = ins[:5]
  if op.get_attr("is_training"):
    raise Unsupported("batch norm that uses the batch statistics at inference (is_training=True); feed the "
                      "training flag False, or rebuild the layer with training=False")
  fmt = op.get_attr("data_format").decode()
  weights, config = {}, {"epsilon": _eps(op.get_attr("epsilon"))}
  if fmt != "NHWC":
    config = {"axis": 1, **config}
  for name, value, flag in (("gamma", scale, "scale"), ("beta", offset, "center")):
    if isinstance(value, _ir.Weight) and value.leaf is not None:
      weights[name] = value.leaf.key
    elif isinstance(value, _ir.Known) and np.all(value.value == (1 if name == "gamma" else 0)):
      config[flag] = False
    else:
      raise Unsupported(f"the {name} of a batch norm is neither a variable nor a constant {name}")
  for name, value in (("moving_mean", mean), ("moving_variance", variance)):
    if not (isinstance(value, _ir.Weight) and value.leaf is not None):
      raise Unsupported(f"the {name} of a batch norm at inference is not a variable")
    weights[name] = value.leaf.key
  return _bn_layer(ev, op, x, config, weights)


def _eps(value) -> float:
  """The shortest decimal of the float32 epsilon (0.001, not 0.0010000000474974513): the same float32."""
  return float(str(np.float32(value)))


def _bn_layer(ev, op, x, config, weights, ops=()):
  scope = weights["moving_mean"].rsplit("/", 1)[0] if "/" in weights["moving_mean"] else op.name
  layer = ev.layer("BatchNormalization", config, weights=weights, scope=scope, op=op)
  outputs = [op.outputs[0]] if op is not None else []
  return ev.call(layer, x, [op] + list(ops) if op is not None else list(ops), outputs)[0]


def materialize(ev, a: _ir.Affine) -> _ir.Sym:
  """The Keras layer for an `Affine`; the same `Affine` always gives the same tensor."""
  done = ev.__dict__.setdefault("_affine_done", {})
  if id(a) in done:
    return done[id(a)][1]
  sym = _materialize(ev, a)
  done[id(a)] = (a, sym)
  return sym


def _materialize(ev, a):
  x, s, o = a.x, a.scale, a.offset
  ops = list(a.ops)
  if s is None and o is None:
    return x
  if s is None and isinstance(o, _ir.Weight) and o.leaf is not None and len(o.shape) == 1:
    layer = ev.layer("_Bias", {}, weights={"bias": o.leaf.key}, share=False,
                     scope=o.leaf.key.rsplit("/", 1)[0] if "/" in o.leaf.key else o.leaf.key)
    return _call(ev, layer, x, ops)
  bn = match_batch_norm(s, o)
  if bn is not None:
    config, weights = bn
    scope = weights["moving_mean"].rsplit("/", 1)[0] if "/" in weights["moving_mean"] else "batch_norm"
    layer = ev.layer("BatchNormalization", config, weights=weights, scope=scope)
    return _call(ev, layer, x, ops)
  scalars = all(v is None or (isinstance(v, _ir.Known) and np.size(v.value) == 1) for v in (s, o))
  if scalars:
    config = {"scale": float(np.float32(s.value)) if s is not None else 1.0}
    if o is not None:
      config["offset"] = float(np.float32(o.value))
    layer = ev.layer("Rescaling", config, scope=ops[-1] if ops else "rescaling", share=False)
    return _call(ev, layer, x, ops)
  raise Unsupported(f"a per-channel scale or shift (ops {ops}) that is neither a bias after a layer nor a "
                    f"batch norm")


def _call(ev, layer, x, ops):
  try:
    op = ev.graph.get_operation_by_name(ops[-1]) if ops else None
  except (KeyError, ValueError):  # an op of a function body (a tf.cond branch)
    op = None
  outputs = [op.outputs[0]] if op is not None and op.outputs else []
  sym = ev.call(layer, x, ops, outputs)[0]
  if sym.shape is None:
    sym.shape = x.shape
  return sym


def _leaves(e, under=False, out=None):
  """(leaf, under_root) pairs of a weight expression; `under_root` marks leaves inside rsqrt/sqrt."""
  out = [] if out is None else out
  if isinstance(e, _ir.Weight):
    e = e.expr
  if isinstance(e, _ir.Leaf):
    out.append((e, under))
  elif isinstance(e, _ir.Expr):
    for arg in e.args:
      _leaves(arg, under or e.op in ("rsqrt", "sqrt"), out)
  return out


def _epsilon(e):
  """The constant added to the variance inside the rsqrt, or None."""
  if isinstance(e, _ir.Weight):
    e = e.expr
  if isinstance(e, _ir.Expr):
    if e.op in ("rsqrt", "sqrt") and isinstance(e.args[0], _ir.Expr) and e.args[0].op == "add":
      for arg in e.args[0].args:
        if isinstance(arg, _ir.Known) and np.size(arg.value) == 1:
          return float(arg.value)
    for arg in e.args:
      found = _epsilon(arg)
      if found is not None:
        return found
  return None


def match_batch_norm(s, o):
  """(config, weights) of a `BatchNormalization` equal to `x * s + o`, or None."""
  if not isinstance(s, _ir.Weight):
    return None
  in_s, in_o = _leaves(s), _leaves(o) if o is not None else []
  variances = {leaf for leaf, under in in_s if under}
  if len(variances) != 1:
    return None
  (var,) = variances
  eps = _epsilon(s)
  if eps is None:
    return None
  gammas = list({leaf for leaf, _ in in_s if leaf != var})
  if len(gammas) > 1:
    return None
  gamma = gammas[0] if gammas else None
  rest = list({leaf for leaf, _ in in_o if leaf not in (var, gamma)})
  if not 1 <= len(rest) <= 2:
    return None
  for roles in itertools.permutations(rest):
    mean, beta = roles[0], (roles[1] if len(roles) > 1 else None)
    if _proves(s, o, var, eps, gamma, mean, beta):
      config = {"epsilon": _eps(eps)}
      if gamma is None:
        config["scale"] = False
      if beta is None:
        config["center"] = False
      weights = {"gamma": gamma.key if gamma else None, "beta": beta.key if beta else None,
                 "moving_mean": mean.key, "moving_variance": var.key}
      return config, {k: v for k, v in weights.items() if v is not None}
  return None


def _proves(s, o, var, eps, gamma, mean, beta) -> bool:
  rng = np.random.default_rng(0)
  for _ in range(2):
    env = {leaf.key: rng.uniform(0.5, 2.0, leaf.shape) for leaf in (var, gamma, mean, beta) if leaf}
    try:
      got_s = _arith.evaluate(s, env)
      got_o = _arith.evaluate(o, env) if o is not None else 0.0
    except (KeyError, ValueError):
      return False
    want_s = (env[gamma.key] if gamma else 1.0) / np.sqrt(env[var.key] + eps)
    want_o = (env[beta.key] if beta else 0.0) - env[mean.key] * want_s
    if not (np.allclose(got_s, want_s, rtol=1e-5, atol=0) and np.allclose(got_o, want_o, rtol=1e-5, atol=1e-6)):
      return False
  return True
