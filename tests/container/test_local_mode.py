"""SageMaker Python SDK v2 local mode drives the CPU image through docker-compose.

No AWS is reachable: the SDK gets dummy credentials and a region from the environment, runs the
container on the local engine, and its telemetry is switched off in its config file.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from smcluster.contract.kinds import Boolean
from smcluster.contract.schema import SCHEMA
from smcluster.tools.demo import write_job_tree

pytestmark = pytest.mark.container

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"  # never checked in local mode


@pytest.fixture
def sdk_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "sagemaker-config.yaml"
    modules = {"Modules": {"TelemetryOptOut": True}}
    opt_out = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": modules}}
    config.write_text(json.dumps(opt_out))  # YAML is a superset of JSON
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(config))
    monkeypatch.setenv("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", str(config))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # v2 on purpose: v3 has no Estimator


def python_hyperparameters() -> dict[str, object]:
    """Python values, as users pass them; SDK v2 turns each into str(value)."""
    values: dict[str, object] = {
        "id_column": "customer_id",
        "label_column": "segment",
        "reducer": "pca",  # str
        "n_components": 3,  # int
        "eps_knee_sensitivity": 1.5,  # float
        "features": ["recency_days", "frequency", "monetary", "tenure_days"],  # list
    }
    boolean = next((p for p in SCHEMA if isinstance(p.kind, Boolean)), None)
    if boolean is not None:  # a bool, where the schema has one: "True"/"False" must parse
        values[boolean.name] = not boolean.default
    return values


def test_local_mode_fit_writes_model_tar(
    cpu_image: str, tmp_path: Path, sdk_environment: None
) -> None:
    from sagemaker.estimator import Estimator
    from sagemaker.local import LocalSession

    tree = write_job_tree(tmp_path / "demo", rows=3000)
    train_dir = tree / "input" / "data" / "train"
    output = tmp_path / "output"
    output.mkdir()
    session = LocalSession()
    hyperparameters = python_hyperparameters()
    estimator = Estimator(
        image_uri=cpu_image,
        role=ROLE,
        instance_count=1,
        instance_type="local",
        sagemaker_session=session,
        output_path=f"file://{output}",
        hyperparameters=hyperparameters,
    )

    estimator.fit({"train": f"file://{train_dir}"}, logs=False)

    model_tar = Path(estimator.model_data.removeprefix("file://"))
    assert model_tar.is_file() and model_tar.is_relative_to(output)
    with tarfile.open(model_tar) as archive:
        names = set(archive.getnames())
        assert {"manifest.json", "model.joblib", "labels.parquet", "metrics.json"} <= names
        written = json.load(archive.extractfile("hyperparameters.json"))
    parsed = written["hyperparameters"]  # what the job read from the strings, typed again
    assert set(hyperparameters) <= set(written["given"])
    for name, value in hyperparameters.items():
        assert parsed[name] == value, (name, parsed[name], value)


def test_local_mode_two_instances_label_every_row_once(
    cpu_image: str, tmp_path: Path, sdk_environment: None
) -> None:
    """instance_count=2: two containers (algo-1-*, algo-2-*) on one compose network, the train
    channel FullyReplicated (local mode refuses ShardedByS3Key: `test_two_hosts.py` runs the
    sharded case as two containers by hand)."""
    import pandas as pd
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.local import LocalSession

    rows = 24_000
    tree = write_job_tree(tmp_path / "demo", rows=rows, files=4)
    train_dir = tree / "input" / "data" / "train"
    output = tmp_path / "output"
    output.mkdir()
    estimator = Estimator(
        image_uri=cpu_image,
        role=ROLE,
        instance_count=2,
        instance_type="local",
        sagemaker_session=LocalSession(),
        output_path=f"file://{output}",
        hyperparameters={
            "id_column": "customer_id",
            "reducer": "pca",
            "n_components": 3,
            "fit_sample_size": 10_000,
            "eps_sample_size": 5_000,
            "umap_fit_sample_size": 5_000,
            "plots": False,
        },
    )
    source = TrainingInput(f"file://{train_dir}", distribution="FullyReplicated")

    estimator.fit({"train": source}, logs=False)  # raises unless both containers exit 0

    model_tar = Path(estimator.model_data.removeprefix("file://"))
    extracted = tmp_path / "model"
    with tarfile.open(model_tar) as archive:
        names = archive.getnames()
        archive.extractall(extracted, filter="data")
    assert names.count("labels.parquet") == 1 and names.count("manifest.json") == 1
    labels = pd.read_parquet(extracted / "labels.parquet")
    table = pd.concat(pd.read_csv(f) for f in sorted(train_dir.glob("part-*")))
    assert len(labels) == rows and labels["customer_id"].is_unique
    assert set(labels["customer_id"]) == set(table["customer_id"].astype(str))
