"""Progress bars that cost nothing when switched off."""

import sys
from typing import Optional


class Progress:
  """A `keras.utils.Progbar` that does nothing when disabled, so callers need no branches.

  Args:
    target: the number of steps, or None when unknown.
    enabled: False makes every call a no-op (and imports nothing).
    unit_name: what a step is called in the bar ("step", "epoch", "tensor").
  """

  def __init__(self, target: Optional[int], enabled: bool, unit_name: str = "step"):
    self._bar = None
    if enabled:
      import keras  # pylint: disable=g-import-not-at-top

      # Without a terminal, one line at the end instead of a stream of carriage-return updates.
      self._bar = keras.utils.Progbar(target, unit_name=unit_name, verbose=1 if sys.stdout.isatty() else 2)

  def update(self, current: int, values=None, finalize=None):
    if self._bar is not None:
      self._bar.update(current, values=values, finalize=finalize)
