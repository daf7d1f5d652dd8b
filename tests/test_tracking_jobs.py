"""Experiment tracking end to end: the real `train` script as a subprocess, real MLflow stores.

The SageMaker test runs against a moto server: moto stands in for SageMaker and S3, because no AWS
can be reached from the test machines.
"""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import pytest

from smcluster.contract.metrics import OBJECTIVE

from .jobtree import JobTree, TrainRun, smcluster

FAST = {"reducer": "pca", "n_components": "2"}

pytestmark = pytest.mark.slow


def make_job(base: Path, **hyperparameters: str) -> JobTree:
    """1,500 demo rows in two files, tracked by the default tracker (tracker=auto)."""
    return JobTree(base).write_demo(
        {**FAST, "tracker": "auto", **hyperparameters}, rows=1500, files=2, seed=3
    )


def set_hyperparameters(tree: JobTree, **hyperparameters: str) -> None:
    tree.set_hyperparameters(
        {**FAST, "id_column": "customer_id", "label_column": "segment", **hyperparameters}
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def local_store(base: Path) -> str:
    return f"sqlite:///{base / 'output' / 'data' / 'mlflow' / 'mlflow.db'}"


def _artifact_files(client, run_id: str, folder: str | None = None) -> list[str]:
    """Every artifact file of a run, folders walked (list_artifacts lists one level)."""
    files: list[str] = []
    for item in client.list_artifacts(run_id, folder):
        files += _artifact_files(client, run_id, item.path) if item.is_dir else [item.path]
    return files


def test_two_local_runs_are_found_through_mlflow_search_sorted_by_the_objective(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    tree = make_job(tmp_path / "opt_ml", min_samples="5")
    base = tree.base
    first = tree.run()
    assert first.returncode == 0, first.stderr
    set_hyperparameters(tree, min_samples="40")
    second = tree.run()
    assert second.returncode == 0, second.stderr

    client = MlflowClient(tracking_uri=local_store(base))
    experiment = client.get_experiment_by_name("smcluster")
    runs = client.search_runs(
        [experiment.experiment_id], order_by=[f"metrics.`{OBJECTIVE}` DESC"]
    )  # the objective is a Maximize metric (test_metrics checks its direction)
    assert len(runs) == 2
    scores = [run.data.metrics[OBJECTIVE] for run in runs]
    assert scores == sorted(scores, reverse=True)
    assert {run.data.params["min_samples"] for run in runs} == {"5", "40"}
    model_dir = base / "model"
    published = sorted(
        p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()
    )
    for run in runs:
        assert run.info.status == "FINISHED"
        params = run.data.params
        assert float(params["eps_used"]) > 0 and params["eps"] == "auto"
        assert params["versions.backend"] == "cpu" and params["smcluster_version"]
        assert run.data.tags["smcluster.backend"] == "cpu"
        assert run.data.tags["smcluster.model_location"] == str(base / "model")
        assert run.inputs.dataset_inputs[0].dataset.name == "train"
        assert json.loads(run.inputs.dataset_inputs[0].dataset.profile)["num_rows"] == 1500
        artifacts = sorted(_artifact_files(client, run.info.run_id))
        assert artifacts == published  # every file of the published model directory
        local = Path(client.download_artifacts(run.info.run_id, "metrics.json", str(tmp_path)))
        assert "train" in json.loads(local.read_text())
    # Both runs hashed the same data.
    digests = {run.inputs.dataset_inputs[0].dataset.digest for run in runs}
    assert len(digests) == 1

    board = smcluster("runs", "--store", str(base), "--format", "json")
    assert board.returncode == 0, board.stderr
    rows = json.loads(board.stdout)
    assert [row["run_id"] for row in rows] == [run.info.run_id for run in runs]
    assert [row["rank"] for row in rows] == [1, 2]
    table = smcluster("runs", "--store", str(base), "--metric", "train:noise_fraction")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["rank", "train:noise_fraction"]
    noise = [float(line.split()[1]) for line in lines[1:]]
    assert noise == sorted(noise)  # Minimize: smallest first


def test_a_bad_channel_is_recorded_as_a_failed_run(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    tree = make_job(tmp_path / "opt_ml")
    config = tree.config_dir / "inputdataconfig.json"
    config.write_text(json.dumps({"train": {}, "valdation": {}}))
    result = tree.run()
    assert result.returncode == 2
    client = MlflowClient(tracking_uri=local_store(tree.base))
    [run] = client.search_runs([client.get_experiment_by_name("smcluster").experiment_id])
    assert run.info.status == "FAILED"
    assert "did you mean 'validation'" in run.data.tags["smcluster.failure"]


def test_failed_job_closes_its_run_as_failed(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    tree = make_job(tmp_path / "opt_ml", features="no_such_column")
    result = tree.run()
    assert result.returncode != 0
    client = MlflowClient(tracking_uri=local_store(tree.base))
    [run] = client.search_runs([client.get_experiment_by_name("smcluster").experiment_id])
    assert run.info.status == "FAILED"
    assert "no_such_column" in run.data.tags["smcluster.failure"]


def test_stopped_job_closes_its_run_as_killed(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    # tracker_required starts the run before training; UMAP on 30k rows outlasts the signal.
    tree = JobTree(tmp_path / "opt_ml").write_demo(
        {"reducer": "umap", "tracker": "auto", "tracker_required": "true"}, rows=30_000
    )
    base = tree.base
    job = tree.start()
    try:
        for line in job.stdout:
            if "stage reduce_umap: started" in line:
                job.send_signal(signal.SIGTERM)
                break
        assert job.wait(timeout=120) == 143
    finally:
        job.kill()
    client = MlflowClient(tracking_uri=local_store(base))
    [run] = client.search_runs([client.get_experiment_by_name("smcluster").experiment_id])
    assert run.info.status == "KILLED"
    assert run.data.tags["smcluster.failure"].startswith("Stopped: the job received SIGTERM")


def test_unreachable_tracking_server_is_a_warning_unless_required(tmp_path: Path):
    uri = f"http://127.0.0.1:{closed_port()}"
    tree = make_job(tmp_path / "opt_ml", mlflow_tracking_uri=uri)
    result = tree.run()
    assert result.returncode == 0, result.stderr
    assert "experiment tracking" in result.stderr and "failed" in result.stderr
    assert tree.looks_complete()
    assert not tree.failure_file.exists()

    set_hyperparameters(tree, mlflow_tracking_uri=uri, tracker_required="true")
    required = tree.run()
    assert required.returncode == 2
    failure = tree.failure_file.read_text()
    assert failure.startswith("TrackingError: experiment tracking (MLflow at " + uri)
    assert "Fix:" in failure.splitlines()[0]


def test_sagemaker_job_logs_to_its_trial_component_on_moto(tmp_path: Path):
    """moto stands in for AWS here: a moto server plays SageMaker and S3 (no AWS is reachable).

    SageMaker creates a trial component `<job-name>-aws-training-job` for every training job, so
    the test creates it first, as SageMaker would, then runs `train` with TRAINING_JOB_ARN set.
    The test checks what the job records through the API: trial component parameters, input
    and output artifacts, the files in S3, and the metrics file for the on-host agent.
    """
    import boto3
    from moto.server import ThreadedMotoServer

    port = closed_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        aws = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        job = "smcluster-moto-job"
        sagemaker = boto3.client("sagemaker", endpoint_url=endpoint, **_credentials())
        sagemaker.create_trial_component(TrialComponentName=f"{job}-aws-training-job")
        tree = make_job(tmp_path / "opt_ml", min_samples="6")
        base = tree.base
        metrics_dir = tmp_path / "sagemaker-metrics"
        metrics_dir.mkdir()
        result = tree.run(
            env={
                **aws,
                "TRAINING_JOB_NAME": job,
                "TRAINING_JOB_ARN": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}",
                "SAGEMAKER_ENDPOINT": endpoint,
                "AWS_ENDPOINT_URL": endpoint,
                "SAGEMAKER_METRICS_DIRECTORY": str(metrics_dir),
            },
        )
        assert result.returncode == 0, result.stderr
        assert "SageMaker Experiments" in result.stderr
        assert "failed to" not in result.stderr, result.stderr

        component = sagemaker.describe_trial_component(TrialComponentName=f"{job}-aws-training-job")
        parameters = component["Parameters"]
        assert parameters["min_samples"] == {"NumberValue": 6.0}
        assert parameters["reducer"] == {"StringValue": "pca"}
        assert parameters["eps_used"]["NumberValue"] > 0
        assert parameters["smcluster.status"] == {"StringValue": "FINISHED"}
        assert parameters["tag.smcluster.backend"] == {"StringValue": "cpu"}
        assert parameters["input.train.rows"]["NumberValue"] == 1500
        assert component["InputArtifacts"]["smcluster.train"]["Value"].endswith("train")
        outputs = component["OutputArtifacts"]
        model_dir = base / "model"
        published = sorted(
            p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()
        )
        assert sorted(outputs) == published
        s3 = boto3.client("s3", endpoint_url=endpoint, **_credentials())
        for name, artifact in outputs.items():
            bucket, key = artifact["Value"].removeprefix("s3://").split("/", 1)
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert body == (base / "model" / name).read_bytes()
        written = "".join(p.read_text() for p in metrics_dir.iterdir())
        assert '"MetricName": "train:silhouette"' in written
    finally:
        server.stop()


def _credentials() -> dict[str, str]:
    return {
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


@pytest.mark.parametrize(
    ("algorithm", "extra"),
    [
        ("dbscan", {}),
        ("hdbscan", {"min_cluster_size": "60"}),
        ("kmeans", {"n_clusters": "6"}),
        ("gmm", {"n_clusters": "6", "covariance_type": "diag"}),
    ],
)
def test_every_algorithm_is_tracked_in_a_local_mlflow_run(tmp_path: Path, algorithm, extra):
    """eps exists for DBSCAN only: the other algorithms' runs must be recorded all the same."""
    from mlflow.tracking import MlflowClient

    tree = make_job(tmp_path / "opt_ml", algorithm=algorithm, tracker_required="true", **extra)
    result: TrainRun = tree.run()
    assert result.returncode == 0, result.failure
    assert "failed to" not in result.stderr
    client = MlflowClient(tracking_uri=local_store(tree.base))
    [run] = client.search_runs([client.get_experiment_by_name("smcluster").experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["algorithm"] == algorithm
    assert ("eps_used" in run.data.params) == (algorithm == "dbscan")
    metrics = result.metrics()["train"]
    assert run.data.metrics["train:n_clusters"] == metrics["n_clusters"]
    assert run.data.metrics["train:silhouette"] == pytest.approx(metrics["silhouette"])
