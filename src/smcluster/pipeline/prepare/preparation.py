"""The fitted feature preparation: missing values, log1p of skewed columns, scaling.

Written once over the backend's array module (`xp`, NumPy or CuPy), fitted on the training rows
and kept in the model bundle, so new rows are prepared exactly as the training rows were.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ...backends.base import Array, to_host
from ...contract.errors import DataError
from ...contract.schema import Hyperparameters

log = logging.getLogger(__name__)

SKEW_THRESHOLD = 1.0


def imputation_values(data: Array, missing: str, xp: ModuleType) -> Array:
    """Per column, the value `missing` puts in place of NaN (`data`: NaN where missing).

    `drop` and `error` take the median too: new rows at predict time are always imputed.
    """
    with warnings.catch_warnings():
        # An all-missing column is expected here (it becomes 0 below), not a warning.
        warnings.filterwarnings("ignore", "All-NaN slice|Mean of empty slice", RuntimeWarning)
        if missing == "mean":
            values = xp.nanmean(data, axis=0)
        elif missing in {"median", "drop", "error"}:
            values = xp.nanmedian(data, axis=0)
        else:
            values = xp.zeros(data.shape[1], dtype=data.dtype)
    return xp.where(xp.isfinite(values), values, 0)  # an all-missing column becomes 0


def nonfinite_counts(
    raw: Array, columns: list[str], xp: ModuleType, missing: str, where: str = ""
) -> dict[str, int]:
    """Missing or infinite values per column (those with any); with missing=error, a DataError.

    `where` names rows other than the train channel's, e.g. " in the validation channel".
    """
    per_column = to_host((~xp.isfinite(raw)).sum(axis=0))
    counts = {c: int(n) for c, n in zip(columns, per_column, strict=True) if n}
    if counts and missing == "error":
        raise DataError(
            f"{sum(counts.values())} missing or infinite feature values{where} "
            f"({_summary(counts)}) and missing=error.",
            "clean the data, or set missing to drop, median, mean or zero"
            + (" for the training job." if where else "."),
        )
    return counts


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{c}: {n}" for c, n in sorted(counts.items())[:10])


def binary_unit(data: Array, xp: ModuleType) -> Array:
    """Per column, the power of two nearest below its largest magnitude (1 for a zero column).

    Dividing by a power of two is exact in binary floating point, so statistics computed in
    those units and multiplied back are bit for bit those of the column itself, except that
    a float32 variance no longer underflows (values near 1e-23) or overflows (near 1e19).
    """
    largest = xp.abs(data).max(axis=0) if data.shape[0] else xp.zeros(data.shape[1])
    _, exponent = xp.frexp(largest.astype(xp.float32))
    return xp.where(largest > 0, xp.ldexp(xp.float32(1), exponent - 1), 1).astype(xp.float32)


def mean_and_std(data: Array, unit: Array, xp: ModuleType) -> tuple[Array, Array]:
    """Per-column mean and standard deviation, computed in `unit`s (see `binary_unit`)."""
    in_units = data / unit[None, :]
    return in_units.mean(axis=0) * unit, in_units.std(axis=0) * unit


@dataclass
class FeaturePrep:
    """Fitted preparation of raw feature columns into the matrix the reducer sees."""

    columns: list[str]
    missing: str
    log_transform: str
    scaling: str
    fill_values: np.ndarray | None = None
    log_mask: np.ndarray | None = None
    center: np.ndarray | None = None
    scale: np.ndarray | None = None
    report: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_hyperparameters(cls, columns: list[str], hp: Hyperparameters) -> FeaturePrep:
        return cls(list(columns), hp.missing, hp.log_transform, hp.scaling)

    def screen(self, raw: Array, xp: ModuleType, where: str = "") -> tuple[Array, dict[str, int]]:
        """Per row of `raw`, whether every feature is finite, and the others counted per column.

        The count is logged; under missing=error it is the DataError. `where` names rows other
        than the train channel's, e.g. " in the validation channel".
        """
        bad = ~xp.isfinite(raw)
        counts = nonfinite_counts(raw, self.columns, xp, self.missing, where)
        if counts:
            log.info(
                "missing=%s applies to %d non-finite values%s (%s)",
                self.missing,
                sum(counts.values()),
                where,
                _summary(counts),
            )
        return ~bad.any(axis=1), counts

    def fit_transform(self, raw: Array, xp: ModuleType) -> tuple[Array, Array]:
        """Fit on `raw` (float32 matrix with NaN) and return (prepared matrix, kept-row mask)."""
        complete, self.report["nonfinite_values"] = self.screen(raw, xp)
        keep = complete if self.missing == "drop" else xp.ones(raw.shape[0], dtype=bool)
        data = xp.where(xp.isfinite(raw), raw, xp.nan)
        if self.missing == "drop":
            data = data[keep]
            dropped = int(raw.shape[0] - data.shape[0])
            self.report["rows_dropped"] = dropped
            if dropped:
                log.info("missing=drop removed %d of %d rows", dropped, raw.shape[0])
        if data.shape[0] == 0:
            raise DataError(
                "no rows are left after removing rows with missing values.",
                "set missing to median, mean or zero, or clean the data.",
            )
        self.fill_values = self._fill_values(data, xp)
        data = self._impute(data, xp, self.fill_values)
        if self.log_transform == "auto":
            self.log_mask = self._skewed(data, xp)
            self.report["log1p_columns"] = [
                c for c, m in zip(self.columns, self.log_mask, strict=True) if m
            ]
            data = self._log(data, xp)
        self.center, self.scale = self._scaling(data, xp)
        return self._scale(data, xp), keep

    def transform_rows(self, raw: Array, xp: ModuleType, where: str) -> tuple[Array, Array]:
        """New rows (validation, `predict`) under the training job's `missing`, as its own rows
        were: (prepared kept rows, kept-row mask). `error` refuses missing or infinite values,
        `drop` leaves their rows out (the caller labels them -2), the others impute them with
        the values fitted on the training rows."""
        complete, _ = self.screen(raw, xp, where)
        if self.missing != "drop":
            return self.transform(raw, xp), xp.ones(raw.shape[0], dtype=bool)
        dropped = int(raw.shape[0] - int(complete.sum()))
        if dropped:
            log.info("missing=drop left out %d of %d rows%s", dropped, raw.shape[0], where)
        return self.transform(raw[complete], xp), complete

    def transform(self, raw: Array, xp: ModuleType) -> Array:
        """Apply the fitted preparation to every row, missing values imputed with the fitted
        fill values (`transform_rows` applies `missing` first)."""
        data = xp.where(xp.isfinite(raw), raw, xp.nan)
        fill = self.fill_values if self.fill_values is not None else np.zeros(len(self.columns))
        data = self._impute(data, xp, fill)
        if self.log_mask is not None:
            data = self._log(data, xp)
        return self._scale(data, xp)

    def _fill_values(self, data: Array, xp: ModuleType) -> np.ndarray:
        return to_host(imputation_values(data, self.missing, xp)).astype(np.float32)

    @staticmethod
    def _impute(data: Array, xp: ModuleType, fill: np.ndarray) -> Array:
        fill_on_device = xp.asarray(fill, dtype=data.dtype)
        return xp.where(xp.isnan(data), fill_on_device[None, :], data).astype(xp.float32)

    def _skewed(self, data: Array, xp: ModuleType) -> np.ndarray:
        unit = binary_unit(data, xp)  # skewness does not depend on the unit
        mean, std = mean_and_std(data, unit, xp)
        safe_std = xp.where(std > 0, std, 1)
        skew = (((data - mean) / safe_std) ** 3).mean(axis=0)
        mask = (data.min(axis=0) >= 0) & (skew > SKEW_THRESHOLD) & (std > 0)
        return to_host(mask)

    def _log(self, data: Array, xp: ModuleType) -> Array:
        mask = xp.asarray(self.log_mask)
        # New rows may hold negatives in a column fitted as non-negative: clip before log1p.
        return xp.where(mask[None, :], xp.log1p(xp.clip(data, 0, None)), data).astype(xp.float32)

    def _scaling(self, data: Array, xp: ModuleType) -> tuple[np.ndarray, np.ndarray]:
        width = data.shape[1]
        if self.scaling == "standard":
            center, spread = mean_and_std(data, binary_unit(data, xp), xp)
        elif self.scaling == "robust":
            q25, center, q75 = (xp.percentile(data, q, axis=0) for q in (25, 50, 75))
            spread = q75 - q25
        else:
            return np.zeros(width, np.float32), np.ones(width, np.float32)
        constant = to_host(spread <= 0)
        if constant.any():
            names = [c for c, flag in zip(self.columns, constant, strict=True) if flag]
            log.info("constant (or zero-IQR) columns keep unit scale: %s", ", ".join(names))
        spread = xp.where(spread > 0, spread, 1)
        return (
            to_host(center).astype(np.float32),
            to_host(spread).astype(np.float32),
        )

    def _scale(self, data: Array, xp: ModuleType) -> Array:
        center = xp.asarray(self.center, dtype=xp.float32)
        scale = xp.asarray(self.scale, dtype=xp.float32)
        return ((data - center[None, :]) / scale[None, :]).astype(xp.float32)
