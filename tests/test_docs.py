"""Every Python block of docs/MIGRATION.md runs, and its shown output is what it prints.

Conventions of the guide (also stated at its top):
- ```` ```python ```` blocks run, in order, one namespace per `## ` section, in a fresh temporary directory.
- An ```` ```output ```` block right after a python block is the exact stdout that block prints
  (trailing whitespace ignored).
- ```` ```python norun ```` marks the rare block that is not meant to run (TF1-only or GPU-only code).
"""

import contextlib
import io
import pathlib
import re

import pytest

GUIDE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "MIGRATION.md"
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)


def _sections():
  text = GUIDE.read_text(encoding="utf-8")
  parts = re.split(r"^## ", text, flags=re.M)
  out = []
  for part in parts[1:]:
    title = part.splitlines()[0].strip()
    blocks = []
    for m in _FENCE.finditer(part):
      info, body = m.group(1).strip(), m.group(2)
      line = text.count("\n", 0, text.find(part)) + part.count("\n", 0, m.start()) + 1
      if info == "python":
        blocks.append({"code": body, "expected": None, "line": line})
      elif info == "output" and blocks and blocks[-1]["expected"] is None:
        blocks[-1]["expected"] = body
    if blocks:
      out.append(pytest.param(title, blocks, id=re.sub(r"\W+", "_", title).strip("_").lower()[:60]))
  return out


def _normalise(s):
  return "\n".join(line.rstrip() for line in s.strip().splitlines())


@pytest.mark.parametrize("title,blocks", _sections())
def test_migration_guide_section_runs(title, blocks, tmp_path, monkeypatch):
  """docs/MIGRATION.md: each section's code runs and prints exactly its shown output."""
  monkeypatch.chdir(tmp_path)
  namespace = {"__name__": f"migration_guide_{title}"}
  for block in blocks:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
      exec(compile(block["code"], f"{GUIDE}:{block['line']}", "exec"), namespace)  # pylint: disable=exec-used
    if block["expected"] is not None:
      assert _normalise(buf.getvalue()) == _normalise(block["expected"]), (
          f"{GUIDE.name} line {block['line']} ({title}): shown output differs from what the code prints")


def test_migration_guide_has_sections():
  """docs/MIGRATION.md exists and has runnable sections."""
  assert GUIDE.exists()
  assert len(_sections()) >= 5
