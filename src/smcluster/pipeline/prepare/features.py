"""Stage `prepare`: from the table to the matrix the reducer sees.

Selects the feature columns, reads them as a float32 matrix on the backend, drops near-constant
columns and one of each pair of near-duplicate columns, fits the preparation (missing values,
log1p, scaling) and the one PCA of the prepared rows that the log, the report and
`reducer=pca` share.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...backends.base import Array, Backend, Frame, Frames, to_host
from ...contract.errors import DataError
from ...contract.schema import Hyperparameters
from .columns import select_feature_columns
from .correlation import drop_correlated
from .near_constant import drop_near_constant
from .pca import PcaSummary, fit_pca
from .preparation import FeaturePrep, nonfinite_counts
from .steps import DENSITY_ALGORITHMS, spread_steps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Features:
    columns: list[str]  # the features used, after the near-constant and correlation drops
    raw: Array  # those columns per input row, float32, original units (NaN where missing)
    prepared: Array  # per kept row: imputed, log-transformed where chosen, scaled
    spread: Array  # `prepared` with few-valued columns spread in their steps: what is embedded
    kept: np.ndarray  # bool per input row (False: removed by missing=drop)
    prep: FeaturePrep  # fitted: prepares new rows the same way
    pca: PcaSummary | None


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_range(backend: Frames, frame: Frame, columns: list[str], where: str = "") -> None:
    """Finite values float32 cannot hold would turn into infinities and be imputed silently.

    Two column reductions find the few columns that reach that far (or hold infinities); only
    those are counted, so the common table costs no copy of its features. `where` names rows
    other than the train channel's, e.g. " in the validation channel"."""
    values = frame[columns]
    reach = [
        max(abs(float(high)), abs(float(low)))
        for high, low in zip(
            _as_numbers(backend, values.max(), float),
            _as_numbers(backend, values.min(), float),
            strict=True,
        )
    ]
    suspects = [c for c, far in zip(columns, reach, strict=True) if far > FLOAT32_MAX]
    if not suspects:
        return
    magnitude = frame[suspects].abs()
    beyond = ((magnitude > FLOAT32_MAX) & (magnitude != np.inf)).sum()
    counts = {
        str(c): int(n) for c, n in zip(suspects, _as_numbers(backend, beyond), strict=True) if n
    }
    if counts:
        listed = ", ".join(f"{c} ({n} value{'s' if n > 1 else ''})" for c, n in counts.items())
        raise DataError(
            f"feature values{where} beyond float32's range (about ±3.4e38) in: {listed}; the "
            "features are computed in float32.",
            "rescale those columns (for example to thousands), or clip or remove the values.",
        )


def _as_numbers(backend: Frames, series: Any, kind: type = int) -> list[Any]:
    """A Series of per-column results (the backend's) as Python numbers (int by default)."""
    return [kind(v) for v in backend.series_to_host(series).tolist()]


def feature_matrix(backend: Frames, frame: Frame, columns: list[str], where: str = "") -> Array:
    """The feature columns as a float32 matrix on the backend (NaN where missing)."""
    check_float32_range(backend, frame, columns, where)
    try:
        return backend.columns_to_array(frame, columns)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"feature columns could not be read as numbers: {exc}.",
            "clean the feature columns to numeric values.",
        ) from None


def _differ_only_beyond_float32(backend: Frames, frame: Frame, columns: list[str]) -> list[str]:
    """Columns whose values differ in the table but are all one value in float32."""
    lost = []
    for column in columns:
        values = backend.column_to_host(frame, column).dropna()
        if values.nunique() > 1 and values.astype("float32").nunique() == 1:
            lost.append(column)
    return lost


def prepare_features(backend: Backend, hp: Hyperparameters, frame: Frame) -> Features:
    """The feature columns as a float32 matrix, near-constant and correlated
    columns dropped, imputed, log1p and scaled, one PCA fitted; few-valued columns spread."""
    xp = backend.xp
    columns = select_feature_columns(backend, frame, hp)
    log.info("features (%d): %s", len(columns), ", ".join(columns))
    selected = columns
    raw = feature_matrix(backend, frame, columns)
    if hp.missing == "error":
        # Before the drops, so that a column they would remove is still refused, not hidden.
        nonfinite_counts(raw, columns, xp, hp.missing)
    near_constant = drop_near_constant(
        raw, columns, hp.max_mode_share, xp, hp.random_state, hp.missing
    )
    raw, columns = near_constant.apply(raw, columns, xp)
    correlation = drop_correlated(
        raw, columns, hp.correlation_threshold, xp, hp.random_state, hp.missing
    )
    raw, columns = correlation.apply(raw, columns, xp)
    prep = FeaturePrep.from_hyperparameters(columns, hp)
    prepared, keep = prep.fit_transform(raw, xp)
    pca = fit_pca(prepared, columns, xp)
    if prepared.shape[0] and not bool(xp.any(xp.ptp(prepared, axis=0) > 0)):
        lost = _differ_only_beyond_float32(backend, frame, selected)
        if lost:
            raise DataError(
                f"all {prepared.shape[0]} rows are identical in every feature as float32 "
                f"(about 7 significant digits), though {', '.join(lost[:10])} differ beyond "
                "that (large values with small differences, such as ids or timestamps).",
                "subtract a common offset from those columns (for example their minimum), "
                "or leave id-like columns out of `features`.",
            )
        raise DataError(
            f"all {prepared.shape[0]} rows are identical in every feature "
            f"({', '.join(selected[:10])}): there is nothing to cluster.",
            "check that the right table and feature columns were given (`features`).",
        )
    if pca is not None:
        pca.log()
    # Density clusterers read gaps and stacks; kmeans and gmm place centres, and label new
    # rows exactly as training rows only when both are embedded from the same values.
    spread: Array = prepared
    stepped: list[str] = []
    if hp.algorithm in DENSITY_ALGORITHMS:
        spread, stepped = spread_steps(prepared, columns, xp, hp.random_state)
    prep.report["spread_columns"] = stepped
    prep.report["near_constant"] = near_constant.to_json()
    prep.report["correlation"] = correlation.to_json()
    prep.report["pca"] = {} if pca is None else pca.to_json()
    return Features(
        columns=columns,
        raw=raw,
        prepared=prepared,
        spread=spread,
        kept=to_host(keep).astype(bool),
        prep=prep,
        pca=pca,
    )
