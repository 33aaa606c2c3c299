"""The tolerances that decide "the same model": one named value per purpose, defined here only.

Each is the largest max-absolute difference accepted between a TF1 graph and its Keras 3 twin. Why each value
is what it is: see `keras_bridge._equivalence` (the harness and the measurements behind the CPU values) and
docs/MIGRATION.md. This module imports nothing, so command-line flags can use the values as defaults without
loading TensorFlow.
"""

#: Forward outputs of a twin pair on CPU, float32: the same TF kernels run, differences are 0 or a few ulps.
CPU_FORWARD_TOL = 1e-6
#: Weights after five SGD steps on both sides, CPU, float32.
CPU_TRAINING_TOL = 1e-5
#: Every layer's output of a trained checkpoint, restored in TF1 and loaded into Keras, on a real dataset (CPU,
#: float32): trained weights and unscaled inputs give larger activations than the harness's small twins.
CPU_CHECKPOINT_TOL = 1e-5
#: An imported graph's outputs (`import_tf1_graph(...).verify()`), relative: |keras - tf1| <= this *
#: max(1, max|tf1|). Relative because an imported model may be large and trained (logits of 10 or more);
#: fused layers (a bias and activation folded into a Dense) and Keras's own batch norm round differently.
CPU_IMPORT_RTOL = 1e-5
#: Forward outputs on a GPU with TensorFloat-32 switched off (cuDNN may pick other algorithms per side).
GPU_FORWARD_TOL = 1e-4
#: Weights after SGD steps on a GPU with TensorFloat-32 switched off.
GPU_TRAINING_TOL = 1e-4
#: Relative to the largest reference magnitude, on a GPU with TensorFloat-32 left on (10-bit mantissa).
GPU_TF32_TOL = 1e-2
