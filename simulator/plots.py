"""Figures drawn from result tables only — never from live models (ARCHITECTURE: tables are
the interface between running and looking), so any figure can be redrawn without re-running.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt
import pandas as pd

# Okabe–Ito: distinguishable with the common forms of colour blindness
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

PANELS = [
    ("Reach (users exposed)", ["reach", "engaged_reach"], "users"),
    ("Authenticity (organic share of exposures)", ["authenticity"], "share"),
    ("Pout of the excluded (0–1)", ["pout_mean", "pout_fans"], "mean pout"),
    ("Mentions (cumulative)", ["mentions_paid", "mentions_organic", "mentions_negative"], "mentions"),
]
STYLES = ["-", "--", ":"]


def plot_timeseries(steps: pd.DataFrame, title: str = "") -> plt.Figure:
    """Four panels of key metrics over time, one colour per brand, one line style per metric."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    brands = list(dict.fromkeys(steps["brand"]))
    for ax, (panel, cols, unit) in zip(axes.flat, PANELS, strict=False):
        for bi, brand in enumerate(brands):
            part = steps[steps["brand"] == brand]
            for ci, col in enumerate(cols):
                label = col if len(brands) == 1 else f"{brand}: {col}"
                ax.plot(part["step"], part[col], color=PALETTE[(bi if len(brands) > 1 else ci) % 8],
                        linestyle=STYLES[ci % 3] if len(brands) > 1 else "-", label=label)
        ax.set_title(panel, fontsize=10)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
    for ax in axes[1]:
        ax.set_xlabel("step (day)")
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, folder: Path, stem: str) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` into ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.png", folder / f"{stem}.svg"]
    # no timestamps and fixed SVG ids: reruns give byte-identical files
    with plt.rc_context({"svg.hashsalt": "perksim"}):
        fig.savefig(paths[0], dpi=120, metadata={"Software": None})
        fig.savefig(paths[1], metadata={"Date": None})
    plt.close(fig)
    return paths


def plot_run(folder: str | Path) -> list[Path]:
    """Draw the figures of a ``perksim run`` results folder from its ``steps.csv``."""
    folder = Path(folder)
    steps = pd.read_csv(folder / "steps.csv")
    name = folder.parent.name
    return save(plot_timeseries(steps, title=f"{name}: key metrics over time"),
                folder / "figures", "timeseries")
