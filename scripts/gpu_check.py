"""`make gpu-check`: the GPU backend against the CPU backend, stage by stage, on the same rows.

1. Stages (`gpu_check_stages`), at every `--sizes` row count of the synthetic segment table
   (`smcluster.synthetic.make_segments`, 30 float32 features with 3 near-copies, 1% missing in
   one column): load, prepare (same features dropped, max difference < 1e-4), k-distance curve
   (relative difference < 1e-3), DBSCAN at one fixed eps on the same PCA points (same core
   points, ARI >= 0.999), silhouette, Davies-Bouldin and Calinski-Harabasz on the same points
   and labels (relative difference < 1e-3), UMAP (timed). Speed ratio reference / candidate.
2. Peak device memory of each stage on the candidate at `--memory-rows`.
3. End to end (`gpu_check_runs`): `train` with the defaults on both backends at the first size,
   ARI against the truth; the candidate twice with one seed gives identical labels.
4. Smoke: every algorithm and reducer, many files, gzip CSV, missing values, `predict`.

One table on stdout and in `<out>/gpu_check.md` and `.json`; exit 0 only when every check
passes, 2 when the candidate backend cannot run here. `--candidate cpu` runs the whole check
without a GPU (the test suite does, on small sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from gpu_check_runs import end_to_end, smoke_pass
from gpu_check_stages import Check, Stages, check_hyperparameters, compare, memory_profile
from quality import git_revision
from smcluster.backends import gpu_unavailable_reason, memory_plan, select_backend
from smcluster.synthetic import make_segments
from smcluster.version import __version__

WARM_UP_ROWS = 2_000  # compiles numba's and loads the CUDA kernels before anything is timed
MISSING_COLUMN, MISSING_FRACTION = "f05", 0.01


def guarded(part: str, rows: int, work: Callable[[], list[Check]]) -> list[Check]:
    """`work`'s checks, or one failed check naming the exception: a stage that raises (a library
    call that differs on this device) must not hide the rest of the table."""
    try:
        return work()
    except Exception as exc:
        traceback.print_exc()
        reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
        return [Check(f"{part} (raised)", rows, None, None, reason, False)]


def log(message: str) -> None:
    print(f"[gpu-check] {message}", flush=True)


def write_table(rows: int, folder: Path) -> Path:
    """The segment table with 1% of one column missing, as one Parquet file."""
    table = make_segments(rows, seed=0)
    missing = np.random.default_rng(1).random(rows) < MISSING_FRACTION
    table.loc[missing, MISSING_COLUMN] = np.nan
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"segments-{rows}.parquet"
    table.to_parquet(path, index=False)
    return path


def planned_memory(candidate: Stages, path: Path, rows: int) -> str | None:
    """What `backends/memory_plan.py` predicts for the memory pass's table on this device, to
    read beside the peaks measured (None for a CPU candidate: the plan is the GPU's)."""
    if candidate.backend.name != "gpu":
        return None
    import pyarrow.parquet as pq

    from smcluster.backends.device import read_device_facts

    columns = pq.read_schema(path).names
    features = len(columns) - 2  # the id and the segment label are not clustered
    free = read_device_facts().free_bytes
    plan = memory_plan.plan(rows, features, candidate.hp, free, len(columns))
    stages = ", ".join(f"{s.stage} {memory_plan.gib(s.peak)}" for s in plan.stages)
    return f"memory plan for {rows:,} x {features} with {memory_plan.gib(free)} free: {stages}"


def environment(reference: Stages, candidate: Stages) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "smcluster": __version__,
        "python": platform.python_version(),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "revision": git_revision(),
        "reference": reference.backend.describe(),
        "candidate": candidate.backend.describe(),
    }
    if shutil.which("nvidia-smi"):
        query = "name,memory.total,driver_version,compute_cap"
        smi = subprocess.run(
            ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
        )
        facts["gpus"] = [line.strip() for line in smi.stdout.splitlines() if line.strip()]
    return facts


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def markdown(checks: list[Check], facts: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"# smcluster GPU check: {args.candidate} against {args.reference}",
        "",
        f"smcluster {facts['smcluster']} at {facts['revision']}, Python {facts['python']}, "
        f"{facts['cpus']} CPUs, {time.strftime('%Y-%m-%d')}",
        f"GPUs: {'; '.join(facts.get('gpus', [])) or 'none seen by nvidia-smi'}",
        f"reference: {_versions(facts['reference'])}",
        f"candidate: {_versions(facts['candidate'])}",
        "",
        "speedup = reference s / candidate s; each stage gets the reference's output of the "
        "stage before; seconds include copying the stage's result to the host.",
        "",
        "| stage | rows | reference s | candidate s | speedup | peak device MiB | check | result |",
        "|---|---:|---:|---:|---:|---:|---|:-:|",
    ]
    for check in checks:
        result = {True: "pass", False: "**FAIL**", None: "-"}[check.passed]
        lines.append(
            f"| {check.stage} | {check.rows:,} | {fmt(check.reference_s, '.2f')} | "
            f"{fmt(check.candidate_s, '.2f')} | {fmt(check.speedup, '.1f')} | "
            f"{fmt(check.peak_device_mib, ',.0f')} | {cell(check.measure)} | {result} |"
        )
    failed = sum(check.passed is False for check in checks)
    lines += ["", f"{'all checks passed' if not failed else f'{failed} check(s) FAILED'}"]
    return "\n".join(lines) + "\n"


def cell(text: str) -> str:
    """Text for one markdown table cell: a failure reason may hold pipes and line breaks."""
    return text.replace("|", "\\|").replace("\n", " ")


def _versions(described: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in described.items())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--candidate", default="gpu", choices=["cpu", "gpu"])
    parser.add_argument("--sizes", default="100000,1000000", help="rows of the stage comparison")
    parser.add_argument(
        "--memory-rows", type=int, default=5_000_000, help="rows of the memory pass (0: skip)"
    )
    parser.add_argument(
        "--smoke-rows", type=int, default=20_000, help="rows of the smoke pass (0: skip)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/smcluster-gpu-check"))
    args = parser.parse_args(argv)
    args.sizes = [int(size) for size in args.sizes.split(",") if size]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for side in (args.reference, args.candidate):
        reason = gpu_unavailable_reason() if side == "gpu" else None
        if reason:
            log(
                f"backend=gpu cannot run here: {reason}. Run on a machine with an NVIDIA GPU "
                "and RAPIDS installed (scripts/gpu_check.sh), or pass --candidate cpu."
            )
            return 2
    hp = check_hyperparameters()
    reference = Stages(select_backend(args.reference), hp)
    candidate = Stages(select_backend(args.candidate), hp)
    facts = environment(reference, candidate)
    log(f"reference {args.reference}: {_versions(facts['reference'])}")
    log(f"candidate {args.candidate}: {_versions(facts['candidate'])}")
    data = args.work / "data"

    log(f"warm-up on {WARM_UP_ROWS:,} rows (not timed)")
    warm_up_table = write_table(WARM_UP_ROWS, data)
    warm_up = guarded(
        "warm-up", WARM_UP_ROWS, partial(compare, reference, candidate, warm_up_table, WARM_UP_ROWS)
    )
    # The warm-up's comparisons are not the check's (2,000 rows); only a stage that raised is.
    checks: list[Check] = [check for check in warm_up if check.stage.endswith("(raised)")]
    tables: dict[int, Path] = {}
    for rows in args.sizes:
        log(f"stages at {rows:,} rows")
        tables[rows] = write_table(rows, data)
        checks += guarded(
            "stages", rows, partial(compare, reference, candidate, tables[rows], rows)
        )
        _print_new(checks, rows)
    if args.memory_rows:
        log(f"device memory per stage at {args.memory_rows:,} rows ({args.candidate} only)")
        path, rows = write_table(args.memory_rows, data), args.memory_rows
        planned = planned_memory(candidate, path, rows)
        if planned:
            log(planned)
        checks += guarded("memory pass", rows, partial(memory_profile, candidate, path, rows))
    if args.sizes:
        rows = args.sizes[0]
        log(f"train end to end at {rows:,} rows on both backends, the candidate twice")
        e2e, stage_seconds = end_to_end(
            tables[rows], rows, args.work, args.reference, args.candidate
        )
        checks += e2e
        facts["end_to_end_stage_seconds"] = stage_seconds
    if args.smoke_rows:
        log(f"smoke pass on {args.smoke_rows:,} demo rows ({args.candidate})")
        checks += smoke_pass(args.smoke_rows, args.work, args.candidate)

    report = markdown(checks, facts, args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.md").write_text(report)
    record = {"environment": facts, "checks": [check.to_json() for check in checks]}
    (args.out / "gpu_check.json").write_text(json.dumps(record, indent=2, default=str))
    print(report, flush=True)
    log(f"table in {args.out / 'gpu_check.md'} and gpu_check.json")
    return 1 if any(check.passed is False for check in checks) else 0


def _print_new(checks: list[Check], rows: int) -> None:
    for check in checks:
        if check.rows == rows:
            log(
                f"  {check.stage}: {fmt(check.reference_s, '.2f')} s / "
                f"{fmt(check.candidate_s, '.2f')} s, {check.measure}"
            )


if __name__ == "__main__":
    sys.exit(main())
