"""`smcluster launch-training` / `launch-tuning` build the SDK v2 requests SageMaker receives.

AWS cannot be reached: moto (`mock_aws`, in process) stands in for SageMaker, S3 and STS, and the
tests read back what moto received with describe_training_job / describe_hyper_parameter_tuning_job.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from smcluster.cli import main
from smcluster.contract.errors import HyperparameterError
from smcluster.contract.metrics import OBJECTIVE, objective_direction
from smcluster.contract.schema import SCHEMA
from smcluster.output.metric_lines import metric_definitions
from smcluster.tools import launch
from tests.container import test_local_mode

sdk_environment = test_local_mode.sdk_environment  # dummy credentials, region, telemetry off
ROLE = test_local_mode.ROLE
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/smcluster:0.1.0-gpu"
BUCKET = "smcluster-test"
COMMON = [
    *("--image", IMAGE, "--role", ROLE, "--region", "us-east-1"),
    *("--train", f"s3://{BUCKET}/train/", "--validation", f"s3://{BUCKET}/validation/"),
    *("--output-path", f"s3://{BUCKET}/output/", "--instance-type", "ml.g5.2xlarge"),
]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """The parameters of each SageMaker API call the launcher makes, as botocore sends them.

    moto's DescribeTrainingJob answers with placeholder MetricDefinitions, so the training job's
    metric definitions are checked on the request itself.
    """
    calls: dict[str, dict[str, Any]] = {}
    real_session = launch.session

    def recording_session(region: str | None = None, profile: str | None = None) -> Any:
        session = real_session(region, profile)

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            calls[model.name] = params

        session.sagemaker_client.meta.events.register("provide-client-params.sagemaker", record)
        return session

    monkeypatch.setattr(launch, "session", recording_session)
    return calls


@pytest.fixture
def sagemaker_client(sdk_environment: None) -> Iterator[Any]:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield boto3.client("sagemaker", region_name="us-east-1")


def test_launch_training_sends_image_metrics_and_string_hyperparameters(
    sagemaker_client: Any, sent: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker: the CreateTrainingJob it received is read back."""
    argv = ["launch-training", *COMMON, "--hp", "reducer=pca", "--hp", "n_components=3"]

    assert main(argv) == 0

    name = capsys.readouterr().out.splitlines()[-1]  # the SDK logs config lines first
    job = sagemaker_client.describe_training_job(TrainingJobName=name)
    algorithm = job["AlgorithmSpecification"]
    assert algorithm["TrainingImage"] == IMAGE
    sent_algorithm = sent["CreateTrainingJob"]["AlgorithmSpecification"]
    assert sent_algorithm["MetricDefinitions"] == metric_definitions()
    assert job["HyperParameters"] == {"reducer": "pca", "n_components": "3"}
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.2xlarge"
    assert job["ResourceConfig"]["InstanceCount"] == 1
    channels = {c["ChannelName"]: c for c in job["InputDataConfig"]}
    assert channels["train"]["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{BUCKET}/train/"
    assert set(channels) == {"train", "validation"}


def test_launch_tuning_sends_schema_ranges_with_overrides(
    sagemaker_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker: the CreateHyperParameterTuningJob it received is read back."""
    argv = [
        *("launch-tuning", *COMMON, "--hp", "reducer=pca", "--max-jobs", "6"),
        *("--range", "n_components=3:5", "--range", "algorithm=kmeans,gmm"),
        *("--range", "min_dist=0.05:0.4:Linear"),
    ]

    assert main(argv) == 0

    name = capsys.readouterr().out.splitlines()[-1]  # the SDK logs config lines first
    job = sagemaker_client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    config = job["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": objective_direction(),
        "MetricName": OBJECTIVE,
    }
    assert config["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 6
    ranges = config["ParameterRanges"]
    integers = {r["Name"]: r for r in ranges["IntegerParameterRanges"]}
    continuous = {r["Name"]: r for r in ranges["ContinuousParameterRanges"]}
    categorical = {r["Name"]: r["Values"] for r in ranges["CategoricalParameterRanges"]}
    assert integers["n_components"] == {
        "Name": "n_components",
        "MinValue": "3",
        "MaxValue": "5",
        "ScalingType": "Auto",
    }
    assert integers["n_neighbors"]["ScalingType"] == "Logarithmic"
    assert continuous["min_dist"] == {
        "Name": "min_dist",
        "MinValue": "0.05",
        "MaxValue": "0.4",
        "ScalingType": "Linear",
    }
    assert categorical["algorithm"] == ["kmeans", "gmm"]
    assert "reducer" not in categorical  # fixed with --hp: a static value wins over its range
    expected = set(SCHEMA.tuning_ranges()) - {"reducer"}
    assert set(integers) | set(continuous) | set(categorical) == expected
    definition = job["TrainingJobDefinition"]
    assert definition["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert definition["AlgorithmSpecification"]["MetricDefinitions"] == metric_definitions()
    static = definition["StaticHyperParameters"]
    assert static["reducer"] == "pca"


def test_unknown_hyperparameter_fails_before_anything_is_sent(
    sagemaker_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker: it must have received no job at all."""
    assert main(["launch-training", *COMMON, "--hp", "n_component=3"]) == 2

    err = capsys.readouterr().err
    assert "unknown hyperparameter 'n_component'" in err and "n_components" in err
    assert sagemaker_client.list_training_jobs()["TrainingJobSummaries"] == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("eps=0.1:0.5", "'eps' is not a tunable name"),
        ("n_components=5:3", "low must be below high"),
        ("n_components=0:3", "invalid"),
        ("reducer=pca,tsnee", "'tsnee'"),
        ("min_dist=0.1:0.2:Cubic", "scaling must be one of"),
        ("n_components", "name=value"),
    ],
)
def test_bad_ranges_fail_locally(override: str, message: str) -> None:
    with pytest.raises(HyperparameterError, match=message):
        launch.tuning_ranges([override])


def test_tune_subset_and_fixed_names() -> None:
    ranges = launch.tuning_ranges(["n_clusters=4:8"], only=["algorithm"], fixed=["algorithm"])
    assert ranges == {"n_clusters": {"type": "Integer", "min": 4, "max": 8, "scaling": "Auto"}}
    with pytest.raises(HyperparameterError, match="no tuning range"):
        launch.tuning_ranges(only=["eps"])
