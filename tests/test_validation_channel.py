"""The validation channel's table gets the train channel's care: bad input is a DataError that
names the channel (exit 2, no traceback), and its rows follow the job's `missing` policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .jobtree import FAST, JobTree, TrainRun

CSV = {"ContentType": "text/csv", "TrainingInputMode": "File"}


def _customers(rows: int, seed: int) -> pd.DataFrame:
    from smcluster.synthetic import make_customers

    return make_customers(rows, seed=seed)


def _run(tree: JobTree, validation: pd.DataFrame, **hyperparameters: str) -> TrainRun:
    """`train` on clean customers with `validation` as the validation channel."""
    tree.write_table(_customers(400, 2).fillna({"email_open_rate": 0.5}))
    tree.write_table(validation, name="validation")
    tree.write_config({**FAST, **hyperparameters}, {"train": CSV, "validation": CSV})
    return tree.run(timeout=300)


def _reason(run: TrainRun, tree: JobTree) -> str:
    assert run.returncode == 2, run.log[-3000:]
    assert "Traceback" not in run.log, run.log[-3000:]
    assert not tree.looks_complete()
    first = tree.failure_first_line()
    assert first.startswith("DataError:") and "Fix:" in first, first
    assert "validation channel" in first, first
    return first


def test_text_in_a_validation_feature_is_a_data_error(job_tree: JobTree) -> None:
    validation = _customers(100, 9).astype({"monetary": object})
    validation.loc[3, "monetary"] = "abc"
    first = _reason(_run(job_tree, validation), job_tree)
    assert "'monetary' of the validation channel holds text, e.g. 'abc'" in first, first


def test_every_missing_column_of_the_validation_table_is_named(job_tree: JobTree) -> None:
    validation = _customers(100, 9).drop(columns=["customer_id", "frequency"])
    first = _reason(_run(job_tree, validation), job_tree)
    assert first.startswith("DataError: 2 problems:"), first
    assert "lacks feature columns: frequency" in first, first
    assert "lacks the id_column 'customer_id'" in first, first


def test_validation_without_the_label_column_is_scored_without_it(job_tree: JobTree) -> None:
    run = _run(job_tree, _customers(100, 9).drop(columns=["segment"]))
    assert run.returncode == 0, run.log[-3000:]
    assert "has no label_column 'segment'" in run.log
    assert "validation:ari" not in run.stdout and "train:ari" in run.stdout


def _with_gaps(rows: int = 5) -> pd.DataFrame:
    """Validation customers whose first `rows` rows lack `monetary`."""
    validation = _customers(100, 9).fillna({"email_open_rate": 0.5})
    validation.loc[: rows - 1, "monetary"] = np.nan
    return validation


def test_missing_values_in_validation_rows_under_missing_error(job_tree: JobTree) -> None:
    first = _reason(_run(job_tree, _with_gaps(), missing="error"), job_tree)
    assert first.startswith(
        "DataError: 5 missing or infinite feature values in the validation channel (monetary: 5)"
    ), first


def test_validation_values_beyond_float32_are_refused(job_tree: JobTree) -> None:
    validation = _customers(100, 9)
    validation.loc[2, "monetary"] = 1e39
    first = _reason(_run(job_tree, validation), job_tree)
    assert "in the validation channel beyond float32's range" in first, first
    assert "monetary (1 value)" in first, first


def test_missing_drop_leaves_validation_rows_out_of_labels_and_scores(tmp_path: Path) -> None:
    dropped = JobTree(tmp_path / "dropped")
    run = _run(dropped, _with_gaps(), missing="drop")
    assert run.returncode == 0, run.log[-3000:]
    assert "missing=drop applies to 5 non-finite values in the validation channel" in run.log
    assert "missing=drop left out 5 of 100 rows in the validation channel" in run.log
    labels = pd.read_parquet(dropped.model_dir / "validation_labels.parquet")
    assert len(labels) == 100
    assert (labels["cluster"] == -2).to_numpy().nonzero()[0].tolist() == [0, 1, 2, 3, 4]
    assert labels.loc[:4, "embedding_0"].isna().all() and labels.loc[5:, "cluster"].ge(-1).all()
    # Scored as if the incomplete rows had not been given.
    complete = _run(JobTree(tmp_path / "complete"), _with_gaps().iloc[5:], missing="drop")
    assert complete.returncode == 0, complete.log[-3000:]
    assert run.metrics()["validation"] == complete.metrics()["validation"]


@pytest.mark.parametrize("missing", ["median", "zero"])
def test_missing_validation_values_take_the_training_fill_values(
    job_tree: JobTree, missing: str
) -> None:
    from smcluster import load_model

    validation = _with_gaps()
    run = _run(job_tree, validation, missing=missing)
    assert run.returncode == 0, run.log[-3000:]
    assert f"missing={missing} applies to 5 non-finite values in the validation channel" in run.log
    labels = pd.read_parquet(job_tree.model_dir / "validation_labels.parquet")
    model = load_model(job_tree.model_dir)
    fill = float(model.prep.fill_values[model.features.index("monetary")])
    filled = model.predict(validation.fillna({"monetary": fill}))
    assert (labels["cluster"].to_numpy() == filled).all()
