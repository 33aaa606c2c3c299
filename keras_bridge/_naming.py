"""Canonical paths for Keras 3 weights, and the default TF1-name rules.

Keras 3's own `Variable.path` depends on how the model was built: a Sequential gives `seq/hidden1/kernel`, a
functional model `hidden1/kernel`, a subclassed one `generator/fc/kernel`. The bridge uses one scheme instead:

    canonical path = the names of the layers from the model (excluded) down to the owning layer, joined by
                     "/", then "/" and the variable's own name.

So `hidden1/kernel` for a Dense called "hidden1" in any kind of model, `fc/kernel` inside a subclassed
generator, and `generator/fc/kernel` when that generator is itself a layer of a bigger model. A layer called
twice (a shared layer) owns its variables once, so it has one path per variable. Variables created directly
on the model (`add_weight` in a subclassed model) have just their name.
"""

import collections
import re

import keras

from keras_bridge import _keras_private

#: Default TF1 -> canonical rules: TF1's customary variable names become Keras's.
DEFAULT_RULES = (
    (r"(^|/)(weights|W|w)$", r"\1kernel"),
    (r"(^|/)(biases|b)$", r"\1bias"),
)


def canonical_weights(model: keras.layers.Layer) -> "collections.OrderedDict[str, keras.Variable]":
  """Maps canonical path -> Keras variable for every weight of `model`, in tracking order.

  Args:
    model: a built Keras 3 layer or model.

  Returns:
    An ordered dict. Each variable appears once, under the path of the layer that owns it.
  """
  out = collections.OrderedDict()
  seen = set()

  def walk(layer, prefix):
    for var in _keras_private.own_variables(layer):
      if id(var) not in seen:
        seen.add(id(var))
        out[prefix + var.name] = var
    for sub in _keras_private.sublayers(layer):
      walk(sub, prefix + sub.name + "/")

  walk(model, "")
  return out


def apply_rules(name: str, rules) -> str:
  """Applies ordered `(pattern, replacement)` regex rules to a name, each with `re.sub`."""
  for pattern, replacement in rules:
    name = re.sub(pattern, replacement, name)
  return name
