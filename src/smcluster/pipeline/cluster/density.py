"""DBSCAN with `min_samples` set and `eps=auto`: `eps` at the knee, and a split sought when the
knee leaves one dominant cluster (with both `auto`, `mass.py` chooses a radius per cluster).

When a knee `eps` leaves one cluster
with more than `DOMINANT_SHARE` of the clustered rows (overlapping or touching groups, where
density has no deep gap), the largest smaller `eps` (a quantile of the core distances) that
splits it, with at most `SEEK_MAX_NOISE` noise, replaces it: the coarsest clustering that cuts
the dominant cluster's rows into two parts, the larger at most `DOMINANT_SHARE` of both. The
split is judged on the dominant cluster's own rows: pieces peeled off a uniform group's sparse
rim are no split of it, and neither is a smaller eps that leaves it whole while it carves
other groups out of what the knee left as noise (a sparse shell around a dense core).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ...backends.base import Array, Backend, Clusterers, to_host
from ...contract.schema import Hyperparameters
from .eps import EpsChoice, Neighbours, choose_eps, query_neighbours

log = logging.getLogger(__name__)

DOMINANT_SHARE = 0.9
SEEK_MAX_NOISE = 0.3
SEEK_QUANTILES = np.round(np.arange(0.99, 0.295, -0.01), 2)
# Above this many rows each DBSCAN of the search is a pass over every row (on the GPU, a full
# cuML DBSCAN: up to 70 of them): the quantiles are tried every `SEEK_COARSE_STEP`-th first,
# then one by one only between the last coarse one that neither split nor stopped and the
# first that did. At most 14 + 4 runs; below it, every quantile in turn as before.
SEEK_COARSE_ROWS = 1_000_000
SEEK_COARSE_STEP = 5


@dataclass
class DensityRun:
    """One DBSCAN run: its settings, labels and core rows (on the rows it ran on)."""

    min_samples: int
    eps: EpsChoice
    labels: Array
    core: Array
    split_quantile: float | None = None  # set when the split search chose eps


def dominant_share(labels: np.ndarray) -> float:
    """Share of the clustered rows in the largest cluster (1.0 when nothing is clustered)."""
    clustered = labels[labels >= 0]
    return 1.0 if len(clustered) == 0 else float(np.bincount(clustered).max() / len(clustered))


def split_share(labels: np.ndarray) -> float:
    """The largest cluster's share of the two largest clusters' rows (1.0 with fewer than two)."""
    clustered = labels[labels >= 0]
    sizes = np.sort(np.bincount(clustered))[::-1] if len(clustered) else np.zeros(0, int)
    sizes = sizes[sizes > 0]
    return 1.0 if len(sizes) < 2 else float(sizes[0] / (sizes[0] + sizes[1]))


def dbscan_with(
    backend: Clusterers,
    hp: Hyperparameters,
    data: Array,
    min_samples: int,
    eps: float,
    neighbours: Neighbours | None,
) -> tuple[Array, Array]:
    """The backend's DBSCAN, given the core distances when the neighbour query has them."""
    core_distances = None if neighbours is None else neighbours.core_distances(min_samples)
    return backend.dbscan(
        data, eps, min_samples, hp.dbscan_memory_mb, core_distances=core_distances
    )


def seek_split(
    backend: Backend,
    hp: Hyperparameters,
    data: Array,
    min_samples: int,
    neighbours: Neighbours,
    dominant: np.ndarray,
) -> DensityRun | None:
    """The largest `eps` below the knee that cuts the `dominant` rows into comparable parts."""

    def attempt(quantile: float) -> DensityRun | bool:
        """The run when `quantile` splits; True when the search must stop; else False."""
        eps = neighbours.core_distance_quantile(min_samples, quantile)
        if eps <= 0:
            return True
        labels, core_rows = dbscan_with(backend, hp, data, min_samples, eps, neighbours)
        host = to_host(labels)
        if float((host < 0).mean()) > SEEK_MAX_NOISE:
            return True
        if split_share(host[dominant]) <= DOMINANT_SHARE:
            choice = EpsChoice(eps, "split", min_samples)
            return DensityRun(min_samples, choice, labels, core_rows, split_quantile=quantile)
        return False

    quantiles = [float(q) for q in SEEK_QUANTILES]
    if int(data.shape[0]) > SEEK_COARSE_ROWS:
        coarse = quantiles[::SEEK_COARSE_STEP]
        for at, quantile in enumerate(coarse):
            outcome = attempt(quantile)
            if outcome is False:
                continue
            # The finer quantiles between the last coarse miss and this one, largest first.
            start = quantiles.index(coarse[at - 1]) + 1 if at else 0
            for finer in quantiles[start : quantiles.index(quantile)]:
                found = attempt(finer)
                if found is not False:
                    return found if isinstance(found, DensityRun) else None
            return outcome if isinstance(outcome, DensityRun) else None
        return None
    for quantile in quantiles:
        outcome = attempt(quantile)
        if outcome is not False:
            return outcome if isinstance(outcome, DensityRun) else None
    return None


def run_candidate(
    backend: Backend,
    hp: Hyperparameters,
    data: Array,
    min_samples: int,
    neighbours: Neighbours | None = None,
) -> DensityRun:
    """DBSCAN with `min_samples` and eps as given or at the knee (split sought if dominant)."""
    if neighbours is None:
        neighbours = query_neighbours(backend, hp, data, min_samples)
    eps = choose_eps(hp, neighbours, min_samples)
    labels, core = dbscan_with(backend, hp, data, min_samples, eps.eps, neighbours)
    run = DensityRun(min_samples, eps, labels, core)
    host = to_host(labels)
    if hp.eps is None and neighbours is not None and dominant_share(host) > DOMINANT_SHARE:
        clustered = host >= 0  # nothing clustered: every row is the group to split
        largest = np.bincount(host[clustered]).argmax() if clustered.any() else -1
        split = seek_split(backend, hp, data, min_samples, neighbours, host == largest)
        if split is not None:
            log.info(
                "eps: the knee (%.6g) leaves one cluster with over %.0f%% of the rows; "
                "eps=%.6g (the %.2f quantile of the core distances) splits it",
                eps.eps,
                100 * DOMINANT_SHARE,
                split.eps.eps,
                split.split_quantile,
            )
            split.eps.curve, split.eps.knee_index = eps.curve, eps.knee_index
            return split
    return run
