"""Tracking pieces that need no subprocess: backend choice, the guard, the store lookup."""

from __future__ import annotations

import time

import pytest

from smcluster.contract.hyperparameters import parse
from smcluster.contract.paths import JobPaths
from smcluster.tracking.base import NoTracker, RunInfo, TrackingError, artifact_files
from smcluster.tracking.guard import GuardedTracker
from smcluster.tracking.leaderboard import direction
from smcluster.tracking.sagemaker_backend import job_name_from_env, trial_component_name
from smcluster.tracking.select import build, choose

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:training-job/seg-2026-01"


@pytest.mark.parametrize(
    ("given", "env", "expected"),
    [
        ({}, {"TRAINING_JOB_ARN": ARN}, "sagemaker"),
        ({}, {"MLFLOW_TRACKING_URI": "http://mlflow:5000"}, "mlflow"),
        ({}, {}, "mlflow"),
        ({"tracker": "none"}, {"TRAINING_JOB_ARN": ARN}, "none"),
        ({"tracker": "mlflow"}, {"TRAINING_JOB_ARN": ARN}, "mlflow"),
    ],
)
def test_auto_picks_sagemaker_in_a_job_and_mlflow_elsewhere(given, env, expected):
    assert choose(parse(given), env) == expected


def test_tracking_uri_comes_from_hyperparameter_then_environment_then_local_store(tmp_path):
    env = {"SAGEMAKER_BASE_DIR": str(tmp_path), "MLFLOW_TRACKING_URI": "http://env:5000"}
    paths = JobPaths.from_env(env)
    given = build(parse({"mlflow_tracking_uri": "http://hp:5000"}), paths)
    assert given.tracking_uri == "http://hp:5000"
    assert build(parse({}), paths).tracking_uri == "http://env:5000"
    local = build(parse({}), JobPaths.from_env({"SAGEMAKER_BASE_DIR": str(tmp_path)}))
    expected = tmp_path.resolve() / "output" / "data" / "mlflow" / "mlflow.db"
    assert local.tracking_uri == f"sqlite:///{expected}"
    assert not expected.parent.exists()  # nothing is created before the run starts


def test_sagemaker_tracker_outside_a_job_is_a_clear_error(tmp_path):
    paths = JobPaths.from_env({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    with pytest.raises(TrackingError, match="TRAINING_JOB_ARN"):
        build(parse({"tracker": "sagemaker"}), paths)


def test_trial_component_name_follows_sagemaker_convention():
    assert job_name_from_env({"TRAINING_JOB_ARN": ARN}) == "seg-2026-01"
    assert trial_component_name("seg-2026-01") == "seg-2026-01-aws-training-job"


class Hanging(NoTracker):
    name = "hanging"

    def log_params(self, params):
        time.sleep(30)

    def describe(self):
        return "a hanging endpoint"


class Broken(NoTracker):
    def start(self, info):
        raise ConnectionError("connection refused")


def test_a_hanging_call_is_abandoned_and_later_calls_are_skipped(caplog):
    guard = GuardedTracker(Hanging(), required=False)
    guard.start(RunInfo("r", "e"))
    started = time.monotonic()
    guard.call("log parameters", lambda: guard.backend.log_params({}), timeout=0.5)
    guard.call("log parameters", lambda: guard.backend.log_params({}), timeout=0.5)
    assert time.monotonic() - started < 5
    assert guard.failed.startswith("TimeoutError")
    assert caplog.text.count("failed to log parameters") == 1


def test_failure_is_a_warning_unless_tracking_is_required(caplog):
    optional = GuardedTracker(Broken(), required=False)
    optional.start(RunInfo("r", "e"), background=True)
    optional.end("FINISHED")  # waits for the start, then skips: nothing raises
    assert "connection refused" in caplog.text
    required = GuardedTracker(Broken(), required=True)
    with pytest.raises(TrackingError, match="connection refused"):
        required.start(RunInfo("r", "e"))


def test_content_hash_changes_with_content_and_name(tmp_path):
    from smcluster.contract.tables import TableFile, fingerprint

    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n2\n")
    files = [TableFile(path, "csv", False) for path in sorted(tmp_path.iterdir())]
    first = fingerprint(files, tmp_path)
    assert first == fingerprint(list(reversed(files)), tmp_path)
    (tmp_path / "b.csv").write_text("x\n3\n")
    assert fingerprint(files, tmp_path) != first
    (tmp_path / "b.csv").rename(tmp_path / "c.csv")
    renamed = [
        TableFile(tmp_path / "a.csv", "csv", False),
        TableFile(tmp_path / "c.csv", "csv", False),
    ]
    assert fingerprint(renamed, tmp_path) != first


def test_artifact_files_skip_hidden_staging(tmp_path):
    (tmp_path / ".incomplete").mkdir()
    (tmp_path / ".incomplete" / "half.bin").write_text("x")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "k.png").write_text("x")
    (tmp_path / "metrics.json").write_text("{}")
    assert [p.relative_to(tmp_path).as_posix() for p in artifact_files(tmp_path)] == [
        "metrics.json",
        "plots/k.png",
    ]


def test_leaderboard_direction_comes_from_the_metric_registry():
    assert direction("train:silhouette") == "Maximize"
    assert direction("validation:davies_bouldin") == "Minimize"
    with pytest.raises(TrackingError, match="unknown metric"):
        direction("train:accuracy")
    # A bare name matched no run's metric and sorted nothing: it needs its split.
    with pytest.raises(TrackingError, match="needs its split") as caught:
        direction("dbcv")
    assert caught.value.fix == "use --metric train:dbcv (or validation:dbcv)."


class SlowStart(NoTracker):
    def start(self, info):
        time.sleep(30)


@pytest.mark.serial  # asserts a 3 s budget
def test_closing_while_the_run_is_still_starting_keeps_to_one_time_budget(caplog):
    guard = GuardedTracker(SlowStart(), required=True)
    guard.start(RunInfo("r", "e"), background=True)
    started = time.monotonic()
    guard.end_quietly("KILLED", "stopped", timeout=1.0)  # the SIGTERM path: never raises
    assert time.monotonic() - started < 3
    assert "did not start within 1s" in caplog.text
