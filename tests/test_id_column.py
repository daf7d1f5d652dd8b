"""An id_column that cannot name every row once (empty cells, a file given twice) is said in the
log, metrics.json and the report's notes, and the job still writes every row's label."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smcluster.pipeline.ids import id_column_notes, shared_ids_note

from .jobtree import FAST, JobTree

CSV = {"ContentType": "text/csv", "TrainingInputMode": "File"}


def _customers(rows: int, seed: int, first_id: int = 1) -> pd.DataFrame:
    from smcluster.synthetic import make_customers

    return make_customers(rows, seed=seed, first_id=first_id).fillna({"email_open_rate": 0.5})


def test_unique_ids_and_no_id_column_get_no_note() -> None:
    ids = np.array([f"C{i}" for i in range(1000)], dtype=object)
    assert id_column_notes(ids, "customer_id", "train") == []
    assert id_column_notes(np.array([1, 1, 1]), "", "train") == []  # row numbers, no column


def test_empty_and_repeated_ids_are_counted_with_examples() -> None:
    ids = np.array(["a", "b", None, "a", "c", "a", None, "b", "d"], dtype=object)
    empty, repeated = id_column_notes(ids, "customer_id", "train")
    assert "is empty in 2 of 9 train rows" in empty
    assert "2 ids name 5 of 9 train rows (e.g. a (3×), b (2×))" in repeated
    # numeric (Parquet) ids: NaN is empty, and a repeated number is found the same way
    numbers = id_column_notes(np.array([1.0, 2.0, np.nan, 2.0]), "account", "validation")
    assert "empty in 1 of 4 validation rows" in numbers[0]
    assert "1 ids name 2 of 4 validation rows (e.g. 2.0 (2×))" in numbers[1]


def test_a_file_given_twice_and_blank_ids_are_said_and_every_row_labelled(
    job_tree: JobTree,
) -> None:
    part = _customers(300, 2)
    job_tree.write_table(part, file="part-0.csv")
    job_tree.write_table(part, file="part-0-copy.csv")  # the same export uploaded twice
    blanks = _customers(300, 5)
    blanks["customer_id"] = blanks["customer_id"].str.replace("C", "D")
    blanks.loc[:9, "customer_id"] = None
    job_tree.write_table(blanks, file="part-1.csv")
    validation = _customers(100, 9, first_id=10_000)
    validation.loc[[0, 1], "customer_id"] = validation.loc[0, "customer_id"]
    job_tree.write_table(validation, name="validation")
    job_tree.write_config({**FAST, "id_column": "customer_id"}, {"train": CSV, "validation": CSV})
    run = job_tree.run(timeout=300)
    assert run.returncode == 0, run.log[-3000:]
    metrics = run.metrics()
    train_notes = [n for n in metrics["notes"] if n.startswith("id_column")]
    assert len(train_notes) == 2, metrics["notes"]
    assert "is empty in 10 of 900 train rows" in train_notes[0]
    assert "repeats: 300 ids name 600 of 900 train rows" in train_notes[1]
    assert "a file given twice" in train_notes[1]
    assert any(
        "repeats: 1 ids name 2 of 100 validation rows" in n for n in metrics["validation_notes"]
    )
    for note in train_notes:
        assert note in run.log
    labels = pd.read_parquet(job_tree.model_dir / "labels.parquet")
    assert len(labels) == 900 and labels["customer_id"].isna().sum() == 10
    report = (job_tree.model_dir / "report.html").read_text()
    assert "is empty in 10 of 900 train rows" in report


def test_validation_rows_that_are_train_rows_are_said() -> None:
    train = np.array(["a", "b", "c", None], dtype=object)
    note = shared_ids_note(np.array(["c", "x", None, "a"], dtype=object), train, "id", "validation")
    assert note is not None and note.startswith("2 of 4 validation rows (50%) have an id_column")
    assert shared_ids_note(np.array(["x", None], dtype=object), train, "id", "validation") is None
    assert shared_ids_note(np.array([1, 2]), np.array([2, 3]), "", "validation") is None


def test_a_validation_channel_cut_from_the_train_table_is_said(job_tree: JobTree) -> None:
    train = _customers(600, 2)
    job_tree.write_table(train)
    job_tree.write_table(train.iloc[:150], name="validation")  # a sample of the same rows
    job_tree.write_config({**FAST, "id_column": "customer_id"}, {"train": CSV, "validation": CSV})
    run = job_tree.run(timeout=300)
    assert run.returncode == 0, run.log[-3000:]
    shared = [n for n in run.metrics()["validation_notes"] if "also a train row's" in n]
    assert shared and shared[0].startswith("150 of 150 validation rows (100%)"), shared
    assert shared[0] in run.log
