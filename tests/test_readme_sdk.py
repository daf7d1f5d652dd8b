"""The README's SDK v2 snippet runs as written.

AWS cannot be reached: moto (`mock_aws`) stands in for SageMaker, S3 and STS; the tuning job the
snippet creates is read back from moto.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from smcluster.output.metric_lines import metric_definitions
from tests.container import test_local_mode

sdk_environment = test_local_mode.sdk_environment  # dummy credentials, region, telemetry off
README = Path(__file__).resolve().parents[1] / "README.md"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/smcluster:0.1.0-gpu"


def readme_block(marker: str) -> str:
    found = re.search(rf"<!-- {marker} -->\n```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert found, f"README has no python block after <!-- {marker} -->"
    return found.group(1)


def test_sdk_v2_snippet_creates_a_tuning_job_of_the_image(sdk_environment: None) -> None:
    code = readme_block("sdk-v2")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bucket")
        namespace: dict[str, Any] = {"IMAGE": IMAGE, "ROLE": test_local_mode.ROLE}
        exec(compile(code, "README.md (sdk-v2)", "exec"), namespace)
        client = boto3.client("sagemaker", region_name="us-east-1")
        jobs = client.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
        assert len(jobs) == 1
        job = client.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=jobs[0]["HyperParameterTuningJobName"]
        )
    config = job["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "train:dbcv",
    }
    assert "train:dbcv" in {d["Name"] for d in metric_definitions()}
    definition = job["TrainingJobDefinition"]
    assert definition["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert definition["StaticHyperParameters"]["reducer"] == "umap"
    ranges = config["ParameterRanges"]["IntegerParameterRanges"]
    assert [r["Name"] for r in ranges] == ["min_samples"]
