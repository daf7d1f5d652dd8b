"""`smcluster compare-jobs`: leaderboards of SageMaker training jobs, best first.

AWS cannot be reached. moto has no ListTrainingJobsForHyperParameterTuningJob and answers
DescribeTrainingJob with placeholder metrics, so botocore's `Stubber` stands in for SageMaker
here: each test states the responses SageMaker documents for those calls, and the real boto3
client, paging and ranking code run against them.
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from smcluster.cli import main
from smcluster.contract.metrics import OBJECTIVE

from .sagemaker_stub import NOW, stubbed, training_job_summary

__all__ = ["stubbed"]  # a fixture


def test_tuning_job_leaderboard_pages_and_ranks(
    stubbed: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    """botocore's Stubber stands in for SageMaker (moto lacks this call); two pages of jobs."""
    first = {"HyperParameterTuningJobName": "tune-1", "MaxResults": 100}
    stubbed.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {
            "TrainingJobSummaries": [
                training_job_summary(
                    "job-a", "Completed", 0.41, n_components="4", algorithm="kmeans"
                ),
                training_job_summary("job-b", "Failed", None, n_components="9", algorithm="gmm"),
            ],
            "NextToken": "page-2",
        },
        first,
    )
    stubbed.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {
            "TrainingJobSummaries": [
                training_job_summary("job-c", "Completed", 0.63, n_components="3")
            ]
        },
        {**first, "NextToken": "page-2"},
    )

    assert main(["compare-jobs", "--tuning-job", "tune-1", "--format", "json"]) == 0

    rows = json.loads(capsys.readouterr().out)
    assert [(r["rank"], r["name"], r["objective"]) for r in rows] == [
        (1, "job-c", 0.63),
        (2, "job-a", 0.41),
        (3, "job-b", None),
    ]
    assert rows[1]["hyperparameters"] == {"algorithm": "kmeans", "n_components": "4"}
    assert rows[2]["status"] == "Failed"


def test_training_jobs_table_uses_final_objective_metric(
    stubbed: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    """botocore's Stubber stands in for DescribeTrainingJob (moto's has placeholder metrics)."""
    for name, davies_bouldin in (("job-x", 1.9), ("job-y", 0.7)):
        stubbed.add_response(
            "describe_training_job",
            {
                "TrainingJobName": name,
                "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
                "ModelArtifacts": {"S3ModelArtifacts": f"s3://b/{name}/output/model.tar.gz"},
                "TrainingJobStatus": "Completed",
                "SecondaryStatus": "Completed",
                "HyperParameters": {"reducer": "pca", "_tuning_objective_metric": OBJECTIVE},
                "AlgorithmSpecification": {"TrainingInputMode": "File"},
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                "CreationTime": NOW,
                "FinalMetricDataList": [
                    {"MetricName": "train:silhouette", "Value": 0.5, "Timestamp": NOW},
                    {"MetricName": "train:davies_bouldin", "Value": davies_bouldin},
                ],
            },
            {"TrainingJobName": name},
        )
    argv = ["compare-jobs", "--training-jobs", "job-x,job-y", "--objective", "train:davies_bouldin"]

    assert main(argv) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["rank", "train:davies_bouldin", "status", "name", "reducer"]
    assert lines[1].split() == ["1", "0.7", "Completed", "job-y", "pca"]  # Minimize: lower first
    assert lines[2].split() == ["2", "1.9", "Completed", "job-x", "pca"]


def test_aws_errors_are_one_line(stubbed: Stubber, capsys: pytest.CaptureFixture[str]) -> None:
    """botocore's Stubber stands in for SageMaker answering that the tuning job does not exist."""
    stubbed.add_client_error(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        service_error_code="ResourceNotFound",
        service_message="Amazon SageMaker can't find a tuning job named nope",
    )

    assert main(["compare-jobs", "--tuning-job", "nope"]) == 2

    err = capsys.readouterr().err
    assert "can't find a tuning job named nope" in err
    assert "Fix: check the name and the region" in err


@pytest.mark.parametrize("names", ["", ",,", " , "])
def test_training_jobs_naming_no_job_is_refused_before_aws(
    names: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare-jobs", "--training-jobs", names]) == 2
    assert capsys.readouterr().err.startswith("ArgumentError: --training-jobs names no job")
