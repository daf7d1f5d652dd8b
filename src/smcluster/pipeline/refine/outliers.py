"""Rows far from every dense group of the prepared features: kept as noise after a reducer.

A nonlinear embedding (UMAP, t-SNE) pulls scattered rows into the nearest cluster, so noise
found in the embedding misses them. In the prepared (scaled) features they stand out by their
distance to the `K`-th nearest row: a row is an outlier when the log of that distance lies more
than `outlier_threshold` robust deviations (1.4826 x MAD) above the median. Distances are taken
to a seeded reference sample of at most `REFERENCE_ROWS` prepared rows, which the model keeps,
so new rows (validation, `predict`) are judged exactly as training rows were.

When few-valued columns were spread within their steps (`steps.py`), the test runs on both views
and a row far out in either is an outlier: on the features as they are, rows tied on every step
are each other's nearest, so a row whose combination of counts and flags no group shares stands
out; with the steps spread, the neighbour distances are smooth, so a row far from every group
along the continuous columns stands out even where the steps' cells vary widely in population.
Each view alone missed most of the planted outliers of one of the customer sets with such
columns (README, "How the defaults find segments").
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from ...backends.base import Array, Backend, NeighbourSearch, to_host
from ..runtime.sampling import sample_index

log = logging.getLogger(__name__)

K = 10
REFERENCE_ROWS = 50_000
MAD_TO_SD = 1.4826


@dataclass
class OutlierRule:
    """The fitted rule: a reference sample of prepared rows and a distance cut-off."""

    reference: np.ndarray  # float32 prepared rows (host)
    cutoff: float  # distance to the K-th nearest reference row above which a row is noise
    spread: OutlierRule | None = None  # the same test on the spread view, where there is one

    def flags(self, backend: NeighbourSearch, prepared: Array) -> np.ndarray:
        """True for new rows (not in the reference) beyond the cut-off (in either view)."""
        reference = backend.xp.asarray(self.reference)
        flagged = backend.beyond_kth_nearest(reference, prepared, K, self.cutoff)
        spread = getattr(self, "spread", None)  # absent from bundles written before it
        return flagged if spread is None else flagged | spread.flags(backend, prepared)


def fit_outliers(
    backend: Backend,
    prepared: Array,
    threshold: float,
    random_state: int,
    spread: Array | None = None,
) -> tuple[OutlierRule | None, np.ndarray]:
    """The rule and the training rows it flags; (None, all False) when it cannot apply.

    `spread`: the same rows with few-valued columns spread (None, or `prepared` itself, when
    no column was): a row beyond the cut-off in either view is flagged."""
    rule, flagged = _fit_view(backend, prepared, threshold, random_state, "")
    if spread is None or spread is prepared:
        return rule, flagged
    other, flagged_spread = _fit_view(
        backend, spread, threshold, random_state, ", with few-valued columns spread"
    )
    if rule is None:
        return other, flagged_spread
    rule.spread = other
    return rule, flagged | flagged_spread


def _fit_view(
    backend: NeighbourSearch, prepared: Array, threshold: float, random_state: int, view: str
) -> tuple[OutlierRule | None, np.ndarray]:
    rows = prepared.shape[0]
    none = np.zeros(rows, dtype=bool)
    if threshold <= 0 or rows <= K + 1:
        return None, none
    picked = sample_index(rows, REFERENCE_ROWS, random_state)
    reference = prepared if len(picked) == rows else prepared[backend.xp.asarray(picked)]
    # The cut-off comes from the reference rows alone: K + 1 neighbours, as a reference row's
    # nearest is itself. Every other row is then only asked whether its K-th lies beyond it.
    kth_in_reference = to_host(backend.neighbor_distances(reference, reference, K + 1))[:, K]
    in_reference = np.zeros(rows, dtype=bool)
    in_reference[picked] = True
    logs = np.log(np.maximum(kth_in_reference, np.finfo(np.float64).tiny))
    median = float(np.median(logs))
    spread = MAD_TO_SD * float(np.median(np.abs(logs - median)))
    if spread == 0:  # most rows repeat: no scale to call a row far away by
        log.info("outliers: the prepared rows' neighbour distances do not vary; none flagged")
        return None, none
    cutoff = math.exp(median + threshold * spread)
    flagged = np.zeros(rows, dtype=bool)
    flagged[picked] = kth_in_reference > cutoff
    others = np.flatnonzero(~in_reference)
    if len(others):
        flagged[others] = backend.beyond_kth_nearest(
            reference, prepared[backend.xp.asarray(others)], K, cutoff
        )
    log.info(
        "outliers: %s of %s rows (%.1f%%) lie beyond %.3g (their %d-th nearest row in the "
        "prepared features%s; median %.3g, outlier_threshold=%g robust deviations): noise",
        f"{int(flagged.sum()):,}",
        f"{rows:,}",
        100 * flagged.mean(),
        cutoff,
        K,
        view,
        math.exp(median),
        threshold,
    )
    rule = OutlierRule(to_host(reference).astype(np.float32), cutoff)
    return rule, flagged
