"""Keras 3 twins of the `tf1_reference` models and the fixtures that pair them with their TF1 graphs.

This subpackage is the only part of `keras_bridge` that imports `tf1_reference`; the bridge's core (naming,
mapping, checkpoints, formats, optimizer state, inspection, the equivalence harness) works without it.

- `models`: the Keras 3 twins (`dnn`, `transfer_dnn`, `image_filter`, `shared_fc`, `affine_reuseable`,
  `auto_reuse`, `GAN`).
- `dnn_twin` ... `gan_twin`: a reference graph in a live session paired with its twin, for
  `keras_bridge.compare_outputs` and `keras_bridge.compare_training`.
"""

from keras_bridge.twins import models
from keras_bridge.twins._fixtures import affine_reuseable_twin
from keras_bridge.twins._fixtures import auto_reuse_twin
from keras_bridge.twins._fixtures import dnn_twin
from keras_bridge.twins._fixtures import gan_twin
from keras_bridge.twins._fixtures import image_filter_twin
from keras_bridge.twins._fixtures import shared_fc_twin

__all__ = (
    # Keras 3 twins.
    "models",
    # Reference graph + twin pairs.
    "dnn_twin",
    "image_filter_twin",
    "shared_fc_twin",
    "affine_reuseable_twin",
    "auto_reuse_twin",
    "gan_twin",
)
