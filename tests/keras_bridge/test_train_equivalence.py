"""Claim (issue 13, goal 3): a migrated model trained in Keras 3 one step per call gives the TF1 run's losses.

The 002_9773991e7c1a2830.txt DNN (tiny: 64 inputs, hidden 30 and 20) is initialised by TF1, saved by its
Saver and loaded with `keras_bridge.load_tf1_checkpoint`; both sides take 100 SGD steps (gradients clipped to
[-1, 1]) on the same batches in the same order. The first 100 losses agree within rtol 1e-5: `train_on_batch`
with Keras's defaults and with `jit_compile=True`, and the continuation's in-memory loop (`migrate`'s Keras phase
on one device, the setting the project recommends; benchmarks/train.py measures the speed).
"""

import numpy as np
import pytest

from benchmarks import _train_equivalence


@pytest.mark.parametrize("loop, jit_compile", [("train_on_batch", False), ("train_on_batch", True),
                                               ("continuation", False)],
                         ids=["default", "jit_compile", "continuation"])
def test_first_100_losses_equal_tf1(loop, jit_compile, tmp_path):
  tf1, keras_losses = _train_equivalence.equivalence(n_inputs=64, hidden=(30, 20), steps=100,
                                                     jit_compile=jit_compile, workdir=str(tmp_path), loop=loop)
  assert len(tf1) == len(keras_losses) == 100
  assert tf1[0] != tf1[-1]  # It trains: the loss moves.
  np.testing.assert_allclose(keras_losses, tf1, rtol=_train_equivalence.LOSS_RTOL, atol=0)
