"""DBSCAN's automatic settings: a radius per cluster, chosen by excess of mass.

One `eps` for the whole table cannot suit groups of different density: the knee of the
k-distance curve fits the densest groups, so sparser ones fall apart into dozens of pieces
(rings and bands, skewed segments), and a single larger radius merges close groups. With
`eps=auto` and `min_samples=auto`, the clusters are instead read off the whole DBSCAN hierarchy
(every radius at once, as HDBSCAN builds it) and each kept cluster is the one of its branch
with the most excess of mass (stability): a dense group keeps a small radius, a sparse one a
large radius. Clusters must hold at least `min_cluster_size` rows (`auto`: `MIN_CLUSTER_SHARE`
of the rows, at least `MIN_CLUSTER_FLOOR`); a core point needs `MIN_SAMPLES` rows within its
radius, itself included.

The hierarchy is built on a seeded sample of at most `eps_sample_size` rows. Each cluster's
radius is the largest core distance among its rows (every one of them is a core point at that
radius); any other row, and later any new row (validation, `predict`), joins the cluster of its
nearest clustered row when it lies within that cluster's radius: the DBSCAN rule, with a radius
per cluster. A row beyond every radius joins its nearest cluster too unless the outlier test
calls it far from every dense group (`refine.py`, `outliers.py`): the hierarchy leaves the
sparse rims of groups and the rows between touching groups out (up to a third of the rows where
gaussians overlap), and "noise" is for rows that belong to no group.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from ...backends.base import Array, Backend, NeighbourSearch, to_host
from ...contract.schema import Hyperparameters
from ..runtime.sampling import sample_index
from .eps import CURVE_POINTS, EpsChoice, Neighbours, downsample_sorted, k_distance_curve

log = logging.getLogger(__name__)

MIN_SAMPLES = 5
MIN_CLUSTER_SHARE = 0.02
MIN_CLUSTER_FLOOR = 10


def auto_min_cluster_size(rows: int) -> int:
    """`min_cluster_size=auto`: 2% of the rows clustered, at least 10 (and at most the rows)."""
    return min(rows, max(MIN_CLUSTER_FLOOR, round(MIN_CLUSTER_SHARE * rows)))


@dataclass
class MassSelection:
    """The clusters chosen on the sample: its labels, and the clustered rows with their
    clusters' radii (what labels every other row, and the model's new rows)."""

    picked: np.ndarray  # the sample's rows
    sample_labels: np.ndarray  # host, per sampled row (-1 noise)
    members: np.ndarray  # host: the clustered sampled rows' coordinates
    member_labels: np.ndarray
    member_radii: np.ndarray  # each member's cluster radius
    eps: EpsChoice  # the largest radius, with the k-distance curve for the plot
    min_cluster_size: int


def select_by_mass(backend: Backend, hp: Hyperparameters, data: Array) -> MassSelection:
    """Clusters by excess of mass on a sample of `data`, with a radius per cluster."""
    xp = backend.xp
    rows = data.shape[0]
    picked = sample_index(rows, hp.eps_sample_size, hp.random_state)
    sample = data[xp.asarray(picked)] if len(picked) < rows else data
    size = min(hp.min_cluster_size or auto_min_cluster_size(len(picked)), len(picked))
    labels = to_host(backend.hdbscan(sample, size, MIN_SAMPLES)).astype(np.int32)
    # Each row's distances to its MIN_SAMPLES + 1 nearest (itself first): the core distance
    # (MIN_SAMPLES rows, itself included, as HDBSCAN counts) and the k-distance curve.
    neighbours = Neighbours(backend.neighbor_distances(sample, sample, MIN_SAMPLES + 1), None)
    core = to_host(neighbours.distances[:, MIN_SAMPLES - 1]).astype(np.float64)
    clustered = labels >= 0
    radii = np.zeros(int(labels.max()) + 1 if clustered.any() else 0)
    np.maximum.at(radii, labels[clustered], core[clustered])
    members = np.flatnonzero(clustered)
    curve = downsample_sorted(
        k_distance_curve(neighbours, MIN_SAMPLES, hp.eps_sample_size, hp.random_state),
        CURVE_POINTS,
    )
    largest = float(radii.max()) if len(radii) else 0.0
    log.info(
        "eps=auto, min_samples=auto: %d cluster(s) chosen by excess of mass over the DBSCAN "
        "hierarchy of %s rows (min_samples=%d, min_cluster_size=%d%s), each with its own "
        "radius (%s); %.1f%% of those rows noise",
        len(radii),
        f"{len(picked):,}",
        MIN_SAMPLES,
        size,
        "" if hp.min_cluster_size else ", auto",
        ", ".join(f"{r:.4g}" for r in radii[:12]) + (" ..." if len(radii) > 12 else ""),
        100 * float((labels < 0).mean()),
    )
    return MassSelection(
        picked=picked,
        sample_labels=labels,
        members=np.asarray(to_host(sample)[members], dtype=np.float32),
        member_labels=labels[members],
        member_radii=radii[labels[members]] if len(members) else np.zeros(0),
        eps=EpsChoice(largest, "per_cluster", MIN_SAMPLES, curve),
        min_cluster_size=size,
    )


def label_rows(backend: Backend, selection: MassSelection, data: Array) -> Array:
    """Labels for every row of `data`: the sample's own, and the rule for the others."""
    xp = backend.xp
    if len(selection.picked) == data.shape[0]:
        return xp.asarray(selection.sample_labels)
    labels = assign_within_radii(
        backend, selection.members, selection.member_labels, selection.member_radii, data
    )
    labels[xp.asarray(selection.picked)] = xp.asarray(selection.sample_labels)
    return labels


def assign_within_radii(
    backend: NeighbourSearch,
    points: np.ndarray,
    labels: np.ndarray,
    radii: np.ndarray | float,
    rows: Array,
    far: Array | None = None,
) -> Array:
    """Per row, the cluster of its nearest point when within that point's radius (one radius
    for all: DBSCAN's eps), else -1: the DBSCAN rule for rows that were not clustered.

    `far` (per row, or None): rows beyond every radius join their nearest point's cluster too,
    unless `far` flags them (`join_beyond_radius`)."""
    xp = backend.xp
    if len(points) == 0:
        return xp.full(rows.shape[0], -1, dtype=xp.int32)
    distance, nearest = backend.nearest(xp.asarray(points), rows)
    return nearest_cluster(xp, distance, nearest, labels, radii, far)


def nearest_cluster(
    xp: ModuleType,
    distance: Array,
    nearest: Array,
    labels: np.ndarray,
    radii: np.ndarray | float,
    far: Array | None,
) -> Array:
    """`assign_within_radii` from each row's nearest point (its index and distance)."""
    limit = radii if isinstance(radii, float) else xp.asarray(radii)[nearest]
    joins = distance <= limit
    if far is not None:
        joins = joins | ~xp.asarray(far, dtype=bool)
    return xp.where(joins, xp.asarray(labels)[nearest], -1).astype(xp.int32)
