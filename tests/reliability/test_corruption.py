"""Claim: every single-byte flip (XOR 0x01, 0xFF) and truncation of a small checkpoint's `.index` and `.data`
gives a named keras_bridge.Error or values identical to the original: never other values, an abort or a
traceback (issue 11). Each case runs in a worker subprocess; a worker that dies is restarted after the case.

Checked per case: `inspect_checkpoint` (shard lengths against the index), reading every tensor, and the copy
path of `convert_checkpoint` (name-based -> object-based), whose output must hold the original values.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

import keras_bridge
from keras_bridge.twins import models
from tests.reliability import _faults

_WORKER = r"""
import json, os, shutil, sys, traceback
import numpy as np
import tensorflow as tf
import keras_bridge
from keras_bridge import _bundle
from keras_bridge.twins import models
original, work, cases = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
model = models.dnn(4, 3, (5,))
reader = tf.train.load_checkpoint(original)
want = {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}
files = [f for f in os.listdir(os.path.dirname(original)) if f.startswith("model.ckpt.")]
for n, (name, kind, pos, arg) in enumerate(cases):
  case = os.path.join(work, str(n))
  os.makedirs(case)
  for f in files:
    shutil.copy(os.path.join(os.path.dirname(original), f), case)
  path = os.path.join(case, "model.ckpt" + name)
  with open(path, "r+b") as f:
    if kind == "flip":
      f.seek(pos); b = f.read(1); f.seek(pos); f.write(bytes([b[0] ^ arg]))
    else:
      f.truncate(pos)
  prefix = os.path.join(case, "model.ckpt")
  try:
    keras_bridge.inspect_checkpoint(prefix)
    got = _bundle.open_bundle(prefix).read_all(sorted(want))
    same = all(np.array_equal(got[k], want[k]) for k in want)
    report = keras_bridge.convert_checkpoint(prefix, os.path.join(case, "out", "ckpt"), model)
    out = tf.train.load_checkpoint(os.path.join(case, "out", "ckpt"))
    same = same and all(np.array_equal(out.get_tensor(t.dst_key), want[t.src_key]) for t in report.tensors
                        if t.src_key)
    result = ("identical" if same else "different", "")
  except keras_bridge.Error as e:
    result = ("error", str(e))
  except Exception as e:
    result = ("exception", traceback.format_exc())
  shutil.rmtree(case)
  print(json.dumps([n] + list(result)), flush=True)
"""


def _cases(prefix):
  cases = []
  for suffix in (".index", ".data-00000-of-00001"):
    size = os.path.getsize(prefix + suffix)
    cases += [(suffix, "flip", i, x) for i in range(size) for x in (0x01, 0xFF)]
    cases += [(suffix, "truncate", i, 0) for i in range(size)]
  if not _faults.FULL:
    cases = _faults.rng("corruption").sample(cases, 60)
  return cases


@pytest.mark.slow
def test_every_flip_and_truncation_is_an_error_or_the_original_values(tmp_path):
  prefix = keras_bridge.save_tf1_checkpoint(models.dnn(4, 3, (5,)), str(tmp_path / "ckpt" / "model.ckpt"))
  cases = _cases(prefix)
  results, start = {}, 0
  while start < len(cases):
    with open(tmp_path / "cases.json", "w", encoding="utf-8") as f:
      json.dump(cases[start:], f)
    work = tmp_path / "work"
    shutil.rmtree(work, ignore_errors=True)
    proc = subprocess.run([sys.executable, "-c", _WORKER, prefix, str(work), str(tmp_path / "cases.json")],
                          cwd=_faults.REPO, env=_faults.env(), capture_output=True, text=True, timeout=900,
                          check=False)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("[")]
    for n, outcome, detail in lines:
      results[start + n] = (outcome, detail)
    start += len(lines)
    if proc.returncode != 0:  # The worker died in the next case: an abort.
      results[start] = ("abort", f"exit {proc.returncode}: {proc.stderr[-2000:]}")
      start += 1
  bad = {cases[i]: r for i, r in results.items() if r[0] not in ("error", "identical")}
  multi_line = {cases[i]: r[1] for i, r in results.items() if r[0] == "error" and "\n" in r[1]}
  counts = {o: sum(r[0] == o for r in results.values()) for o in ("error", "identical", "different", "exception",
                                                                   "abort")}
  _faults.record("corruption", len(cases), counts["error"] + counts["identical"], len(bad), 0, outcomes=counts)
  assert not bad, f"{len(bad)} of {len(cases)} cases: {dict(list(bad.items())[:5])}"
  assert not multi_line, dict(list(multi_line.items())[:3])
