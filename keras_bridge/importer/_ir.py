"""What the importer knows about each TF1 tensor, and the Keras layers it is turning them into.

The importer evaluates the inference subgraph symbolically, op by op, in topological order. Every TF1
tensor gets one value:

* `Known`: a NumPy value fixed at import time: a constant, a feed, or an op whose inputs are all known
  (a shape arithmetic, a fed `training` flag...). `fed=True` marks values that come from `feeds` (a
  dropout `keep_prob` fed 1.0 says nothing about the rate used in training).
* `Weight`: a value computed from checkpoint variables only (`hidden1/kernel`, or `gamma * rsqrt(var + eps)`
  of a batch norm written by hand), kept as an expression tree whose leaves are the TF1 keys.
* `Sym`: a tensor of the Keras model: one output of a `Node` (a `keras.Input` or a layer call).
* `Affine`: `x * scale + offset` for a `Sym` x with `Weight`/`Known` scale and offset, the intermediate
  form of batch norms written by hand and of `x / keep_prob`.
* `Random`: a tensor drawn by a random op (a dropout mask), with what is known of its keep probability.
* `ShapeOf`: the run-time shape of a `Sym` (`tf.shape(x)`), with the dimensions known statically.
* `Dead`: a tensor of a `tf.cond` branch that the feeds do not take.

`Layer` is one Keras layer to create (class, constructor arguments, and for each of its weights where in
the checkpoint its value comes from); `Node` is one call of it.
"""

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

import numpy as np


@dataclasses.dataclass(frozen=True)
class Known:
  """A value fixed at import time; `source` names the feed it comes from, `partial` marks -1 dims."""

  value: np.ndarray
  fed: bool = False
  source: str = ""
  partial: bool = False


@dataclasses.dataclass(frozen=True)
class Leaf:
  """A checkpoint variable read: its TF1 key, shape and dtype."""

  key: str
  shape: Tuple[int, ...]
  dtype: str


@dataclasses.dataclass(frozen=True)
class Expr:
  """An op over weights and constants: `op` is a NumPy-level name, `args` are `Leaf`, `Expr` or `Known`."""

  op: str
  args: Tuple[Any, ...]
  attrs: Tuple[Tuple[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class Weight:
  expr: Any  # Leaf | Expr
  shape: Tuple[int, ...]
  dtype: str

  @property
  def leaf(self) -> Optional[Leaf]:
    """The variable itself when this is a plain read, else None."""
    return self.expr if isinstance(self.expr, Leaf) else None


@dataclasses.dataclass(eq=False)
class Sym:
  node: "Node"
  index: int
  shape: Tuple[Optional[int], ...]
  dtype: str


@dataclasses.dataclass(eq=False)
class Affine:
  """`x * scale + offset`, broadcast over the last axis; `ops` are the TF1 nodes folded into it."""

  x: Sym
  scale: Any   # Known | Weight | None (1)
  offset: Any  # Known | Weight | None (0)
  ops: Tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Random:
  """A random draw; `keep` is the keep probability of a dropout mask built from it, when known."""

  keep: Optional[Known] = None
  mask: bool = False
  ops: Tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ShapeOf:
  dims: Tuple[Optional[int], ...]


@dataclasses.dataclass(eq=False)
class TimeMajor:
  """A batch-major Keras tensor `sym` that the TF1 graph holds time-major (a `dynamic_rnn` loop's outputs
  before `rnn/transpose_1`); transposing it with perm [1, 0, ...] gives `sym` back."""

  sym: "Sym"


@dataclasses.dataclass(eq=False)
class Merged:
  """A Keras tensor `sym` (rank >= 3) that the TF1 graph reshaped to 2-D, merging the batch with the other
  leading dimensions (`tf.tensordot`, which `tf.layers.dense` uses on rank-3 inputs); a Dense on it is a
  Dense on `sym`'s last axis, and reshaping back gives that Dense's output."""

  sym: "Sym"


@dataclasses.dataclass(eq=False)
class SpaceToBatch:
  """`SpaceToBatchND(x)`: the start of a dilated convolution; `done` is the convolution's output."""

  x: "Sym"
  block: Tuple[int, ...]
  paddings: list
  op: str
  done: Any = None
  layer: Any = None


@dataclasses.dataclass(frozen=True)
class Dead:
  pass


DEAD = Dead()


@dataclasses.dataclass(eq=False)
class Layer:
  """A Keras layer to create.

  Attributes:
    name: the Keras layer name (the TF1 scope, "/" replaced by "_").
    cls: the class in `keras.layers`, e.g. "Dense".
    config: constructor keyword arguments (besides `name`), in the order the source shows them.
    weights: Keras variable name ("kernel", "bias", "gamma", "lstm_cell/kernel"...) -> where its value comes
      from: a TF1 key, or a transform (see `keras_bridge._transforms`).
    scope: the TF1 scope the layer was named after.
    tf1_nodes: the TF1 nodes this layer stands for.
    notes: what the report should say about it (unknown dropout rate, folded forget bias, ...).
  """

  name: str
  cls: str
  config: Dict[str, Any]
  weights: Dict[str, Any] = dataclasses.field(default_factory=dict)
  scope: str = ""
  tf1_nodes: List[str] = dataclasses.field(default_factory=list)
  notes: List[str] = dataclasses.field(default_factory=list)
  helper: str = ""  # a helper function of the generated source that builds this "layer" from ordinary layers
  calls: int = 0


@dataclasses.dataclass(eq=False)
class Node:
  """A `keras.Input` (layer None) or one call of `layer` on `inputs` (a list of `Sym`, or one `Sym`)."""

  layer: Optional[Layer]
  inputs: Any
  n_outputs: int = 1
  input_spec: Optional[Tuple[Tuple[Optional[int], ...], str, str]] = None  # (shape, dtype, tf1 name)
  tf1_nodes: List[str] = dataclasses.field(default_factory=list)
  call_kwargs: Dict[str, Any] = dataclasses.field(default_factory=dict)
  var: str = ""  # its variable name in the generated source


def input_syms(node: Node) -> List[Sym]:
  return list(node.inputs) if isinstance(node.inputs, (list, tuple)) else [node.inputs]
