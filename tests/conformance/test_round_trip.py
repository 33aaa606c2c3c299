"""Every tf1_reference model round-trips TF1 -> Keras 3 -> TF1 bit-exactly (issue: keras_bridge "Done when").

For each reference graph: its own Saver writes a name-based checkpoint; `load_tf1_checkpoint` fills the Keras
twin with the default rules (zero misses); `save_tf1_checkpoint(..., names=report)` writes it back under the
very keys it came from; the reference Saver restores that into the zeroed graph, and every value is
bit-identical, with the same keys, shapes and dtypes.
"""

import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import twins
from keras_bridge import load_tf1_checkpoint
from keras_bridge import MappingError
from keras_bridge import models
from keras_bridge import read_variables
from keras_bridge import save_tf1_checkpoint
from tf1_reference import dnn

v1 = tf.compat.v1


def _transfer_twin():
  """002 transfer variant: hidden1..3 + new hidden4/outputs, as its own Saver writes it."""
  net = dnn.build_transfer_dnn(n_inputs=8, n_outputs=3, hidden_sizes=(6, 5, 5, 4), seed=3)
  session = v1.Session(graph=net.graph)
  session.run(net.init)
  model = models.transfer_dnn(8, 3, (6, 5, 5, 4))
  return session, net.model_variables(), net.saver, model, ()


def _from_twin(build):
  def make():
    twin = build()
    return twin.session, twin.variables, twin.saver, twin.model, twin.rules
  return make


CASES = [
    pytest.param(_from_twin(twins.dnn_twin), id="002_dnn"),
    pytest.param(_transfer_twin, id="002_transfer_dnn"),
    pytest.param(_from_twin(twins.image_filter_twin), id="001_image_filter"),
    pytest.param(_from_twin(twins.shared_fc_twin), id="000_shared_fc"),
    pytest.param(_from_twin(twins.affine_reuseable_twin), id="003_affine_reuseable"),
    pytest.param(_from_twin(twins.auto_reuse_twin), id="004_auto_reuse"),
    pytest.param(_from_twin(twins.gan_twin), id="003_gan"),
]


@pytest.mark.parametrize("make", CASES)
def test_round_trip_tf1_keras_tf1_is_bit_exact(make, tmp_path):
  """Seeds 000-004: a reference Saver checkpoint -> Keras twin -> TF1 checkpoint restores bit-exactly."""
  session, variables, saver, model, rules = make()
  try:
    original = {v.op.name: session.run(v) for v in variables}
    with session.graph.as_default():
      src = saver.save(session, str(tmp_path / "tf1" / "model.ckpt"))

    report = load_tf1_checkpoint(model, src, rules=rules)
    assert report.ok and not report.unused_tf1_keys and not report.unfilled_keras, str(report)
    out = save_tf1_checkpoint(model, str(tmp_path / "back" / "model.ckpt"), names=report)
    assert read_variables(out) == read_variables(src)

    with session.graph.as_default():
      session.run([v.assign(tf.zeros_like(v)) for v in variables])
      saver.restore(session, out)
    for v in variables:
      value = session.run(v)
      assert value.dtype == original[v.op.name].dtype
      np.testing.assert_array_equal(value, original[v.op.name], err_msg=v.op.name)
  finally:
    session.close()


def test_names_naming_an_unknown_weight_is_refused_and_nothing_written(tmp_path):
  """save_tf1_checkpoint(names=...) with a path the model lacks: one clear error, no files."""
  model = models.dnn(4, 2, (3,))
  with pytest.raises(MappingError, match=r"'hidden9/kernel'.*not weights of model 'dnn'"):
    save_tf1_checkpoint(model, str(tmp_path / "model.ckpt"), names={"hidden9/kernel": "x"})
  assert not list(tmp_path.iterdir())
