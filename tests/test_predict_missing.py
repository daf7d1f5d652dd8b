"""`smcluster predict` applies the training job's `missing` to new rows as `train` did to its own:
error refuses them, drop labels their rows -2, the others impute the training fill values; the
count goes to stderr, and values beyond float32 are refused as in a channel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .jobtree import FAST, JobTree, smcluster


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A model directory per `missing`, trained on the same clean customers."""
    from smcluster.synthetic import make_customers

    trained = {}
    for missing in ("error", "drop", "median"):
        tree = JobTree(tmp_path_factory.mktemp(missing) / "opt_ml")
        tree.write_table(make_customers(400, seed=2).fillna({"email_open_rate": 0.5}))
        tree.write_config({**FAST, "missing": missing})
        run = tree.run(timeout=300)
        assert run.returncode == 0, run.log[-3000:]
        trained[missing] = tree.model_dir
    return trained


def _rows(tmp_path: Path, gaps: bool = True) -> tuple[pd.DataFrame, Path]:
    """20 new customers, rows 3 (NaN) and 7 (infinite) lacking `monetary` when `gaps`."""
    from smcluster.synthetic import make_customers

    rows = make_customers(20, seed=9).drop(columns=["segment"])
    if gaps:
        rows.loc[3, "monetary"] = np.nan
        rows.loc[7, "monetary"] = np.inf
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    return rows, path


def _predict(model: Path, rows: Path, tmp_path: Path) -> tuple[int, str, pd.DataFrame | None]:
    out = tmp_path / "out.csv"
    done = smcluster("predict", "--model", str(model), "--input", str(rows), "--output", str(out))
    assert "Traceback" not in done.stderr and "RuntimeWarning" not in done.stderr, done.stderr
    return done.returncode, done.stderr, pd.read_csv(out) if out.exists() else None


def test_missing_error_refuses_rows_with_missing_values(models, tmp_path: Path) -> None:
    code, stderr, out = _predict(models["error"], _rows(tmp_path)[1], tmp_path)
    assert code == 2 and out is None, stderr
    first = stderr.splitlines()[0]
    assert first.startswith(
        "DataError: 2 missing or infinite feature values in the rows to assign (monetary: 2) "
        "and missing=error."
    ), first
    assert "Fix:" in first


def test_missing_drop_labels_those_rows_minus_two(models, tmp_path: Path) -> None:
    code, stderr, out = _predict(models["drop"], _rows(tmp_path)[1], tmp_path)
    assert code == 0 and out is not None, stderr
    assert "missing=drop applies to 2 non-finite values in the rows to assign (monetary: 2)" in (
        stderr
    )
    assert "missing=drop left out 2 of 20 rows in the rows to assign" in stderr
    assert out.index[out["cluster"] == -2].tolist() == [3, 7]
    assert out["cluster"].drop(index=[3, 7]).ge(-1).all()


def test_missing_median_imputes_the_training_fill_values(models, tmp_path: Path) -> None:
    from smcluster import load_model

    rows, path = _rows(tmp_path)
    code, stderr, out = _predict(models["median"], path, tmp_path)
    assert code == 0 and out is not None, stderr
    assert "missing=median applies to 2 non-finite values in the rows to assign" in stderr
    model = load_model(models["median"])
    fill = float(model.prep.fill_values[model.features.index("monetary")])
    filled = rows.assign(monetary=rows["monetary"].where(np.isfinite(rows["monetary"]), fill))
    assert (out["cluster"].to_numpy() == model.predict(filled)).all()


def test_complete_rows_print_nothing_but_the_rows(models, tmp_path: Path) -> None:
    code, stderr, out = _predict(models["median"], _rows(tmp_path, gaps=False)[1], tmp_path)
    assert code == 0 and out is not None and stderr == "", stderr


def test_values_beyond_float32_are_refused(models, tmp_path: Path) -> None:
    rows, path = _rows(tmp_path, gaps=False)
    rows.loc[2, "monetary"] = 1e39
    rows.to_csv(path, index=False)
    code, stderr, out = _predict(models["median"], path, tmp_path)
    assert code == 2 and out is None, stderr
    first = stderr.splitlines()[0]
    assert first.startswith("DataError: feature values in the rows to assign beyond float32's")
    assert "monetary (1 value)" in first and "Fix:" in first
