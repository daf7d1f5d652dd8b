"""The validation channel's table gets the train channel's care: bad input is a DataError that
names the channel (exit 2, no traceback), and its rows follow the job's `missing` policy."""

from __future__ import annotations

import pandas as pd

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
