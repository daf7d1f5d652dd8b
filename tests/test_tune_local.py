"""`smcluster tune-local`: an Optuna study that runs the real `train` once per trial."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smcluster.cli import main
from smcluster.contract.metrics import OBJECTIVE
from smcluster.output.metric_lines import read_metrics
from smcluster.tools.demo import write_job_tree
from smcluster.tools.tuning_report import local_study
from tests.jobtree import clean_env
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


def _trial_processes(out: Path) -> list[str]:
    """Processes still running a trial of this study (their SAGEMAKER_BASE_DIR is under out)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"SAGEMAKER_BASE_DIR={out}".encode() in environ.read_bytes():
                found.append(environ.parent.name)
        except OSError:
            continue  # gone, or another user's
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stopped_study_keeps_its_trials_and_stops_the_running_train(
    demo_data: Path, tmp_path: Path, signum: int, code: int
) -> None:
    out = tmp_path / "study"
    argv = _argv(demo_data, out, "--trials", "50")
    study = subprocess.Popen(
        [str(Path(sys.executable).with_name("smcluster")), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and study.poll() is None:
        written = out / "study.json"
        if written.is_file() and len(json.loads(written.read_text())["trials"]) >= 2:
            break
        time.sleep(0.2)
    study.send_signal(signum)  # while the third run's `train` is (most likely) under way
    _, stderr = study.communicate(timeout=120)

    assert study.returncode == code, stderr
    assert stderr.strip().splitlines()[-1].startswith("Stopped:"), stderr
    assert signal.Signals(signum).name in stderr and "Fix:" in stderr
    written = json.loads((out / "study.json").read_text())
    assert written["complete"] is False
    assert written["stopped"]["signal"] == signal.Signals(signum).name
    assert len(written["trials"]) >= 2
    assert _trial_processes(out) == []  # no orphaned `train`
    assert len(local_study(out).trials) == len(written["trials"])  # tuning-report reads it
