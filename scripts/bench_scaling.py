"""`make bench`, past one process: Dask workers against one process on the same table.

- 1M rows (20 features, `make_segments`, in Parquet parts of 250,000 rows): `train` with
  `workers=1` (one process, no Dask) and with `workers=2`, every library held to one thread
  (OMP, OpenBLAS, MKL, numba), so that 2 workers x 1 thread meet 1 process x 1 thread: the same
  labels, and the speed-up of the row-parallel stage (`label_rest`: preparing, embedding and
  assigning the rows outside the fit sample) and of the whole job.
- 10M rows, generated part by part, on 2 workers: each worker's peak memory (the job logs it at
  the end) and the time against the 1M run on 2 workers.

Run by `scripts/bench.py` (`--scaling`); also on its own:
`python scripts/bench_scaling.py --sizes 1000000 --work /tmp/smcluster-bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import BIN, SMCLUSTER_HP, run_measured

PART_ROWS = 250_000
WORKERS = 2
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}
PEAK = re.compile(r"dask worker (\S+) on host (\S+): peak memory (\d+) MiB")
GOALS = (
    ("1M rows: label_rest speed-up, 2 workers against 1 process", "speedup_label_rest", ">=", 1.6),
    ("1M rows: the same labels (share of rows)", "same_labels", ">=", 0.999),
    ("10M rows on 2 workers: peak memory per worker GiB", "peak_worker_gib_10m", "<=", 6.0),
    ("10M rows on 2 workers: time / 1M time on 2 workers", "growth_10m", "<=", 12.0),
)


def parts(work: Path, rows: int, features: int) -> Path:
    """The table as Parquet parts in a channel folder, generated once."""
    from smcluster.synthetic import iter_segments

    folder = work / f"parts-{rows}x{features}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    index = 0
    for chunk in iter_segments(rows, n_features=features, seed=rows):
        for start in range(0, len(chunk), PART_ROWS):
            part = folder / f"part-{index:04d}.parquet"
            chunk.iloc[start : start + PART_ROWS].to_parquet(part, index=False)
            index += 1
    done.write_text("")
    return folder


def run(work: Path, folder: Path, rows: int, workers: int) -> dict[str, Any]:
    """`train` on the parts (hard links: `train` refuses links that leave the channel)."""
    from smcluster.contract.local_tree import PARQUET, channel_config, write_job_config

    base = work / f"scaling-{rows}-w{workers}"
    hyperparameters = {**SMCLUSTER_HP, "workers": str(workers), "tracker": "none"}
    paths = write_job_config(base, hyperparameters, {"train": channel_config(PARQUET)})
    channel = paths.channel_dir("train")
    for part in sorted(folder.glob("part-*.parquet")):
        if not (channel / part.name).exists():
            os.link(part, channel / part.name)
    env = {**os.environ, **ONE_THREAD, "SAGEMAKER_BASE_DIR": str(base)}
    log = work / f"scaling-{rows}-w{workers}.log"
    result = run_measured([str(BIN / "train")], env, log)
    result["workers"] = workers
    if result["exit_code"] == 0:
        metrics = json.loads((base / "model" / "metrics.json").read_text())
        result.update(
            ari=metrics["train"].get("ari"),
            n_clusters=metrics["train"]["n_clusters"],
            stages=metrics["timings_seconds"],
            labels=str(base / "model" / "labels.parquet"),
        )
    peaks = [int(m.group(3)) for m in PEAK.finditer(log.read_text())]
    if peaks:
        result["worker_peak_rss_mib"] = peaks
    return result


def same_labels(first: str, second: str) -> float:
    import pandas as pd

    a, b = pd.read_parquet(first), pd.read_parquet(second)
    if len(a) != len(b) or not (a.iloc[:, 0].to_numpy() == b.iloc[:, 0].to_numpy()).all():
        return 0.0
    return float((a["cluster"].to_numpy() == b["cluster"].to_numpy()).mean())


def scaling(work: Path, sizes: list[int], features: int) -> dict[str, Any]:
    out: dict[str, Any] = {"workers": WORKERS, "threads": ONE_THREAD, "part_rows": PART_ROWS}
    for rows in sizes:
        folder = parts(work, rows, features)
        print(f"[bench] scaling, {rows:,} rows: {WORKERS} workers ...", flush=True)
        several = run(work, folder, rows, WORKERS)
        print(f"[bench]   {several['wall_s']} s", flush=True)
        entry: dict[str, Any] = {"rows": rows, "several": several}
        if rows <= 1_000_000:
            print(f"[bench] scaling, {rows:,} rows: 1 process ...", flush=True)
            one = run(work, folder, rows, 1)
            print(f"[bench]   {one['wall_s']} s", flush=True)
            entry["one"] = one
            if one["exit_code"] == 0 and several["exit_code"] == 0:
                entry["same_labels"] = same_labels(one["labels"], several["labels"])
                entry["speedup_label_rest"] = round(
                    one["stages"]["label_rest"] / several["stages"]["label_rest"], 2
                )
                entry["speedup_wall"] = round(one["wall_s"] / several["wall_s"], 2)
        out[str(rows)] = entry
    return out


def scaling_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    one_m, ten_m = results.get("1000000", {}), results.get("10000000", {})
    values: dict[str, Any] = {
        "speedup_label_rest": one_m.get("speedup_label_rest"),
        "same_labels": one_m.get("same_labels"),
    }
    peaks = ten_m.get("several", {}).get("worker_peak_rss_mib")
    values["peak_worker_gib_10m"] = round(max(peaks) / 1024, 2) if peaks else None
    if ten_m.get("several", {}).get("exit_code") == 0 and one_m.get("several"):
        values["growth_10m"] = round(ten_m["several"]["wall_s"] / one_m["several"]["wall_s"], 2)
    rows = []
    for name, key, op, limit in GOALS:
        value = values.get(key)
        met = None if value is None else (value >= limit if op == ">=" else value <= limit)
        rows.append({"goal": name, "limit": f"{op} {limit}", "value": value, "met": met})
    return rows


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| rows | configuration | wall s | label_rest s | ARI | peak per worker MiB |",
        "|---|---|---|---|---|---|",
    ]
    for key, entry in results.items():
        if not key.isdigit():
            continue
        for name in ("one", "several"):
            run_ = entry.get(name)
            if not run_:
                continue
            label = "1 process x 1 thread" if name == "one" else f"{WORKERS} workers x 1 thread"
            stage = run_.get("stages", {}).get("label_rest", "-")
            peak = run_.get("worker_peak_rss_mib") or [run_["peak_rss_mib"]]
            lines.append(
                f"| {int(key):,} | {label} | {run_['wall_s']} | {stage} | "
                f"{run_.get('ari', '-')} | {', '.join(str(p) for p in peak)} |"
            )
    for goal in results.get("goals", []):
        mark = {True: "met", False: "NOT met", None: "not run"}[goal["met"]]
        lines.append(f"\n- {goal['goal']}: {goal['value']} ({goal['limit']}): {mark}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--work", type=Path, default=Path("/tmp/smcluster-bench"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = scaling(args.work, sizes, args.features)
    results["goals"] = scaling_goals(results)
    text = markdown(results)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "scaling.json").write_text(json.dumps(results, indent=2))
        (args.out / "scaling.md").write_text(text)
    return 0 if all(g["met"] is not False for g in results["goals"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
