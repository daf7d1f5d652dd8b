"""The GPU memory plan (`backends/memory_plan.py`) against cuML's own formulas, and the refusal
it gives before the long stages. Runs on the CPU: the plan is arithmetic, and the pipeline's
check is reached through a CPU backend that reports a small device."""

from __future__ import annotations

import numpy as np
import pytest

from smcluster.backends import memory_plan
from smcluster.backends.cpu import CpuBackend
from smcluster.backends.memory_plan import (
    GPUS,
    I32,
    I64,
    INT32_MAX,
    dbscan_batch_rows,
    dbscan_index_bytes,
    hdbscan_k,
    plan,
    problem,
)
from smcluster.contract.channels import read_channels
from smcluster.contract.errors import ResourceError
from smcluster.contract.hyperparameters import parse
from smcluster.contract.paths import JobPaths
from smcluster.pipeline.run import STAGES, fit
from smcluster.pipeline.runtime.clock import StageClock
from smcluster.pipeline.runtime.runner import StageRunner

from .jobtree import JobTree

GB = 10**9


def cuml_batch_size(rows: int, max_mbytes: float, index: int) -> int:
    """cuML's DBSCAN batch size as cpp/src/dbscan/dbscan.cuh:47-82 writes it (read there)."""
    neigh_per_row = rows  # :47, when not given
    est_mem_per_row = rows * 1 + (neigh_per_row + 2) * index  # :55
    est_mem_fixed = rows * (index + 1)  # :60
    batch = int((max_mbytes * 1_000_000 - est_mem_fixed) // est_mem_per_row)  # :66
    batch = min(batch, rows)  # :69
    if index == 4:
        batch = min(batch, INT32_MAX // rows)  # :73-82
    return batch


@pytest.mark.parametrize("rows", [1_000_000, 5_000_000, 20_000_000])
@pytest.mark.parametrize("free", [13.3 * GB, 22 * GB, 75 * GB, 135 * GB])
def test_dbscan_batches_follow_cumls_own_estimate(rows: int, free: float) -> None:
    budget = int(memory_plan.DBSCAN_BATCH_SHARE * free)
    for index in (I32, I64):
        assert dbscan_batch_rows(rows, budget, index) == cuml_batch_size(rows, budget / 1e6, index)


def test_32_bit_indices_double_the_batch_on_small_gpus_and_64_bit_pay_only_past_48_gb() -> None:
    """The review's numbers: at 5M rows with 13.3 GB free (a T4), 211 rows per batch with
    32-bit indices against 117 with 64-bit; 64-bit only once the 32-bit cap binds."""
    budget = int(0.4 * 13.3 * GB)
    assert dbscan_batch_rows(5_000_000, budget, I32) == 211
    assert dbscan_batch_rows(5_000_000, budget, I64) == 117
    assert dbscan_index_bytes(5_000_000, budget) == I32
    switch = next(
        free for free in range(10 * GB, 200 * GB, GB // 10)
        if dbscan_index_bytes(5_000_000, int(0.4 * free)) == I64
    )  # fmt: skip
    assert 45 * GB < switch < 52 * GB
    # ... and the cap is what binds there: INT32_MAX / rows rows per batch.
    assert dbscan_batch_rows(5_000_000, int(0.4 * switch), I32) == INT32_MAX // 5_000_000


def test_hdbscan_needs_about_100_bytes_per_row_per_neighbour_and_cuml_caps_k() -> None:
    hp = parse({"algorithm": "hdbscan", "min_cluster_size": "100"})
    assert hdbscan_k(hp, 5_000_000) == 100  # min_samples defaults to min_cluster_size
    assert hdbscan_k(parse({"algorithm": "hdbscan"}), 1_000_000) == 1024  # 2% of rows, capped
    assert hdbscan_k(parse({"algorithm": "hdbscan", "min_samples": "7"}), 10**6) == 7
    cluster = next(s for s in plan(5_000_000, 50, hp, 40 * GB).stages if s.stage == "cluster")
    # the mutual-reachability COO, its symmetrisation and output: 20 + 40 + 40 bytes per entry
    assert cluster.working >= 100 * 5_000_000 * 100
    assert cluster.working < 1.1 * 100 * 5_000_000 * 100


def test_a_plan_too_large_for_the_device_is_refused_with_the_stage_and_a_fix() -> None:
    hp = parse({"algorithm": "hdbscan", "min_cluster_size": "100"})
    a100 = next(g for g in GPUS if g.name == "A100 40 GB")
    memory = plan(5_000_000, 50, hp, a100.free_at_start)
    refused = problem(memory, hp, a100.free_at_start, a100.name)
    assert isinstance(refused, ResourceError) and refused.exit_code == 3
    assert "cluster" in str(refused) and "HDBSCAN's reachability graph" in str(refused)
    assert "min_samples" in refused.fix and "100 neighbours" in refused.fix
    h200 = next(g for g in GPUS if g.name == "H200")
    assert (
        problem(plan(5_000_000, 50, hp, h200.free_at_start), hp, h200.free_at_start, "H200") is None
    )


def test_the_defaults_fit_a_t4_up_to_5m_rows_of_50_features() -> None:
    hp = parse({})
    t4 = GPUS[0]
    for rows in (1_000_000, 5_000_000):
        memory = plan(rows, 50, hp, t4.free_at_start)
        assert problem(memory, hp, t4.free_at_start, t4.name) is None
    # UMAP is fitted on umap_fit_sample_size rows: its graph does not grow with the table.
    reduce_1m, reduce_5m = (
        next(s for s in plan(rows, 50, hp, t4.free_at_start).stages if s.stage == "reduce")
        for rows in (1_000_000, 5_000_000)
    )
    grown = reduce_5m.working - reduce_1m.working
    assert grown == 4_000_000 * hp.n_components * 4  # the embedding of the added rows only


def test_plan_stages_are_pipeline_stages_in_pipeline_order() -> None:
    order = [stage.name for stage in STAGES]
    for values in ({}, {"algorithm": "hdbscan"}, {"min_samples": "9", "reducer": "tsne"}):
        names = [s.stage for s in plan(100_000, 20, parse(values), 16 * GB).stages]
        assert names == sorted(names, key=order.index)


def test_stages_already_run_are_not_checked_again() -> None:
    """After prepare, load's parse peak has passed: only later stages can refuse."""
    hp = parse({"reducer": "pca"})
    memory = plan(1_000_000, 20, hp, 8 * GB, table_columns=600)  # 580 columns not clustered
    assert memory.peak.stage == "load"
    assert problem(memory, hp, 8 * GB, "T4") is not None
    assert problem(memory, hp, 8 * GB, "T4", after="prepare") is None


def test_silhouette_chunks_in_the_plan_stay_below_cuvs_int_limit() -> None:
    score = next(s for s in plan(20_000_000, 50, parse({}), 140 * GB).stages if s.stage == "score")
    assert score.working < 4 * 40_000**2 + 4 * 10_000 * 1_001 + 1


class SmallDevice(CpuBackend):
    """The CPU backend with the GPU's memory check against a device of `free` bytes."""

    def __init__(self, free: int) -> None:
        self.free = free
        self.reduced = False

    def memory_problem(self, rows, features, hp, table_columns):
        memory = plan(rows, features, hp, self.free, table_columns)
        return problem(memory, hp, self.free, "a small GPU", after="prepare")

    def make_reducer(self, settings):
        self.reduced = True
        return super().make_reducer(settings)


def test_fit_refuses_before_the_long_stages_when_the_plan_does_not_fit(tmp_path) -> None:
    tree = JobTree(tmp_path).write_demo({}, rows=2000, files=1)
    train = read_channels(JobPaths.from_env(tree.env()))["train"]
    hp = parse({"algorithm": "hdbscan", "label_column": "segment", "id_column": "customer_id"})
    small = SmallDevice(free=2 * 2**20)
    with pytest.raises(ResourceError, match="needs more device memory than a small GPU"):
        fit(small, hp, StageRunner(StageClock()), train)
    assert not small.reduced  # refused before UMAP
    roomy = SmallDevice(free=64 * GB)
    result = fit(roomy, hp.replace(reducer="pca"), StageRunner(StageClock()), train)
    assert len(np.unique(result.train.labels)) > 1


def test_the_plans_copies_of_pipeline_constants_agree_with_their_sources() -> None:
    """The backends may not import the pipeline, so the plan keeps copies: they must not drift."""
    from smcluster.pipeline import reduce
    from smcluster.pipeline.cluster import mass
    from smcluster.pipeline.refine import outliers

    assert memory_plan.OUTLIER_K == outliers.K
    assert memory_plan.OUTLIER_REFERENCE_ROWS == outliers.REFERENCE_ROWS
    assert memory_plan.MASS_MIN_SAMPLES == mass.MIN_SAMPLES
    assert memory_plan.MIN_CLUSTER_SHARE == mass.MIN_CLUSTER_SHARE
    assert memory_plan.MIN_CLUSTER_FLOOR == mass.MIN_CLUSTER_FLOOR
    assert memory_plan.TRANSFORM_CHUNK == reduce.TRANSFORM_CHUNK
    for rows in (5, 1_000, 10**6):
        hp = parse({"algorithm": "hdbscan"})
        assert hdbscan_k(hp, rows) == min(mass.auto_min_cluster_size(rows), 1024)
