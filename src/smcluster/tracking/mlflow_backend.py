"""MLflow: a tracking server, a SageMaker managed MLflow ARN (sagemaker-mlflow plugin) or a local
SQLite store. Uses `MlflowClient` with an explicit run id, so no global active-run state is shared
between the job thread and the signal handler. MLflow is imported here, lazily: it is slow.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..pipeline.load import ChannelInput
from .base import ParamValue, RunInfo, artifact_files

# Bound MLflow's HTTP retries (default: 7 retries, 120 s timeout each, minutes in all).
HTTP_BOUNDS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}
LOCAL_DB = "mlflow.db"
LOCAL_ARTIFACTS = "artifacts"
PARAM_VALUE_LIMIT = 6000  # MLflow's limit on a parameter value
BATCH = 100  # MLflow's limit on parameters per log_batch call


def bound_http_requests() -> None:
    """Cap MLflow's HTTP retries and timeout (unless set already); call before importing it."""
    for key, value in HTTP_BOUNDS.items():
        os.environ.setdefault(key, value)


def local_store_uri(store_dir: Path) -> str:
    return f"sqlite:///{(store_dir / LOCAL_DB).resolve()}"


class MlflowTracker:
    name = "mlflow"

    def __init__(self, tracking_uri: str, local_dir: Path | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.local_dir = local_dir  # set for the local store: artifacts go beside the database
        self.client: Any = None  # MlflowClient, once started
        self.run_id: str | None = None

    def describe(self) -> str:
        return f"MLflow at {self.tracking_uri}"

    def start(self, info: RunInfo) -> None:
        bound_http_requests()
        from mlflow.tracking import MlflowClient, set_tracking_uri

        # sagemaker-mlflow's request headers read the global URI, not the client's: set both.
        set_tracking_uri(self.tracking_uri)
        if self.local_dir is not None:
            self.local_dir.mkdir(parents=True, exist_ok=True)
        self.client = MlflowClient(tracking_uri=self.tracking_uri)
        experiment_id = self._experiment(info.experiment_name)
        run = self.client.create_run(experiment_id, run_name=info.run_name, tags=info.tags)
        self.run_id = run.info.run_id

    def _experiment(self, name: str) -> str:
        existing = self.client.get_experiment_by_name(name)
        if existing is not None:
            return str(existing.experiment_id)
        location = None
        if self.local_dir is not None:
            location = (self.local_dir / LOCAL_ARTIFACTS).resolve().as_uri()
        try:
            return str(self.client.create_experiment(name, artifact_location=location))
        except Exception:
            # Another job created it between our two calls.
            existing = self.client.get_experiment_by_name(name)
            if existing is None:
                raise
            return str(existing.experiment_id)

    def log_params(self, params: dict[str, ParamValue]) -> None:
        from mlflow.entities import Param

        items = [Param(k, str(v)[:PARAM_VALUE_LIMIT]) for k, v in sorted(params.items())]
        for start in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, params=items[start : start + BATCH])

    def log_inputs(self, inputs: list[ChannelInput]) -> None:
        import json

        from mlflow.entities import Dataset, DatasetInput, InputTag

        datasets = [
            DatasetInput(
                Dataset(
                    name=record.channel,
                    digest=record.sha256[:36],
                    source_type="local" if record.source.startswith("/") else "external",
                    source=json.dumps({"uri": record.source, "files": record.files[:100]}),
                    schema=json.dumps({"columns": record.columns}),
                    profile=json.dumps({"num_rows": record.rows, "files": len(record.files)}),
                ),
                tags=[InputTag("mlflow.data.context", record.channel)],
            )
            for record in inputs
        ]
        self.client.log_inputs(self.run_id, datasets=datasets)

    def log_metrics(self, metrics: dict[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, 0) for k, v in sorted(metrics.items())]
        for start in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, metrics=items[start : start + BATCH])

    def log_artifacts(self, directory: Path) -> None:
        for path in artifact_files(directory):
            parent = path.parent.relative_to(directory).as_posix()
            self.client.log_artifact(self.run_id, str(path), None if parent == "." else parent)

    def set_tags(self, tags: dict[str, str]) -> None:
        for key, value in sorted(tags.items()):
            self.client.set_tag(self.run_id, key, value)

    def end(self, status: str, message: str = "") -> None:
        if message:
            self.client.set_tag(self.run_id, "smcluster.failure", message[:5000])
        self.client.set_terminated(self.run_id, status)
