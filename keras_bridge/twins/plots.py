"""Plots of the reference runs, written as PNG files (no display needed)."""

import os
from typing import Mapping, Sequence, Tuple

import numpy as np


def save_weight_histogram(weights: np.ndarray, path: str, title: str, bins: int = 50) -> str:
  """Writes 004_6270d8d9c47d861f.txt's `plt.hist(weights.flatten(), bins=50)` plot as a PNG.

  Args:
    weights: any array; it is flattened.
    path: the PNG to write (its directory is created).
    title: the plot title.
    bins: histogram bins, 50 as in the document.

  Returns:
    `path`.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use("Agg")  # No display; the document's plt.show() becomes savefig.
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig, ax = plt.subplots(figsize=(6, 4))
  try:
    ax.hist(np.asarray(weights).ravel(), bins=bins)
    ax.set_title(title, fontsize="medium", wrap=True)
    ax.set_xlabel("weight value")
    ax.set_ylabel("count")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
  finally:
    plt.close(fig)
  return path


def save_migration_plot(phases: Sequence[Tuple[str, Sequence[Tuple[int, float]]]], layer_diffs: Mapping[str, float],
                        path: str, tolerance: float) -> str:
  """Writes the migration at a glance as a PNG: the loss across the seam, and the per-layer difference.

  Args:
    phases: `(name, [(global_step, loss), ...])` in order (TF1 training, TF1 transfer, Keras), drawn on one
      step axis; a dashed line marks where each phase starts.
    layer_diffs: `{layer: max |TF1 - Keras|}` of the migrated model, drawn as bars (log scale; a zero
      difference is drawn at the axis floor and labelled "0").
    path: the PNG to write (its directory is created).
    tolerance: drawn as a line on the difference panel.

  Returns:
    `path`.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig, (loss_ax, diff_ax) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
  try:
    for name, points in phases:
      if not points:
        continue
      steps, losses = zip(*points)
      line, = loss_ax.plot(steps, losses, marker="o", markersize=3, label=name)
      loss_ax.axvline(steps[0], color=line.get_color(), linestyle="--", linewidth=0.8)
    loss_ax.set_xlabel("global step (TF1, then Keras)")
    loss_ax.set_ylabel("test loss")
    loss_ax.set_title("Loss across the migration seam", fontsize="medium")
    loss_ax.legend(fontsize="small")

    floor = tolerance / 1000
    names = list(layer_diffs)
    values = [max(float(layer_diffs[n]), floor) for n in names]
    diff_ax.bar(names, values, color="tab:green")
    diff_ax.axhline(tolerance, color="tab:red", linestyle="--", linewidth=1, label=f"tolerance {tolerance:g}")
    diff_ax.set_yscale("log")
    diff_ax.set_ylim(floor / 2, max(values + [tolerance]) * 10)
    for i, n in enumerate(names):
      diff_ax.annotate(f"{float(layer_diffs[n]):.2g}", (i, values[i]), ha="center", va="bottom", fontsize="small")
    diff_ax.set_ylabel("max |TF1 - Keras| output")
    diff_ax.set_title("Per-layer difference after migration", fontsize="medium")
    diff_ax.tick_params(axis="x", labelrotation=30)
    diff_ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
  finally:
    plt.close(fig)
  return path
