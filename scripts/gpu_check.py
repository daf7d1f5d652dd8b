"""The GPU check (`make gpu-check` runs it after installing the GPU extras).

1. `train` with backend=gpu on 1M and 5M synthetic rows (`smcluster.synthetic`, 30 features,
   8 known segments): must succeed; prints per-stage seconds and the ARI against the segments.
2. `train` with backend=cpu on a random sample of the 1M table.
3. ARI between the GPU labels (1M run) and the CPU labels on the sampled rows: must be >= 0.9.

Exit code 0 only when every run succeeds and the backends agree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from smcluster.contract.local_tree import PARQUET, channel_config, write_job_config
from smcluster.synthetic import make_segments

BIN = Path(sys.executable).parent
MIN_AGREEMENT = 0.9


def write_tree(base: Path, table: pd.DataFrame, backend: str) -> Path:
    hp = {"id_column": "row_id", "label_column": "segment", "backend": backend}
    paths = write_job_config(base, hp, {"train": channel_config(PARQUET)})
    table.to_parquet(paths.channel_dir("train") / "part-000.parquet", index=False)
    return base


def run_train(base: Path, label: str) -> dict:
    started = time.perf_counter()
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base)}
    done = subprocess.run([str(BIN / "train")], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    (base / "train.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        failure = base / "output" / "failure"
        reason = failure.read_text() if failure.exists() else done.stderr[-2000:]
        print(f"[gpu-check] {label}: train failed (exit {done.returncode}):\n{reason}")
        return {"ok": False}
    metrics = json.loads((base / "model" / "metrics.json").read_text())
    device = [line for line in done.stderr.splitlines() if "GPU:" in line or "backend:" in line]
    print(f"[gpu-check] {label}: {wall:.1f} s wall, ARI vs segments {metrics['train']['ari']:.3f}")
    for line in device:
        print(f"[gpu-check]   {line.split(': ', 1)[-1]}")
    for stage, seconds in metrics["timings_seconds"].items():
        print(f"[gpu-check]   {stage:<20} {seconds:9.2f} s")
    labels = pd.read_parquet(base / "model" / "labels.parquet", columns=["row_id", "cluster"])
    return {"ok": True, "wall_s": wall, "labels": labels, "metrics": metrics}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,5000000")
    parser.add_argument("--cpu-sample", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/smcluster-gpu-check"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ok = True
    runs = {}
    first = None
    for rows in sizes:
        table = make_segments(rows, seed=sizes[0])  # one seed: the smaller table is a prefix
        if first is None:
            first = table
        runs[rows] = run_train(write_tree(args.work / f"gpu-{rows}", table, "gpu"), f"gpu {rows:,}")
        ok &= runs[rows]["ok"]
        del table
    rng = np.random.default_rng(0)
    picked = np.sort(rng.choice(len(first), size=min(args.cpu_sample, len(first)), replace=False))
    sample = first.iloc[picked].reset_index(drop=True)
    cpu = run_train(write_tree(args.work / "cpu-sample", sample, "cpu"), f"cpu {len(sample):,}")
    ok &= cpu["ok"]
    if cpu["ok"] and runs[sizes[0]]["ok"]:
        merged = cpu["labels"].merge(
            runs[sizes[0]]["labels"], on="row_id", suffixes=("_cpu", "_gpu")
        )
        agreement = adjusted_rand_score(merged["cluster_cpu"], merged["cluster_gpu"])
        verdict = "ok" if agreement >= MIN_AGREEMENT else "FAILED"
        print(
            f"[gpu-check] ARI between cpu and gpu labels on {len(merged):,} shared rows: "
            f"{agreement:.3f} (needs >= {MIN_AGREEMENT}): {verdict}"
        )
        ok &= agreement >= MIN_AGREEMENT
    print(f"[gpu-check] {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
