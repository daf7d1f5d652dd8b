"""The report says what metrics.json notes about each channel: a validation channel's notes
(ids given twice, sentinel scores) sit beside its metrics, not only in metrics.json."""

from __future__ import annotations

import html
import shutil

import pytest

from .jobtree import FAST, JobTree

pytestmark = pytest.mark.slow


def test_validation_notes_are_in_the_report(tmp_path) -> None:
    tree = JobTree(tmp_path).write_demo({**FAST, "plots": "false"}, rows=600, validation_rows=150)
    validation = tree.channel("validation")
    (part,) = validation.glob("part-*")
    shutil.copy(part, validation / f"copy-{part.name}")  # the file given twice: ids repeat
    done = tree.run()
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = done.metrics()
    assert metrics["validation_notes"], metrics
    page = (tree.model_dir / "report.html").read_text()
    for note in metrics["validation_notes"]:
        assert html.escape(note, quote=True) in page
    for note in metrics["notes"]:
        assert html.escape(note, quote=True) in page
