"""Past one process: the fit sample, the rows outside it labelled by the model, Dask workers.

Real paths throughout: `fit` in this process on a table larger than `fit_sample_size`; `train`
as subprocesses with `workers=2` (a Dask `LocalCluster` of two worker processes) against one
process; two `train` processes as the two hosts of one job (the host names `127.0.0.1` and
`localhost` both resolve to this machine), each with its own tree and shard; and a Dask worker
killed mid-task.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from smcluster.contract.channels import Channel
from smcluster.contract.errors import ClusterError
from smcluster.contract.hyperparameters import parse
from smcluster.distributed.hosts import plan_hosts
from smcluster.pipeline.rows import LABEL_CHUNK_ROWS, batches
from smcluster.pipeline.run import fit
from smcluster.pipeline.runtime.clock import StageClock
from smcluster.pipeline.runtime.runner import StageRunner
from smcluster.synthetic import make_customers
from tests.jobtree import TRAIN, JobTree

# Small samples, so that most rows are labelled outside the fit (the path under test).
SAMPLED = {
    "fit_sample_size": "20000",
    "umap_fit_sample_size": "10000",
    "eps_sample_size": "10000",
    "plots": "false",
}


def test_the_first_sorted_host_drives_and_auto_is_one_worker_per_gpu() -> None:
    resources = {"current_host": "algo-2", "hosts": ["algo-2", "algo-10", "algo-1"]}
    plan = plan_hosts(resources, None, gpus=0, env={})
    assert plan.hosts == ("algo-1", "algo-10", "algo-2")
    assert (plan.first, plan.is_driver, plan.workers, plan.distributed) == (
        "algo-1",
        False,
        1,
        True,
    )
    assert plan.scheduler == "tcp://algo-1:8786"
    alone = plan_hosts({"current_host": "algo-1", "hosts": ["algo-1"]}, None, gpus=0, env={})
    assert not alone.distributed and alone.is_driver
    gpus = plan_hosts({"current_host": "algo-1", "hosts": ["algo-1"]}, None, gpus=4, env={})
    assert (gpus.workers, gpus.distributed) == (4, True)
    port = plan_hosts(resources, 2, 0, env={"SMCLUSTER_SCHEDULER_PORT": "9999"})
    assert (port.workers, port.expected_workers, port.scheduler) == (2, 6, "tcp://algo-1:9999")


def test_an_error_keeps_its_fix_when_a_worker_sends_it_back() -> None:
    import pickle

    from smcluster.contract.errors import DataError

    error = pickle.loads(pickle.dumps(DataError("the problem.", "the fix.")))
    assert (
        isinstance(error, DataError) and error.reason() == "DataError: the problem. Fix: the fix."
    )


def test_batches_stay_inside_each_file_and_below_the_chunk() -> None:
    rows = np.array([0, 1, 5, 6, 7, 9])
    assert [b.tolist() for b in batches(rows, (3, 4, 3))] == [[0, 1], [5, 6], [7, 9]]
    many = np.arange(LABEL_CHUNK_ROWS + 5)
    assert [len(b) for b in batches(many, (len(many),))] == [LABEL_CHUNK_ROWS, 5]


def test_rows_outside_the_fit_sample_get_the_models_labels(tmp_path: Path) -> None:
    table = make_customers(30_000, seed=5)
    folder = tmp_path / "train"
    folder.mkdir()
    table.iloc[:15_000].to_csv(folder / "part-0.csv", index=False)
    table.iloc[15_000:].to_csv(folder / "part-1.csv", index=False)
    hp = parse(
        {
            **{k: v for k, v in SAMPLED.items() if k != "fit_sample_size"},
            "fit_sample_size": "10000",
            "reducer": "pca",
            "n_components": "3",
            "id_column": "customer_id",
            "label_column": "segment",
        }
    )
    from smcluster.backends.cpu import CpuBackend

    channel = Channel("train", folder, "text/csv", "File")
    result = fit(CpuBackend(), hp, StageRunner(StageClock()), channel)
    train = result.train
    assert len(train.ids) == 30_000 and (train.ids == table["customer_id"].to_numpy()).all()
    assert "label_rest" in result.timings
    assert result.model is not None
    # Every row outside the sample carries what the saved model gives it on its own.
    predicted = result.model.predict(table)
    agree = (predicted[train.kept] == train.labels).mean()
    assert agree > 0.999, agree
    # Scored on every row (PCA to 3 finds 4 of the 5 segments from 10,000 rows; 5 from 30,000).
    assert train.metrics["n_clusters"] >= 4 and train.metrics["ari"] > 0.6, train.metrics
    assert train.metrics["noise_fraction"] == pytest.approx((train.labels < 0).mean())


def _split_demo(base: Path, hyperparameters: dict[str, str], rows: int = 100_000) -> JobTree:
    return JobTree(base).write_demo({**SAMPLED, **hyperparameters}, rows=rows, files=4)


@pytest.mark.slow
def test_two_workers_label_as_one_process(tmp_path: Path) -> None:
    """100,000 rows in 4 files: workers=2 (replicated and sharded channel) against one process."""
    one = _split_demo(tmp_path / "one", {"workers": "1"}).run()
    assert one.returncode == 0, one.failure
    expected = pd.read_parquet(one.base / "model" / "labels.parquet")
    for distribution in ("FullyReplicated", "ShardedByS3Key"):
        tree = _split_demo(tmp_path / distribution, {"workers": "2"})
        config = tree.config_dir / "inputdataconfig.json"
        channels = json.loads(config.read_text())
        channels["train"]["S3DistributionType"] = distribution
        config.write_text(json.dumps(channels))
        run = tree.run()
        assert run.returncode == 0, (run.failure, run.log[-3000:])
        assert "waiting for 2 worker(s)" in run.log
        got = pd.read_parquet(tree.model_dir / "labels.parquet")
        assert got["customer_id"].tolist() == expected["customer_id"].tolist()
        assert adjusted_rand_score(expected["cluster"], got["cluster"]) >= 0.999
        assert run.metrics()["train"]["ari"] == pytest.approx(one.metrics()["train"]["ari"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_two_hosts_share_one_job(tmp_path: Path) -> None:
    """Two `train` processes as hosts 127.0.0.1 (first: scheduler, driver) and localhost, each
    tree holding only its shard; the first host's model labels every row once, as one host."""
    whole = _split_demo(tmp_path / "whole", {}, rows=40_000)
    files = sorted((whole.channel()).glob("part-*"))
    hosts = ["localhost", "127.0.0.1"]
    port = str(_free_port())
    trees, processes = {}, {}
    for host, shard in zip(sorted(hosts), (files[0::2], files[1::2]), strict=True):
        tree = _split_demo(tmp_path / host, {}, rows=40_000)
        for stale in tree.channel().glob("part-*"):
            stale.unlink()
        for file in shard:
            (tree.channel() / file.name).write_bytes(file.read_bytes())
        channels = json.loads((tree.config_dir / "inputdataconfig.json").read_text())
        channels["train"]["S3DistributionType"] = "ShardedByS3Key"
        (tree.config_dir / "inputdataconfig.json").write_text(json.dumps(channels))
        resources = {"current_host": host, "hosts": hosts}
        (tree.config_dir / "resourceconfig.json").write_text(json.dumps(resources))
        tree.model_dir.mkdir(parents=True, exist_ok=True)  # as SageMaker makes it on each host
        trees[host] = tree
        env = tree.env({"SMCLUSTER_SCHEDULER_PORT": port, "SMCLUSTER_WORKERS_WAIT_S": "120"})
        processes[host] = subprocess.Popen(
            [str(TRAIN)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    logs = {host: process.communicate(timeout=600)[0] for host, process in processes.items()}
    first, second = "127.0.0.1", "localhost"
    assert processes[first].returncode == 0, logs[first][-3000:]
    assert processes[second].returncode == 0, logs[second][-3000:]
    assert list(trees[second].model_dir.iterdir()) == []  # SageMaker tars every host's folder
    assert not trees[second].failure_file.exists(), trees[second].failure_file.read_text()
    reference = whole.run()
    assert reference.returncode == 0, reference.failure
    expected = pd.read_parquet(whole.model_dir / "labels.parquet")
    got = pd.read_parquet(trees[first].model_dir / "labels.parquet")
    assert got["customer_id"].is_unique
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    assert adjusted_rand_score(expected["cluster"], got["cluster"]) >= 0.99
    assert "2 worker(s) on 2 host(s)" in logs[first]


def test_a_lone_first_host_fails_clearly_when_the_others_never_join(job_tree: JobTree) -> None:
    job_tree.write_demo({"plots": "false"}, rows=600)
    resources = {"current_host": "127.0.0.1", "hosts": ["127.0.0.1", "host-that-never-starts"]}
    (job_tree.config_dir / "resourceconfig.json").write_text(json.dumps(resources))
    port = str(_free_port())
    run = job_tree.run(env={"SMCLUSTER_SCHEDULER_PORT": port, "SMCLUSTER_WORKERS_WAIT_S": "3"})
    assert run.returncode == 4, run.log[-2000:]
    first = job_tree.failure_first_line()
    assert first.startswith("ClusterError: only 1 of 2 Dask workers joined"), first
    assert "host-that-never-starts" in first and f"port {port}" in first
    assert not (job_tree.model_dir / "labels.parquet").exists()


def test_a_killed_worker_fails_the_step_naming_its_host() -> None:
    """A real LocalCluster of two worker processes; one is killed while its task runs."""
    from smcluster.backends.cpu import CpuBackend
    from smcluster.distributed.engine import DaskCluster

    plan = plan_hosts({"current_host": "algo-1", "hosts": ["algo-1"]}, 2, 0, env={})
    cluster = DaskCluster.start(plan, CpuBackend())
    try:
        pids = cluster.client.run(os.getpid)
        victim = sorted(pids)[0]
        task = cluster.client.submit(time.sleep, 30, workers=[victim], pure=False)
        time.sleep(1.0)
        os.kill(pids[victim], signal.SIGKILL)
        started = time.perf_counter()
        with pytest.raises(ClusterError) as caught:
            cluster.gather([task], "labelling the rows outside the fit sample")
        assert time.perf_counter() - started < 20
        message = caught.value.reason()
        assert f"the Dask worker {victim} on host algo-1 was lost" in message, message
        assert "labelling the rows outside the fit sample" in message
    finally:
        cluster.close()
