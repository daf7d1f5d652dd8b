"""Two containers of the CPU image as the two hosts of one SageMaker job, the train channel
`ShardedByS3Key`: each container's `/opt/ml` holds only its shard, as SageMaker gives each host
its own S3 keys (SDK local mode refuses sharded channels, so the containers are started here as
SageMaker starts them: host names `algo-1` and `algo-2` on one network, `train` in each).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pandas as pd
import pytest

from smcluster.tools.demo import write_job_tree
from tests.container.conftest import docker

pytestmark = pytest.mark.container

HOSTS = ("algo-1", "algo-2")


def test_two_sharded_hosts_write_one_model_labelling_every_row_once(
    cpu_image: str, tmp_path: Path
) -> None:
    rows = 24_000
    hyperparameters = {
        "id_column": "customer_id",
        "reducer": "pca",
        "n_components": "3",
        "fit_sample_size": "10000",
        "eps_sample_size": "5000",
        "umap_fit_sample_size": "5000",
        "plots": "false",
        "tracker": "none",
    }
    whole = write_job_tree(tmp_path / "whole", rows=rows, files=4, hyperparameters=hyperparameters)
    files = sorted((whole / "input" / "data" / "train").glob("part-*"))
    trees = {}
    for index, host in enumerate(HOSTS):
        tree = write_job_tree(tmp_path / host, rows=rows, files=4, hyperparameters=hyperparameters)
        train = tree / "input" / "data" / "train"
        for file in train.glob("part-*"):
            file.unlink()
        for file in files[index::2]:
            (train / file.name).write_bytes(file.read_bytes())
        config = tree / "input" / "config"
        channels = json.loads((config / "inputdataconfig.json").read_text())
        channels["train"]["S3DistributionType"] = "ShardedByS3Key"
        (config / "inputdataconfig.json").write_text(json.dumps(channels))
        resources = {"current_host": host, "hosts": list(HOSTS), "network_interface_name": "eth0"}
        (config / "resourceconfig.json").write_text(json.dumps(resources))
        (tree / "model").mkdir(exist_ok=True)
        trees[host] = tree
    suffix = uuid.uuid4().hex[:8]
    network = f"smcluster-test-{suffix}"
    assert docker("network", "create", network).returncode == 0
    names = {host: f"{host}-{suffix}" for host in HOSTS}
    try:
        for host in HOSTS:
            started = docker(
                "run", "-d", "--name", names[host], "--hostname", host,
                "--network", network, "--network-alias", host,
                "-v", f"{trees[host]}:/opt/ml", cpu_image, "train",
            )  # fmt: skip
            assert started.returncode == 0, started.stderr
        codes = {}
        for host in HOSTS:
            waited = docker("wait", names[host], timeout=900)
            codes[host] = int(waited.stdout.strip() or -1)
        logs = {host: docker("logs", names[host]) for host in HOSTS}
        for host in HOSTS:
            assert codes[host] == 0, (logs[host].stdout + logs[host].stderr)[-3000:]
    finally:
        for host in HOSTS:
            docker("rm", "-f", names[host], timeout=120)
        docker("network", "rm", network, timeout=120)
    assert list((trees["algo-2"] / "model").iterdir()) == []
    labels = pd.read_parquet(trees["algo-1"] / "model" / "labels.parquet")
    table = pd.concat(pd.read_csv(f, dtype={"customer_id": str}) for f in files)
    assert len(labels) == rows and labels["customer_id"].is_unique
    assert set(labels["customer_id"]) == set(table["customer_id"])
    output = logs["algo-1"].stdout + logs["algo-1"].stderr
    assert "on 2 host(s)" in output, output[-3000:]
