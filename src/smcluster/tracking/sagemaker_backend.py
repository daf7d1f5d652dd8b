"""SageMaker Experiments inside a training job, through sagemaker-experiments' `Tracker`.

SageMaker creates a trial component named `<job-name>-aws-training-job` for every training job.
`Tracker.load()` without arguments finds it by polling ListTrialComponents for up to 300 s; we
load it by that name instead (one DescribeTrialComponent call) and retry for at most `wait_s`.
Clients get short timeouts and few retries so an unreachable endpoint fails fast.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from ..pipeline.load import ChannelInput
from .base import ParamValue, RunInfo, artifact_files

log = logging.getLogger("smcluster.tracking")

STRING_LIMIT = 2500  # a trial component parameter's StringValue
MAX_ARTIFACTS = 30  # a trial component holds at most 30 input and 30 output artifacts
NOT_FOUND = ("ValidationException", "ResourceNotFound")
LINEAGE_CALLS = ("CreateArtifact", "AddAssociation")


def job_name_from_env(env: dict[str, str]) -> str:
    arn = env.get("TRAINING_JOB_ARN", "")
    return env.get("TRAINING_JOB_NAME") or arn.rsplit("/", 1)[-1]


def _parameter(value: ParamValue) -> str | int | float:
    """Numbers stay numbers (NumberValue); the rest become strings within SageMaker's limit."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value)[:STRING_LIMIT]


def trial_component_name(job_name: str) -> str:
    return f"{job_name}-aws-training-job"


def _region(env: dict[str, str]) -> str | None:
    arn_parts = env.get("TRAINING_JOB_ARN", "").split(":")
    return env.get("AWS_REGION") or (arn_parts[3] if len(arn_parts) > 3 else None)


class SageMakerTracker:
    name = "sagemaker"

    def __init__(self, env: dict[str, str], wait_s: float = 60.0) -> None:
        self.env = env
        self.wait_s = wait_s
        self.job_name = job_name_from_env(env)
        self.tracker: Any = None  # smexperiments' Tracker, once started
        self.metrics_writer: Any = None

    def describe(self) -> str:
        endpoint = self.env.get("SAGEMAKER_ENDPOINT")
        where = f" at {endpoint}" if endpoint else ""
        return (
            f"SageMaker Experiments{where}, trial component {trial_component_name(self.job_name)}"
        )

    def _clients(self) -> tuple[Any, Any]:
        import boto3
        import botocore.session
        from botocore.config import Config

        config = Config(
            connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
        )
        core = botocore.session.get_session()
        core.set_default_client_config(config)  # also bounds the S3 client the uploader makes
        session = boto3.Session(botocore_session=core, region_name=_region(self.env))
        endpoint = self.env.get("SAGEMAKER_ENDPOINT", "").strip() or None
        return session, session.client("sagemaker", endpoint_url=endpoint)

    def start(self, info: RunInfo) -> None:
        from botocore.exceptions import ClientError
        from smexperiments.tracker import Tracker

        if not self.job_name:
            raise RuntimeError("TRAINING_JOB_ARN is not set: not inside a SageMaker training job")
        session, client = self._clients()
        name = trial_component_name(self.job_name)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                self.tracker = Tracker.load(
                    trial_component_name=name, boto3_session=session, sagemaker_boto_client=client
                )
                break
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in NOT_FOUND or time.monotonic() > deadline:
                    raise
                time.sleep(2)
        if self.env.get("SAGEMAKER_METRICS_DIRECTORY"):
            from smexperiments.metrics import SageMakerFileMetricsWriter

            self.metrics_writer = SageMakerFileMetricsWriter()
        self.set_tags(info.tags)

    def log_params(self, params: dict[str, ParamValue]) -> None:
        self.tracker.log_parameters({k: _parameter(v) for k, v in params.items()})

    def log_inputs(self, inputs: list[ChannelInput]) -> None:
        for record in inputs:
            self.tracker.log_input(
                f"smcluster.{record.channel}", record.source, media_type=record.content_type
            )
            self.tracker.log_parameters(
                {
                    f"input.{record.channel}.rows": record.rows,
                    f"input.{record.channel}.columns": len(record.columns),
                    f"input.{record.channel}.files": len(record.files),
                    f"input.{record.channel}.sha256": record.sha256,
                }
            )

    def log_metrics(self, metrics: dict[str, float]) -> None:
        # SageMaker also reads these from the log through the metric definitions; the file
        # writer feeds the trial component's metrics through the on-host agent.
        if self.metrics_writer is not None:
            for key, value in metrics.items():
                self.metrics_writer.log_metric(key, value)

    def log_artifacts(self, directory: Path) -> None:
        files = artifact_files(directory)
        room = MAX_ARTIFACTS - len(self.tracker.trial_component.output_artifacts)
        for path in files[: max(room, 0)]:
            self.tracker.log_output_artifact(str(path), name=path.relative_to(directory).as_posix())
        if len(files) > room:
            skipped = [p.name for p in files[max(room, 0) :]]
            log.warning("trial component is full (30 outputs): not uploaded: %s", skipped)

    def set_tags(self, tags: dict[str, str]) -> None:
        # Trial components loaded by a job have no tag call in this library: keep them as
        # parameters so they show beside the others.
        self.tracker.log_parameters({f"tag.{k}": v for k, v in tags.items()})

    def end(self, status: str, message: str = "") -> None:
        from botocore.exceptions import ClientError

        if self.metrics_writer is not None:
            self.metrics_writer.close()
        self.tracker.log_parameter("smcluster.status", status)
        if message:
            self.tracker.log_parameter("smcluster.failure", message[:STRING_LIMIT])
        try:
            self.tracker.close()  # saves the trial component, then creates lineage entities
        except ClientError as exc:
            if exc.operation_name not in LINEAGE_CALLS:
                raise
            # Parameters and artifacts are saved already; only the lineage graph is missing.
            log.warning(
                "trial component saved, but its lineage artifacts were not created (%s): give "
                "the job's role sagemaker:CreateArtifact and sagemaker:AddAssociation.",
                exc,
            )
