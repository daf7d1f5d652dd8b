"""Leaderboards: a tuning job's training jobs, named training jobs, or local tuning trials.

Rows are plain dicts (`name`, `status`, `objective`, `hyperparameters`) ranked by the objective's
direction from `metrics`; jobs without an objective value (failed, stopped, running) rank last.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from ..contract.metrics import OBJECTIVE, objective_direction
from ..contract.schema import is_reserved


def sagemaker_client(region: str | None = None, profile: str | None = None) -> Any:
    import boto3

    return boto3.Session(region_name=region, profile_name=profile).client("sagemaker")


def _row(name: str, status: str, objective: float | None, hp: dict[str, Any]) -> dict[str, Any]:
    shown = {k: str(v) for k, v in sorted(hp.items()) if not is_reserved(k)}
    return {"name": name, "status": status, "objective": objective, "hyperparameters": shown}


def tuning_job_rows(client: Any, tuning_job: str) -> list[dict[str, Any]]:
    """A tuning job's training jobs with their final objective and tuned hyperparameters."""
    rows: list[dict[str, Any]] = []
    request: dict[str, Any] = {"HyperParameterTuningJobName": tuning_job, "MaxResults": 100}
    while True:
        page = client.list_training_jobs_for_hyper_parameter_tuning_job(**request)
        for job in page["TrainingJobSummaries"]:
            final = job.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
            row = _row(
                job["TrainingJobName"],
                job["TrainingJobStatus"],
                final.get("Value"),
                job.get("TunedHyperParameters", {}),
            )
            ended = job.get("TrainingEndTime")
            row["ended"] = ended.isoformat() if ended is not None else None
            rows.append(row)
        if not page.get("NextToken"):
            return rows
        request["NextToken"] = page["NextToken"]


def training_job_rows(
    client: Any, names: Iterable[str], objective: str = OBJECTIVE
) -> list[dict[str, Any]]:
    """Named training jobs with their final `objective` metric and hyperparameters."""
    rows = []
    for name in names:
        job = client.describe_training_job(TrainingJobName=name)
        finals = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
        rows.append(
            _row(name, job["TrainingJobStatus"], finals.get(objective), job["HyperParameters"])
        )
    return rows


def rank(rows: list[dict[str, Any]], objective: str = OBJECTIVE) -> list[dict[str, Any]]:
    """Best first by the objective's direction; adds `rank`."""
    sign = -1.0 if objective_direction(objective) == "Maximize" else 1.0

    def key(row: dict[str, Any]) -> tuple[int, float]:
        value = row["objective"]
        if value is None or not math.isfinite(value):
            return (1, 0.0)
        return (0, sign * value)

    ranked = sorted(rows, key=key)
    return [{"rank": i, **row} for i, row in enumerate(ranked, start=1)]


def as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2) + "\n"


def as_table(rows: list[dict[str, Any]], objective: str = OBJECTIVE) -> str:
    """Aligned columns: rank, objective, status, name, then every hyperparameter seen."""
    names = sorted({k for row in rows for k in row["hyperparameters"]})
    header = ["rank", objective, "status", "name", *names]
    body = [
        [
            str(row["rank"]),
            "-" if row["objective"] is None else f"{row['objective']:.6g}",
            row["status"],
            row["name"],
            *(row["hyperparameters"].get(k, "-") for k in names),
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    text = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in [header, *body]
    ]
    return "\n".join(line.rstrip() for line in text) + "\n"
