"""Tuning ranges narrowed to what the GPU memory plan allows on the job's instance type.

A tuning job runs its trials with every tuned name drawn from its range; a trial that asks for
HDBSCAN with 50 neighbours per row over 5 million rows on a 16 GB T4 is refused by `train`
(exit 3, `backends/memory_plan.py`) after it has loaded the table, and a tuner that meets
several such refusals learns nothing from them. Given the table's size (`launch-tuning --rows
--features`), each memory-bound range is narrowed to the largest values whose plan fits the
instance's GPU with every other tuned name at its most demanding value; the ranges left as
they are, and what was narrowed, are said before any AWS call.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..backends import memory_plan
from ..backends.memory_plan import GPUS, Gpu
from ..contract.hyperparameters import parse
from ..contract.schema import Hyperparameters

# The tuned names the plan grows with, the first lowered first: HDBSCAN's neighbours per row
# (min_samples, or min_cluster_size when min_samples is not set), UMAP's neighbours and its
# fitted rows.
MEMORY_BOUND = ("min_samples", "min_cluster_size", "n_neighbors", "umap_fit_sample_size")
CHOICES = ("algorithm", "reducer")  # categorical names whose every value is planned

# SageMaker instance family -> the GPU it carries (one per job is used).
FAMILIES = {
    "g4dn": "T4",
    "g5": "A10G",
    "g6": "L4",
    "p4d": "A100 40 GB",
    "p4de": "A100 80 GB",
    "p5": "H100",
    "p5e": "H200",
    "p5en": "H200",
}


def gpu_for_instance(instance_type: str) -> Gpu | None:
    """The GPU of an `ml.<family>.<size>` instance type, or None (a CPU instance, or one
    the plan does not know)."""
    parts = instance_type.split(".")
    family = parts[1] if len(parts) == 3 and parts[0] == "ml" else ""
    name = FAMILIES.get(family)
    return next((g for g in GPUS if g.name == name), None)


@dataclass
class Narrowed:
    ranges: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _combinations(ranges: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """Every combination of the tuned algorithm and reducer values."""
    chosen = [n for n in CHOICES if n in ranges and ranges[n]["type"] == "Categorical"]
    return [
        {n: str(v) for n, v in zip(chosen, values, strict=True)}
        for values in itertools.product(*(ranges[n]["values"] for n in chosen))
    ]


def _worst_trial(
    ranges: Mapping[str, Mapping[str, Any]], static: Mapping[str, str], choice: Mapping[str, str]
) -> dict[str, str]:
    """The most demanding trial of `choice`: each other tuned name at its largest value."""
    trial = dict(static)
    for name, entry in ranges.items():
        if entry["type"] == "Categorical":
            values = entry["values"]
            trial[name] = str(max(values) if name in MEMORY_BOUND else values[0])
        else:
            trial[name] = str(entry["max"])
    return {**trial, **choice}


def narrow_to_gpu(
    ranges: Mapping[str, Mapping[str, Any]],
    static: Mapping[str, str],
    instance_type: str,
    rows: int,
    features: int,
) -> Narrowed:
    """`ranges` with the memory-bound ones narrowed until every trial's plan fits the GPU of
    `instance_type`; notes for what was narrowed, problems where nothing fits."""
    out = Narrowed({name: copy.deepcopy(dict(entry)) for name, entry in ranges.items()})
    gpu = gpu_for_instance(instance_type)
    if gpu is None:
        return out
    table = _Table(rows, features, gpu, instance_type)
    for choice in _combinations(out.ranges):
        trial = _worst_trial(out.ranges, static, choice)
        for name in MEMORY_BOUND:
            if table.fits(trial) or name not in out.ranges:
                continue
            problem = _narrow(out, name, trial, table)
            if problem:
                out.problems.append(problem)
                break
        else:
            if not table.fits(trial):
                out.problems.append(table.beyond(trial))
    return out


@dataclass(frozen=True)
class _Table:
    rows: int
    features: int
    gpu: Gpu
    instance_type: str

    def fits(self, values: Mapping[str, str]) -> bool:
        hp: Hyperparameters = parse(dict(values))
        free = self.gpu.free_at_start
        memory = memory_plan.plan(self.rows, self.features, hp, free)
        return memory_plan.problem(memory, hp, free, self.gpu.name) is None

    def where(self) -> str:
        return (
            f"the {self.gpu.name} of {self.instance_type} for {self.rows:,} rows x "
            f"{self.features} features"
        )

    def beyond(self, trial: Mapping[str, str]) -> str:
        hp = parse(dict(trial))
        memory = memory_plan.plan(self.rows, self.features, hp, self.gpu.free_at_start)
        peak = memory.peak
        return (
            f"a trial with {_describe(trial, None)} needs {memory_plan.gib(peak.peak)} of GPU "
            f"memory in {peak.stage} ({peak.what}), more than {self.where()} holds "
            f"({memory_plan.gib(self.gpu.free_at_start)} free) whatever the memory-bound ranges: "
            "choose an instance with more GPU memory, or leave that algorithm or reducer out "
            "with --range"
        )


def _narrow(out: Narrowed, name: str, trial: dict[str, str], table: _Table) -> str | None:
    """Narrow `name`'s range (and `trial`) until the trial fits, or as far as it goes; a
    problem when only its lowest value would fit."""
    entry = out.ranges[name]
    if entry["type"] == "Categorical":
        kept = [v for v in entry["values"] if table.fits({**trial, name: str(v)})]
        if kept and kept != entry["values"]:
            out.notes.append(
                f"{name}: values {entry['values']} narrowed to {kept} ({table.where()})"
            )
            entry["values"] = kept
            trial[name] = str(max(kept))
        return None
    low, high = int(entry["min"]), int(entry["max"])
    if not table.fits({**trial, name: str(low)}):
        trial[name] = str(low)  # the next name may make room
        return None
    while low < high:  # the plan grows with the value: bisect for the largest that fits
        middle = (low + high + 1) // 2
        if table.fits({**trial, name: str(middle)}):
            low = middle
        else:
            high = middle - 1
    if low <= int(entry["min"]):
        return (
            f"{name} fits {table.where()} only at its lowest value, {entry['min']}: fix it with "
            f"--hp {name}={entry['min']}, or choose an instance with more GPU memory"
        )
    out.notes.append(
        f"{name}: range {entry['min']}..{entry['max']} narrowed to {entry['min']}..{low} (the "
        f"GPU memory plan on {table.where()}, with {_describe(trial, name)})"
    )
    entry["max"] = low
    trial[name] = str(low)
    return None


def _describe(trial: Mapping[str, str], skip: str | None) -> str:
    shown = [n for n in (*CHOICES, *MEMORY_BOUND) if n in trial and n != skip]
    return ", ".join(f"{n}={trial[n]}" for n in shown)
