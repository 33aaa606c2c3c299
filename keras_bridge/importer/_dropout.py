"""Dropout, however TF1 code wrote it, becomes `layers.Dropout` (the identity at inference).

The forms recognised, by their ops:

* TF 1.x `tf.nn.dropout(x, keep_prob)`: `x / keep_prob * floor(keep_prob + random_uniform(shape(x)))`;
* TF 2 `tf.nn.dropout(x, rate)` (what `tf.compat.v1.nn.dropout` builds in TF 2.21):
  `select(random_uniform(shape(x)) >= rate, x * 1 / (1 - rate), 0)`;
* the same written by hand (`greater_equal` + `cast` + `div` + `mul`);
* `tf.layers.dropout(x, rate, training=flag)`: a `tf.cond` whose taken branch (training fed False) is the
  identity and whose other branch is one of the forms above; see `_control`.

The rate is the training rate: `1 - keep_prob` when the graph holds `keep_prob` as a constant or a
`placeholder_with_default`. A `keep_prob` placeholder fed only by the training script (fed 1.0 here) does not
say it: `dropout_rates=` gives it (by the dropout's scope or the placeholder's name), otherwise the layer gets
rate 0.0 and the report says the rate is unknown.
"""

import numpy as np

from keras_bridge.importer import _ir


def dropout(ev, op, x, mask: _ir.Random):
  base = x.x if isinstance(x, _ir.Affine) else x
  scope = op.name.rsplit("/", 1)[0] if "/" in op.name else op.name
  keep, note = mask.keep, ""
  rate = None
  for name in (scope, keep.source if keep is not None else None):
    if name and name in ev.dropout_rates:
      rate, note = float(ev.dropout_rates[name]), f"rate {ev.dropout_rates[name]} from dropout_rates[{name!r}]"
      break
  if rate is None and keep is not None and not keep.fed and np.size(keep.value) == 1:
    rate = round(1.0 - float(keep.value), 7)
    note = f"rate {rate:g} from the graph"
  if rate is None:
    rate = 0.0
    fed = f" ({keep.source!r} is fed for inference)" if keep is not None and keep.source else ""
    note = (f"training rate unknown{fed}: the graph does not hold it; pass dropout_rates={{{scope!r}: rate}} "
            f"(--dropout_rates={scope}=rate) to set it (rate 0.0 used; inference is the same)")
  layer = ev.layer("Dropout", {"rate": rate}, scope=scope, op=op, share=False)
  layer.notes.append(note)
  ops = [op] + list(mask.ops) + (list(x.ops) if isinstance(x, _ir.Affine) else [])
  return ev.call(layer, base, ops, [op.outputs[0]])[0]
