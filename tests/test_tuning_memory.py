"""Tuning ranges narrowed to the GPU memory plan (`tools/tuning_memory.py`): every trial a
narrowed range allows must fit the instance's GPU, and nothing fits is said, not sent."""

from __future__ import annotations

import itertools

from smcluster.backends import memory_plan
from smcluster.contract.hyperparameters import parse
from smcluster.contract.schema import SCHEMA
from smcluster.tools.tuning_memory import gpu_for_instance, narrow_to_gpu


def _fits(values: dict[str, str], rows: int, gpu: memory_plan.Gpu) -> bool:
    hp = parse(values)
    memory = memory_plan.plan(rows, 50, hp, gpu.free_at_start)
    return memory_plan.problem(memory, hp, gpu.free_at_start, gpu.name) is None


def test_instance_families_map_to_their_gpus() -> None:
    assert gpu_for_instance("ml.g4dn.xlarge").name == "T4"
    assert gpu_for_instance("ml.p4de.24xlarge").name == "A100 80 GB"
    assert gpu_for_instance("ml.p5en.48xlarge").name == "H200"
    assert gpu_for_instance("ml.c7i.4xlarge") is None
    assert gpu_for_instance("local") is None


def test_every_corner_of_the_narrowed_ranges_fits_the_gpu() -> None:
    ranges = SCHEMA.tuning_ranges()
    rows = 5_000_000
    out = narrow_to_gpu(ranges, {}, "ml.g4dn.xlarge", rows, 50)
    assert not out.problems and out.notes
    t4 = gpu_for_instance("ml.g4dn.xlarge")
    names = ("min_samples", "min_cluster_size", "n_neighbors", "n_components")
    for algorithm, reducer in itertools.product(
        out.ranges["algorithm"]["values"], out.ranges["reducer"]["values"]
    ):
        for corner in itertools.product(
            *((out.ranges[n]["min"], out.ranges[n]["max"]) for n in names)
        ):
            values = {"algorithm": algorithm, "reducer": reducer}
            values |= {n: str(v) for n, v in zip(names, corner, strict=True)}
            assert _fits(values, rows, t4), values
    # ... and one step past the narrowed maximum does not, for the worst trial.
    worst = {"algorithm": "hdbscan", "reducer": "umap", "min_cluster_size": "2000"}
    for name in ("n_neighbors", "n_components"):
        worst[name] = str(out.ranges[name]["max"])
    assert not _fits({**worst, "min_samples": str(out.ranges["min_samples"]["max"] + 1)}, rows, t4)


def test_ranges_stay_as_they_are_on_cpu_instances_and_where_everything_fits() -> None:
    ranges = SCHEMA.tuning_ranges()
    assert narrow_to_gpu(ranges, {}, "ml.c7i.4xlarge", 50_000_000, 50).ranges == ranges
    roomy = narrow_to_gpu(ranges, {}, "ml.p5e.48xlarge", 100_000, 50)
    assert roomy.ranges == ranges and not roomy.notes and not roomy.problems


def test_a_table_no_trial_can_hold_is_a_problem_not_a_launch() -> None:
    ranges = {"algorithm": {"type": "Categorical", "values": ["dbscan"]}}
    out = narrow_to_gpu(ranges, {}, "ml.g4dn.xlarge", 400_000_000, 50)
    assert out.problems and "choose an instance with more GPU memory" in out.problems[0]
