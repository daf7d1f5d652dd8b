"""Write cluster_profiles.csv, plots/*.png and report.html for one run into the staging folder."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import silhouette_samples

from ..pipeline.run import RunResult
from . import plots
from .html import render_report
from .profiles import NOISE, Profiles, cluster_profiles
from .sampling import stratified_sample

log = logging.getLogger(__name__)

PROFILES_FILE = "cluster_profiles.csv"
REPORT_FILE = "report.html"
PLOTS_DIR = "plots"
SILHOUETTE_CAP = 5_000  # silhouette_samples is quadratic in rows: a smaller stratified sample


def _silhouette_values(
    embedding: np.ndarray, labels: np.ndarray, random_state: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Silhouette of each sampled non-noise row, or None when there are fewer than 2 clusters."""
    clustered = np.flatnonzero(labels != NOISE)
    picked = clustered[stratified_sample(labels[clustered], SILHOUETTE_CAP, random_state)]
    found = np.unique(labels[picked])
    if not 2 <= len(found) <= len(picked) - 1:
        return None
    return silhouette_samples(embedding[picked], labels[picked]), labels[picked]


def draw_plots(result: RunResult, folder: Path, profiles: Profiles) -> dict[str, Path]:
    """Every plot, from a stratified sample capped at `plot_sample_size`; name → PNG path."""
    hp, split = result.hp, result.train
    seed = int(hp.random_state)
    rows = stratified_sample(split.labels, int(hp.plot_sample_size), seed)
    labels, embedding = split.labels[rows], split.embedding[rows]
    palette = plots.Palette(profiles.sizes)
    drawn: dict[str, Path] = {}

    drawn["embedding_scatter"] = plots.embedding_scatter(
        embedding, labels, palette, folder / "embedding_scatter.png", len(split.labels)
    )
    summary = result.pca
    if summary is None:
        for name in ("pca_variance", "pca_correlation_circle"):
            drawn[name] = plots.note_plot(
                folder / f"{name}.png", "PCA of the prepared features", "Too few rows for a PCA."
            )
    else:
        drawn["pca_variance"] = plots.pca_variance(summary, folder / "pca_variance.png")
        drawn["pca_correlation_circle"] = plots.correlation_circle(
            summary, folder / "pca_correlation_circle.png"
        )
    silhouettes = _silhouette_values(embedding, labels, seed)
    if silhouettes is None:
        clusters = len(profiles.sizes.drop(NOISE, errors="ignore"))
        drawn["silhouette"] = plots.note_plot(
            folder / "silhouette.png",
            "Silhouette per cluster",
            f"The silhouette needs at least 2 clusters; this run found {clusters}.",
        )
    else:
        drawn["silhouette"] = plots.silhouette(*silhouettes, palette, folder / "silhouette.png")
    eps = result.eps
    if eps is not None and len(eps.curve):
        drawn["k_distance"] = plots.k_distance(
            eps.curve, eps.eps, eps.method, eps.k, eps.knee_index, folder / "k_distance.png"
        )
    drawn["cluster_profile_heatmap"] = plots.profile_heatmap(
        profiles.zscores, profiles.sizes, folder / "cluster_profile_heatmap.png"
    )
    return drawn


def write_report(result: RunResult, staging: Path) -> list[str]:
    """Write the profiles, the plots (when `plots` is on) and the report; return their names."""
    began = time.perf_counter()
    profiles = cluster_profiles(result.train.raw_features, result.train.labels, result.features)
    # 7 significant digits: the features arrive as float32, which carry no more.
    profiles.table.to_csv(staging / PROFILES_FILE, index=False, float_format="%.7g")
    drawn: dict[str, Path] = {}
    if result.hp.plots:
        drawn = draw_plots(result, staging / PLOTS_DIR, profiles)
    (staging / REPORT_FILE).write_text(render_report(result, profiles, drawn), encoding="utf-8")
    log.info(
        "report: %s, %d plot(s), %s in %.1fs",
        PROFILES_FILE,
        len(drawn),
        REPORT_FILE,
        time.perf_counter() - began,
    )
    return [
        PROFILES_FILE,
        *(path.relative_to(staging).as_posix() for path in drawn.values()),
        REPORT_FILE,
    ]
