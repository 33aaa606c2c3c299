"""docs/ERRATA.md stays true to the code: every erratum is pinned by tests that exist, and every erratum a
reproduced seed example demonstrates has an entry."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ERRATA = (ROOT / "docs" / "ERRATA.md").read_text(encoding="utf-8")
_ENTRY = re.compile(r"^### (E-[A-Z0-9-]+): .*?(?=^### |^## |\Z)", re.S | re.M)


def _entries():
  return {m.group(1): m.group(0) for m in _ENTRY.finditer(ERRATA)}


def _pinned_tests(entry):
  """`(file, test name or glob)` pairs of an entry's "Pinned by" bullet; `::name` continues the last file."""
  bullet = entry[entry.index("- Pinned by:"):]
  refs, current = [], None
  for path, name in re.findall(r"`(tests/[\w/]+\.py)?::(test_[\w*]+)`", bullet):
    current = path or current
    refs.append((current, name))
  return refs


def test_every_entry_names_its_seed_claim_reality_fix_and_tests():
  entries = _entries()
  assert len(entries) >= 20
  for eid, entry in entries.items():
    for part in ("- Seed file + section:", "- The claim:", "- What TF 2.21 really does:", "- Why:", "- The fix:",
                 "- Pinned by:"):
      assert part in entry, f"{eid} lacks {part!r}"
    assert _pinned_tests(entry), f"{eid} names no test"


@pytest.mark.parametrize("eid", sorted(_entries()))
def test_pinning_tests_exist(eid):
  """Each test an erratum cites is defined in the file it names (a trailing * is a prefix)."""
  for path, name in _pinned_tests(_entries()[eid]):
    source = (ROOT / path).read_text(encoding="utf-8")
    pattern = re.escape(name[:-1]) + r"\w*" if name.endswith("*") else re.escape(name) + r"\b"
    assert re.search(r"^def " + pattern, source, re.M), f"{eid}: {path}::{name} does not exist"


def test_every_demonstrated_erratum_has_an_entry():
  """The main job's table cites errata by id; each id is an entry of docs/ERRATA.md."""
  from keras_bridge.twins import keras_examples  # noqa: F401  # pylint: disable=g-import-not-at-top,unused-import
  from tf1_reference import _registry  # pylint: disable=g-import-not-at-top

  cited = {ex.erratum for ex in _registry.examples() if ex.erratum}
  assert cited and cited <= set(_entries())
