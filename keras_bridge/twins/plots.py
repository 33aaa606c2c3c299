"""Plots of the reference runs, written as PNG files (no display needed)."""

import os

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
