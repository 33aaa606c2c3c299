"""Claim: a full disk (ENOSPC), a read-only filesystem (EROFS) and a refused permission (EACCES) make a script
exit 2 with one `error:` line naming the file and the fix, no traceback, and leave no partial output (issue 11).

ENOSPC is a 4 KiB tmpfs and EROFS a read-only bind mount, each inside `unshare -m` so that a killed test leaves
no mount; EACCES runs the script as `nobody` (root ignores permissions). Each is skipped, with the reason,
where the machine forbids it.
"""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import pytest

from keras_bridge.twins import datasets
from keras_bridge.twins import training
from tests.reliability import _faults


def _can(cmd):
  if shutil.which(cmd[0]) is None:
    return False
  return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


_UNSHARE = _can(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"])
_SETPRIV = _can(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true"])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
  directory = str(tmp_path_factory.mktemp("src"))
  return training.train_dnn(datasets.load_dataset("digits"), directory, epochs=1, batch_size=256,
                            save_every=1000, hidden_sizes=(16, 12, 10, 8), seed=1).checkpoint


def _script(prelude, name, *args, user=None):
  command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", f"scripts.{name}", *args])
  wrapped = ["unshare", "-m", "sh", "-c", f"{prelude} && exec {command}"] if prelude else shlex.split(command)
  if user:
    wrapped = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + wrapped
  return subprocess.run(wrapped, cwd=_faults.REPO, env=_faults.env(), capture_output=True, text=True, timeout=240,
                        check=False)


def _check(proc, expect, tmp):
  lines = [line for line in proc.stderr.splitlines() if ": error: " in line]
  ok = proc.returncode == 2 and "Traceback" not in proc.stderr and len(lines) == 1 and expect in lines[0]
  leaked = sum(b for _, b in _faults.leftovers(tmp))
  _faults.record(f"os_{'_'.join(expect.split()[-2:])}", 1, int(ok), int(not ok), leaked)
  assert proc.returncode == 2, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
  assert len(lines) == 1 and expect in lines[0], proc.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.skipif(not _UNSHARE, reason="unshare -m with a tmpfs mount is not permitted on this machine")
def test_full_disk_is_one_error_line(tmp_path, checkpoint):
  mnt = str(tmp_path / "full")
  os.makedirs(mnt)
  proc = _script(f"mount -t tmpfs -o size=4k tmpfs {shlex.quote(mnt)}", "convert_checkpoint", f"--src={checkpoint}",
                 f"--dst={mnt}/ckpt", "--model=dnn")
  _check(proc, "the device is full", mnt)


@pytest.mark.slow
@pytest.mark.skipif(not _UNSHARE, reason="unshare -m with a bind mount is not permitted on this machine")
def test_read_only_filesystem_is_one_error_line(tmp_path):
  if not _faults.FULL:
    pytest.skip("TF1KB_FAULTS=full: CI runs the ENOSPC and EACCES cases (the same error path)")
  ro = str(tmp_path / "ro")
  os.makedirs(os.path.join(ro, "run"))
  proc = _script(f"mount --bind -o ro {shlex.quote(ro)} {shlex.quote(ro)}", "train_tf1", "--epochs=1",
                 f"--checkpoint_dir={ro}/run", "--hidden_sizes=8")
  _check(proc, "the filesystem is read-only", ro)


@pytest.mark.slow
@pytest.mark.skipif(not _SETPRIV, reason="setpriv cannot drop root to nobody on this machine")
def test_permission_denied_is_one_error_line(checkpoint):
  # pytest's tmp_path lies under a directory only root may enter, so nobody gets a world-readable one.
  public = tempfile.mkdtemp(prefix="tf1kb-eacces-")
  try:
    os.chmod(public, 0o755)
    for name in os.listdir(os.path.dirname(checkpoint)):
      if name.startswith(os.path.basename(checkpoint) + "."):
        shutil.copy(os.path.join(os.path.dirname(checkpoint), name), public)
        os.chmod(os.path.join(public, name), 0o644)
    shut = os.path.join(public, "shut")
    os.mkdir(shut, 0o755)
    proc = _script(None, "inspect_checkpoint", f"--checkpoint={public}/{os.path.basename(checkpoint)}",
                   f"--json={shut}/info.json", user="nobody")
    _check(proc, "permission was denied", shut)
  finally:
    shutil.rmtree(public)


# EIO: this machine's kernel has no device-mapper (`dmsetup` finds no `error` target) and a loop device cannot be
# made to fail on demand, so the error is injected at the system calls that the `.weights.h5` writer makes to move
# tensor bytes (`copy_file_range`, `sendfile`), in the script's own process: the code from the syscall up is the
# real one.
_EIO_PRELUDE = """
import errno, os, runpy, sys
def _eio(*args, **kwargs):
  raise OSError(errno.EIO, os.strerror(errno.EIO))
os.copy_file_range = os.sendfile = _eio
sys.argv = sys.argv[1:]
runpy.run_module("scripts.convert_checkpoint", run_name="__main__")
"""


@pytest.mark.slow
def test_io_error_is_one_error_line(tmp_path, checkpoint):
  out = tmp_path / "out"
  out.mkdir()
  proc = subprocess.run([sys.executable, "-c", _EIO_PRELUDE, "convert_checkpoint", f"--src={checkpoint}",
                         f"--dst={out}/model.weights.h5", "--model=dnn"], cwd=_faults.REPO, env=_faults.env(),
                        capture_output=True, text=True, timeout=240, check=False)
  _check(proc, "the device reported an I/O error", str(out))
  assert os.listdir(out) == [], os.listdir(out)
