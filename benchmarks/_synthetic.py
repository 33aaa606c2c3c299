"""What the checkpoint benchmarks share: a synthetic name-based checkpoint, its Keras model, and peak RSS.

Flagless, so that each benchmark script defines its own flags.
"""

import subprocess


def kernel_size(size_gib: float, num_vars: int) -> int:
  """The side of each square float32 kernel, so that `num_vars` kernels fill `size_gib`."""
  return max(1, int((size_gib * (1 << 30) / num_vars / 4) ** 0.5))


def generate_checkpoint(prefix: str, num_vars: int, n: int) -> None:
  """Writes a name-based checkpoint of `num_vars` layers `layer<i>/kernel` (n x n) and `layer<i>/bias` (n).

  Each layer is saved by a `tf.compat.v1.train.Saver` in its own graph, and `MergeV2Checkpoints` (the op a
  sharded Saver runs) joins the bundles into one checkpoint with a data shard per layer, so only one layer
  is in memory at a time. Kernel i is filled with i, bias i with -i.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1
  parts = []
  for i in range(num_vars):
    graph = tf.Graph()
    with graph.as_default():
      kernel = v1.get_variable(f"layer{i}/kernel", initializer=tf.fill([n, n], float(i)))
      bias = v1.get_variable(f"layer{i}/bias", initializer=tf.fill([n], -float(i)))
      saver = v1.train.Saver([kernel, bias])
      with v1.Session(graph=graph) as sess:
        sess.run(v1.global_variables_initializer())
        parts.append(saver.save(sess, f"{prefix}.part{i}", write_meta_graph=False, write_state=False))
  tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=parts, destination_prefix=prefix, delete_old_dirs=False)


def status(field: str) -> int:
  """A `/proc/self/status` memory field, in bytes."""
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith(field + ":"):
        return int(line.split()[1]) * 1024
  raise KeyError(field)


def reset_peak() -> None:
  # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
  with open("/proc/self/clear_refs", "w") as f:
    f.write("5")


def dense_model(num_vars, n):
  """A functional model of `num_vars` zero-initialised `Dense(n)` layers `layer<i>`: the checkpoint's weights."""
  import keras  # pylint: disable=g-import-not-at-top
  inputs = keras.Input((n,))
  x = inputs
  for i in range(num_vars):
    x = keras.layers.Dense(n, name=f"layer{i}", kernel_initializer="zeros")(x)
  return keras.Model(inputs, x)


def remove(path):
  subprocess.run(["rm", "-rf", path], check=True)
