"""`smcluster tuning-report`: one interactive page over a tune-local study and a SageMaker tuning
job, opened in a real headless Chromium.

The local study is a real `tune-local` run (`train` per trial). moto has no
ListTrainingJobsForHyperParameterTuningJob, so botocore's `Stubber` stands in for SageMaker
there, with the response shape its service model documents.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.stub import Stubber

from smcluster.cli import main
from smcluster.tools.demo import write_job_tree

from .browser import headless_chromium, needs_chromium, severe_errors
from .sagemaker_stub import stubbed, training_job_summary

__all__ = ["stubbed"]  # a fixture

STATIC = ["id_column=customer_id", "reducer=pca", "tracker=none", "plots=false"]


@pytest.fixture(scope="module")
def local_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real tune-local study: the defaults and three trials of `train`."""
    base = tmp_path_factory.mktemp("study")
    tree = write_job_tree(base / "demo", rows=1200, files=1)
    hp = [arg for value in STATIC for arg in ("--hp", value)]
    argv = [
        *("tune-local", "--data", str(tree / "input" / "data" / "train")),
        *("--out", str(base / "out"), "--trials", "3", *hp, "--tune", "min_samples"),
    ]
    assert main(argv) == 0
    return base / "out"


@pytest.fixture
def tuning_job(stubbed: Stubber) -> Stubber:
    summaries = [
        training_job_summary("smc-tune-002-abcd1234", "Completed", 0.41, 2, min_samples="12"),
        training_job_summary("smc-tune-001-abcd1234", "Completed", 0.55, 1, min_samples="8"),
        training_job_summary("smc-tune-003-abcd1234", "Failed", None, 3, min_samples="30"),
    ]
    stubbed.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {"TrainingJobSummaries": summaries},
        {"HyperParameterTuningJobName": "smc-tune", "MaxResults": 100},
    )
    return stubbed


@needs_chromium
@pytest.mark.slow
def test_report_of_a_local_study_and_a_tuning_job_overlaid_opens_in_chromium(
    local_study: Path,
    tuning_job: Stubber,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "report" / "tuning.html"
    argv = ["tuning-report", "--study", str(local_study), "--tuning-job", "smc-tune"]
    assert main([*argv, "--out", str(out), "--region", "us-east-1"]) == 0
    assert "2 studies (7 trials)" in capsys.readouterr().out
    study = json.loads((local_study / "study.json").read_text())
    best_local = study["best"]
    with headless_chromium(tmp_path / "profile", monkeypatch) as driver:
        driver.get(out.as_uri())
        charts = driver.execute_script(
            "return Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => ["
            "  p.data.map(t => [t.name, t.y.filter(v => v !== null).length]),"
            "  p.querySelectorAll('.main-svg').length])"
        )
        links = driver.execute_script(
            "return Array.from(document.querySelectorAll('table a')).map(a => [a.text, a.href])"
        )
        first_rows = driver.execute_script(
            "return Array.from(document.querySelectorAll('table')).map("
            "  t => t.rows[1].cells[2].innerText)"
        )
        errors = severe_errors(driver)
    assert errors == []
    assert len(charts) == 2  # over time; against each hyperparameter
    timeline, per_parameter = charts
    assert all(svgs > 0 for _, svgs in charts)  # plotly drew them
    names = dict(timeline[0])
    # Four local runs and two SageMaker jobs with an objective (one failed), plus best-so-far.
    assert names[f"local: {local_study.name}"] == 4
    assert names["SageMaker: smc-tune"] == 2
    assert names["SageMaker: smc-tune: best so far"] == 3
    assert [n for n, _ in per_parameter[0]] == [f"local: {local_study.name}", "SageMaker: smc-tune"]
    assert first_rows == [best_local["name"], "smc-tune-001-abcd1234"]  # best first
    hrefs = dict(links)
    assert hrefs["smc-tune-001-abcd1234"].endswith("#/jobs/smc-tune-001-abcd1234")
    local_report = Path(best_local["path"]) / "model" / "report.html"
    assert hrefs[best_local["name"]] == local_report.as_uri()
    assert local_report.exists()


def test_no_study_or_a_wrong_folder_fails_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tuning-report", "--out", str(tmp_path / "r.html")]) == 2
    assert "needs at least one study" in capsys.readouterr().err
    assert main(["tuning-report", "--study", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "is not a tune-local study" in err and "Fix:" in err
    assert not (tmp_path / "r.html").exists()
