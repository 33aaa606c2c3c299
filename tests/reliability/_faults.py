"""Shared pieces of the fault-injection suite: the matrix size, seeded kill points, children, leftovers, counts.

`TF1KB_FAULTS=full` runs the whole matrix (every byte, many kills; minutes); otherwise a seeded sample that fits
CI. Every test records `tried / clean / failed / leaked_bytes` in `TF1KB_FAULTS_LOG` (a JSON-lines file) when
that variable is set, so one run can report the totals (see BUILD.md).
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FULL = os.environ.get("TF1KB_FAULTS", "").strip().lower() == "full"
SEED = int(os.environ.get("TF1KB_FAULTS_SEED", "11"))

# What a killed writer may leave and the next writer must remove (see keras_bridge._durable).
_LEFTOVER_RE = re.compile(r"(^\..+\.tmp-|_temp$|\.tempstate\d+$|\.tmp[0-9a-f]{32}$|^\..+\.lock$)")


def rng(name: str) -> random.Random:
  return random.Random(f"{SEED}/{name}")


def env():
  return dict(os.environ, CI="true", TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO)


def start(code: str, *args) -> subprocess.Popen:
  """Starts `python -c code args`, which prints START when the faultable part begins."""
  proc = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=REPO, env=env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  line = proc.stdout.readline()
  assert line.strip() == "START", (line, proc.stderr.read() if proc.poll() is not None else "")
  return proc


def kill_after(proc: subprocess.Popen, delay: float) -> bool:
  """SIGKILLs `proc` after `delay` seconds; returns False if it had already exited (cleanly: checked)."""
  deadline = time.monotonic() + delay
  while time.monotonic() < deadline:
    if proc.poll() is not None:
      break
    time.sleep(0.002)
  if proc.poll() is None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True
  out, err = proc.communicate()
  assert proc.returncode == 0, err
  return False


def leftovers(directory: str):
  """`[(path, bytes)]` of temporary and lock files under `directory`."""
  found = []
  for root, dirs, files in os.walk(directory):
    for name in dirs + files:
      if _LEFTOVER_RE.search(name):
        path = os.path.join(root, name)
        size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs) \
            if os.path.isdir(path) else os.path.getsize(path)
        found.append((path, size))
  return found


def record(test: str, tried: int, clean: int, failed: int, leaked_bytes: int, **extra):
  """Appends one test's counts to TF1KB_FAULTS_LOG (when set) and prints them (pytest -s shows them)."""
  row = dict(test=test, tried=tried, clean=clean, failed=failed, leaked_bytes=leaked_bytes, **extra)
  print(json.dumps(row))
  path = os.environ.get("TF1KB_FAULTS_LOG")
  if path:
    with open(path, "a", encoding="utf-8") as f:
      f.write(json.dumps(row) + "\n")
