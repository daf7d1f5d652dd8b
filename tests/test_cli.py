"""The `smcluster` tool and the README blocks generated from the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from smcluster.schema import SCHEMA

from .conftest import BIN, JobTree
from .metric_lines import scrape

ROOT = Path(__file__).resolve().parent.parent


def _smcluster(*args: str) -> str:
    return subprocess.run(
        [str(BIN / "smcluster"), *args], capture_output=True, text=True, check=True
    ).stdout


def test_readme_generated_blocks_are_current() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_readme.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, "README.md is stale: run `make readme`"
    assert SCHEMA.markdown_table() in (ROOT / "README.md").read_text()


def test_hyperparameters_table_lists_every_name() -> None:
    rows = json.loads(_smcluster("hyperparameters", "--format", "json"))
    assert [r["name"] for r in rows] == SCHEMA.names()
    assert all(r["meaning"] and r["allowed"] for r in rows)
    assert _smcluster("hyperparameters") == SCHEMA.markdown_table()


def test_tuning_ranges_name_the_objective() -> None:
    payload = json.loads(_smcluster("tuning-ranges"))
    assert payload["objective_metric_name"] == "train:silhouette"
    assert payload["objective_type"] == "Maximize"
    assert payload["hyperparameter_ranges"]["min_samples"]["type"] == "Integer"


def test_demo_tree_runs_with_default_umap_and_predict(tmp_path) -> None:
    base = tmp_path / "opt_ml"
    _smcluster("demo-data", "--out", str(base), "--rows", "3000", "--files", "2")
    completed = JobTree(base).run()
    assert completed.returncode == 0, completed.stderr[-2000:]
    metrics = scrape(completed.stdout)
    assert metrics["train:n_clusters"] >= 2
    assert "train:ari" in metrics
    new_rows = tmp_path / "new.csv"
    from smcluster.demo import make_customers

    make_customers(50, seed=11).to_csv(new_rows, index=False)
    out = tmp_path / "assigned.csv"
    _smcluster(
        "predict", "--model", str(base / "model"), "--input", str(new_rows), "--output", str(out)
    )
    assigned = out.read_text().splitlines()
    assert assigned[0].endswith(",cluster") and len(assigned) == 51
