"""Import a TF1 model (MetaGraph + name-based checkpoint) as a Keras 3 model of ordinary layers.

    result = keras_bridge.import_tf1_graph("run/model.ckpt-100", feeds={"keep_prob:0": 1.0})
    result.model          # a functional Keras 3 model with the checkpoint's weights
    print(result.source)  # its Python source: build_model(), PREFIX, TF1_NAMES
    print(result.report)  # every TF1 node and the Keras layer it became
    print(result.verify())  # the TF1 graph and the model on the same inputs, output by output

One module per op family (`_dense`, `_conv`, `_structure`, `_arith`, `_activations`, `_dropout`, `_norm`,
`_control`, `_rnn`), the symbolic evaluation in `_evaluate`, the fusing of biases and activations in
`_fuse`, the source in `_codegen`, the proof in `_verify`. The general bridge imports nothing from here.
"""

from keras_bridge.importer._api import import_tf1_graph
from keras_bridge.importer._api import import_to_directory
from keras_bridge.importer._api import ImportReport
from keras_bridge.importer._api import ImportResult
from keras_bridge.importer._user_model import convert as convert_user_model
from keras_bridge.importer._user_model import diff as diff_user_model
from keras_bridge.importer._user_model import is_model_file
from keras_bridge.importer._user_model import UserModel
from keras_bridge.importer._user_model import user_model
from keras_bridge.importer._user_model import verify as verify_user_model
from keras_bridge.importer._errors import GraphImportError
from keras_bridge.importer._errors import UnsupportedGraphError
from keras_bridge.importer._verify import OutputComparison
from keras_bridge.importer._verify import Verification

__all__ = (
    "import_tf1_graph",
    "import_to_directory",
    "ImportResult",
    "ImportReport",
    "user_model",
    "UserModel",
    "is_model_file",
    "verify_user_model",
    "convert_user_model",
    "diff_user_model",
    "Verification",
    "OutputComparison",
    "GraphImportError",
    "UnsupportedGraphError",
)
