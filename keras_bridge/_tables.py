"""Plain-text tables: the one renderer behind every report's `str()` and every script's summary.

Columns are left-aligned and separated by two spaces; a header, when given, is underlined with dashes.
Trailing spaces are trimmed, so the last column never pads.
"""

import textwrap
from typing import Iterable, Optional, Sequence

#: The width the scripts' tables fit in.
WIDTH = 100
_MIN_LAST_COLUMN = 20


def format_table(rows: Iterable[Sequence], headers: Optional[Sequence] = None, max_width: Optional[int] = None,
                 overflow: str = "wrap") -> str:
  """Formats rows of cells as a table with aligned columns, under optional headers.

  Args:
    rows: sequences of cells, all of the same length; each cell is shown as `str(cell)`.
    headers: optional column titles, underlined with dashes.
    max_width: fit the lines in this many characters by narrowing the last column (to 20 at least);
      None: no limit.
    overflow: what happens to a last-column cell wider than that: "wrap" (onto indented continuation
      lines, at spaces: a path or a name longer than the column stays whole) or "truncate" (cut, ending in
      "...").

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
  indent = sum(widths[:-1]) + 2 * (len(widths) - 1)
  if max_width is not None and indent + widths[-1] > max_width:
    widths[-1] = max(max_width - indent, _MIN_LAST_COLUMN, len(cells[0][-1]) if headers else 0)
  lines = []
  for r in cells:
    last = r[-1]
    pieces = [last]
    if len(last) > widths[-1]:
      if overflow == "truncate":
        pieces = [last[:widths[-1] - 3] + "..."]
      else:
        pieces = textwrap.wrap(last, widths[-1], break_on_hyphens=False, break_long_words=False) or [""]
    lines.append("  ".join([c.ljust(w) for c, w in zip(r[:-1], widths)] + [pieces[0]]).rstrip())
    lines += [" " * indent + piece for piece in pieces[1:]]
  if headers:
    lines.insert(1, "  ".join("-" * w for w in widths))
  return "\n".join(lines)
