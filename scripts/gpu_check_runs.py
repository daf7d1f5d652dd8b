"""Whole `train` jobs for `make gpu-check`: end to end on both backends, and the smoke pass.

Each job is a subprocess on a SageMaker-shaped tree, started as `python -m smcluster.train` so
that the check also runs from a plain environment where smcluster is on PYTHONPATH only.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gpu_check_stages import Check
from smcluster.contract.local_tree import PARQUET, channel_config, write_job_config
from smcluster.synthetic import make_customers
from smcluster.tools.demo import write_job_tree

QUIET = {"plots": "false", "tracker": "none"}
MAX_ARI_LOSS = 0.05  # the candidate's ARI against the truth may trail the reference's this much


@dataclass
class JobRun:
    ok: bool
    seconds: float
    reason: str  # the failure file (or the log's tail) when not ok
    metrics: dict[str, Any]
    model_dir: Path

    def labels(self) -> pd.DataFrame:
        return pd.read_parquet(self.model_dir / "labels.parquet")


def run_train(base: Path) -> JobRun:
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base)}
    model = base / "model"
    model.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "smcluster.train"], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    (base / "train.log").write_text(done.stdout + done.stderr)
    metrics_file = model / "metrics.json"
    if done.returncode != 0 or not metrics_file.exists():
        failure = base / "output" / "failure"
        reason = failure.read_text() if failure.exists() else done.stderr[-2000:]
        return JobRun(False, seconds, f"exit {done.returncode}: {reason.strip()}", {}, model)
    return JobRun(True, seconds, "", json.loads(metrics_file.read_text()), model)


def write_table_tree(base: Path, table: Path, hyperparameters: dict[str, str]) -> Path:
    """A fresh job tree whose train channel is `table` (a hard link: no copy, and `train`
    refuses symbolic links that lead out of a channel)."""
    shutil.rmtree(base, ignore_errors=True)
    paths = write_job_config(base, hyperparameters, {"train": channel_config(PARQUET)})
    os.link(table, paths.channel_dir("train") / "part-000.parquet")
    return base


def end_to_end(
    table: Path, rows: int, work: Path, reference: str, candidate: str
) -> tuple[list[Check], dict[str, Any]]:
    """`train` with the defaults on both backends (ARI against the truth), the candidate twice,
    on the Parquet file of `rows` rows the stages read."""
    base_hp = {"id_column": "row_id", "label_column": "segment", **QUIET}
    runs = {}
    for name, backend in (("reference", reference), ("candidate", candidate), ("again", candidate)):
        tree = write_table_tree(work / f"e2e-{name}", table, {**base_hp, "backend": backend})
        runs[name] = run_train(tree)
    checks = []
    ref, cand, again = runs["reference"], runs["candidate"], runs["again"]
    if not (ref.ok and cand.ok):
        failed = [f"{n}: {r.reason}" for n, r in runs.items() if not r.ok]
        checks.append(
            Check("train end to end", rows, ref.seconds, cand.seconds, "; ".join(failed), False)
        )
        return checks, {}
    ari_ref, ari_cand = ref.metrics["train"]["ari"], cand.metrics["train"]["ari"]
    checks.append(
        Check(
            "train end to end (defaults, UMAP)",
            rows,
            ref.seconds,
            cand.seconds,
            f"ARI against the truth {ari_cand:.3f} against {ari_ref:.3f} "
            f"(>= reference - {MAX_ARI_LOSS})",
            ari_cand >= ari_ref - MAX_ARI_LOSS,
        )
    )
    if again.ok:
        first, second = cand.labels(), again.labels()
        same = first.equals(second)
        differ = (
            int((first["cluster"] != second["cluster"]).sum()) if len(first) == len(second) else -1
        )
        measure = "identical labels" if same else f"labels differ on {differ:,} rows"
    else:
        same, measure = False, f"second run failed: {again.reason}"
    checks.append(Check("train twice, one seed", rows, None, again.seconds, measure, same))
    stages = {name: run.metrics.get("timings_seconds", {}) for name, run in runs.items() if run.ok}
    return checks, stages


@dataclass(frozen=True)
class Smoke:
    name: str
    hyperparameters: dict[str, str]
    files: int = 1
    file_format: str = "parquet"
    gzip: bool = False


SMOKES = (
    Smoke("dbscan + UMAP, 3 Parquet files, plots", {"plots": "true"}, files=3),
    Smoke("hdbscan", {"algorithm": "hdbscan", "min_cluster_size": "50"}),
    Smoke("kmeans", {"algorithm": "kmeans", "n_clusters": "6"}),
    Smoke("gmm", {"algorithm": "gmm", "n_clusters": "6"}),
    Smoke("reducer tsne (2 components)", {"reducer": "tsne", "n_components": "2"}),
    Smoke("reducer pca", {"reducer": "pca"}),
    Smoke("reducer none", {"reducer": "none"}),
    Smoke(
        "gzip CSV, 2 files, missing=drop",
        {"missing": "drop"},
        files=2,
        file_format="csv",
        gzip=True,
    ),
)


def gzip_files(folder: Path) -> None:
    for path in sorted(folder.glob("part-*.csv")):
        with path.open("rb") as plain, gzip.open(f"{path}.gz", "wb") as packed:
            shutil.copyfileobj(plain, packed)
        path.unlink()


def smoke_pass(rows: int, work: Path, candidate: str) -> list[Check]:
    """Every algorithm and reducer, many files, gzip CSV and missing values (the demo table has
    2% missing e-mail rates) on the candidate; then `predict` with the first job's bundle."""
    checks: list[Check] = []
    first_model: Path | None = None
    for smoke in SMOKES:
        base = work / f"smoke-{len(checks)}"
        shutil.rmtree(base, ignore_errors=True)
        hp = {"id_column": "customer_id", "label_column": "segment", **QUIET}
        hp.update(smoke.hyperparameters, backend=candidate)
        write_job_tree(
            base, rows=rows, files=smoke.files, file_format=smoke.file_format, hyperparameters=hp
        )
        if smoke.gzip:
            gzip_files(base / "input" / "data" / "train")
        run = run_train(base)
        if run.ok:
            train = run.metrics["train"]
            measure = (
                f"{int(train['n_clusters'])} clusters, ARI {train.get('ari', float('nan')):.3f}"
            )
            first_model = first_model or run.model_dir
        else:
            measure = run.reason
        checks.append(Check(f"smoke: {smoke.name}", rows, None, run.seconds, measure, run.ok))
    checks.append(predict_check(first_model, work))
    return checks


def predict_check(model: Path | None, work: Path) -> Check:
    """`smcluster predict` of 5 new rows with a bundle the candidate trained."""
    if model is None:
        return Check("smoke: predict 5 rows", 5, None, None, "no model to load", False)
    new_rows = make_customers(5, seed=99, first_id=900_001).drop(columns=["segment"])
    source, target = work / "predict-in.csv", work / "predict-out.csv"
    new_rows.to_csv(source, index=False)
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "smcluster.cli",
            "predict",
            "--model",
            str(model),
            "--input",
            str(source),
            "--output",
            str(target),
        ],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not target.exists():
        return Check("smoke: predict 5 rows", 5, None, seconds, done.stderr[-500:].strip(), False)
    predicted = pd.read_csv(target)
    ok = len(predicted) == 5
    return Check("smoke: predict 5 rows", 5, None, seconds, f"{len(predicted)} rows assigned", ok)
