"""`make objective-study`: which internal score should a tuner maximize? Measured, not assumed.

For every set of the quality battery (`quality_sets.py`) it runs the real `train` on a grid of
configurations (reducers, embedding sizes, neighbourhoods, min_samples, algorithms, preparation;
`GRID` below, the defaults first), reads every candidate score `train` prints (the metric
registry's internal scores: silhouette and DBCV in the run's own embedding, the same two in the
evaluation space common to all runs, Calinski-Harabasz, Davies-Bouldin), and scores each run's
labels against the truth (AMI, noise as one more label). A tuner that maximizes a candidate
would pick, per set, the run where that candidate is best: the candidate whose picks have the
highest median AMI across sets (ties: the higher median Spearman correlation between the
candidate and AMI within a set) is the one to use as the tuning objective. Writes
`objective.json` and `objective.md` to `--out`.

    python scripts/objective_study.py --jobs 2            # every set, the whole grid
    python scripts/objective_study.py --sets iris,atom    # a subset
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import BASE_HP, read_train_outputs, score, write_tree
from quality_sets import select
from smcluster.contract.metrics import METRICS

GRID: tuple[dict[str, str], ...] = (
    {},
    {"reducer": "none"},
    {"reducer": "umap", "n_components": "2"},
    {"reducer": "umap", "n_components": "5"},
    {"reducer": "umap", "n_components": "10"},
    {"reducer": "umap", "n_neighbors": "50"},
    {"reducer": "umap", "min_dist": "0.3"},
    {"reducer": "pca", "n_components": "2"},
    {"reducer": "pca", "n_components": "5"},
    {"min_samples": "5"},
    {"min_samples": "15"},
    {"min_samples": "40"},
    {"reducer": "none", "min_samples": "5"},
    {"log_transform": "none"},
    {"scaling": "robust"},
    {"algorithm": "hdbscan", "min_cluster_size": "15"},
    {"algorithm": "hdbscan", "min_cluster_size": "60"},
    {"algorithm": "kmeans", "n_clusters": "3"},
    {"algorithm": "kmeans", "n_clusters": "6"},
    {"algorithm": "kmeans", "n_clusters": "12"},
    {"algorithm": "kmeans", "reducer": "none", "n_clusters": "8"},
    {"algorithm": "gmm", "n_clusters": "4"},
    {"algorithm": "gmm", "n_clusters": "8"},
    {"algorithm": "gmm", "reducer": "none", "n_clusters": "5"},
)
# Internal scores only: counts, noise shares and the truth-based ARI/AMI cannot be objectives.
CANDIDATES = tuple(
    (spec.name, spec.direction)
    for spec in METRICS
    if not spec.needs_labels and spec.name not in {"n_clusters", "noise_fraction"}
)


def train_in_process(base: Path, rows: int) -> dict[str, Any]:
    """The job `train` runs (`Job.run_guarded`), in this long-lived worker process.

    Same code path as the entrypoint minus the interpreter start: numba compiles UMAP's kernels
    once per worker instead of once per run (~15 s each), which is what makes a 700-run grid
    fit on two cores. The log goes to the tree's train.log as the subprocess's would.
    """
    from smcluster.contract.paths import JobPaths
    from smcluster.job import Job

    handler = logging.FileHandler(base / "train.log", mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    started = time.perf_counter()
    try:  # metric lines go to the log too: metrics.json holds them, the console shows progress
        job = Job(JobPaths.from_env({"SAGEMAKER_BASE_DIR": str(base.resolve())}))
        with contextlib.redirect_stdout(handler.stream):
            job.run_guarded()
    finally:
        root.removeHandler(handler)
        handler.close()
    result: dict[str, Any] = {
        "exit_code": job.exit_code if job.exit_code is not None else 1,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return read_train_outputs(base, rows, result)


def run_config(base: Path, truth: np.ndarray, index: int, hp: dict[str, str]) -> dict[str, Any]:
    """One configuration of one set: the job, its labels scored against the truth, its scores."""
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("numba", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return entry_of(base, truth, index, hp, train_in_process(base, len(truth)))


def read_config(base: Path, truth: np.ndarray, index: int, hp: dict[str, str]) -> dict[str, Any]:
    """A configuration that already ran (`--summarize`): its tree's outputs, scored."""
    done = (base / "model" / "manifest.json").exists()
    return entry_of(
        base,
        truth,
        index,
        hp,
        read_train_outputs(
            base, len(truth), {"exit_code": 0 if done else 1, "seconds": float("nan")}
        ),
    )


def entry_of(
    base: Path, truth: np.ndarray, index: int, hp: dict[str, str], result: dict[str, Any]
) -> dict[str, Any]:
    labels = result.pop("labels", None)
    entry: dict[str, Any] = {"config": index, "hp": hp, "seconds": result["seconds"]}
    if labels is None:
        entry["failure"] = result.get("failure", "no labels")
        return entry
    entry.update(score(truth, labels))
    metrics = json.loads((base / "model" / "metrics.json").read_text())["train"]
    entry["scores"] = {name: metrics.get(name) for name, _ in CANDIDATES}
    return entry


def summarize(sets: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    sets = {name: runs for name, runs in sets.items() if any("ami" in r for r in runs)}
    rows: list[dict[str, Any]] = []
    for name, direction in CANDIDATES:
        picked, correlations = [], []
        for runs in sets.values():
            scored = [r for r in runs if "scores" in r and r["scores"].get(name) is not None]
            if not scored:
                continue
            sign = 1.0 if direction == "Maximize" else -1.0
            best = max(scored, key=lambda r: sign * r["scores"][name])
            picked.append(best["ami"])
            values = [sign * r["scores"][name] for r in scored]
            amis = [r["ami"] for r in scored]
            if len(set(values)) > 1 and len(set(amis)) > 1:
                correlations.append(float(spearmanr(values, amis).statistic))
        rows.append(
            {
                "candidate": f"train:{name}",
                "direction": direction,
                "median_ami_of_pick": round(statistics.median(picked), 4) if picked else None,
                "mean_ami_of_pick": round(statistics.fmean(picked), 4) if picked else None,
                "median_spearman": round(statistics.median(correlations), 3)
                if correlations
                else None,
                "sets": len(picked),
            }
        )
    defaults = [runs[0]["ami"] for runs in sets.values() if "ami" in runs[0]]
    oracle = [max(r["ami"] for r in runs if "ami" in r) for runs in sets.values()]
    rows.sort(key=lambda r: (-(r["median_ami_of_pick"] or -9), -(r["median_spearman"] or -9)))
    return {
        "candidates": rows,
        "chosen": rows[0]["candidate"],
        "median_ami_defaults": round(statistics.median(defaults), 4),
        "median_ami_oracle": round(statistics.median(oracle), 4),
    }


def markdown(payload: dict[str, Any]) -> str:
    lines = [
        f"Objective study: {payload['sets']} sets x {len(GRID)} configurations, "
        f"{payload['wall_seconds']:.0f} s. Median AMI: defaults {payload['median_ami_defaults']}, "
        f"best configuration per set (oracle) {payload['median_ami_oracle']}.",
        "",
        "| candidate objective | direction | median AMI of its pick | mean AMI | median Spearman "
        "with AMI |",
        "|---|---|---:|---:|---:|",
    ]
    for row in payload["candidates"]:
        lines.append(
            f"| `{row['candidate']}` | {row['direction']} | {row['median_ami_of_pick']} | "
            f"{row['mean_ami_of_pick']} | {row['median_spearman']} |"
        )
    lines += ["", f"Chosen: `{payload['chosen']}`.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", help="comma-separated set names (default: all)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("tmp/objective"))
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument(
        "--summarize",
        action="store_true",
        help="run nothing: score the configurations already under --work and summarize",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    chosen_sets = select(args.sets)
    results: dict[str, list[dict[str, Any]]] = {qs.name: [] for qs in chosen_sets}
    if args.summarize:
        for qs in chosen_sets:
            truth = qs.load()[1]
            for index, hp in enumerate(GRID):
                base = args.work / qs.name / f"config-{index:02d}"
                finished = base / "model" / "manifest.json", base / "output" / "failure"
                if any(path.exists() for path in finished):
                    results[qs.name].append(read_config(base, truth, index, hp))
        return publish(args, chosen_sets, results, started)
    with ProcessPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        futures = {}
        for qs in chosen_sets:
            features, truth = qs.load()
            for index, hp in enumerate(GRID):
                base = args.work / qs.name / f"config-{index:02d}"
                write_tree(base, features, {**BASE_HP, **hp})
                futures[pool.submit(run_config, base, truth, index, hp)] = qs.name
        for future in as_completed(futures):
            name, entry = futures[future], future.result()
            results[name].append(entry)
            status = entry.get("failure") or f"AMI {entry['ami']:.3f}"
            print(
                f"  {name:<24} config {entry['config']:02d} {entry['seconds']:>6.1f}s {status}",
                flush=True,
            )
    return publish(args, chosen_sets, results, started)


def publish(
    args: argparse.Namespace,
    chosen_sets: list[Any],
    results: dict[str, list[dict[str, Any]]],
    started: float,
) -> int:
    for runs in results.values():
        runs.sort(key=lambda r: r["config"])
    payload = {
        "sets": sum(1 for runs in results.values() if any("ami" in r for r in runs)),
        "grid": list(GRID),
        "wall_seconds": round(time.perf_counter() - started, 1),
        **summarize(results),
        "runs": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "objective.json").write_text(json.dumps(payload, indent=2) + "\n")
    text = markdown(payload)
    (args.out / "objective.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
