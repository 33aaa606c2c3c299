"""A registry of the reproduced seed examples, for the printed report of the main job.

Each reference module registers zero-argument *demo* functions with `@example(...)`. A demo builds and runs its
example (in its own graph and session) and returns a short one-line summary of what it observed, for example
`"conv1/weights:0 shared by output1 and output2"`. It raises if the observation contradicts what the reference
pins. `erratum` names the docs/ERRATA.md entry ("E3") when the document is wrong and the demo shows the literal
behaviour or the corrected version.
"""

import dataclasses
from typing import Callable, List, Optional


@dataclasses.dataclass(frozen=True)
class Example:
  seed: str
  section: str
  name: str
  run: Callable[[], str]
  erratum: Optional[str] = None


_EXAMPLES: List[Example] = []


def example(seed: str, section: str, erratum: Optional[str] = None):
  """Registers the decorated demo function as a reproduced example of `seed` (a seed file name)."""

  def register(fn):
    _EXAMPLES.append(Example(seed=seed, section=section, name=fn.__name__, run=fn, erratum=erratum))
    return fn

  return register


def expect(observed, expected, what: str) -> None:
  """Raises if a demo observes something other than what the reference pins."""
  if observed != expected:
    raise RuntimeError(f"{what}: expected {expected!r}, observed {observed!r}")


def examples() -> List[Example]:
  """All registered examples, importing every reference module first, sorted by seed then registration."""
  import importlib  # pylint: disable=g-import-not-at-top
  import pkgutil  # pylint: disable=g-import-not-at-top

  import tf1_reference  # pylint: disable=g-import-not-at-top

  for info in pkgutil.iter_modules(tf1_reference.__path__):
    if not info.name.startswith("_"):
      importlib.import_module(f"tf1_reference.{info.name}")
  order = {id(e): i for i, e in enumerate(_EXAMPLES)}
  return sorted(_EXAMPLES, key=lambda e: (e.seed, order[id(e)]))
