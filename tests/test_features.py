"""Feature selection and preparation on real frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.errors import DataError
from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.prepare.columns import select_feature_columns as _select
from smcluster.pipeline.prepare.correlation import drop_correlated, rank_correlation
from smcluster.pipeline.prepare.near_constant import drop_near_constant, mode_shares
from smcluster.pipeline.prepare.preparation import FeaturePrep

from .jobtree import JobTree


def select_feature_columns(frame: pd.DataFrame, hp):
    return _select(CpuBackend(), frame, hp)


def test_all_numeric_columns_except_id_and_label() -> None:
    frame = pd.DataFrame(
        {"id": [1, 2], "x": [1.0, 2.0], "y": [3, 4], "name": ["a", "b"], "t": [0, 1]}
    )
    hp = parse({"id_column": "id", "label_column": "t"})
    assert select_feature_columns(frame, hp) == ["x", "y"]


def test_mostly_numeric_text_column_is_an_error_not_a_silent_drop() -> None:
    frame = pd.DataFrame({"x": range(10), "spend": [str(v) for v in range(9)] + ["N/A"]})
    with pytest.raises(DataError, match="'spend' looks numeric but holds text such as 'N/A'"):
        select_feature_columns(frame, parse({}))


def test_listed_text_feature_is_an_error() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "city": ["Oslo", "Rome"]})
    with pytest.raises(DataError, match="feature column 'city' holds text"):
        select_feature_columns(frame, parse({"features": "x,city"}))


def test_unknown_feature_and_id_columns() -> None:
    frame = pd.DataFrame({"x": [1.0]})
    with pytest.raises(DataError, match="not in the table: 'nope'"):
        select_feature_columns(frame, parse({"features": "x,nope"}))
    with pytest.raises(DataError, match="id_column 'cid' is not a column"):
        select_feature_columns(frame, parse({"id_column": "cid"}))


def _prep(**hp: str) -> FeaturePrep:
    return FeaturePrep.from_hyperparameters(["a", "b"], parse(hp))


RAW = np.array([[1.0, np.nan], [2.0, 4.0], [3.0, np.inf], [4.0, 8.0]], dtype=np.float32)


def test_missing_error_counts_nan_and_infinity() -> None:
    with pytest.raises(DataError, match=r"2 missing or infinite feature values \(b: 2\)"):
        _prep(missing="error").fit_transform(RAW, np)


def test_missing_drop_keeps_mask() -> None:
    prepared, keep = _prep(missing="drop").fit_transform(RAW, np)
    assert keep.tolist() == [False, True, False, True]
    assert prepared.shape == (2, 2)


def test_median_impute_then_standard_scale() -> None:
    prep = _prep(missing="median")
    prepared, keep = prep.fit_transform(RAW, np)
    assert keep.all()
    assert prep.fill_values.tolist() == [2.5, 6.0]
    assert prepared.dtype == np.float32
    assert np.allclose(prepared.mean(axis=0), 0, atol=1e-6)
    assert np.allclose(prepared.std(axis=0), 1, atol=1e-5)
    # New rows reuse the fitted fill values and scale.
    again = prep.transform(np.array([[np.nan, np.nan]], np.float32), np)
    expected = (np.array([2.5, 6.0]) - prep.center) / prep.scale
    assert np.allclose(again[0], expected)


def test_log_transform_auto_picks_skewed_non_negative_columns() -> None:
    rng = np.random.default_rng(0)
    raw = np.column_stack([rng.lognormal(3, 1.5, 500), rng.normal(0, 1, 500)]).astype(np.float32)
    prep = _prep(log_transform="auto")
    prep.fit_transform(raw, np)
    assert prep.report["log1p_columns"] == ["a"]


def test_constant_column_keeps_unit_scale() -> None:
    raw = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]], np.float32)
    prepared, _ = _prep(scaling="robust").fit_transform(raw, np)
    assert np.all(np.isfinite(prepared))
    assert np.all(prepared[:, 1] == 0)


def test_rank_correlation_is_spearman_with_average_ranks_for_ties() -> None:
    rng = np.random.default_rng(0)
    raw = np.column_stack(
        [
            rng.integers(0, 4, 2000),  # 4 values: every rank tied
            rng.integers(0, 50, 2000),
            np.where(rng.random(2000) < 0.9, 0.0, rng.random(2000)),  # 90% zeros
            rng.normal(size=2000),  # no ties
        ]
    ).astype(np.float64)
    raw[:, 1] += raw[:, 0]  # some real correlation between tied columns
    expected = scipy.stats.spearmanr(raw).statistic
    assert np.allclose(rank_correlation(raw, np), expected, rtol=0, atol=1e-12)


def test_independent_zero_heavy_columns_are_both_kept() -> None:
    """Ranks in row order made two unrelated 99%-zero columns rho 0.96: a 'near-copy'."""
    rng = np.random.default_rng(1)
    rows = 100_000
    raw = np.column_stack(
        [np.where(rng.random(rows) < share, 0.0, rng.random(rows)) for share in (0.99, 0.99, 0.9)]
    ).astype(np.float32)
    threshold = parse({}).correlation_threshold
    result = drop_correlated(raw, ["a", "b", "c"], threshold, np, random_state=0)
    assert result.kept == ["a", "b", "c"]
    assert result.dropped == {}
    assert np.abs(rank_correlation(raw, np) - np.eye(3)).max() < 0.02


def test_near_copy_with_ties_is_still_dropped() -> None:
    rng = np.random.default_rng(2)
    rows = 5000
    base = np.where(rng.random(rows) < 0.7, 0.0, rng.integers(1, 20, rows))
    copy = base * 3 + (rng.random(rows) < 0.01)  # monotone copy, 1% of rows off by one
    raw = np.column_stack([base, rng.normal(size=rows), copy]).astype(np.float32)
    result = drop_correlated(raw, ["a", "b", "c"], parse({}).correlation_threshold, np, 0)
    assert result.kept == ["a", "b"]
    assert result.dropped["c"]["correlated_with"] == "a"
    assert result.dropped["c"]["rho"] > 0.95


def _near_constant_table(rows: int = 20_000) -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.column_stack(
        [
            rng.normal(size=rows),
            np.where(rng.random(rows) < 0.997, 0.0, rng.integers(1, 16, rows)),  # 0.3% non-zero
            np.where(rng.random(rows) < 0.9, 0.0, rng.random(rows)),  # 90% zeros
            np.full(rows, 7.0),  # constant
        ]
    ).astype(np.float32)


def test_near_constant_columns_are_dropped_and_reported_with_their_share() -> None:
    raw = _near_constant_table()
    result = drop_near_constant(raw, ["x", "rare", "zeros90", "flat"], 0.99, np, 0)
    assert result.kept == ["x", "zeros90"]  # 90% zeros is kept at the default
    assert result.dropped["rare"]["value"] == 0.0
    assert 0.995 < result.dropped["rare"]["share"] < 0.999
    assert result.dropped["flat"] == {"value": 7.0, "share": 1.0}
    assert result.to_json() == {"kept": result.kept, "dropped": result.dropped}


def test_max_mode_share_default_keeps_a_ninety_percent_zero_column() -> None:
    raw = _near_constant_table()
    default = parse({}).max_mode_share
    result = drop_near_constant(raw[:, [0, 2]], ["x", "zeros90"], default, np, 0)
    assert result.kept == ["x", "zeros90"]
    assert result.dropped == {}


def test_max_mode_share_one_keeps_every_feature() -> None:
    raw = _near_constant_table()
    hp = parse({"max_mode_share": "1"})
    result = drop_near_constant(raw, ["x", "rare", "zeros90", "flat"], hp.max_mode_share, np, 0)
    assert result.kept == ["x", "rare", "zeros90", "flat"]
    assert result.dropped == {}


def test_mode_share_counts_missing_values_as_the_median() -> None:
    raw = np.array([[0.0, 1.0], [0.0, np.nan], [np.nan, 2.0], [5.0, np.inf]], dtype=np.float32)
    modes, shares = mode_shares(raw, np)
    assert modes == [0.0, 1.5]  # the median of 1 and 2: NaN and inf both become 1.5
    assert shares == [0.75, 0.5]


def test_every_feature_near_constant_keeps_them_all_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = _near_constant_table()[:, [1, 3]]
    with caplog.at_level("WARNING"):
        result = drop_near_constant(raw, ["rare", "flat"], 0.99, np, 0)
    assert result.kept == ["rare", "flat"] and result.dropped == {}
    assert "every feature (rare, flat) holds one value" in caplog.text


def test_all_missing_column_is_dropped_as_missing_and_one_row_keeps_everything() -> None:
    raw = _near_constant_table()[:, [0, 2]]
    raw = np.column_stack([raw, np.full(len(raw), np.nan, dtype=np.float32)])
    result = drop_near_constant(raw, ["x", "zeros90", "empty"], 0.99, np, 0)
    assert result.dropped == {"empty": {"value": None, "share": 1.0}}
    # A single row holds one value everywhere: the size check, not this filter, reports it.
    one_row = drop_near_constant(raw[:1], ["x", "zeros90", "empty"], 0.99, np, 0)
    assert one_row.kept == ["x", "zeros90", "empty"]


def _partly_missing_flag(rows: int = 2000) -> np.ndarray:
    """`x` complete; `flag` missing in 90% of the rows, 0 in 95% of the rest, 1 in 5%."""
    rng = np.random.default_rng(4)
    flag = np.where(rng.random(rows) < 0.95, 0.0, 1.0)
    flag[rng.permutation(rows)[: rows * 9 // 10]] = np.nan
    return np.column_stack([rng.normal(size=rows), flag]).astype(np.float32)


@pytest.mark.parametrize(
    ("missing", "flag_dropped"),
    [("median", True), ("zero", True), ("drop", False)],
)
def test_near_constant_share_is_measured_on_the_rows_missing_will_leave(
    missing: str, flag_dropped: bool
) -> None:
    # Imputed, the missing 90% take the fill value 0 (99.5% zeros); with missing=drop only the
    # complete rows are clustered, and there `flag` is 0 in just 95% of them.
    result = drop_near_constant(_partly_missing_flag(), ["x", "flag"], 0.99, np, 0, missing)
    assert ("flag" in result.dropped) is flag_dropped
    if not flag_dropped:
        assert result.kept == ["x", "flag"]


def test_mean_imputation_is_what_the_near_constant_share_sees() -> None:
    # Half missing, the rest 99% zeros: the median (0) fills to 99.5% zeros; the mean (0.01) not.
    rows = 2000
    column = np.where(np.arange(rows) % 100 == 0, 1.0, 0.0)
    column[rows // 2 :] = np.nan
    raw = np.column_stack([np.arange(rows), column]).astype(np.float32)
    assert "c" in drop_near_constant(raw, ["i", "c"], 0.99, np, 0, "median").dropped
    assert drop_near_constant(raw, ["i", "c"], 0.99, np, 0, "mean").dropped == {}


def test_with_missing_drop_an_all_missing_column_is_dropped_not_every_row() -> None:
    # No row is complete, so the decision falls back to the median fill: `empty` goes, and the
    # rows survive missing=drop instead of all being removed for it.
    raw = _partly_missing_flag()[:, :1]
    raw = np.column_stack([raw, np.full(len(raw), np.nan, dtype=np.float32)])
    result = drop_near_constant(raw, ["x", "empty"], 0.99, np, 0, "drop")
    assert result.dropped == {"empty": {"value": None, "share": 1.0}}


def test_correlation_with_missing_drop_is_measured_on_complete_rows() -> None:
    # `copy` equals `x` wherever it is present (half the rows): a near-copy on the rows that
    # missing=drop keeps, while the median fill hides that (rho about 0.5).
    rng = np.random.default_rng(5)
    x = rng.normal(size=4000)
    copy = np.where(rng.random(4000) < 0.5, np.nan, x)
    raw = np.column_stack([x, copy]).astype(np.float32)
    assert drop_correlated(raw, ["x", "copy"], 0.95, np, 0, "median").dropped == {}
    dropped = drop_correlated(raw, ["x", "copy"], 0.95, np, 0, "drop").dropped
    assert dropped["copy"]["correlated_with"] == "x" and dropped["copy"]["rho"] == 1.0


@pytest.mark.parametrize("scaling", ["standard", "robust"])
def test_scaling_does_not_depend_on_the_unit(scaling: str) -> None:
    # A float32 variance of values near 1e-24 underflows to 0: the columns were left unscaled
    # as "constant" (and never judged skewed), so the clustering saw another picture than the
    # same table in ordinary units. (log1p itself depends on the unit: only `a` is compared.)
    rng = np.random.default_rng(6)
    raw = np.column_stack([rng.normal(size=500), rng.lognormal(size=500)])
    plain = None
    for unit in (1.0, 1e-24, 1e24):
        prep = _prep(scaling=scaling)
        prepared, _ = prep.fit_transform((raw * unit).astype(np.float32), np)
        assert prep.log_mask is not None and prep.log_mask.tolist() == [False, True]
        plain = prepared[:, 0] if plain is None else plain
        assert np.allclose(prepared[:, 0], plain, atol=1e-4)
        assert 0.5 < float(np.std(prepared[:, 0])) < 2


def test_a_handful_of_rows_is_too_few_to_call_columns_near_copies() -> None:
    # With 3 rows, one pair of unrelated columns in three has |rho| = 1.
    rng = np.random.default_rng(7)
    raw = rng.normal(size=(19, 6)).astype(np.float32)
    raw[:, 5] = raw[:, 0] * 2  # even a true copy: 19 rows decide nothing
    assert drop_correlated(raw, list("abcdef"), 0.95, np, 0).dropped == {}
    more = rng.normal(size=(20, 6)).astype(np.float32)
    more[:, 5] = more[:, 0] * 2
    assert list(drop_correlated(more, list("abcdef"), 0.95, np, 0).dropped) == ["f"]


def test_missing_error_refuses_a_column_the_drops_would_remove(job_tree: JobTree) -> None:
    # An all-missing column is near-constant; with missing=error it must still be refused.
    frame = pd.DataFrame({"x": np.arange(60.0), "y": np.arange(60.0) % 7, "empty": np.nan})
    job_tree.write_table(frame)
    job_tree.write_config({"missing": "error", "reducer": "none", "plots": "false"})
    run = job_tree.run()
    assert run.returncode == 2
    assert job_tree.failure_first_line().startswith(
        "DataError: 60 missing or infinite feature values (empty: 60) and missing=error."
    )


def test_rows_equal_only_in_float32_are_named_as_a_precision_loss(job_tree: JobTree) -> None:
    # Values near 1e15 that differ in the units are one value in float32 (7 digits).
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(rng.normal(size=(200, 2)) + 1e15, columns=["a", "b"])
    job_tree.write_table(frame)
    job_tree.write_config({"reducer": "none", "plots": "false"})
    run = job_tree.run()
    assert run.returncode == 2
    first = job_tree.failure_first_line()
    assert "identical in every feature as float32" in first
    assert "though a, b differ beyond that" in first
    assert "subtract a common offset" in first


def test_the_same_table_in_another_unit_gets_the_same_labels(tmp_path) -> None:
    from sklearn.datasets import make_blobs

    points, _ = make_blobs(600, n_features=4, centers=3, random_state=1)
    labels = {}
    for unit in (1.0, 1e-24, 1e24):
        tree = JobTree(tmp_path / str(unit))
        tree.write_table(pd.DataFrame(points * unit, columns=list("abcd")))
        tree.write_config({"plots": "false"})
        run = tree.run()
        assert run.returncode == 0, run.failure
        labels[unit] = pd.read_parquet(tree.model_dir / "labels.parquet")["cluster"].tolist()
        assert run.metrics()["train"]["n_clusters"] == 3
    assert labels[1e-24] == labels[1.0] == labels[1e24]


def test_a_date_named_as_a_feature_is_called_a_date() -> None:
    frame = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0], "signup": pd.to_datetime(["2021-07-19", "2022-01-02", None])}
    )
    with pytest.raises(DataError) as caught:
        select_feature_columns(frame, parse({"features": "x,signup"}))
    assert "feature column 'signup' holds dates or durations (datetime64" in str(caught.value)
    assert "days since the date" in caught.value.fix
    assert select_feature_columns(frame, parse({})) == ["x"]  # features=all leaves it out


def test_a_half_numeric_text_column_left_out_is_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # As when one part file holds numbers in a column and another text.
    frame = pd.DataFrame({"x": np.arange(10.0), "count": [str(i) for i in range(5)] + ["n/a"] * 5})
    with caplog.at_level("INFO"):
        assert select_feature_columns(frame, parse({})) == ["x"]
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1
    assert "leaving out column 'count' as text, though 50% of its values" in warned[0].message
