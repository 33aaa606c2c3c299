"""`keras_bridge.models` is `keras_bridge.twins.models`, the Keras 3 twins of the `tf1_reference` models.

Kept as a name of its own so that `from keras_bridge import models` and `import keras_bridge.models` keep
working; the module object is the same one.
"""

import sys

from keras_bridge.twins import models as _models

sys.modules[__name__] = _models
