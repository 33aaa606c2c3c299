"""tf1_reference: TF1 variable management, reproduced in `tf.compat.v1` graph mode from the five seed documents.

Each example is a function that builds its own `tf.Graph` and returns the handles a caller needs.
"""
