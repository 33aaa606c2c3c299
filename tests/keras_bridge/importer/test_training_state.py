"""Training state of an imported graph: `load/save_tf1_training_state(..., names=result.names)`.

`import_tf1_graph` returns `names`, `{canonical Keras path: TF1 key or transform}`; an LSTM's kernels are
slices of one TF1 kernel. The optimizer's slots of a transformed weight are assembled by the same transform
applied to the slot keys (`<key>/Adam`, `<key>/Adam_1`), without the folded forget bias, and inverted on
write-back. The corpus models are built by tests/keras_bridge/importer/corpus.py (two TF1 steps, then saved).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bridge
from keras_bridge import _keras_private
from keras_bridge import _naming
from keras_bridge import _transforms
from tests.keras_bridge.importer import corpus as corpus_lib

v1 = tf.compat.v1
STEPS = 5
TOL = 1e-6


def _import(model):
  return keras_bridge.import_tf1_graph(model.prefix, inputs=list(model.inputs), outputs=list(model.outputs),
                                       feeds=dict(model.feeds))


def test_lstm_slots_are_the_transforms_of_the_tf1_slots_and_write_back_bit_exactly(corpus, tmp_path):
  """embedding_lstm (BasicLSTMCell, Adam): each Keras slot == the weight's transform applied to the TF1 slots
  (slot=True: no forget-bias add); the write-back with names= gives every TF1 slot back bit-exactly."""
  m = corpus("embedding_lstm", "v1")
  result = _import(m)
  report = keras_bridge.load_tf1_training_state(result.model, keras.optimizers.Adam(0.01, epsilon=1e-8), m.prefix,
                                                names=result.names)
  opt = report.optimizer
  source = tf.train.load_checkpoint(m.prefix)
  tensors = {k: source.get_tensor(k) for k, _ in tf.train.list_variables(m.prefix)}
  weights = _naming.canonical_weights(result.model)
  transformed = [p for p, e in result.names.items() if _transforms.is_transform(e)]
  assert transformed == ["rnn/lstm_cell/kernel", "rnn/lstm_cell/recurrent_kernel", "rnn/lstm_cell/bias"]
  for path, entry in result.names.items():
    i = _keras_private.variable_index(opt, weights[path])
    for suffix, attr in (("Adam", "_momentums"), ("Adam_1", "_velocities")):
      slot_entry = (f"{entry}/{suffix}" if isinstance(entry, str) else
                    dict(entry, parts=[dict(p, key=f"{p['key']}/{suffix}") for p in entry["parts"]]))
      expected = _transforms.to_keras(slot_entry, tensors, slot=True)
      np.testing.assert_array_equal(_keras_private.slot_variables(opt, attr)[i].numpy(), expected, err_msg=path)
  assert int(opt.iterations.numpy()) == 2

  back = keras_bridge.save_tf1_training_state(result.model, opt, tmp_path / "model.ckpt", names=result.names)
  written = tf.train.load_checkpoint(back.checkpoint)
  slots = [k for k in tensors if k.endswith(("/Adam", "/Adam_1")) or k.startswith("beta")]
  assert "rnn/basic_lstm_cell/kernel/Adam" in slots and "rnn/basic_lstm_cell/bias/Adam_1" in slots
  for key in slots:
    np.testing.assert_array_equal(written.get_tensor(key), tensors[key], err_msg=key)


#: The label placeholders' specs, as corpus.py trains them: (shape, dtype, classes).
LABELS = {"tflayers_mlp": ((None,), "int64", 4), "getvar_scopes_mlp": ((None, 1), "float32", 2),
          "two_tower": ((None, 1), "float32", 2), "depthwise_cnn": ((None,), "int32", 3)}


def _loss(name, outputs, labels):
  """The corpus graph's own loss, written in Keras terms on the imported model's first output (the logits)."""
  logits = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
  if name in ("tflayers_mlp", "depthwise_cnn"):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
  return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


@pytest.mark.parametrize("name", ["tflayers_mlp", "getvar_scopes_mlp", "two_tower", "depthwise_cnn"],
                         ids=["adam", "momentum", "rmsprop", "adagrad"])
def test_imported_model_continues_like_the_graphs_own_train_op(name, corpus):
  """5 Keras steps on the imported model, its optimizer from `load_tf1_training_state(names=result.names)`
  (hyperparameters from the `.meta`), == 5 steps of the graph's own train op from the same checkpoint."""
  m = corpus(name, "v1")
  result = _import(m)
  report = keras_bridge.load_tf1_training_state(result.model, None, m.prefix, names=result.names)
  opt = report.optimizer
  rng = np.random.RandomState(7)
  batches = []
  for _ in range(STEPS):
    feed = {n: corpus_lib.random_value(s, rng) for n, s in m.input_specs.items()}
    feed[m.labels] = corpus_lib.random_value(LABELS[name], rng)
    batches.append(feed)

  graph = tf.Graph()
  with graph.as_default():
    saver = v1.train.import_meta_graph(m.prefix + ".meta")
  with v1.Session(graph=graph, config=corpus_lib.session_config()) as sess:
    saver.restore(sess, m.prefix)
    for feed in batches:
      sess.run(m.train_op, dict(feed, **m.feeds))
    tf1 = {k: sess.run(f"{k}:0") for k in _transforms.all_keys(result.names.values())}

  variables = result.model.trainable_variables
  for feed in batches:
    inputs = [feed[n] for n in m.inputs]
    with tf.GradientTape() as tape:
      loss = _loss(name, result.model(inputs), feed[m.labels])
    opt.apply_gradients(zip(tape.gradient(loss, variables), variables))

  weights = _naming.canonical_weights(result.model)
  diff = max(float(np.abs(weights[p].numpy() - _transforms.to_keras(e, tf1)).max()) for p, e in result.names.items())
  print(f"{name}: max |Keras - TF1| after {STEPS} steps = {diff:.1e}")
  assert diff <= TOL
