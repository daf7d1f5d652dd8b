"""The tracking backend in a child process: a real child, a real local MLflow store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from smcluster.tracking.base import KILLED, NoTracker, RunInfo
from smcluster.tracking.child import LOST_JOB_REASON, ChildError, ChildProcessTracker
from smcluster.tracking.mlflow_backend import MlflowTracker, local_store_uri

REPO = Path(__file__).resolve().parents[1]
INFO = RunInfo("run-1", "child-tests", {"smcluster.test": "yes"})


class Refusing(NoTracker):
    """Imported by the child from this module (the test puts the repository on PYTHONPATH)."""

    name = "refusing"

    def log_params(self, params):
        raise ValueError(f"no parameters, please ({len(params)} given)")


def local_tracker(store: Path) -> MlflowTracker:
    return MlflowTracker(local_store_uri(store), local_dir=store)


def read_run(store: Path, run_name: str = "run-1"):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=local_store_uri(store))
    experiment = client.get_experiment_by_name("child-tests")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id], f"attributes.run_name = '{run_name}'")
    return client, run


def test_a_run_recorded_through_the_child_is_in_the_store_and_the_child_exits(tmp_path: Path):
    store = tmp_path / "mlflow"
    model = tmp_path / "model"
    (model / "plots").mkdir(parents=True)
    (model / "metrics.json").write_text("{}")
    (model / "plots" / "a.png").write_bytes(b"png")
    tracker = ChildProcessTracker(local_tracker(store))
    assert tracker.name == "mlflow" and "sqlite" in tracker.describe()
    tracker.start(INFO)
    child = tracker._process
    assert child is not None and child.poll() is None
    tracker.log_params({"min_samples": 8, "reducer": "umap"})
    tracker.log_metrics({"train:dbcv": 0.5})
    tracker.set_tags({"smcluster.backend": "cpu"})
    tracker.log_artifacts(model)
    tracker.end("FINISHED")
    assert child.poll() == 0  # it exited when its stdin closed
    client, run = read_run(store)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"min_samples": "8", "reducer": "umap"}
    assert run.data.metrics == {"train:dbcv": 0.5}
    assert run.data.tags["smcluster.backend"] == "cpu"
    files = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert files == {"metrics.json", "plots"}


def test_an_exception_in_the_child_comes_back_under_its_own_name(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    tracker = ChildProcessTracker(Refusing())
    tracker.start(INFO)
    with pytest.raises(ChildError, match=r"no parameters, please \(2 given\)") as raised:
        tracker.log_params({"a": 1, "b": 2})
    assert type(raised.value).__name__ == "ValueError"
    tracker.log_metrics({"x": 1.0})  # the child goes on after an error
    tracker.end("FINISHED")


def test_a_child_that_dies_is_a_clear_error_not_a_hang(tmp_path: Path):
    tracker = ChildProcessTracker(local_tracker(tmp_path / "mlflow"))
    tracker.start(INFO)
    assert tracker._process is not None
    tracker._process.kill()
    tracker._process.wait()
    with pytest.raises(ChildError, match="tracking process ended unexpectedly"):
        tracker.log_metrics({"x": 1.0})


def test_the_child_ignores_a_ctrl_c_the_job_decides_how_the_run_ends(tmp_path: Path):
    store = tmp_path / "mlflow"
    tracker = ChildProcessTracker(local_tracker(store))
    tracker.start(INFO)
    assert tracker._process is not None
    os.kill(tracker._process.pid, signal.SIGINT)
    os.kill(tracker._process.pid, signal.SIGTERM)
    tracker.log_metrics({"x": 1.0})
    tracker.end(KILLED, "stopped by SIGINT")
    _, run = read_run(store)
    assert run.info.status == "KILLED"
    assert run.data.tags["smcluster.failure"] == "stopped by SIGINT"


def test_a_job_killed_outright_still_has_its_run_closed_as_killed(tmp_path: Path):
    """The job process is SIGKILLed (as the kernel does when memory runs out) mid-run."""
    store = tmp_path / "mlflow"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from smcluster.tracking.base import RunInfo
        from smcluster.tracking.child import ChildProcessTracker
        from smcluster.tracking.mlflow_backend import MlflowTracker, local_store_uri
        store = Path({str(store)!r})
        tracker = ChildProcessTracker(MlflowTracker(local_store_uri(store), local_dir=store))
        tracker.start(RunInfo("run-1", "child-tests"))
        tracker.log_params({{"min_samples": 8}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    job = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert job.returncode == -signal.SIGKILL, job.stderr
    deadline = time.monotonic() + 60
    while True:
        _, run = read_run(store)
        if run.info.status != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert run.info.status == KILLED
    assert run.data.tags["smcluster.failure"] == LOST_JOB_REASON
    assert run.data.params == {"min_samples": "8"}


class Slow(NoTracker):
    """Imported by the child from this module: a call that outlasts the job that made it."""

    name = "slow"

    def log_params(self, params):
        time.sleep(2)


def test_a_job_gone_during_a_call_leaves_no_traceback_from_the_child(tmp_path: Path):
    """The job exits (os._exit, as `train` does) while the child is still answering a call:
    the child's reply meets a closed pipe; it ends quietly instead of printing BrokenPipeError."""
    script = textwrap.dedent(
        """
        import os, threading
        from smcluster.tracking.base import RunInfo
        from smcluster.tracking.child import ChildProcessTracker
        from tests.test_tracking_child import Slow
        tracker = ChildProcessTracker(Slow())
        tracker.start(RunInfo("run-1", "child-tests"))
        threading.Timer(0.5, lambda: os._exit(143)).start()
        tracker.log_params({"min_samples": 8})
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    job = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert job.returncode == 143, job.stderr
    assert "Traceback" not in job.stderr and "BrokenPipeError" not in job.stderr, job.stderr
