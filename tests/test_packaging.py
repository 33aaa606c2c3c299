"""Packaging: `pip install` puts no top-level `scripts` package into site-packages, and every entry point resolves.

The scripts/ folder installs as `tf1_keras_bridge_scripts` (setuptools `package-dir`), so `python -m scripts.X`
keeps working from a clone while an installed copy cannot collide with another distribution's `scripts`.
These checks read pyproject.toml and the tree; none builds a wheel or needs the network.
"""

import os
import tomllib

import setuptools

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTALLED_SCRIPTS = "tf1_keras_bridge_scripts"


def _config():
  with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
    return tomllib.load(f)


def test_scripts_install_under_the_projects_own_name():
  tool = _config()["tool"]["setuptools"]
  assert tool["package-dir"] == {INSTALLED_SCRIPTS: "scripts"}
  assert "scripts" not in tool["packages"] and INSTALLED_SCRIPTS in tool["packages"]


def test_package_list_is_complete():
  """The listed packages are exactly those in the tree (a new subpackage must be added to the list)."""
  found = setuptools.find_packages(REPO, include=["keras_bridge*", "tf1_reference*"])
  assert sorted(_config()["tool"]["setuptools"]["packages"]) == sorted(found + [INSTALLED_SCRIPTS])


def test_every_entry_point_names_an_installed_script_with_run():
  scripts = _config()["project"]["scripts"]
  assert scripts, "no tf1kb-* entry points"
  for name, target in scripts.items():
    module, func = target.split(":")
    package, script = module.split(".")
    assert name.startswith("tf1kb-") and package == INSTALLED_SCRIPTS and func == "run", name
    with open(os.path.join(REPO, "scripts", script + ".py"), encoding="utf-8") as f:
      assert "\ndef run():" in f.read(), target


def test_scripts_import_each_other_never_and_no_private_library_module():
  """Scripts use `from . import _cli` (works as `scripts` and installed) and public keras_bridge names only."""
  for name in sorted(os.listdir(os.path.join(REPO, "scripts"))):
    if not name.endswith(".py"):
      continue
    with open(os.path.join(REPO, "scripts", name), encoding="utf-8") as f:
      text = f.read()
    assert "from scripts" not in text and "import scripts" not in text, name
    assert "from keras_bridge import _" not in text and "keras_bridge._" not in text, name
    assert "tf1_reference" not in text.split('"""', 2)[-1], name
