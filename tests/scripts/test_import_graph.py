"""scripts/import_graph.py: a user's own TF1 model, from MetaGraph + checkpoint to Keras 3 files."""

import os

from absl.testing import flagsaver
import pytest

import keras_bridge
from keras_bridge import importer
from scripts import import_graph


def _argv(**flags_):
  return ["import_graph"] + [f"--{k}={v}" for k, v in flags_.items()]


def test_writes_every_artifact_and_verifies(corpus, tmp_path, capsys):
  model = corpus("bare_variable_cnn", "v1")
  out = tmp_path / "imported"
  with flagsaver.flagsaver():
    import_graph.flags.FLAGS(_argv(checkpoint=model.prefix, out_dir=out, feeds="keep_prob:0=1.0"))
    assert import_graph.main(["import_graph"]) == 0
  printed = capsys.readouterr().out
  assert "Max |difference| against the TF1 graph: 0" in printed
  assert sorted(os.listdir(out)) == ["ckpt", "model.keras", "model.py", "model.weights.h5", "report.txt"]
  assert "def build_model():" in (out / "model.py").read_text()
  assert "Verification against the TF1 graph" in (out / "report.txt").read_text()

  # A second run refuses to replace the outputs without --overwrite, and leaves them as they were.
  before = (out / "model.py").read_text()
  with pytest.raises(keras_bridge.OutputExistsError, match="overwrite"):
    importer.import_to_directory(model.prefix, str(out), feeds={"keep_prob:0": 1.0})
  assert (out / "model.py").read_text() == before


@pytest.mark.slow
def test_unsupported_ops_exit_2_one_line_each(tmp_path):
  import subprocess  # pylint: disable=import-outside-toplevel
  import sys  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  graph = tf.Graph()
  with graph.as_default():
    x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
    w = tf.compat.v1.get_variable("fc/weights", [4, 4])
    tf.math.erf(tf.math.cumsum(tf.matmul(x, w), axis=1, name="running"), name="erf")
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      prefix = tf.compat.v1.train.Saver().save(sess, str(tmp_path / "model.ckpt"))
  proc = subprocess.run([sys.executable, "-m", "scripts.import_graph", f"--checkpoint={prefix}",
                         f"--out_dir={tmp_path / 'out'}", "--outputs=erf:0"], capture_output=True, text=True,
                        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))), check=False)
  assert proc.returncode == 2, proc.stderr
  assert "Traceback" not in proc.stderr
  assert "  - running (Cumsum)" in proc.stderr and "  - erf (Erf)" in proc.stderr
  assert not os.path.exists(tmp_path / "out")


pytestmark = pytest.mark.filterwarnings("ignore")


def test_the_other_tools_take_the_users_model(corpus, tmp_path, capsys):
  """convert_checkpoint, verify_equivalence and inspect_checkpoint --diff with --meta or --model=file.py:fn."""
  from scripts import convert_checkpoint  # pylint: disable=import-outside-toplevel
  from scripts import inspect_checkpoint  # pylint: disable=import-outside-toplevel
  from scripts import verify_equivalence  # pylint: disable=import-outside-toplevel
  model = corpus("getvar_scopes_mlp", "v1")
  out = tmp_path / "imported"
  importer.import_to_directory(model.prefix, str(out))
  module = f"{out / 'model.py'}:build_model"
  for argv in ([f"--checkpoint={model.prefix}", f"--meta={model.prefix}.meta"],
               [f"--checkpoint={model.prefix}", f"--model={module}"]):
    with flagsaver.flagsaver():
      verify_equivalence.flags.FLAGS(["verify_equivalence"] + argv)
      assert verify_equivalence.main(["verify_equivalence"]) == 0
    assert "EQUIVALENT" in capsys.readouterr().out
  h5 = tmp_path / "converted.weights.h5"
  with flagsaver.flagsaver():
    convert_checkpoint.flags.FLAGS(["convert_checkpoint", f"--src={model.prefix}", f"--dst={h5}",
                                    f"--model={module}"])
    assert convert_checkpoint.main(["convert_checkpoint"]) == 0
  with flagsaver.flagsaver():
    inspect_checkpoint.flags.FLAGS(["inspect_checkpoint", f"--checkpoint={model.prefix}", f"--diff={h5}",
                                    f"--meta={model.prefix}.meta"])
    # Exit 1: the TF1 side also holds the Momentum slots, which the .weights.h5 file has not.
    assert inspect_checkpoint.main(["inspect_checkpoint"]) == 1
  printed = capsys.readouterr().out
  assert "compared by canonical Keras paths: 6 equal" in printed
  assert "only in a: layer1/weights/Momentum" in printed
  with flagsaver.flagsaver():
    with pytest.raises(Exception, match="--model must be"):
      verify_equivalence.flags.FLAGS(["verify_equivalence", "--model=nonsense"])
