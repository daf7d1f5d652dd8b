"""Drop features whose most common value covers more than `max_mode_share` of the rows.

A near-zero-variance filter (the idea of caret's `nearZeroVar`): a column that holds one value
in, say, 99.5% of the rows carries little grouping, yet after z-score scaling its few other
rows sit about 14 standard deviations out (30 at 0.1%), so those rare values dominate every
distance. Measured on the same seeded row sample as the correlation drop, with the backend's
array module (`xp`, NumPy and CuPy alike).
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

from ...backends.base import Array, to_host
from .column_drops import ColumnDrop, as_prepared, decision_sample, median_filled

log = logging.getLogger(__name__)


def mode_shares(data: Array, xp: ModuleType) -> tuple[list[float], list[float]]:
    """Per column: its most common value and the share of rows holding it (NaN: the median)."""
    filled = median_filled(data, xp)
    rows = max(int(filled.shape[0]), 1)
    modes: list[float] = []
    shares: list[float] = []
    for j in range(filled.shape[1]):
        values, counts = xp.unique(filled[:, j], return_counts=True)
        top = int(to_host(xp.argmax(counts)))
        modes.append(float(to_host(values[top])))
        shares.append(float(to_host(counts[top])) / rows)
    return modes, shares


def drop_near_constant(
    raw: Array,
    columns: list[str],
    max_share: float,
    xp: ModuleType,
    random_state: int,
    missing: str = "median",
) -> ColumnDrop:
    """Drop each column whose most common value covers more than `max_share` of the sample
    (its missing values imputed, or its incomplete rows left out, as `missing` says)."""
    if max_share >= 1.0 or not columns or raw.shape[0] < 2:  # one row: check_sizes says so
        return ColumnDrop(list(columns))
    sample = decision_sample(raw, xp, random_state)
    modes, shares = mode_shares(as_prepared(sample, missing, xp), xp)
    all_missing = to_host((~xp.isfinite(sample)).all(axis=0))
    kept: list[str] = []
    dropped: dict[str, dict[str, Any]] = {}
    for name, mode, share, empty in zip(columns, modes, shares, all_missing, strict=True):
        if share > max_share:
            # An all-missing column has no value of its own (the median fill makes it 0).
            dropped[name] = {"value": None if empty else mode, "share": round(share, 4)}
        else:
            kept.append(name)
    for name, why in dropped.items():
        value = "missing" if why["value"] is None else f"{why['value']:g}"
        log.info(
            "max_mode_share=%g: dropping '%s' (%s in %.2f%% of the rows)",
            max_share,
            name,
            value,
            100 * why["share"],
        )
    if not kept:
        # Nothing else to cluster on: keep them (rows identical in every feature are refused
        # later with that reason; rare values then simply become the structure found).
        log.warning(
            "max_mode_share=%g: every feature (%s) holds one value in more than that share of "
            "the rows; all are kept, since no other feature is left",
            max_share,
            ", ".join(columns[:10]),
        )
        return ColumnDrop(list(columns))
    if not dropped:
        log.info("max_mode_share=%g: no near-constant feature", max_share)
    return ColumnDrop(kept, dropped)
