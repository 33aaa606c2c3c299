"""Plain-text tables: the one renderer behind every report's `str()` and every script's summary.

Columns are left-aligned and separated by two spaces; a header, when given, is underlined with dashes.
Trailing spaces are trimmed, so the last column never pads.
"""

from typing import Iterable, Optional, Sequence


def format_table(rows: Iterable[Sequence], headers: Optional[Sequence] = None) -> str:
  """Formats rows of cells as a table with aligned columns, under optional headers.

  Args:
    rows: sequences of cells, all of the same length; each cell is shown as `str(cell)`.
    headers: optional column titles, underlined with dashes.

  Returns:
    The table, lines joined by newlines (an empty string without headers and rows).

  Example:
    >>> print(format_table([("a", 1), ("long", 22)], ("k", "v")))
    k     v
    ----  --
    a     1
    long  22
  """
  cells = ([[str(h) for h in headers]] if headers else []) + [[str(c) for c in row] for row in rows]
  if not cells:
    return ""
  widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
  lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
  if headers:
    lines.insert(1, "  ".join("-" * w for w in widths))
  return "\n".join(lines)
