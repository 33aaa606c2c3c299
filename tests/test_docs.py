"""Every Python block of docs/MIGRATION.md runs, and its shown output is what it prints.

Conventions of the guide (also stated at its top):
- ```` ```python ```` blocks run, in order, one namespace per `## ` section, in a fresh temporary directory.
- An ```` ```output ```` block right after a python block is the exact stdout that block prints
  (trailing whitespace ignored).
- ```` ```python norun ```` marks the rare block that is not meant to run (TF1-only or GPU-only code).

Then the shell commands of every user-facing doc (README.md, docs/, BUILD.md): each runs as written, in reader
order, after the README's main job, except those `NOT_RUN` lists with a reason; and the docs link nothing outside
the repository.
"""

import contextlib
import io
import os
import pathlib
import re
import subprocess
import sys

import pytest

GUIDE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "MIGRATION.md"
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)


def _sections():
  text = GUIDE.read_text(encoding="utf-8")
  parts = re.split(r"^## ", text, flags=re.M)
  out = []
  for part in parts[1:]:
    title = part.splitlines()[0].strip()
    blocks = []
    for m in _FENCE.finditer(part):
      info, body = m.group(1).strip(), m.group(2)
      line = text.count("\n", 0, text.find(part)) + part.count("\n", 0, m.start()) + 1
      if info == "python":
        blocks.append({"code": body, "expected": None, "line": line})
      elif info == "output" and blocks and blocks[-1]["expected"] is None:
        blocks[-1]["expected"] = body
    if blocks:
      out.append(pytest.param(title, blocks, id=re.sub(r"\W+", "_", title).strip("_").lower()[:60]))
  return out


def _normalise(s):
  return "\n".join(line.rstrip() for line in s.strip().splitlines())


@pytest.mark.parametrize("title,blocks", _sections())
def test_migration_guide_section_runs(title, blocks, tmp_path, monkeypatch):
  """docs/MIGRATION.md: each section's code runs and prints exactly its shown output."""
  monkeypatch.chdir(tmp_path)
  namespace = {"__name__": f"migration_guide_{title}"}
  for block in blocks:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
      exec(compile(block["code"], f"{GUIDE}:{block['line']}", "exec"), namespace)  # pylint: disable=exec-used
    if block["expected"] is not None:
      assert _normalise(buf.getvalue()) == _normalise(block["expected"]), (
          f"{GUIDE.name} line {block['line']} ({title}): shown output differs from what the code prints")


def test_migration_guide_has_sections():
  """docs/MIGRATION.md exists and has runnable sections."""
  assert GUIDE.exists()
  assert len(_sections()) >= 5


# Every shell command of the user-facing docs, run as written (issue 12).

REPO = GUIDE.parent.parent
#: The user-facing docs in the order a reader meets them: the README, the guide it points to, then the rest.
USER_DOCS = ("README.md", "docs/MIGRATION.md", "docs/ERRATA.md", "docs/OPTIMIZERS.md", "BUILD.md")
#: Commands not run here, each with the reason. The README's main job runs without its install part (the
#: suite runs inside that install).
NOT_RUN = {
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && python -m pytest -m 'not gpu' -n 2":
        "the test suite itself (CI runs exactly this through .ci/run)",
    "python3 -m venv .venv && . .venv/bin/activate": "creates the environment this suite already runs in",
    "pip install -e '.[test]'": "network: installs from PyPI",
    "pip install -e '.[test,gpu]'": "GPU and network",
    "python -m pytest -m 'not gpu' -n 2": "the test suite itself",
    "python -m pytest -m gpu": "GPU",
    "python -m pytest tests/tf1_reference": "the test suite itself",
    "python3 -m venv /tmp/next && . /tmp/next/bin/activate": "creates an environment for a new TF version",
    "pip install -e '.[test]' 'tensorflow==2.X.*' 'keras==3.Y.*'": "network, and X/Y are placeholders",
    "python -m pytest tests/conformance/test_tf_private.py tests/conformance/test_keras_private.py -q":
        "the test suite itself",
    "python -m scripts.migrate --strategy=mirrored --workdir=runs/migrate_mirrored":
        "the main job again (a minute); tests/keras_bridge/test_distributed.py runs its Keras phase mirrored",
    "python -m scripts.migrate --strategy=multi_worker --workers=10.0.0.1:2222,10.0.0.2:2222 --task_index=0":
        "needs two machines; test_distributed.py runs two workers on 127.0.0.1 (TF1KB_MULTI_WORKER=1)",
    "python -m scripts.migrate --strategy=multi_worker --workers=10.0.0.1:2222,10.0.0.2:2222 --task_index=1":
        "needs two machines; test_distributed.py runs two workers on 127.0.0.1 (TF1KB_MULTI_WORKER=1)",
    "python benchmarks/convert.py": "minutes-long: 0.25 and 2 GiB checkpoints, 3 runs of 9 methods",
    "python benchmarks/convert.py --sizes_gib=0.01 --repeats=1 --noxfs":
        "about two minutes (six fresh TensorFlow processes); tests/keras_bridge/test_formats.py runs it in-process",
}
MAIN_JOB = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && python -m scripts.migrate"
#: Lines that must not reach a user's terminal (issue 12).
NOISE = re.compile(r"I0000|W0000|E0000|WARNING:tensorflow|INFO:tensorflow|cuInit|Traceback|Warning:")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def documented_commands():
  """`(doc, command)` for every line of every ```bash block, in reader order (comments dropped)."""
  out = []
  for doc in USER_DOCS:
    text = (REPO / doc).read_text(encoding="utf-8")
    for m in _FENCE.finditer(text):
      if m.group(1).strip() != "bash":
        continue
      for line in m.group(2).replace("\\\n", " ").splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()
        if command and not command.startswith("#"):
          out.append((doc, command))
  return out


def _clone(tmp_path):
  """A directory laid out as a fresh clone (links to this checkout's files), without its runs/."""
  for name in ("scripts", "keras_bridge", "tf1_reference", "benchmarks", "docs", "pyproject.toml", "README.md",
               "BUILD.md"):
    (tmp_path / name).symlink_to(REPO / name)
  return tmp_path


def test_every_documented_command_is_run_or_excused():
  commands = [c for _, c in documented_commands()]
  assert MAIN_JOB in commands
  assert commands.index(MAIN_JOB) == 0  # the README's first command: every later one may use its outputs
  assert sorted(set(NOT_RUN) - set(commands)) == []  # no stale excuse


@pytest.mark.slow
def test_documented_commands_run_as_written(tmp_path):
  """README, docs/ and BUILD.md: every shell command runs as written in a fresh clone, in reader order, after the
  README's main job, and prints nothing of TensorFlow's: no log line, warning or traceback (and the main job's
  lines fit 100 columns, whatever TF_CPP_MIN_LOG_LEVEL says)."""
  clone = _clone(tmp_path)
  env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTHONPATH")}
  env.update(TF_CPP_MIN_LOG_LEVEL="0", PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
  for doc, command in documented_commands():
    if command in NOT_RUN:
      continue
    run = command.split("&&")[-1].strip() if command == MAIN_JOB else command
    proc = subprocess.run(["bash", "-c", run], cwd=clone, env=env, capture_output=True, text=True, timeout=400,
                          check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{doc}: {command}\n{output[-3000:]}"
    assert [line for line in output.splitlines() if NOISE.search(line)] == [], f"{doc}: {command}"
    if command == MAIN_JOB:
      assert proc.stderr == ""
      assert [line for line in output.splitlines() if len(line) > 100] == []
      assert "Keras training: 3/3 epochs" in proc.stdout
      plots = clone / "runs" / "migrate" / "plots"
      assert sorted(os.listdir(plots)) == ["hidden1_kernel_hist.png", "migration.png"]
      assert (plots / "migration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  # Benchmarks write under runs/benchmarks/, never over the committed results.
  assert sorted(os.listdir(clone / "runs" / "benchmarks")) == ["help_time.json"]


@pytest.mark.parametrize("doc", USER_DOCS)
def test_user_docs_link_nothing_outside_the_repository(doc):
  """Links are relative, resolve to a file of this repository, and name no seed file's location outside it."""
  path = REPO / doc
  text = path.read_text(encoding="utf-8")
  assert "../shared" not in text and "shared/seeds" not in text
  assert re.findall(r"https?://", text) == []
  for target in _LINK.findall(text):
    if target.startswith("#"):
      continue
    resolved = (path.parent / target.split("#")[0]).resolve()
    assert resolved.is_relative_to(REPO) and resolved.exists(), f"{doc}: link to {target}"
