"""`--help` and usage errors of every script, as `python -m scripts.<name>` and as its `tf1kb-<name>` entry point.

Issue 12: `--help` exits 0 without importing TensorFlow and shows the script's purpose, an example and only its
own flags; a usage error is one line and a pointer to `--help`, exit status 2; no hint names a flag the script
ignores. Its time is measured by benchmarks/help_time.py, not here.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.scripts.conftest import REPO

SCRIPTS = ("migrate", "train_tf1", "transfer_tf1", "gan_tf1", "inspect_checkpoint", "convert_checkpoint",
           "verify_equivalence", "reproduce_seeds", "import_graph")
#: Flags each script's --help must list, and flags of other scripts it must not.
OWN_FLAG = {"migrate": "--workdir", "train_tf1": "--save_every", "transfer_tf1": "--source_checkpoint",
            "gan_tf1": "--steps", "inspect_checkpoint": "--diff", "convert_checkpoint": "--rules",
            "verify_equivalence": "--checkpoint", "reproduce_seeds": "--only", "import_graph": "--out_dir"}


def _entry_point(script):
  return "tf1kb-" + script.replace("_", "-")


def _run(args, **kwargs):
  env = dict(os.environ, PYTHONPATH=REPO)
  return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
                        **kwargs)


def _probe(call: str):
  """Runs `call` in a fresh interpreter; returns (exit status, stdout, whether tensorflow was imported)."""
  code = textwrap.dedent(f"""
      import atexit, sys
      atexit.register(lambda: sys.stderr.write("TF_LOADED=%s" % ("tensorflow" in sys.modules)))
      {call}
      """)
  proc = _run([sys.executable, "-c", code])
  return proc.returncode, proc.stdout, proc.stderr.rsplit("TF_LOADED=", 1)[-1].strip()


def _check_help(text, script, command):
  assert text.startswith(f"Usage: {command} [flags]\n")
  assert "Example" in text and f"{command} --" in text  # an example in the command the user typed
  assert OWN_FLAG[script] in text
  # --checkpoint is shared; --save_every is train_tf1's and also the other training scripts' own.
  shared = {"--checkpoint"} | ({"--save_every"} if script in ("gan_tf1", "transfer_tf1", "migrate") else set())
  others = {f for s, f in OWN_FLAG.items() if s != script and f != OWN_FLAG[script]} - shared
  assert [f for f in others if f + ":" in text] == []
  assert "--helpfull" in text and "--alsologtostderr" not in text  # absl's own flags only on request
  assert len(text.splitlines()[2]) > 20  # the purpose, from the module docstring


@pytest.mark.parametrize("script", SCRIPTS)
def test_module_help_exits_0_without_tensorflow(script):
  status, out, tf_loaded = _probe(f"""
      import runpy
      sys.argv = ["{script}", "--help"]
      runpy.run_module("scripts.{script}", run_name="__main__", alter_sys=True)
      """)
  assert (status, tf_loaded) == (0, "False"), out
  _check_help(out, script, f"python -m scripts.{script}")


@pytest.mark.parametrize("script", SCRIPTS)
def test_entry_point_help_exits_0_without_tensorflow(script):
  from importlib import metadata  # pylint: disable=g-import-not-at-top

  name = _entry_point(script)
  (entry,) = [e for e in metadata.entry_points(group="console_scripts") if e.name == name]
  status, out, tf_loaded = _probe(f"""
      sys.argv = ["/some/bin/{name}", "-h"]
      from {entry.module} import {entry.attr}
      {entry.attr}()
      """)
  assert (status, tf_loaded) == (0, "False"), out
  _check_help(out, script, name)


@pytest.mark.skipif(shutil.which("tf1kb-migrate") is None, reason="entry points not on PATH (pip install -e .)")
def test_installed_entry_point_help_as_a_user_runs_it():
  proc = _run(["tf1kb-inspect-checkpoint", "--help"])
  assert proc.returncode == 0 and proc.stderr == ""
  _check_help(proc.stdout, "inspect_checkpoint", "tf1kb-inspect-checkpoint")


@pytest.mark.parametrize("args, message", [
    (["inspect_checkpoint"], "--checkpoint is required"),
    (["convert_checkpoint", "--src=a", "--dst=b", "--rules=a(=b"], "--rules rule 1: 'a(' is not a valid regex"),
    (["migrate", "--epochs=-1"], "flag --epochs=-1: -1 is not a non-negative integer"),
    (["train_tf1", "--dataset=cifar"], "flag --dataset=cifar: value should be one of <digits|mnist>"),
    (["reproduce_seeds", "stray"], "Unexpected arguments: stray."),
], ids=["missing_flag", "bad_rules_regex", "bad_value", "bad_enum", "stray_argument"])
def test_usage_error_is_one_line_and_a_pointer_to_help(args, message):
  script = args[0]
  proc = _run([sys.executable, "-m", f"scripts.{script}", *args[1:]])
  command = f"python -m scripts.{script}"
  assert proc.returncode == 2
  assert proc.stdout == ""
  first, pointer = proc.stderr.splitlines()
  assert first.startswith(f"{command}: error: ") and message in first
  assert pointer == f"Run '{command} --help' for the flags and an example."


def test_size_hint_only_where_the_size_flags_exist(tmp_path):
  """inspect_checkpoint and verify_equivalence take no size flags: their errors do not suggest them;
  convert_checkpoint's does."""
  from keras_bridge import _errors  # pylint: disable=g-import-not-at-top
  from keras_bridge.twins import checkpoints  # pylint: disable=g-import-not-at-top

  with pytest.raises(_errors.MappingError) as e:
    checkpoints.dnn_sizes({"outputs/kernel": ((3, 2), "float32")}, "'x'")
  assert "--n_inputs" not in str(e.value) and "--hidden_sizes" not in str(e.value)
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  with tf.Graph().as_default():
    tf.compat.v1.get_variable("outputs/kernel", [3, 2])
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      tf.compat.v1.train.Saver().save(sess, str(tmp_path / "model"))
  with pytest.raises(_errors.MappingError, match="Or give the sizes: --n_inputs, --hidden_sizes and --n_outputs"):
    checkpoints.convert(str(tmp_path / "model"), str(tmp_path / "out.weights.h5"))
