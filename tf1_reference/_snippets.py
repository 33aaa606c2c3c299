"""Runs a seed document's code listing literally, as TF 1.x would have seen it.

The listing's own `import tensorflow as tf` binds `tf` to `tf.compat.v1`, with `tf.layers` served by the real
legacy implementation in `_compat` (Keras 3 makes `tf.compat.v1.layers` raise). Each run gets its own
`tf.Graph`; `print` is captured. Paths that a listing hard-codes (`/tmp/model.ckpt`, `./checkpoint`) are
replaced through `replace`, and every replaced text must occur in the listing, so a typo fails loudly.
"""

import builtins
import dataclasses
import types
from typing import Dict, List, Optional

import tensorflow as tf

from tf1_reference import _compat

v1 = tf.compat.v1


class _TF1(types.ModuleType):
  """`tensorflow` as a TF 1.x program imports it: `tf.compat.v1` plus the legacy `tf.layers`."""

  def __init__(self):
    super().__init__("tensorflow")
    self.layers = types.SimpleNamespace(dense=_compat.dense, conv2d=_compat.conv2d)

  def __getattr__(self, name):
    return getattr(v1, name)


TF1 = _TF1()


@dataclasses.dataclass
class SnippetRun:
  """What a literal run left behind: its graph, its global names, and the lines it printed."""

  graph: tf.Graph
  namespace: Dict[str, object]
  printed: List[str]


def _import(name, *args, **kwargs):
  if name == "tensorflow":
    return TF1
  return builtins.__import__(name, *args, **kwargs)


def run(source: str,
        filename: str,
        replace: Optional[Dict[str, str]] = None,
        previous: Optional[SnippetRun] = None,
        **names) -> SnippetRun:
  """Executes `source` in a fresh graph (or in `previous`'s graph and namespace, to run a continuation).

  Args:
    source: the listing, verbatim (indentation restored where the seed lost it).
    filename: the seed file name, shown in tracebacks.
    replace: `{text: replacement}` applied to `source` before running.
    previous: continue the graph and namespace of an earlier run.
    **names: extra globals the listing expects but never defines (say, `n_epochs`).

  Returns:
    A `SnippetRun`.

  Raises:
    ValueError: a `replace` key does not occur in `source`.
    Whatever the listing raises (NameError, ValueError, ...), unchanged.
  """
  missing = [old for old in (replace or {}) if old not in source]
  if missing:
    raise ValueError(f"Texts to replace not found in the listing of {filename}: {missing!r}")
  for old, new in (replace or {}).items():
    source = source.replace(old, new)
  if previous is None:
    printed = []
    namespace = {"__name__": "__snippet__",
                 "__builtins__": dict(vars(builtins), __import__=_import,
                                      print=lambda *a, **k: printed.append(" ".join(str(x) for x in a)))}
    previous = SnippetRun(graph=tf.Graph(), namespace=namespace, printed=printed)
  previous.namespace.update(names)
  with previous.graph.as_default():
    exec(compile(source, filename, "exec"), previous.namespace)  # pylint: disable=exec-used
  return previous
