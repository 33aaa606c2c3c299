"""Writes the golden name-based (TF1) checkpoints in tests/golden/ from the tf1_reference graphs.

Usage: python -m tests.golden.make_golden --golden_overwrite [--golden_out=tests/golden]

Each checkpoint is written by the reference graph's own Saver, so its keys are exactly what the reference
produces. Values are predictable: in sorted key order, the variables are filled with 0, 1, 2, ... continuing
from one variable to the next (`fill_values`). See tests/golden/README.md for when to regenerate.
"""

import collections
import os

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from tf1_reference import checkpointing
from tf1_reference import dnn
from tf1_reference import gan

v1 = tf.compat.v1

_OUT = flags.DEFINE_string("golden_out", os.path.dirname(os.path.abspath(__file__)),
                           "Directory that receives one sub-directory per golden checkpoint.")
_OVERWRITE = flags.DEFINE_bool("golden_overwrite", False, "Replace existing golden checkpoints.")

#: The prefix, inside each golden's directory.
PREFIX = "model.ckpt"
#: Golden name -> builder of the reference graph (an object with `.graph` and `.saver`).
BUILDERS = collections.OrderedDict([
    ("v1_v2", checkpointing.build_save_graph),
    ("dnn_tiny", lambda: dnn.build_dnn(**dnn.TINY)),
    ("gan_tiny", lambda: gan.build_gan(data_dim=2, noise_dim=1, hidden_units=3)),
])


def fill_values(shapes):
  """`{name: array}` with 0, 1, 2, ... running through the variables in sorted name order.

  Args:
    shapes: `{name: shape}`.

  Returns:
    An ordered dict of float32 arrays, keyed by name in sorted order.
  """
  out, start = collections.OrderedDict(), 0
  for name in sorted(shapes):
    size = int(np.prod(shapes[name], dtype=np.int64))
    out[name] = np.arange(start, start + size, dtype=np.float32).reshape(shapes[name])
    start += size
  return out


def checkpoint_path(out_dir, name):
  return os.path.join(out_dir, name, PREFIX)


def write(out_dir, name, overwrite=False):
  """Builds golden `name`, fills its variables with `fill_values`, saves it; returns the prefix."""
  path = checkpoint_path(out_dir, name)
  if os.path.exists(path + ".index") and not overwrite:
    raise FileExistsError(f"Golden checkpoint {path} exists; pass --golden_overwrite to replace it.")
  net = BUILDERS[name]()
  variables = net.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)
  values = fill_values({v.op.name: v.shape.as_list() for v in variables})
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with v1.Session(graph=net.graph) as sess:
    for var in variables:
      sess.run(var.initializer, {var.initial_value: values[var.op.name]})
    return net.saver.save(sess, path, write_meta_graph=False, write_state=False)


def write_all(out_dir, overwrite=False):
  return [write(out_dir, name, overwrite) for name in BUILDERS]


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]!r}. This script takes only flags.")
  for path in write_all(_OUT.value, _OVERWRITE.value):
    print(path)


if __name__ == "__main__":
  app.run(main)
