"""botocore's Stubber on a real SageMaker client, for calls moto lacks
(ListTrainingJobsForHyperParameterTuningJob): responses shaped as the service model documents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from smcluster.contract.metrics import OBJECTIVE
from smcluster.tools import compare

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def training_job_summary(
    name: str, status: str, value: float | None, minutes: int | None = None, **tuned: str
) -> dict[str, Any]:
    """One TrainingJobSummaries entry; `minutes` after NOW it started, five later it ended."""
    summary: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "CreationTime": NOW,
        "TrainingJobStatus": status,
        "TunedHyperParameters": tuned,
    }
    if minutes is not None:
        summary["TrainingStartTime"] = NOW + timedelta(minutes=minutes)
        summary["TrainingEndTime"] = NOW + timedelta(minutes=minutes + 5)
    if value is not None:
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": "Maximize",
            "MetricName": OBJECTIVE,
            "Value": value,
        }
    return summary


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The client `compare.sagemaker_client` hands out, answering only what a test adds."""
    client = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stubber = Stubber(client)
    monkeypatch.setattr(compare, "sagemaker_client", lambda region, profile: client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()
