"""Feature selection and preparation: column checks, missing values, log1p, scaling.

The arithmetic uses the backend's array module (`xp`), so the same code runs on NumPy and CuPy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backends.base import to_host
from .errors import DataError
from .hyperparameters import Hyperparameters

log = logging.getLogger(__name__)

SKEW_THRESHOLD = 1.0


def _is_numeric(dtype: Any) -> bool:
    return getattr(dtype, "kind", "O") in "biuf"


def _text_examples(frame: Any, column: str, limit: int = 3) -> list[str]:
    values = frame[column].dropna()
    values = values.to_pandas() if hasattr(values, "to_pandas") else values
    import pandas as pd

    as_numbers = pd.to_numeric(values.astype(str), errors="coerce")
    return [repr(v) for v in values[as_numbers.isna()].unique()[:limit]]


def select_feature_columns(frame: Any, hp: Hyperparameters) -> list[str]:
    """The columns to cluster on, after checking names and numeric types."""
    columns = [str(c) for c in frame.columns]
    for role in ("id_column", "label_column"):
        name = hp[role]
        if name and name not in columns:
            raise DataError(
                f"{role} '{name}' is not a column of the table "
                f"(columns: {', '.join(columns[:20])}).",
                f"set {role} to one of the table's columns, or leave it empty.",
            )
    excluded = {hp.id_column, hp.label_column} - {""}
    if hp.features is not None:
        missing = [c for c in hp.features if c not in columns]
        if missing:
            raise DataError(
                f"feature columns not in the table: {', '.join(missing)}.",
                f"choose from: {', '.join(c for c in columns if c not in excluded)}.",
            )
        clash = [c for c in hp.features if c in excluded]
        if clash:
            raise DataError(
                f"{', '.join(clash)} cannot be both a feature and the id or label column.",
                "remove it from `features`.",
            )
        text = [c for c in hp.features if not _is_numeric(frame[c].dtype)]
        if text:
            examples = _text_examples(frame, text[0])
            raise DataError(
                f"feature column '{text[0]}' holds text, e.g. "
                f"{', '.join(examples) or 'non-numbers'}"
                + (f" (also: {', '.join(text[1:])})" if len(text) > 1 else "")
                + ".",
                "clean the values to numbers (missing values may be empty), or drop the column "
                "from `features`.",
            )
        return list(hp.features)
    candidates = [c for c in columns if c not in excluded]
    chosen = [c for c in candidates if _is_numeric(frame[c].dtype)]
    for column in candidates:
        if column in chosen:
            continue
        examples = _text_examples(frame, column)
        values = frame[column].dropna()
        if len(values) and len(examples) and _mostly_numeric(values):
            raise DataError(
                f"column '{column}' looks numeric but holds text such as {', '.join(examples)}.",
                "clean those values (leave missing values empty), or list the features to use "
                "explicitly in `features`.",
            )
        log.info("features=all: skipping non-numeric column '%s'", column)
    if not chosen:
        raise DataError(
            "the table has no numeric feature columns"
            + (f" besides {', '.join(sorted(excluded))}" if excluded else "")
            + f" (columns: {', '.join(columns[:20])}).",
            "provide numeric columns, or name them in `features`.",
        )
    return chosen


def _mostly_numeric(values: Any, share: float = 0.8) -> bool:
    import pandas as pd

    sample = values.head(10_000)
    sample = sample.to_pandas() if hasattr(sample, "to_pandas") else sample
    parsed = pd.to_numeric(sample.astype(str), errors="coerce")
    return bool(parsed.notna().mean() >= share)


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

    def fit_transform(self, raw: Any, xp: Any) -> tuple[Any, Any]:
        """Fit on `raw` (float32 matrix with NaN) and return (prepared matrix, kept-row mask)."""
        bad = ~xp.isfinite(raw)
        bad_per_column = to_host(bad.sum(axis=0))
        counts = {c: int(n) for c, n in zip(self.columns, bad_per_column, strict=True) if n}
        self.report["nonfinite_values"] = counts
        if counts:
            total = sum(counts.values())
            summary = ", ".join(f"{c}: {n}" for c, n in sorted(counts.items())[:10])
            if self.missing == "error":
                raise DataError(
                    f"{total} missing or infinite feature values ({summary}) and missing=error.",
                    "clean the data, or set missing to drop, median, mean or zero.",
                )
            log.info(
                "missing=%s applies to %d non-finite values (%s)", self.missing, total, summary
            )
        keep = ~bad.any(axis=1) if self.missing == "drop" else xp.ones(raw.shape[0], dtype=bool)
        data = xp.where(bad, xp.nan, raw)
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

    def transform(self, raw: Any, xp: Any) -> Any:
        """Apply the fitted preparation to new rows (missing values always imputed here)."""
        data = xp.where(xp.isfinite(raw), raw, xp.nan)
        fill = self.fill_values if self.fill_values is not None else np.zeros(len(self.columns))
        data = self._impute(data, xp, fill)
        if self.log_mask is not None:
            data = self._log(data, xp)
        return self._scale(data, xp)

    def _fill_values(self, data: Any, xp: Any) -> np.ndarray:
        width = data.shape[1]
        if self.missing == "mean":
            values = xp.nanmean(data, axis=0)
        elif self.missing in {"median", "drop", "error"}:
            values = xp.nanmedian(data, axis=0)
        else:
            values = xp.zeros(width, dtype=data.dtype)
        values = xp.where(xp.isfinite(values), values, 0)  # an all-missing column becomes 0
        return to_host(values).astype(np.float32)

    @staticmethod
    def _impute(data: Any, xp: Any, fill: np.ndarray) -> Any:
        fill_on_device = xp.asarray(fill, dtype=data.dtype)
        return xp.where(xp.isnan(data), fill_on_device[None, :], data).astype(xp.float32)

    def _skewed(self, data: Any, xp: Any) -> np.ndarray:
        mean = data.mean(axis=0)
        std = data.std(axis=0)
        safe_std = xp.where(std > 0, std, 1)
        skew = (((data - mean) / safe_std) ** 3).mean(axis=0)
        mask = (data.min(axis=0) >= 0) & (skew > SKEW_THRESHOLD) & (std > 0)
        return to_host(mask)

    def _log(self, data: Any, xp: Any) -> Any:
        mask = xp.asarray(self.log_mask)
        # New rows may hold negatives in a column fitted as non-negative: clip before log1p.
        return xp.where(mask[None, :], xp.log1p(xp.clip(data, 0, None)), data).astype(xp.float32)

    def _scaling(self, data: Any, xp: Any) -> tuple[np.ndarray, np.ndarray]:
        width = data.shape[1]
        if self.scaling == "standard":
            center, spread = data.mean(axis=0), data.std(axis=0)
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

    def _scale(self, data: Any, xp: Any) -> Any:
        center = xp.asarray(self.center, dtype=xp.float32)
        scale = xp.asarray(self.scale, dtype=xp.float32)
        return ((data - center[None, :]) / scale[None, :]).astype(xp.float32)
