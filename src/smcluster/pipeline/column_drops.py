"""What the feature drops (near-constant, correlated) share: the seeded row sample they decide
on, the median fill of missing values, and their record of what was kept and dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ..backends.base import Array
from .sampling import sample_index

SAMPLE_ROWS = 100_000  # shares and correlations of 100k rows are stable to the second decimal


def decision_sample(raw: Array, xp: ModuleType, random_state: int) -> Array:
    """Up to `SAMPLE_ROWS` rows of `raw`, drawn with `random_state` (all rows when fewer)."""
    picked = sample_index(raw.shape[0], SAMPLE_ROWS, random_state)
    return raw if len(picked) == raw.shape[0] else raw[xp.asarray(picked)]


def median_filled(data: Array, xp: ModuleType) -> Array:
    """The columns with non-finite values replaced by the column's median (0 if none is finite)."""
    filled = xp.where(xp.isfinite(data), data, xp.nan)
    median = xp.nanmedian(filled, axis=0)
    median = xp.where(xp.isfinite(median), median, 0)
    return xp.where(xp.isnan(filled), median[None, :], filled)


@dataclass
class ColumnDrop:
    kept: list[str]
    dropped: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → why

    def to_json(self) -> dict[str, Any]:
        return {"kept": self.kept, "dropped": self.dropped}

    def apply(self, raw: Array, columns: list[str], xp: ModuleType) -> tuple[Array, list[str]]:
        """`raw` (one column per name in `columns`) reduced to the kept columns."""
        if not self.dropped:
            return raw, columns
        return raw[:, xp.asarray([columns.index(c) for c in self.kept])], self.kept
