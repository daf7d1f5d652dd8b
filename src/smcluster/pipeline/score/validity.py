"""DBCV, the density-based clustering validity index (Moulavi et al., 2014), on a seeded sample.

DBCV rates a clustering by how dense each cluster is inside against how sparse the space
between clusters is, whatever the clusters' shapes, and counts noise rows against it: the
criterion `min_samples=auto` chooses by, and a candidate tuning objective. It is computed with
scikit-learn-contrib's `hdbscan.validity.validity_index` on at most `SAMPLE_ROWS` rows (it
builds a distance matrix per cluster), on the host.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np

from ...backends.base import Array, to_host
from ..runtime.sampling import sample_index

log = logging.getLogger(__name__)

SAMPLE_ROWS = 2_000
UNDEFINED = -1.0  # fewer than two clusters: ranks worst, as DBCV's own range ends at -1


def dbcv(data: Array, labels: Array, random_state: int, sample_rows: int = SAMPLE_ROWS) -> float:
    """DBCV in [-1, 1] of `labels` (-1 noise) on `data`; -1 when it is undefined."""
    from hdbscan.validity import validity_index

    host_labels = to_host(labels)
    picked = sample_index(len(host_labels), sample_rows, random_state)
    sample_labels = host_labels[picked]
    clustered = sample_labels[sample_labels >= 0]
    # Clusters need three rows to have inner points; fewer than two such clusters: undefined.
    sizes = np.bincount(clustered) if len(clustered) else np.zeros(0, int)
    if int((sizes >= 3).sum()) < 2:
        return UNDEFINED
    sample = np.asarray(to_host(data[picked] if len(picked) < len(host_labels) else data))
    small = np.flatnonzero(sizes < 3)
    if len(small):  # too small to have inner points: score them as noise
        sample_labels = np.where(np.isin(sample_labels, small), -1, sample_labels)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = float(validity_index(sample.astype(np.float64), sample_labels))
    except (ValueError, ZeroDivisionError, FloatingPointError) as exc:
        log.info("DBCV is undefined for this clustering (%s)", exc)
        return UNDEFINED
    return value if math.isfinite(value) else UNDEFINED
