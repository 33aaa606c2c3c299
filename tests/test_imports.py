"""The import graph: `import keras_bridge` is lazy, and the bridge's core stands without `tf1_reference`.

Each check runs in a fresh interpreter, since this process has long imported everything.
"""

import subprocess
import sys
import textwrap

import pytest

import keras_bridge

_HEAVY = ("tensorflow", "keras", "tf1_reference", "tensorflow.python.layers")


def _loaded_after(code):
  """The modules of `_HEAVY` that a fresh interpreter holds after running `code`."""
  probe = textwrap.dedent(code) + f"\nimport sys\nprint(sorted(m for m in {_HEAVY!r} if m in sys.modules))\n"
  out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
  return out.strip().splitlines()[-1]


@pytest.mark.slow
def test_import_keras_bridge_imports_no_tensorflow_and_no_tf1_reference():
  assert _loaded_after("import keras_bridge; keras_bridge.Error; dir(keras_bridge)") == "[]"


@pytest.mark.slow
def test_core_names_import_no_tf1_reference():
  """Every public name of the core resolves without `tf1_reference` (TF itself loads its own layers)."""
  loaded = _loaded_after("""
      import keras_bridge
      for name in keras_bridge.__all__:
        if name != "twins":
          getattr(keras_bridge, name)
      """)
  assert "tf1_reference" not in loaded and "'tensorflow'" in loaded


def test_all_core_names_are_listed_in_dir():
  assert set(keras_bridge.__all__) <= set(dir(keras_bridge))


def test_unknown_name_is_an_attribute_error():
  with pytest.raises(AttributeError, match="no attribute 'nope'"):
    keras_bridge.nope  # pylint: disable=pointless-statement


_SCRIPTS = ("migrate", "train_tf1", "transfer_tf1", "gan_tf1", "inspect_checkpoint", "convert_checkpoint",
            "verify_equivalence", "reproduce_seeds", "import_graph")


@pytest.mark.slow
@pytest.mark.parametrize("script", _SCRIPTS)
def test_script_help_imports_no_tensorflow(script):
  """`python -m scripts.<name> --help`: flags and help need neither TensorFlow, Keras nor tf1_reference."""
  loaded = _loaded_after(f"""
      import runpy, sys
      sys.argv = ["{script}", "--help"]
      try:
        runpy.run_module("scripts.{script}", run_name="__main__")
      except SystemExit:  # --help exits (status 0, tests/scripts/test_help.py) after printing the help.
        pass
      """)
  assert loaded == "[]"

