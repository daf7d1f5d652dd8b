"""`smcluster leaderboard` and `smcluster lineage`: SageMaker's own records of this image's jobs.

The leaderboard searches training jobs with SageMaker Search (by tag, name, experiment), then
filters by metric thresholds and sorts by any published metric here, on the final metric
values SageMaker recorded through the metric definitions (Search's own metric filters and sort
exist, but doing both here gives the same answer everywhere, moto included). Lineage goes from a
model artifact back to the training job that wrote it (SageMaker writes
`<output path>/<job name>/output/model.tar.gz`), its hyperparameters, inputs, image and the
image's digest in ECR, and the tuning job that launched it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..contract.errors import ArgumentError
from ..contract.metrics import METRICS, SPLITS, metric_name
from ..contract.schema import is_reserved
from .compare import rank

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}
MODEL_FILE = re.compile(r"^s3://[^/]+/(?:.+/)?(?P<job>[^/]+)/output/model\.tar\.gz$")
METRIC_NAMES = [metric_name(split, spec.name) for split in SPLITS for spec in METRICS]


def _paged(call: Callable[..., dict[str, Any]], key: str, **request: Any) -> list[Any]:
    found: list[Any] = []
    while True:
        page = call(**request)
        found.extend(page.get(key, []))
        if not page.get("NextToken"):
            return found
        request["NextToken"] = page["NextToken"]


def experiment_job_names(client: Any, experiment: str) -> set[str]:
    """Training jobs whose trial components belong to `experiment` (SageMaker Search)."""
    results = _paged(
        client.search,
        "Results",
        Resource="ExperimentTrialComponent",
        SearchExpression={
            "Filters": [
                {"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": experiment}
            ]
        },
    )
    names = set()
    for result in results:
        arn = result.get("TrialComponent", {}).get("Source", {}).get("SourceArn", "")
        if ":training-job/" in arn:
            names.add(arn.rsplit("/", 1)[-1])
    return names


def job_row(job: Mapping[str, Any]) -> dict[str, Any]:
    metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
    hyperparameters = {
        k: v for k, v in sorted(job.get("HyperParameters", {}).items()) if not is_reserved(k)
    }
    return {
        "name": job["TrainingJobName"],
        "status": job.get("TrainingJobStatus", "-"),
        "metrics": metrics,
        "hyperparameters": hyperparameters,
        "image": job.get("AlgorithmSpecification", {}).get("TrainingImage"),
        "model": job.get("ModelArtifacts", {}).get("S3ModelArtifacts"),
        "tags": {t["Key"]: t["Value"] for t in job.get("Tags", [])},
    }


def search_jobs(
    client: Any,
    tags: Mapping[str, str] | None = None,
    name_contains: str | None = None,
    experiment: str | None = None,
) -> list[dict[str, Any]]:
    """Training jobs matching every filter given, as leaderboard rows."""
    filters = [
        {"Name": f"Tags.{key}", "Operator": "Equals", "Value": value}
        for key, value in (tags or {}).items()
    ]
    if name_contains:
        filters.append({"Name": "TrainingJobName", "Operator": "Contains", "Value": name_contains})
    request: dict[str, Any] = {"Resource": "TrainingJob"}
    if filters:
        request["SearchExpression"] = {"Filters": filters}
    results = _paged(client.search, "Results", **request)
    rows = [job_row(r["TrainingJob"]) for r in results if "TrainingJob" in r]
    if experiment:
        members = experiment_job_names(client, experiment)
        rows = [row for row in rows if row["name"] in members]
    return rows


def parse_threshold(text: str) -> tuple[str, str, float]:
    """`train:dbcv>=0.5` → ("train:dbcv", ">=", 0.5)."""
    found = re.fullmatch(r"\s*([\w:]+)\s*(>=|<=|>|<|=)\s*(\S+)\s*", text)
    problem = None
    if not found:
        problem = "write METRIC>=VALUE (or <=, >, <, =), e.g. --where train:dbcv>=0.5"
    else:
        check_metric(found.group(1))
        try:
            return found.group(1), found.group(2), float(found.group(3))
        except ValueError:
            problem = f"{found.group(3)!r} is not a number"
    raise ArgumentError(f"--where {text!r} is invalid: {problem}.", "fix the --where value.")


def check_metric(name: str) -> None:
    if name not in METRIC_NAMES:
        raise ArgumentError(
            f"{name!r} is not a metric this image publishes.",
            f"use one of {', '.join(METRIC_NAMES)}.",
        )


def leaderboard(
    rows: Iterable[dict[str, Any]],
    sort: str,
    where: Iterable[tuple[str, str, float]] = (),
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Rows meeting every threshold, best first by `sort` (its own direction); no value last."""
    check_metric(sort)
    # `objective`: the sort metric's value, which compare's ranking and tables read.
    kept = [
        {"objective": row["metrics"].get(sort), **row}
        for row in rows
        if all(
            name in row["metrics"] and COMPARISONS[op](row["metrics"][name], value)
            for name, op, value in where
        )
    ]
    ranked = rank(kept, sort)
    return ranked[:limit] if limit else ranked


def image_digest(ecr: Any, image: str) -> str:
    """The ECR digest of `image` (`repo@sha256:...` as given; a tag looked up, as it is now)."""
    if "@sha256:" in image:
        return image.split("@", 1)[1]
    found = re.fullmatch(r"[^/]+\.dkr\.ecr\.[^/]+\.amazonaws\.com/([^:]+):(.+)", image)
    if not found:
        return "unknown (not an ECR image URI)"
    repository, tag = found.groups()
    try:
        details = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except Exception as exc:  # no permission, deleted tag: lineage still answers the rest
        return f"unknown ({type(exc).__name__}: {exc})"
    return str(details["imageDetails"][0]["imageDigest"])


def lineage(client: Any, ecr: Any, model_uri: str) -> dict[str, Any]:
    """Which job, hyperparameters, inputs and image produced `model_uri`."""
    found = MODEL_FILE.match(model_uri)
    job: dict[str, Any] | None = None
    if found:
        from botocore.exceptions import ClientError

        try:
            job = client.describe_training_job(TrainingJobName=found.group("job"))
        except ClientError:  # no such job here: Search by the artifact below
            job = None
    if job is None or job.get("ModelArtifacts", {}).get("S3ModelArtifacts") != model_uri:
        results = _paged(
            client.search,
            "Results",
            Resource="TrainingJob",
            SearchExpression={
                "Filters": [
                    {
                        "Name": "ModelArtifacts.S3ModelArtifacts",
                        "Operator": "Equals",
                        "Value": model_uri,
                    }
                ]
            },
        )
        jobs = [r["TrainingJob"] for r in results if "TrainingJob" in r]
        if not jobs:
            raise ArgumentError(
                f"no training job in this account and region wrote {model_uri}.",
                "pass the S3 URI of a job's model.tar.gz (DescribeTrainingJob's "
                "ModelArtifacts.S3ModelArtifacts), with --region where the job ran.",
            )
        job = jobs[0]
    if "Tags" not in job and job.get("TrainingJobArn"):  # DescribeTrainingJob has no tags
        job = {**job, "Tags": _paged(client.list_tags, "Tags", ResourceArn=job["TrainingJobArn"])}
    row = job_row(job)
    image = row["image"] or "-"
    return {
        "model": model_uri,
        "training_job": row["name"],
        "training_job_arn": job.get("TrainingJobArn"),
        "status": row["status"],
        "created": str(job.get("CreationTime", "-")),
        "ended": str(job.get("TrainingEndTime", "-")),
        "tuning_job_arn": job.get("TuningJobArn"),
        "hyperparameters": row["hyperparameters"],
        "inputs": {
            channel["ChannelName"]: channel["DataSource"]["S3DataSource"]["S3Uri"]
            for channel in job.get("InputDataConfig", [])
            if "S3DataSource" in channel.get("DataSource", {})
        },
        "image": image,
        "image_digest": image_digest(ecr, image),
        "metrics": row["metrics"],
        "tags": row["tags"],
    }
