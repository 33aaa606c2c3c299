"""The importer's errors: subclasses of `keras_bridge.Error`."""

from keras_bridge import _errors


class GraphImportError(_errors.Error, ValueError):
  """The MetaGraph, the checkpoint, the feeds or the inputs/outputs cannot be used as given."""


class UnsupportedGraphError(GraphImportError):
  """The inference subgraph holds ops the importer does not recognise; `unsupported` lists them.

  Attributes:
    unsupported: (node name, op type) pairs, or (node name, op type, why) triples.
  """

  def __init__(self, message, unsupported=()):
    super().__init__(message)
    self.unsupported = list(unsupported)
