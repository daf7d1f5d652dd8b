"""`smcluster leaderboard` and `smcluster lineage` against SageMaker's records.

moto stands in for SageMaker, S3 and ECR where it implements the calls (Search on training jobs
by tag and name, DescribeTrainingJob, DescribeImages). moto records no final metric values and
has no `Parents.ExperimentName` search on trial components, so botocore's Stubber stands in for
SageMaker in the tests of metric thresholds, sorting and the experiment filter, with responses
shaped as the service model documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from smcluster.cli import main
from smcluster.tools import launch
from tests.container import test_local_mode

from .sagemaker_stub import NOW, stubbed

__all__ = ["stubbed"]  # a fixture
sdk_environment = test_local_mode.sdk_environment  # dummy credentials and region
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/smcluster:0.1.0-cpu"
BUCKET = "smcluster-test"


@pytest.fixture
def aws(sdk_environment: None) -> Iterator[Any]:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield boto3.client("sagemaker", region_name="us-east-1")


def _launch(client: Any, base: str, **tags: str) -> str:
    spec = launch.JobSpec(
        image_uri=IMAGE,
        role=test_local_mode.ROLE,
        instance_type="ml.m5.xlarge",
        output_path=f"s3://{BUCKET}/models/",
        hyperparameters={"reducer": "pca", "min_samples": "12"},
        train=f"s3://{BUCKET}/customers/",
        base_job_name=base,
        tags=tags,
    )
    return launch.launch_training(spec, client)


def test_leaderboard_searches_by_tag_and_name(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """moto stands in for SageMaker Search over the training jobs the launcher created."""
    growth = _launch(aws, "growth", team="growth")
    _launch(aws, "churn", team="churn")
    argv = ["leaderboard", "--tag", "team=growth", "--format", "json", "--region", "us-east-1"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == [growth]
    assert rows[0]["hyperparameters"] == {"min_samples": "12", "reducer": "pca"}
    assert rows[0]["image"] == IMAGE
    assert main(["leaderboard", "--name-contains", "churn", "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert "churn-" in out and "growth-" not in out and "1 of 1 jobs found" in out


def _job(name: str, metrics: dict[str, float], **hp: str) -> dict[str, Any]:
    return {
        "TrainingJob": {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
            "TrainingJobStatus": "Completed",
            "CreationTime": NOW,
            "HyperParameters": {**hp, "_tuning_objective_metric": "train:dbcv"},
            "FinalMetricDataList": [
                {"MetricName": k, "Value": v, "Timestamp": NOW} for k, v in metrics.items()
            ],
        }
    }


def test_leaderboard_thresholds_sorts_and_joins_an_experiment(
    stubbed: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    """botocore's Stubber stands in for SageMaker (final metrics, experiment search)."""
    jobs = [
        _job("a", {"train:dbcv": 0.41, "train:davies_bouldin": 0.9}, min_samples="5"),
        _job("b", {"train:dbcv": 0.62, "train:davies_bouldin": 0.4}, min_samples="10"),
        _job("c", {"train:dbcv": 0.55, "train:davies_bouldin": 0.2}, min_samples="20"),
        _job("d", {}, min_samples="40"),
    ]
    stubbed.add_response(
        "search",
        {"Results": jobs[:2], "NextToken": "more"},
        {
            "Resource": "TrainingJob",
            "SearchExpression": {
                "Filters": [{"Name": "Tags.team", "Operator": "Equals", "Value": "g"}]
            },
        },
    )
    stubbed.add_response(
        "search",
        {"Results": jobs[2:]},
        {
            "Resource": "TrainingJob",
            "SearchExpression": {
                "Filters": [{"Name": "Tags.team", "Operator": "Equals", "Value": "g"}]
            },
            "NextToken": "more",
        },
    )
    members = [
        {"TrialComponent": {"Source": {"SourceArn": jobs[i]["TrainingJob"]["TrainingJobArn"]}}}
        for i in (0, 2, 3)
    ]
    stubbed.add_response("search", {"Results": members}, {
        "Resource": "ExperimentTrialComponent",
        "SearchExpression": {
            "Filters": [{"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": "seg"}]
        },
    })  # fmt: skip
    argv = [
        *("leaderboard", "--tag", "team=g", "--experiment", "seg", "--format", "json"),
        *("--sort", "train:davies_bouldin", "--where", "train:dbcv>=0.5", "--region", "us-east-1"),
    ]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    # b is not in the experiment; a is below the threshold; d has no metrics; c ranks first.
    assert [(r["rank"], r["name"]) for r in rows] == [(1, "c")]
    assert "_tuning_objective_metric" not in rows[0]["hyperparameters"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sort", "train:dbcvv"], "'train:dbcvv' is not a metric this image publishes"),
        (["--where", "train:dbcv=>0.5"], "is invalid"),
        (["--where", "train:dbcv>=high"], "'high' is not a number"),
    ],
)
def test_bad_leaderboard_arguments_fail_before_any_call(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["leaderboard", *argv, "--region", "us-east-1"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Fix:" in err


def test_lineage_answers_job_hyperparameters_inputs_and_image_digest(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker and ECR (the image pushed by digest)."""
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="smcluster")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {},
            "layers": [],
        }
    )
    pushed = ecr.put_image(repositoryName="smcluster", imageManifest=manifest, imageTag="0.1.0-cpu")
    digest = pushed["image"]["imageId"]["imageDigest"]
    name = _launch(aws, "seg", team="growth")
    model = aws.describe_training_job(TrainingJobName=name)["ModelArtifacts"]["S3ModelArtifacts"]

    assert main(["lineage", model, "--format", "json", "--region", "us-east-1"]) == 0
    [found] = json.loads(capsys.readouterr().out)
    assert found["training_job"] == name
    assert found["hyperparameters"] == {"min_samples": "12", "reducer": "pca"}
    assert found["inputs"] == {"train": f"s3://{BUCKET}/customers/"}
    assert found["image"] == IMAGE and found["image_digest"] == digest
    assert found["tags"] == {"team": "growth"}
    assert main(["lineage", model, "--region", "us-east-1"]) == 0
    assert f"image_digest: {digest}" in capsys.readouterr().out


def test_lineage_of_an_unknown_model_says_so(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """moto stands in for SageMaker: no job wrote this artifact."""
    uri = f"s3://{BUCKET}/models/nobody-261201-000000/output/model.tar.gz"
    assert main(["lineage", uri, "--region", "us-east-1"]) == 2
    err = capsys.readouterr().err
    assert "no training job in this account and region wrote" in err and "Fix:" in err
