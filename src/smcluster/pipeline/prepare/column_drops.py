"""What the feature drops (near-constant, correlated) share: the seeded row sample they decide
on, its missing values treated as `missing` will treat them, and their record of what was kept
and dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ...backends.base import Array
from ..runtime.sampling import sample_index
from .preparation import imputation_values

SAMPLE_ROWS = 100_000  # shares and correlations of 100k rows are stable to the second decimal


def decision_sample(raw: Array, xp: ModuleType, random_state: int) -> Array:
    """Up to `SAMPLE_ROWS` rows of `raw`, drawn with `random_state` (all rows when fewer)."""
    picked = sample_index(raw.shape[0], SAMPLE_ROWS, random_state)
    return raw if len(picked) == raw.shape[0] else raw[xp.asarray(picked)]


def as_prepared(rows: Array, missing: str, xp: ModuleType) -> Array:
    """`rows` with missing (non-finite) values as the preparation will treat them.

    Imputed with `missing`'s value; for `drop`, only the complete rows are kept (imputed by the
    median instead when fewer than two are complete: a share or a correlation needs two rows),
    so the drops decide on the values that will be clustered.
    """
    data = xp.where(xp.isfinite(rows), rows, xp.nan)
    if missing == "drop":
        complete = ~xp.isnan(data).any(axis=1)
        if int(complete.sum()) >= 2:
            return data[complete]
        missing = "median"
    fill = imputation_values(data, missing, xp)
    return xp.where(xp.isnan(data), fill[None, :], data)


def median_filled(data: Array, xp: ModuleType) -> Array:
    """The columns with non-finite values replaced by the column's median (0 if none is finite)."""
    return as_prepared(data, "median", xp)


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
