"""Progress bars that say what they count, and cost nothing when switched off."""

import sys
import time
from typing import Optional, Sequence, Tuple


class Progress:
  """A one-line progress bar: `<label>: <done>/<target> <unit>s, <seconds> s - <name>: <value> ...`.

  Without a label it reads `<unit>s: <done>/<target>, <seconds> s - ...`.

  On a terminal the line is redrawn in place; otherwise (a log, a pipe) it is written once, when the last step
  is done. The values shown are the latest ones, not averages.

  Args:
    target: the number of steps, or None when unknown.
    enabled: False makes every call a no-op.
    unit_name: what a step is ("step", "epoch", "tensor").
    label: what the bar counts, e.g. "TF1 training"; default: `unit_name` + "s".
    out: the stream; default `sys.stdout`.
  """

  def __init__(self, target: Optional[int], enabled: bool, unit_name: str = "step", label: Optional[str] = None,
               out=None):
    self._enabled = enabled
    self._target = target
    self._unit = unit_name
    self._labelled = bool(label)
    self._label = label or f"{unit_name}s"
    self._out = out or sys.stdout
    self._start = time.perf_counter()
    self._done = False

  def line(self, current: int, values: Sequence[Tuple[str, float]] = ()) -> str:
    """The bar's text at step `current`."""
    of = f"/{self._target}" if self._target is not None else ""
    unit = f" {self._unit}s" if self._labelled else ""
    text = f"{self._label}: {current}{of}{unit}, {time.perf_counter() - self._start:.1f} s"
    return text + "".join(f" - {name}: {float(value):.4g}" for name, value in values or ())

  def update(self, current: int, values=None, finalize=None):
    if not self._enabled or self._done:
      return
    last = finalize if finalize is not None else (self._target is not None and current >= self._target)
    tty = self._out.isatty()
    if tty:
      self._out.write("\r\x1b[K" + self.line(current, values) + ("\n" if last else ""))
    elif last:
      self._out.write(self.line(current, values) + "\n")
    self._out.flush()
    self._done = bool(last)
