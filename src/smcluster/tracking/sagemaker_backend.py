"""SageMaker Experiments inside a training job, on boto3's SageMaker API.

SageMaker creates a trial component named `<job-name>-aws-training-job` for every training job;
this backend loads it by that name (DescribeTrialComponent, retried for at most `wait_s` while
SageMaker creates it) and records the run on it with UpdateTrialComponent: parameters, input
artifacts (the channels), output artifacts (each model file, uploaded to the SageMaker default
bucket as sagemaker-experiments did) and the run's status. Metrics go to the on-host agent
through `$SAGEMAKER_METRICS_DIRECTORY` (one JSON record per line), the path SageMaker documents
for training jobs. boto3 is maintained and already in the image: it replaced sagemaker-experiments
(last release 2023, which needed setuptools' removed `pkg_resources`). SageMaker itself links the
job's trial component to its inputs and model in the lineage graph. Clients get short timeouts
and few retries so an unreachable endpoint fails fast.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from ..pipeline.load import ChannelInput
from .base import ParamValue, RunInfo, artifact_files

log = logging.getLogger("smcluster.tracking")

STRING_LIMIT = 2500  # a trial component parameter's StringValue
MAX_ARTIFACTS = 30  # a trial component holds at most 30 input and 30 output artifacts
NOT_FOUND = ("ValidationException", "ResourceNotFound")
ARTIFACT_PREFIX = "trial-component-artifacts"


def job_name_from_env(env: dict[str, str]) -> str:
    arn = env.get("TRAINING_JOB_ARN", "")
    return env.get("TRAINING_JOB_NAME") or arn.rsplit("/", 1)[-1]


def _parameter(value: ParamValue) -> dict[str, Any]:
    """Numbers stay numbers (NumberValue); the rest become strings within SageMaker's limit."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"NumberValue": float(value)}
    return {"StringValue": str(value)[:STRING_LIMIT]}


def trial_component_name(job_name: str) -> str:
    return f"{job_name}-aws-training-job"


def _arn_part(env: dict[str, str], index: int) -> str | None:
    parts = env.get("TRAINING_JOB_ARN", "").split(":")
    return parts[index] if len(parts) > index and parts[index] else None


class SageMakerTracker:
    name = "sagemaker"

    def __init__(self, env: dict[str, str], wait_s: float = 60.0) -> None:
        self.env = env
        self.wait_s = wait_s
        self.job_name = job_name_from_env(env)
        self.component = trial_component_name(self.job_name)
        self.client: Any = None  # boto3 SageMaker client, once started
        self.session: Any = None
        # Everything recorded so far, sent whole on each update: the API adds and replaces by
        # key, and a fake that replaces the whole map (moto) then keeps every value too.
        self.parameters: dict[str, dict[str, Any]] = {}
        self.inputs: dict[str, dict[str, str]] = {}
        self.outputs: dict[str, dict[str, str]] = {}
        self.metrics_file: Any = None

    def describe(self) -> str:
        endpoint = self.env.get("SAGEMAKER_ENDPOINT")
        where = f" at {endpoint}" if endpoint else ""
        return f"SageMaker Experiments{where}, trial component {self.component}"

    def _connect(self) -> None:
        import boto3
        from botocore.config import Config

        self.config = Config(
            connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
        )
        self.session = boto3.Session(
            region_name=self.env.get("AWS_REGION") or _arn_part(self.env, 3)
        )
        endpoint = self.env.get("SAGEMAKER_ENDPOINT", "").strip() or None
        self.client = self.session.client("sagemaker", endpoint_url=endpoint, config=self.config)

    def _update(self, **fields: Any) -> None:
        self.client.update_trial_component(TrialComponentName=self.component, **fields)

    def _parameters(self, params: dict[str, ParamValue]) -> None:
        self.parameters.update({k: _parameter(v) for k, v in params.items()})
        self._update(Parameters=self.parameters)

    def start(self, info: RunInfo) -> None:
        from botocore.exceptions import ClientError

        if not self.job_name:
            raise RuntimeError("TRAINING_JOB_ARN is not set: not inside a SageMaker training job")
        self._connect()
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                self.client.describe_trial_component(TrialComponentName=self.component)
                break
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in NOT_FOUND or time.monotonic() > deadline:
                    raise
                time.sleep(2)
        folder = self.env.get("SAGEMAKER_METRICS_DIRECTORY")
        if folder:
            # Line-buffered, one record per line: what the on-host metrics agent reads.
            self.metrics_file = open(Path(folder) / f"{os.getpid()}.json", "a", buffering=1)  # noqa: SIM115
        self.set_tags(info.tags)

    def log_params(self, params: dict[str, ParamValue]) -> None:
        self._parameters(params)

    def log_inputs(self, inputs: list[ChannelInput]) -> None:
        self.inputs.update(
            {
                f"smcluster.{r.channel}": {"Value": r.source, "MediaType": r.content_type}
                for r in inputs
            }
        )
        parameters: dict[str, ParamValue] = {}
        for r in inputs:
            parameters.update(
                {
                    f"input.{r.channel}.rows": r.rows,
                    f"input.{r.channel}.columns": len(r.columns),
                    f"input.{r.channel}.files": len(r.files),
                    f"input.{r.channel}.sha256": r.sha256,
                }
            )
        self._update(InputArtifacts=self.inputs)
        self._parameters(parameters)

    def log_metrics(self, metrics: dict[str, float]) -> None:
        # SageMaker also reads these from the log through the metric definitions; the agent
        # adds them to the trial component's metrics.
        if self.metrics_file is None:
            return
        now = time.time()
        for key, value in metrics.items():
            record = {"MetricName": key, "Value": float(value), "Timestamp": now}
            self.metrics_file.write(json.dumps(record) + "\n")

    def _bucket(self) -> str:
        """The SageMaker default bucket of the job's account and region, created if missing."""
        from botocore.exceptions import ClientError

        region = self.session.region_name
        account = _arn_part(self.env, 4)
        if account is None:
            sts = self.session.client("sts", config=self.config)
            account = sts.get_caller_identity()["Account"]
        bucket = f"sagemaker-{region}-{account}"
        try:
            self.s3.head_bucket(Bucket=bucket)
        except ClientError:
            where = (
                {}
                if region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            self.s3.create_bucket(Bucket=bucket, **where)
        return bucket

    def log_artifacts(self, directory: Path) -> None:
        files = artifact_files(directory)
        room = max(MAX_ARTIFACTS - len(self.outputs), 0)
        if files[:room]:
            self.s3 = self.session.client(
                "s3", endpoint_url=self.env.get("AWS_ENDPOINT_URL") or None, config=self.config
            )
            bucket = self._bucket()
            for path in files[:room]:
                name = path.relative_to(directory).as_posix()
                key = f"{ARTIFACT_PREFIX}/{self.component}/{name}"
                self.s3.upload_file(str(path), bucket, key)
                self.outputs[name] = {"Value": f"s3://{bucket}/{key}"}
            self._update(OutputArtifacts=self.outputs)
        if len(files) > room:
            skipped = [p.name for p in files[room:]]
            log.warning("trial component is full (30 outputs): not uploaded: %s", skipped)

    def set_tags(self, tags: dict[str, str]) -> None:
        # The job's trial component is SageMaker's: tags go beside the other parameters.
        self._parameters({f"tag.{k}": v for k, v in tags.items()})

    def end(self, status: str, message: str = "") -> None:
        if self.metrics_file is not None:
            self.metrics_file.close()
            self.metrics_file = None
        ended: dict[str, ParamValue] = {"smcluster.status": status}
        if message:
            ended["smcluster.failure"] = message
        self._parameters(ended)
