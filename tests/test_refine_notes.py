"""Notes name clusters as the report and labels.parquet do: by the ids left after refinement,
never by the clusterer's ids (which are renumbered by size and may not exist afterwards)."""

from __future__ import annotations

import re

import numpy as np

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.refine.refine import refine

from .test_refine import _segments_with_outliers, _split_segment


def _named(notes: list[str]) -> set[int]:
    """Cluster ids a reader would take from the notes ("cluster 3", "clusters 3 and 4")."""
    found: set[int] = set()
    for note in notes:
        for match in re.finditer(r"\bclusters? (\d+)(?: and (\d+))?", note):
            found.update(int(g) for g in match.groups() if g is not None)
    return found


def test_scattered_outliers_note_does_not_name_a_cluster_that_is_not_reported() -> None:
    data, truth = _segments_with_outliers()
    labels = np.where(truth == -1, 9, truth)  # the clusterer made one cluster of the outliers
    refined = refine(
        CpuBackend(), parse({"min_samples": "8"}), labels, data, data, list("abcdefgh"), True
    )
    assert len(refined.notes) == 1 and "scattered outliers" in refined.notes[0]
    assert "before renumbering" in refined.notes[0]
    assert _named(refined.notes) <= set(np.unique(refined.labels[refined.labels >= 0]).tolist())


def test_sparse_split_note_names_the_reported_ids() -> None:
    raw, prepared, labels = _split_segment()
    hp = parse({"min_samples": "8", "merge_sparse_splits": "false"})
    refined = refine(
        CpuBackend(), hp, labels + 5, prepared, raw, ["spend", "visits", "returns"], False
    )
    assert len(refined.notes) == 1, refined.notes
    assert _named(refined.notes) == {0, 1}, refined.notes
    assert set(refined.labels.tolist()) == {0, 1, 2}
