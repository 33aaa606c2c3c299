"""tf1_reference: TF1 variable management, reproduced in `tf.compat.v1` graph mode from the five seed documents.

Every example of `../shared/seeds/` is a function that builds its own `tf.Graph` and returns the handles a caller
needs (graph, tensors, variables, savers). Modules, one concept each:

- `variables`: `tf.Variable` ranks and dtypes, `get_variable` initializers, assignment (003, 004).
- `sharing`: `variable_scope` / `get_variable` / `reuse` / `AUTO_REUSE`, `name_scope` pitfalls, shared FC and conv
  layers (000, 001, 003, 004).
- `params`: graph-level parameter management: `get_collection` by scope, `check_numerics`, devices (004).
- `checkpointing`: `Saver` save/restore, subsets, periodic checkpoints and resume, `trainable=False` (003).
- `gan`: the two-`var_list` GAN (003).
- `dnn`: the `tf.layers.dense` MNIST DNN, gradient clipping, restore-and-continue, transfer (002).
- `finetune`: fine-tuning through a Saver dict (000).
- `distributed`: partitioned variables and `Saver(sharded=True)` on two devices (beyond the seed articles).

Where a document is wrong, the reference pins what TensorFlow really does; see docs/ERRATA.md.
"""

from tf1_reference import checkpointing
from tf1_reference import distributed
from tf1_reference import dnn
from tf1_reference import finetune
from tf1_reference import gan
from tf1_reference import params
from tf1_reference import sharing
from tf1_reference import variables
from tf1_reference.checkpointing import build_frozen_graph
from tf1_reference.checkpointing import build_restore_graph
from tf1_reference.checkpointing import build_save_graph
from tf1_reference.checkpointing import build_subset_graph
from tf1_reference.checkpointing import build_training_graph
from tf1_reference.checkpointing import loadmodel
from tf1_reference.checkpointing import periodic_resumable
from tf1_reference.dnn import build_dnn
from tf1_reference.dnn import build_transfer_dnn
from tf1_reference.dnn import DNNGraph
from tf1_reference.dnn import reuse_vars_by_scope
from tf1_reference.dnn import reuse_vars_exact
from tf1_reference.finetune import build_fine_tune
from tf1_reference.finetune import build_pretrained
from tf1_reference.gan import build_gan
from tf1_reference.gan import GANGraph
from tf1_reference.gan import scope_variables
from tf1_reference.gan import trainable_scope_variables
from tf1_reference.params import build_check_numerics
from tf1_reference.params import build_collection_by_scope
from tf1_reference.params import build_device_placement
from tf1_reference.params import get_collection_exact
from tf1_reference.sharing import affine
from tf1_reference.sharing import affine_reuseable
from tf1_reference.sharing import build_affine
from tf1_reference.sharing import build_affine_reuseable
from tf1_reference.sharing import build_auto_reuse
from tf1_reference.sharing import build_image_filter
from tf1_reference.sharing import build_shared_fc
from tf1_reference.sharing import conv_relu
from tf1_reference.sharing import my_image_filter
from tf1_reference.sharing import shared_layer
from tf1_reference.variables import build_assign_ones
from tf1_reference.variables import build_assignment
from tf1_reference.variables import build_get_variable_initializers
from tf1_reference.variables import build_tensor_ranks
from tf1_reference.variables import build_using_variables

__all__ = (
    # Modules.
    "checkpointing",
    "distributed",
    "dnn",
    "finetune",
    "gan",
    "params",
    "sharing",
    "variables",
    # Variables and initializers (003, 004).
    "build_tensor_ranks",
    "build_get_variable_initializers",
    "build_using_variables",
    "build_assignment",
    "build_assign_ones",
    # Sharing (000, 001, 003, 004).
    "conv_relu",
    "my_image_filter",
    "build_image_filter",
    "affine",
    "build_affine",
    "affine_reuseable",
    "build_affine_reuseable",
    "shared_layer",
    "build_auto_reuse",
    "build_shared_fc",
    # Graph-level parameter management (004).
    "build_collection_by_scope",
    "get_collection_exact",
    "build_check_numerics",
    "build_device_placement",
    # Saving (003).
    "build_save_graph",
    "build_restore_graph",
    "build_subset_graph",
    "build_training_graph",
    "loadmodel",
    "periodic_resumable",
    "build_frozen_graph",
    # GAN (003).
    "build_gan",
    "GANGraph",
    "scope_variables",
    "trainable_scope_variables",
    # The MNIST DNN (002).
    "build_dnn",
    "build_transfer_dnn",
    "DNNGraph",
    "reuse_vars_by_scope",
    "reuse_vars_exact",
    # Fine-tuning (000).
    "build_pretrained",
    "build_fine_tune",
)
