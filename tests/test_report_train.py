"""Acceptance: the `train` console script, run as SageMaker would, leaves every plot, the
cluster profiles and a self-contained report.html in the model directory; the report opens in
a real headless Chromium with every image loaded and no console error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.image import imread

from smcluster.tools.demo import DEMO_HYPERPARAMETERS

from .browser import headless_chromium, needs_chromium, severe_errors
from .jobtree import JobTree

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOTS = {
    "embedding_scatter",
    "pca_variance",
    "pca_correlation_circle",
    "silhouette",
    "k_distance",
    "cluster_profile_heatmap",
}


def run_train(base: Path, hyperparameters: dict[str, str], rows: int = 3_000) -> Path:
    tree = JobTree(base).write_demo(
        {**DEMO_HYPERPARAMETERS, **hyperparameters}, rows=rows, files=2, validation_rows=500
    )
    done = tree.run()
    assert done.returncode == 0, done.stderr[-3000:]
    return tree.model_dir


@pytest.fixture(scope="module")
def pca_model(tmp_path_factory) -> Path:
    return run_train(
        tmp_path_factory.mktemp("pca"), {"reducer": "pca", "n_components": "2", "min_samples": "15"}
    )


def check_model_dir(model: Path, rows: int) -> None:
    for name in PLOTS:
        path = model / "plots" / f"{name}.png"
        assert path.read_bytes()[:8] == PNG_SIGNATURE, name
        height, width = imread(path).shape[:2]
        assert height >= 300 and width >= 600, name
    profiles = pd.read_csv(model / "cluster_profiles.csv")
    assert profiles["cluster"].iloc[0] == "all"
    assert profiles["size"].iloc[0] == rows
    assert profiles["size"].iloc[1:].sum() == rows
    assert profiles["share"].iloc[1:].sum() == pytest.approx(1.0)
    for feature in ("recency_days", "monetary", "email_open_rate"):
        assert {f"{feature}_mean", f"{feature}_median"} <= set(profiles.columns)
    assert profiles["distinguishing_features"].iloc[1:].str.contains(":").all()
    metrics = json.loads((model / "metrics.json").read_text())
    listed = set(metrics["artifacts"])
    assert {"cluster_profiles.csv", "report.html", "metrics.json"} <= listed
    assert {f"plots/{name}.png" for name in PLOTS} <= listed
    manifest = json.loads((model / "manifest.json").read_text())
    assert listed <= set(manifest["files"])


def _page(model: Path) -> str:
    return (model / "report.html").read_text()


def test_pca_run_writes_plots_profiles_and_report(pca_model: Path) -> None:
    check_model_dir(pca_model, rows=3_000)
    page = (pca_model / "report.html").read_text()
    for heading in ("Run summary", "Metrics", "Resolved hyperparameters", "Cluster profiles"):
        assert heading in page
    assert page.count('src="data:image/png;base64,') == len(PLOTS)
    assert "validation" in page and "eps" in page


def test_umap_3d_run_writes_plots(tmp_path) -> None:
    model = run_train(tmp_path, {"reducer": "umap", "n_components": "3"}, rows=2_000)
    check_model_dir(model, rows=2_000)
    # min_samples=auto resolved by the run: the table shows the value and says who chose it
    chosen = json.loads((model / "hyperparameters.json").read_text())
    min_samples = chosen["hyperparameters"]["min_samples"]
    row = re.search(r"<tr><td>min_samples</td><td>(\d+)</td><td>([^<]*)</td>", _page(model))
    assert row is not None and row.groups() == (str(min_samples), "default auto, chosen by the run")
    assert re.search(r"<tr><td>reducer</td><td>umap</td><td>given</td>", _page(model))


def test_plots_false_skips_pictures_but_keeps_profiles(tmp_path) -> None:
    model = run_train(tmp_path, {"reducer": "pca", "n_components": "2", "plots": "false"})
    assert not (model / "plots").exists()
    assert pd.read_csv(model / "cluster_profiles.csv")["size"].iloc[0] == 3_000
    assert "plots=false" in (model / "report.html").read_text()


@needs_chromium
def test_report_opens_in_headless_chromium(pca_model: Path, tmp_path, monkeypatch) -> None:
    with headless_chromium(tmp_path / "profile", monkeypatch) as driver:
        driver.get((pca_model / "report.html").as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);"
        )
        errors = severe_errors(driver)
    assert sorted(alt for alt, _, _ in images) == sorted(PLOTS)
    assert all(complete and width > 0 for _, complete, width in images), images
    assert errors == []
