"""`smcluster launch-training` / `launch-tuning` build the requests SageMaker receives (boto3).

AWS cannot be reached: moto (`mock_aws`, in process) stands in for SageMaker, S3 and STS; the
tests read back what moto received with describe_training_job / describe_hyper_parameter_tuning_job
and, for fields moto does not keep, the request botocore validated against its service model.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from smcluster.cli import main
from smcluster.contract.errors import HyperparameterError
from smcluster.contract.metrics import OBJECTIVE, objective_direction
from smcluster.contract.schema import SCHEMA
from smcluster.output.metric_lines import metric_definitions
from smcluster.tools import launch, sagemaker_requests
from tests.container import test_local_mode
from tests.jobtree import clean_env

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
    """The parameters of each SageMaker API call the launcher makes, as botocore sends them
    (after botocore has validated them against its service model).

    moto does not echo every field back (DescribeTrainingJob's MetricDefinitions are
    placeholders; warm start and completion criteria are not kept), so those are checked on
    the request itself.
    """
    calls: dict[str, dict[str, Any]] = {}
    real_client = launch.client

    def recording_client(region: str | None = None, profile: str | None = None) -> Any:
        client = real_client(region, profile)

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            calls[model.name] = params

        client.meta.events.register("provide-client-params.sagemaker", record)
        return client

    monkeypatch.setattr(launch, "client", recording_client)
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

    name = capsys.readouterr().out.splitlines()[-1]
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

    name = capsys.readouterr().out.splitlines()[-1]
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
        ("eps=0.1:0.5", "--range 'eps': no tuning range"),
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
    ranges = launch.tuning_ranges(["n_clusters=4:8"], only=["metric"], fixed=["algorithm"])
    assert list(ranges) == ["metric", "n_clusters"]
    assert ranges["n_clusters"] == {"type": "Integer", "min": 4, "max": 8, "scaling": "Auto"}
    assert "algorithm" not in launch.tuning_ranges(fixed=["algorithm"])  # not asked: left out
    with pytest.raises(HyperparameterError, match="no tuning range"):
        launch.tuning_ranges(only=["eps"])


@pytest.mark.parametrize(
    ("overrides", "only"), [([], ["min_samples"]), (["min_samples=4:8"], ["metric"])]
)
def test_a_name_both_tuned_and_fixed_is_refused(overrides: list[str], only: list[str]) -> None:
    with pytest.raises(HyperparameterError, match="min_samples: both tuned") as raised:
        launch.tuning_ranges(overrides, only=only, fixed={"min_samples": "5"})
    assert "--hp" in raised.value.fix


def test_every_unknown_tune_name_is_named_with_a_suggestion() -> None:
    with pytest.raises(HyperparameterError) as raised:
        launch.tuning_ranges(only=["nosuch", "min_sample"])
    assert "'nosuch'" in raised.value.problem
    assert "'min_sample' (did you mean 'min_samples'?)" in raised.value.problem


@pytest.mark.parametrize("override", ["min_samples=1:100000", "min_samples=9:3", "min_samples"])
def test_range_errors_have_a_fix_with_a_valid_example(override: str) -> None:
    with pytest.raises(HyperparameterError) as raised:
        launch.tuning_ranges([override])
    example = raised.value.fix.split("--range ", 1)[1].split()[0].rstrip(".")
    assert example == "min_samples=3:50"
    assert launch.tuning_ranges([example], only=[])["min_samples"]["max"] == 50  # it is valid


def _tuning_request(
    argv: list[str], sent: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    assert main(["launch-tuning", *COMMON, *argv]) == 0, capsys.readouterr().err
    request = sent["CreateHyperParameterTuningJob"]
    assert request["HyperParameterTuningJobName"] == capsys.readouterr().out.splitlines()[-1]
    assert len(request["HyperParameterTuningJobName"]) <= 32
    return request


def test_bayesian_with_warm_start_completion_criteria_and_early_stopping(
    sagemaker_client: Any, sent: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker (it accepts the job); the request is read from botocore."""
    argv = [
        *("--tune", "min_samples,n_neighbors", "--warm-start", "parent-a,parent-b"),
        *("--warm-start-type", "TransferLearning", "--early-stopping", "Auto"),
        *("--target-objective", "0.8", "--stop-after-jobs-not-improving", "5"),
        *("--complete-on-convergence", "--random-seed", "7", "--max-runtime", "7200"),
        *("--max-jobs", "30", "--max-parallel-jobs", "3", "--tag", "team=growth"),
    ]
    request = _tuning_request(argv, sent, capsys)
    config = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["TrainingJobEarlyStoppingType"] == "Auto"
    assert config["ResourceLimits"] == {
        "MaxParallelTrainingJobs": 3,
        "MaxNumberOfTrainingJobs": 30,
        "MaxRuntimeInSeconds": 7200,
    }
    assert config["TuningJobCompletionCriteria"] == {
        "TargetObjectiveMetricValue": 0.8,
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 5},
        "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
    }
    assert config["RandomSeed"] == 7
    assert request["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [
            {"HyperParameterTuningJobName": "parent-a"},
            {"HyperParameterTuningJobName": "parent-b"},
        ],
        "WarmStartType": "TransferLearning",
    }
    assert request["Tags"] == [{"Key": "team", "Value": "growth"}]
    name = request["HyperParameterTuningJobName"]
    described = sagemaker_client.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name
    )
    assert described["HyperParameterTuningJobConfig"]["Strategy"] == "Bayesian"


def test_grid_runs_over_categorical_values_generated_from_the_schema(
    sagemaker_client: Any, sent: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker; Grid's ranges are read from the validated request."""
    argv = [
        *("--strategy", "Grid", "--tune", "n_neighbors,min_dist,algorithm"),
        *("--range", "algorithm=dbscan,hdbscan", "--range", "min_dist=0.01:0.5:Logarithmic"),
    ]
    request = _tuning_request(argv, sent, capsys)
    config = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Grid"
    assert "MaxNumberOfTrainingJobs" not in config["ResourceLimits"]  # Grid runs them all
    ranges = config["ParameterRanges"]
    assert ranges["IntegerParameterRanges"] == ranges["ContinuousParameterRanges"] == []
    grid = {r["Name"]: r["Values"] for r in ranges["CategoricalParameterRanges"]}
    assert grid["algorithm"] == ["dbscan", "hdbscan"]
    assert grid["min_dist"] == ["0.01", "0.0707107", "0.5"]  # spread on a log scale
    low, high = (SCHEMA.tuning_ranges()["n_neighbors"][k] for k in ("min", "max"))
    assert grid["n_neighbors"][0] == str(low) and grid["n_neighbors"][-1] == str(high)
    assert len(grid["n_neighbors"]) == 3


def test_hyperband_sends_its_resource_settings(
    sagemaker_client: Any, sent: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker; the strategy config is read from the validated request."""
    argv = ["--strategy", "Hyperband", "--tune", "min_samples", "--hyperband-max-resource", "3"]
    config = _tuning_request(argv, sent, capsys)["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Hyperband"
    assert config["TrainingJobEarlyStoppingType"] == "Off"
    assert config["StrategyConfig"] == {
        "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 3}
    }


def test_random_with_values_for_a_numeric_name(
    sagemaker_client: Any, sent: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker; a numeric name given as values becomes categorical."""
    argv = ["--strategy", "Random", "--tune", "n_neighbors", "--range", "n_neighbors=10,30"]
    config = _tuning_request(argv, sent, capsys)["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Random"
    assert config["ParameterRanges"]["CategoricalParameterRanges"] == [
        {"Name": "n_neighbors", "Values": ["10", "30"]}
    ]


def test_several_hosts_with_a_sharded_train_channel(
    sagemaker_client: Any, sent: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker: the CreateTrainingJob it received is read back."""
    argv = [
        "launch-training",
        *COMMON,
        *("--instance-count", "4", "--train-distribution", "ShardedByS3Key"),
    ]
    assert main(argv) == 0
    name = capsys.readouterr().out.splitlines()[-1]
    job = sagemaker_client.describe_training_job(TrainingJobName=name)
    assert job["ResourceConfig"]["InstanceCount"] == 4
    sources = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]
        for c in sent["CreateTrainingJob"]["InputDataConfig"]
    }
    assert sources["train"]["S3DataDistributionType"] == "ShardedByS3Key"
    # The first host reads the validation channel whole.
    assert sources["validation"]["S3DataDistributionType"] == "FullyReplicated"


def test_spot_training_sets_max_wait_and_a_checkpoint_location(
    sagemaker_client: Any, sent: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker: the CreateTrainingJob it received is read back."""
    argv = ["launch-training", *COMMON, "--spot", "--max-run", "3600", "--base-job-name", "seg"]
    assert main(argv) == 0
    name = capsys.readouterr().out.splitlines()[-1]
    assert name.startswith("seg-")
    request = sent["CreateTrainingJob"]
    assert request["EnableManagedSpotTraining"] is True
    assert request["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 3600,
        "MaxWaitTimeInSeconds": 7200,
    }
    assert request["CheckpointConfig"] == {
        "S3Uri": f"s3://{BUCKET}/output/{name}/checkpoints",
        "LocalPath": "/opt/ml/checkpoints",
    }
    job = sagemaker_client.describe_training_job(TrainingJobName=name)
    assert job["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200


def test_every_problem_with_the_tuning_settings_is_reported_at_once_and_nothing_sent(
    sagemaker_client: Any, sent: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker: it must have received no tuning job at all."""
    argv = [
        *("launch-tuning", *COMMON, "--strategy", "Grid", "--tune", "algorithm"),
        *("--early-stopping", "Auto", "--warm-start", "a,b,c,d,e,f", "--max-jobs", "7"),
        *("--hyperband-max-resource", "3"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    for expected in (
        "--early-stopping Auto works with Bayesian and Random only",
        "--warm-start takes 1 to 5 parent tuning jobs",
        "warm start works with Bayesian and Random only, not Grid",
        "apply to --strategy Hyperband only",
        "--max-jobs 7 must equal it",
    ):
        assert expected in err, err
    assert "Fix:" in err and "Traceback" not in err
    assert "CreateHyperParameterTuningJob" not in sent
    assert (
        sagemaker_client.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
        == []
    )


def test_spot_is_refused_for_tuning_and_max_wait_needs_spot(
    sagemaker_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker: nothing reaches it."""
    assert main(["launch-training", *COMMON, "--max-wait", "100"]) != 0
    assert "--max-wait applies to spot training only" in capsys.readouterr().err
    argv = ["launch-training", *COMMON, "--spot", "--max-run", "600", "--max-wait", "300"]
    assert main(argv) == 2
    assert "max_wait >= max_run" in capsys.readouterr().err
    assert sagemaker_client.list_training_jobs()["TrainingJobSummaries"] == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"type": "Integer", "min": 5, "max": 50, "scaling": "Logarithmic"}, ["5", "16", "50"]),
        ({"type": "Integer", "min": 2, "max": 3, "scaling": "Auto"}, ["2", "3"]),
        ({"type": "Continuous", "min": 0.0, "max": 1.0, "scaling": "Linear"}, ["0", "0.5", "1"]),
    ],
)
def test_grid_values(entry: dict[str, Any], expected: list[str]) -> None:
    assert sagemaker_requests.grid_values(entry) == expected


def test_job_names_fit_sagemaker_limits() -> None:
    long = "a-very-long-base-job-name-for-segments"
    assert len(sagemaker_requests.job_name(long, 32, now=0)) == 32
    assert sagemaker_requests.job_name(None, 63, now=0) == "smcluster-700101-000000"


def _without_aws(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The CLI with no region, credentials or config: only local checks can answer."""
    env = {k: v for k, v in clean_env().items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), HOME=str(tmp_path))
    return subprocess.run(
        [str(Path(sys.executable).with_name("smcluster")), *argv],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def test_every_local_problem_is_reported_at_once_before_aws(tmp_path: Path) -> None:
    done = _without_aws(
        tmp_path,
        *("launch-training", "--image", "i", "--role", "r", "--train", "bucket/p"),
        *("--output-path", "http://x", "--hp", "eps=0", "--instance-type", "g5"),
        *("--base-job-name", "_x"),
    )

    assert done.returncode == 2, done.stderr
    err = done.stderr
    assert "region" not in err and "AWSError" not in err
    assert err.startswith("Error: 2 problems:")  # hyperparameters and flags: a neutral label
    for fragment in ("'eps' = '0'", "--role 'r'", "--instance-type 'g5'", "--base-job-name"):
        assert fragment in err
    assert "--train 'bucket/p'" in err and "--output-path 'http://x'" in err
    assert "`smcluster launch-training --help`" in err


def test_a_too_large_grid_names_its_size_before_aws(tmp_path: Path) -> None:
    done = _without_aws(
        tmp_path, "launch-tuning", *COMMON, "--strategy", "Grid", "--early-stopping", "Auto",
        "--tune", "min_samples,n_neighbors,min_dist,n_components,reducer,algorithm",
    )  # fmt: skip

    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ArgumentError:") and "{size}" not in done.stderr
    assert "pass --max-jobs 648 to mean it" in done.stderr
    assert "--early-stopping Auto works with Bayesian and Random only" in done.stderr
    assert "`smcluster launch-tuning --help`" in done.stderr


def test_launch_tuning_narrows_memory_bound_ranges_to_the_gpu_plan(
    sagemaker_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto stands in for SageMaker. 5M rows on a T4 (ml.g4dn): HDBSCAN with 50 neighbours
    per row would need some 25 GB, so min_samples' range is narrowed and the log says why."""
    common = [a if a != "ml.g5.2xlarge" else "ml.g4dn.xlarge" for a in COMMON]
    argv = ["launch-tuning", *common, "--rows", "5000000", "--features", "50"]

    assert main(argv) == 0

    captured = capsys.readouterr()
    name = captured.out.splitlines()[-1]
    job = sagemaker_client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    ranges = job["HyperParameterTuningJobConfig"]["ParameterRanges"]
    integers = {r["Name"]: r for r in ranges["IntegerParameterRanges"]}
    schema_max = SCHEMA.tuning_ranges()["min_samples"]["max"]
    narrowed = int(integers["min_samples"]["MaxValue"])
    assert 3 < narrowed < schema_max
    assert f"min_samples: range 3..{schema_max} narrowed to 3..{narrowed}" in captured.err
    assert "T4 of ml.g4dn.xlarge for 5,000,000 rows x 50 features" in captured.err


def test_launch_tuning_refuses_rows_without_features(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["launch-tuning", *COMMON, "--rows", "5000000"]) == 2
    assert "--rows and --features go together" in capsys.readouterr().err
