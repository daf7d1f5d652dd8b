"""`smcluster tune-local`: an Optuna study that runs the real `train` once per trial."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smcluster.cli import main
from smcluster.contract.metrics import OBJECTIVE
from smcluster.output.metric_lines import read_metrics
from smcluster.tools.demo import write_job_tree
from tests.metric_lines import scrape

STATIC = ["id_column=customer_id", "label_column=segment", "reducer=pca", "tracker=none"]


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = write_job_tree(tmp_path_factory.mktemp("demo"), rows=1500, files=1)
    return tree / "input" / "data" / "train"


def _argv(data: Path, out: Path, *extra: str) -> list[str]:
    hp = [arg for value in STATIC for arg in ("--hp", value)]
    return ["tune-local", "--data", str(data), "--out", str(out), "--trials", "3", *hp, *extra]


@pytest.mark.slow
def test_three_trials_after_the_defaults_best_is_the_highest_printed_objective(
    demo_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "study"
    extra = ["--hp", "algorithm=kmeans", "--tune", "n_clusters,n_components"]

    assert main(_argv(demo_data, out, *extra)) == 0

    trial_dirs = sorted(out.glob("trial-*"))
    assert [d.name for d in trial_dirs] == ["trial-000", "trial-001", "trial-002"]
    run_dirs = [out / "defaults", *trial_dirs]
    printed = [scrape((d / "train.log").read_text())[OBJECTIVE] for d in run_dirs]
    for run_dir, value in zip(run_dirs, printed, strict=True):
        written = json.loads((run_dir / "model" / "metrics.json").read_text())
        name = OBJECTIVE.removeprefix("train:")
        assert written["train"][name] == pytest.approx(value, rel=1e-5)  # train really ran
        config = json.loads((run_dir / "input" / "config" / "hyperparameters.json").read_text())
        assert config["reducer"] == "pca" and config["algorithm"] == "kmeans"
        tuned = {"n_clusters", "n_components"}
        assert tuned <= set(config) if run_dir.name != "defaults" else not tuned & set(config)
    study = json.loads((out / "study.json").read_text())
    assert study["objective_metric_name"] == OBJECTIVE
    assert len(study["trials"]) == 4
    assert len(set(printed)) > 1  # trials differ: the objective is comparable across them
    assert study["best"]["objective"] == max(printed)
    assert [t["objective"] for t in study["trials"]] == sorted(printed, reverse=True)
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:2] == ["rank", OBJECTIVE]
    assert table[1].split()[1] == f"{max(printed):.6g}"


@pytest.mark.slow
def test_same_seed_samples_the_same_trials(demo_data: Path, tmp_path: Path) -> None:
    extra = ["--tune", "n_components", "--trials", "2", "--hp", "algorithm=kmeans"]
    runs = []
    for name in ("a", "b"):
        assert main(_argv(demo_data, tmp_path / name, *extra)) == 0
        study = json.loads((tmp_path / name / "study.json").read_text())
        runs.append(
            sorted((t["name"], t["hyperparameters"].get("n_components")) for t in study["trials"])
        )
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_failed_trials_are_recorded_not_fatal(
    demo_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "study"
    argv = _argv(demo_data, out, "--hp", "features=no_such_column", "--tune", "n_components")

    assert main(argv) == 2

    study = json.loads((out / "study.json").read_text())
    assert [t["status"] for t in study["trials"]] == ["Failed"] * 4  # the defaults, then 3
    assert study["best"] is None
    assert "no_such_column" in study["trials"][0]["failure"]
    assert "no trial completed" in capsys.readouterr().err


def test_unknown_names_fail_before_any_trial(tmp_path: Path, demo_data: Path) -> None:
    out = tmp_path / "study"
    assert main(_argv(demo_data, out, "--range", "eps=0.1:0.2")) == 2
    assert main(_argv(demo_data, out, "--hp", "n_component=3")) == 2
    assert not out.exists()


def test_read_metrics_takes_the_last_printed_value() -> None:
    log = f"smcluster-metric {OBJECTIVE}=0.1\nnoise\nsmcluster-metric {OBJECTIVE}=-2.5e-1\n"
    assert read_metrics(log) == {OBJECTIVE: -0.25}
