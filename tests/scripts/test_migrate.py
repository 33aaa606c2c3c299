"""scripts/migrate.py, the main job: TF1 train -> checkpoint -> transfer -> Keras 3 -> verify -> continue."""

import io
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from keras_bridge import _errors
from keras_bridge.twins import migration
from tests.scripts.conftest import run_script


@pytest.fixture(scope="module")
def story(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("migrate") / "run")
  out = io.StringIO()
  summary = migration.migrate(workdir, epochs=1, transfer_epochs=1, keras_epochs=1, batch_size=50,
                            seed_examples=False, out=out)
  return workdir, summary, out.getvalue()


def _scalars(run_dir):
  """{tag: [(step, value)]} from the event files of one TensorBoard run (TF1 simple_value or TF2 tensor)."""
  found = {}
  for name in sorted(os.listdir(run_dir)):
    for event in tf.compat.v1.train.summary_iterator(os.path.join(run_dir, name)):
      for value in event.summary.value:
        if value.HasField("simple_value"):
          found.setdefault(value.tag, []).append((event.step, value.simple_value))
        elif value.metadata.plugin_data.plugin_name == "scalars":
          found.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
  return found


def test_keras_model_is_the_tf1_model_at_migration(story):
  """Done-when of issue 5: equal accuracy at migration time and a max output difference <= 1e-5."""
  _, summary, _ = story
  assert summary.verified
  assert summary.keras_accuracy == summary.tf1_accuracy
  assert summary.max_output_diff <= 1e-5
  assert list(summary.layer_diffs) == ["hidden1", "hidden2", "hidden3", "hidden4", "outputs"]
  assert summary.matched == 10
  assert summary.tf1_steps == 29 + 29 and summary.keras_steps == 29  # ceil(1437 / 50) per epoch


def test_summary_table_names_every_artefact(story):
  workdir, summary, text = story
  assert text.index("== 1. Train") < text.index("== 3. Migrate") < text.index("== Summary ==")
  for what, path in summary.artefacts:
    assert path.startswith(workdir) and (os.path.exists(path) or os.path.exists(path + ".index")), what
    assert path in text
  with open(os.path.join(workdir, "plots", "hidden1_kernel_hist.png"), "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_tensorboard_runs_share_tags_and_one_step_axis(story):
  """tf1 (tf.compat.v1.summary) and keras (tf.summary) runs carry the same tags; keras starts where TF1 ended."""
  workdir, _, _ = story
  logs = os.path.join(workdir, "logs")
  assert sorted(os.listdir(logs)) == ["keras", "tf1", "tf1_transfer"]
  tf1, transfer, keras_run = (_scalars(os.path.join(logs, r)) for r in ("tf1", "tf1_transfer", "keras"))
  for run in (tf1, transfer, keras_run):
    assert {"test/loss", "test/accuracy"} <= set(run)
  assert [s for s, _ in tf1["test/accuracy"]] == [29]
  assert [s for s, _ in transfer["test/accuracy"]] == [29, 58]
  assert [s for s, _ in keras_run["test/accuracy"]] == [58, 87]
  # No jump at migration: the Keras run's first point is the TF1 run's last one.
  assert keras_run["test/accuracy"][0][1] == pytest.approx(transfer["test/accuracy"][-1][1], abs=1e-6)
  assert keras_run["test/loss"][0][1] == pytest.approx(transfer["test/loss"][-1][1], abs=1e-5)


def test_refuses_a_non_empty_workdir(story):
  workdir, _, _ = story
  with pytest.raises(_errors.OutputExistsError, match=r"is not empty .*Pass --overwrite"):
    migration.migrate(workdir, seed_examples=False)


def test_prints_the_seed_example_table_first(tmp_path, monkeypatch):
  calls = []

  def fake_table(out):
    calls.append("seeds")
    print("SEED TABLE", file=out)
    raise KeyboardInterrupt  # Stop before training: only the order is under test.

  monkeypatch.setattr(migration, "print_seed_examples", fake_table)
  out = io.StringIO()
  with pytest.raises(KeyboardInterrupt):
    migration.migrate(str(tmp_path / "w"), out=out)
  assert calls == ["seeds"] and out.getvalue() == "SEED TABLE\n"


@pytest.mark.slow
def test_command_line_run(tmp_path):
  workdir = tmp_path / "w"
  proc = run_script("migrate", f"--workdir={workdir}", "--epochs=1", "--transfer_epochs=1", "--keras_epochs=1",
                    "--noseed_examples")
  assert proc.returncode == 0, proc.stderr
  assert "verdict                                        same model" in proc.stdout
  proc = run_script("migrate", f"--workdir={workdir}", "--noseed_examples")
  assert proc.returncode == 2
  assert "python -m scripts.migrate: error: Work directory" in proc.stderr and "Traceback" not in proc.stderr


def test_unfinished_workdir_is_resumed_to_the_same_result(story, tmp_path):
  """A run killed in its Keras phase (no summary.txt, no Keras outputs yet) resumes when run again, and ends
  with the uninterrupted run's weights, bit for bit."""
  workdir, summary, _ = story
  resumed = str(tmp_path / "run")
  shutil.copytree(workdir, resumed, ignore=shutil.ignore_patterns("*.lock"))
  os.remove(os.path.join(resumed, migration.SUMMARY_FILE))
  shutil.rmtree(os.path.join(resumed, "keras"))
  shutil.rmtree(os.path.join(resumed, "plots"))
  out = io.StringIO()
  again = migration.migrate(resumed, epochs=1, transfer_epochs=1, keras_epochs=1, batch_size=50,
                            seed_examples=False, out=out)
  assert "Resuming the unfinished run" in out.getvalue()
  assert again.verified and again.keras_steps == summary.keras_steps == 29
  want = tf.train.load_checkpoint(dict(summary.artefacts)["Keras weights as TF1 checkpoint"])
  got = tf.train.load_checkpoint(dict(again.artefacts)["Keras weights as TF1 checkpoint"])
  for key in want.get_variable_to_shape_map():
    np.testing.assert_array_equal(got.get_tensor(key), want.get_tensor(key), err_msg=key)
