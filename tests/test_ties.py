"""Rows with few distinct values (ratings, counts) get a note in the metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.score.ties import few_distinct_rows_note

from .jobtree import JobTree


def _ratings(rows: int = 900, seed: int = 0) -> pd.DataFrame:
    """Three 1-5 answers from three groups of respondents: 125 possible rows."""
    rng = np.random.default_rng(seed)
    centres = np.repeat([[1.5, 2, 4.5], [3, 4.5, 2], [4.5, 3, 1.5]], rows // 3, axis=0)
    answers = np.clip(np.rint(centres + rng.normal(0, 0.8, centres.shape)), 1, 5)
    return pd.DataFrame(answers.astype(int), columns=["q1", "q2", "q3"])


def test_note_only_for_density_clustering_of_tied_rows() -> None:
    tied = _ratings().to_numpy(dtype=np.float64)
    note = few_distinct_rows_note(tied, parse({}))
    assert note is not None and f"of {len(tied):,} rows are distinct" in note
    assert "check the cluster sizes" in note
    assert few_distinct_rows_note(tied, parse({"algorithm": "kmeans"})) is None
    continuous = np.random.default_rng(1).normal(size=(900, 3))
    assert few_distinct_rows_note(continuous, parse({})) is None
    half = np.concatenate([continuous[:450], continuous[:450]])  # exactly half distinct
    assert few_distinct_rows_note(half, parse({})) is None


def test_train_on_ratings_says_so_in_metrics_and_log(job_tree: JobTree) -> None:
    job_tree.write_table(_ratings())
    job_tree.write_config({"plots": "false"})
    run = job_tree.run()
    assert run.returncode == 0, run.failure
    notes = run.metrics()["notes"]
    assert any("rows are distinct (features with few values" in n for n in notes), notes
    assert "rows are distinct (features with few values" in run.log
