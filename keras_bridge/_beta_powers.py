"""Adam's beta powers exactly as TF1 holds them: one float32 multiplication per step, in O(1) memory.

`tf.compat.v1.train.AdamOptimizer` keeps `beta1_power`, initialised to `float32(beta1)` and multiplied by
`float32(beta1)` after every step, so after `t` steps it holds `beta1**(t+1)` rounded once per step (`pow` does
not reproduce it). TF's CPU kernels flush denormals to zero, so the power reaches exactly 0.0 after a finite
number of steps (`underflow_step`: 828 steps for 0.9, 87,293 for 0.999) and stays there. Every function here
replays the multiplications in fixed-size chunks (`np.multiply.accumulate` multiplies left to right, exactly
as the steps do), stops at the underflow, and so costs O(1) memory and O(min(t, underflow_step)) time.
"""

import functools
from typing import Optional

import numpy as np

_CHUNK = 4096
_TINY = np.finfo(np.float32).tiny


def _chunks(beta: float):
  """Yields (first step, TF1's powers after that step and the next ones) until the power is 0."""
  b = np.float32(beta)
  power, step = b, 0  # After 0 steps the variable holds float32(beta).
  while True:
    chunk = np.full(_CHUNK, b, dtype=np.float32)
    chunk[0] = power
    chunk = np.multiply.accumulate(chunk, dtype=np.float32)
    chunk[chunk < _TINY] = 0  # Flush to zero: every later value is smaller still.
    yield step, chunk
    if chunk[-1] == 0 or not 0 < b < 1:
      return
    power, step = chunk[-1] * b, step + _CHUNK


@functools.lru_cache(maxsize=None)
def underflow_step(beta: float) -> Optional[int]:
  """The first step count after which TF1's float32 `beta_power` is exactly 0.0; None if it never is."""
  if not 0 < np.float32(beta) < 1:
    return None
  for step, chunk in _chunks(beta):
    zeros = np.flatnonzero(chunk == 0)
    if zeros.size:
      return step + int(zeros[0])
  return None  # pragma: no cover  (every 0 < beta < 1 underflows)


def tf1_power(beta: float, steps: int) -> np.float32:
  """TF1's `beta_power` after `steps` Adam steps: float32(beta) multiplied by float32(beta) `steps` times."""
  if steps < 0:
    raise ValueError(f"steps must be >= 0. Received: steps={steps}")
  limit = underflow_step(beta)
  if limit is not None and steps >= limit:
    return np.float32(0.0)
  for step, chunk in _chunks(beta):
    if steps < step + _CHUNK:
      return chunk[steps - step]
  raise AssertionError("unreachable")  # pragma: no cover


def steps_from_power(power: float, beta: float) -> Optional[int]:
  """The step count t at which TF1's `beta_power` equals `power` (within 1e-5 relative).

  Returns:
    t; None when `power` is 0 (an underflowed power carries no step count) or beta is not in (0, 1); -1 when
    no step gives `power` (the beta is not the one that wrote it).
  """
  if not 0 < np.float32(beta) < 1 or not power >= _TINY:
    return None
  best, best_err = -1, np.inf
  for step, chunk in _chunks(beta):
    below = np.flatnonzero(chunk <= power)  # The powers decrease strictly until they underflow.
    window = range(max(int(below[0]) - 1, 0), min(int(below[0]) + 1, _CHUNK)) if below.size else [_CHUNK - 1]
    for i in window:
      err = abs(float(chunk[i]) - power)
      if err < best_err:
        best, best_err = step + i, err
    if below.size:
      break
  return best if best_err <= 1e-5 * power else -1
