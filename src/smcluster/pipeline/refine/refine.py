"""Stage `refine`: from density clusters to segments (DBSCAN and HDBSCAN only).

1. Outliers stay noise: after a reducer, rows far from every dense group of the prepared
   features (`outliers.py`) are labelled -1; a cluster made mostly of such rows is reported as
   scattered outliers, not as a segment. Where each cluster has its own radius (`mass.py`),
   the rows the clusterer left beyond every radius join their nearest cluster unless they are
   such rows (`Border`): rims of groups and rows between touching groups are not noise.
2. Sparse splits: clusters that differ only in whether one mostly-zero feature is zero are
   merged (`sparse_splits.py`), or reported with `merge_sparse_splits=false`.
3. Clusters left with fewer than `min_samples` rows become noise; the rest are numbered by size,
   the largest 0.

The old → new mapping travels to the model, so new rows are labelled by the same rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...backends.base import Array, Backend, to_host
from ...contract.schema import Hyperparameters
from ..cluster.mass import assign_within_radii
from .outliers import OutlierRule, fit_outliers
from .sparse_splits import find_sparse_splits

log = logging.getLogger(__name__)

SCATTERED_SHARE = 0.5  # a cluster with more outlier rows than this is scattered outliers
NOISE_AWARE = ("dbscan", "hdbscan")


@dataclass
class Border:
    """The clustered points with their clusters' radii, and every row in the space clustered:
    what rows left out by the clusterer join (`mass.assign_within_radii`)."""

    points: np.ndarray
    labels: np.ndarray
    radii: np.ndarray
    rows: Array


@dataclass(frozen=True)
class Refinement:
    labels: np.ndarray  # per row, host, int32
    mapping: dict[int, int] = field(default_factory=dict)  # old id → new id (-1: dissolved)
    outliers: OutlierRule | None = None
    join_beyond_radius: bool = False  # the model's rules for new rows (`ClusterModel`)
    outliers_everywhere: bool = True
    notes: list[str] = field(default_factory=list)  # for the report and metrics.json
    info: dict[str, Any] = field(default_factory=dict)


def _renumber(labels: np.ndarray, minimum: int) -> tuple[np.ndarray, dict[int, int]]:
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = sorted(zip(ids.tolist(), counts.tolist(), strict=True), key=lambda t: (-t[1], t[0]))
    mapping: dict[int, int] = {}
    for old, count in order:
        mapping[old] = len([v for v in mapping.values() if v >= 0]) if count >= minimum else -1
    return remap(labels, mapping), mapping


def remap(labels: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """Labels through `mapping` (old id -> new id); ids it lacks, and noise, become -1."""
    labels = np.asarray(labels)
    if not len(labels):
        return labels.astype(np.int32)
    # A table indexed by old id + 1 (noise at 0): one vectorised pass over the rows.
    lookup = np.full(max(int(labels.max()), *mapping, -1) + 2, -1, dtype=np.int32)
    for old, new in mapping.items():
        if old >= -1:
            lookup[old + 1] = new
    return lookup[np.clip(labels.astype(np.int64), -1, None) + 1]


def refine(
    backend: Backend,
    hp: Hyperparameters,
    labels: Array,
    prepared: Array,
    raw: np.ndarray,
    columns: list[str],
    reduced: bool,
    spread: Array | None = None,
    border: Border | None = None,
) -> Refinement:
    """Outliers as noise, border rows joined, sparse splits merged, small leftovers dissolved,
    ids by size."""
    original = to_host(labels).astype(np.int32)
    host = original
    if hp.algorithm not in NOISE_AWARE:
        return Refinement(host)
    notes: list[str] = []
    info: dict[str, Any] = {}
    rule = None
    if reduced or border is not None:
        rule, flagged = fit_outliers(
            backend, prepared, hp.outlier_threshold, hp.random_state, spread
        )
        info["outlier_rows"] = int(flagged.sum())
    if border is not None and rule is not None:
        host = _join_border(backend, host, border, flagged)
        info["joined_rows"] = int(((original < 0) & (host >= 0)).sum())
    if reduced and rule is not None:
        clustered = host >= 0  # one pass over the rows, not one mask per cluster
        sizes = np.bincount(host[clustered])
        flagged_rows = np.bincount(host[clustered], weights=flagged[clustered])
        for cluster in np.flatnonzero(sizes):
            share = float(flagged_rows[cluster] / sizes[cluster])
            if share > SCATTERED_SHARE:
                # Its id is the clusterer's: the clusters reported are renumbered by size below.
                note = (
                    f"a {hp.algorithm} cluster of {int(sizes[cluster]):,} rows (the clusterer's "
                    f"id {cluster}, before renumbering) looks like scattered outliers: "
                    f"{share:.0%} of its rows lie far from every dense group of the prepared "
                    "features; they are labelled noise, not reported as a segment"
                )
                log.warning(note)
                notes.append(note)
        host = np.where(flagged, -1, host).astype(np.int32)
    report = find_sparse_splits(host, raw, to_host(prepared), columns, merge=hp.merge_sparse_splits)
    info["sparse_splits"] = [
        {"kept": s.kept, "merged": s.merged, "feature": s.feature} for s in report.splits
    ]
    merged = report.mapping() if hp.merge_sparse_splits else {}
    minimum = hp.min_samples or 2
    final, renumbered = _renumber(report.labels, minimum)
    for split in report.splits:
        if not hp.merge_sparse_splits:  # named by the ids reported, not the clusterer's
            kept, other = (renumbered.get(c, -1) for c in (split.kept, split.merged))
            names = " and ".join(f"cluster {c}" if c >= 0 else "noise" for c in (kept, other))
            notes.append(
                f"{names} differ only in whether '{split.feature}' is zero: probably one "
                "segment (merge_sparse_splits=false)"
            )
    dissolved = sorted(old for old, new in renumbered.items() if new < 0)
    if dissolved:
        log.info(
            "refine: %d cluster(s) left with fewer than %d rows become noise",
            len(dissolved),
            minimum,
        )
    mapping = {}
    for old in np.unique(original[original >= 0]).tolist():
        mapping[int(old)] = renumbered.get(merged.get(int(old), int(old)), -1)
    return Refinement(
        final,
        mapping,
        rule,
        join_beyond_radius=border is not None and rule is not None,
        outliers_everywhere=reduced,
        notes=notes,
        info=info,
    )


def _join_border(
    backend: Backend, labels: np.ndarray, border: Border, far: np.ndarray
) -> np.ndarray:
    """The clusterer's noise rows that are not far (`far`): the cluster of their nearest
    clustered point (any row within a radius already has it)."""
    noise = np.flatnonzero(labels < 0)
    if len(noise) == 0 or len(border.points) == 0:
        return labels
    xp = backend.xp
    rows = border.rows[xp.asarray(noise)]
    joined = to_host(
        assign_within_radii(backend, border.points, border.labels, border.radii, rows, far[noise])
    ).astype(np.int32)
    log.info(
        "refine: %s of the %s rows the clusterer left beyond every cluster's radius join their "
        "nearest cluster (the rest lie far from every dense group: noise)",
        f"{int((joined >= 0).sum()):,}",
        f"{len(noise):,}",
    )
    out = labels.copy()
    out[noise] = joined
    return out
