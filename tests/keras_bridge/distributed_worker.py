"""One process of the distributed tests: load a TF1 checkpoint under a strategy, train, write back.

Run by tests/keras_bridge/test_distributed.py as `python -m tests.keras_bridge.distributed_worker ARGS_JSON`,
so that the strategy (and, for "mirrored", two logical CPU devices) is set up before TensorFlow initialises,
while the test process keeps one device. Writes `result.json` and `weights.npz` into its own `work_dir`.
"""

import json
import sys


def main(args):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  if args["kind"] == "mirrored":
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
  from keras_bridge import _distributed  # pylint: disable=import-outside-toplevel

  strategy = _distributed.strategy_from_flags(args["kind"], args.get("workers", ()), args.get("task_index", 0))
  from tests.keras_bridge import distributed_common as common  # pylint: disable=import-outside-toplevel

  result = common.continue_training(strategy, args["checkpoint"], args["data"], args["output"], args["steps"])
  result["replicas"] = strategy.num_replicas_in_sync
  import numpy as np  # pylint: disable=import-outside-toplevel

  np.savez(f"{args['work_dir']}/weights.npz", **result.pop("weights"))
  if args.get("continuation_dir"):  # migrate's Keras phase too, in the same process
    continued = common.continue_migrated(strategy, args["continuation_dir"])
    np.savez(f"{args['work_dir']}/continued.npz", **continued.pop("weights"))
    result["continued"] = continued
  with open(f"{args['work_dir']}/result.json", "w", encoding="utf-8") as f:
    json.dump(result, f)


if __name__ == "__main__":
  main(json.loads(sys.argv[1]))
