"""`make bench`: smcluster's CPU `train` against the hand-written reference, side by side.

For each size (default 10k, 100k, 1M rows of a 20-feature table with 8 known segments and 2%
outliers, `smcluster.synthetic`), runs in this session, one subprocess per configuration:

- smcluster: the `train` console script on a SageMaker-shaped tree (backend=cpu, defaults:
  UMAP fitted on `umap_fit_sample_size` rows, eps from the k-distance knee, chunked DBSCAN);
- reference: `scripts/reference_pipeline.py` (full UMAP, full k-distance, scikit-learn DBSCAN,
  full silhouette), skipped above `--reference-max-rows` with the reason and an extrapolated
  estimate written into the results, never silently.

Peak memory is each subprocess's maximum resident set size (`os.wait4` rusage), which counts
NumPy's and numba's native allocations that tracemalloc would miss. Results: `results.json`
and `results.md` in `--out`; speed is reported as ratios against the reference of this run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
IMAGE_RUNS = 3  # fresh containers of the CPU image; the goal takes the median
SMCLUSTER_HP = {
    "id_column": "row_id",
    "label_column": "segment",
    "backend": "cpu",
}


def run_measured(command: list[str], env: dict[str, str], log_path: Path) -> dict[str, Any]:
    """Run one subprocess; wall seconds, exit code and its peak RSS in MiB."""
    started = time.perf_counter()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "exit_code": process.returncode,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "log": str(log_path),
    }


def table_path(work: Path, rows: int, features: int) -> Path:
    from smcluster.synthetic import make_segments

    path = work / f"table-{rows}x{features}.parquet"
    if not path.exists():
        make_segments(rows, n_features=features, seed=rows).to_parquet(path, index=False)
    return path


def job_tree(work: Path, table: Path, rows: int) -> Path:
    from smcluster.contract.local_tree import PARQUET, channel_config, write_job_config

    base = work / f"job-{rows}"
    paths = write_job_config(base, SMCLUSTER_HP, {"train": channel_config(PARQUET)})
    link = paths.channel_dir("train") / "part-000.parquet"
    if not link.exists():
        # A hard link: `train` refuses symbolic links that lead out of a channel.
        os.link(table, link)
    return base


def run_smcluster(work: Path, table: Path, rows: int) -> dict[str, Any]:
    base = job_tree(work, table, rows)
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base)}
    run = run_measured([str(BIN / "train")], env, work / f"smcluster-{rows}.log")
    if run["exit_code"] == 0:
        metrics = json.loads((base / "model" / "metrics.json").read_text())
        run.update(
            ari=metrics["train"].get("ari"),
            n_clusters=metrics["train"]["n_clusters"],
            noise_fraction=metrics["train"]["noise_fraction"],
            silhouette=metrics["train"]["silhouette"],
            stages=metrics["timings_seconds"],
        )
    return run


def run_reference(work: Path, table: Path, rows: int) -> dict[str, Any]:
    out = work / f"reference-{rows}.json"
    command = [sys.executable, str(ROOT / "scripts" / "reference_pipeline.py"), str(table)]
    run = run_measured([*command, "--out", str(out)], dict(os.environ), work / f"ref-{rows}.log")
    if run["exit_code"] == 0:
        result = json.loads(out.read_text())
        run.update(
            ari=result["ari"],
            n_clusters=result["n_clusters"],
            noise_fraction=result["noise_fraction"],
            silhouette=result["silhouette"],
            stages=result["timings_seconds"],
        )
    return run


def extrapolate(measured: list[tuple[int, dict[str, Any]]], rows: int) -> dict[str, Any]:
    """Per-stage power law through the two largest measured sizes (exponent clamped to 1..2)."""
    (n1, small), (n2, large) = measured[-2], measured[-1]
    estimate: dict[str, float] = {}
    for stage, t2 in large["stages"].items():
        t1 = small["stages"].get(stage, 0.0)
        exponent = math.log(t2 / t1) / math.log(n2 / n1) if t1 > 0 and t2 > 0 else 1.0
        exponent = min(max(exponent, 1.0), 2.0)
        estimate[stage] = round(t2 * (rows / n2) ** exponent, 1)
    return {"estimated_stages": estimate, "estimated_wall_s": round(sum(estimate.values()), 1)}


def fmt(value: Any, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def ratio_cell(entry: dict[str, Any]) -> str:
    if entry["ratio"] is None:
        return "-"
    return f"{entry['ratio']:.2f}" + (" (est.)" if entry["ratio_estimated"] else "")


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Benchmark on {results['machine']['cpus']} CPU cores, {results['features']} features; "
        f"whole run {results['bench_wall_s']:.0f} s.",
        "",
        "| rows | smcluster s | peak MiB | ARI | reference s | peak MiB | ARI | smcluster / ref |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in results["sizes"]:
        smc, ref = entry["smcluster"], entry["reference"]
        if "skipped" in ref:  # an estimate needs two measured sizes below this one
            estimate = ref.get("estimated_wall_s")
            ref_cells = [f"~{estimate:.0f} (est.)" if estimate else "not run", "-", "-"]
        else:
            ref_cells = [f"{ref['wall_s']:.1f}", f"{ref['peak_rss_mib']:.0f}", fmt(ref["ari"])]
        lines.append(
            f"| {entry['rows']:,} | {smc['wall_s']:.1f} | {smc['peak_rss_mib']:.0f} | "
            f"{fmt(smc.get('ari'))} | " + " | ".join(ref_cells) + f" | {ratio_cell(entry)} |"
        )
    lines += ["", "Per-stage seconds (smcluster):", ""]
    stages = sorted({s for e in results["sizes"] for s in e["smcluster"].get("stages", {})})
    lines.append("| rows | " + " | ".join(stages) + " |")
    lines.append("|---:|" + "---:|" * len(stages))
    for entry in results["sizes"]:
        timings = entry["smcluster"].get("stages", {})
        lines.append(
            f"| {entry['rows']:,} | "
            + " | ".join(fmt(timings.get(s), ".1f") for s in stages)
            + " |"
        )
    lines += ["", "Per-stage seconds (reference; `~` = extrapolated, not run):", ""]
    ref_stages = ["load", "prepare", "reduce_umap", "choose_eps", "cluster_dbscan", "score"]
    lines.append("| rows | " + " | ".join(ref_stages) + " |")
    lines.append("|---:|" + "---:|" * len(ref_stages))
    for entry in results["sizes"]:
        ref = entry["reference"]
        timings = ref.get("stages") or ref.get("estimated_stages", {})
        mark = "~" if "skipped" in ref else ""
        lines.append(
            f"| {entry['rows']:,} | "
            + " | ".join(mark + fmt(timings.get(s), ".1f") for s in ref_stages)
            + " |"
        )
    fixed = results.get("fixed_cost") or {}
    if fixed:
        lines += [
            "",
            "Fixed cost (300 demo rows, defaults; seconds of the whole subprocess):",
            "",
            "| train, first run | train, median of 3 after it | predict 5 rows | its imports | "
            "predict after imports |",
            "|---:|---:|---:|---:|---:|",
            f"| {fixed['train_300_first_s']:.1f} | {fixed['train_300_s']:.1f} | "
            f"{fixed['predict_5_s']:.1f} | {fixed['predict_imports_s']:.1f} | "
            f"{fixed['predict_after_imports_s']:.1f} |",
        ]
    image = results.get("image_fixed_cost") or {}
    if image.get("runs"):
        cells = " | ".join(
            f"{fmt(r['train_s'], '.1f')} ({r['docker_run_s']:.1f})" for r in image["runs"]
        )
        lines += [
            "",
            f"Fixed cost inside `{image['image']}` (300 rows, defaults; `train` seconds, "
            "in brackets the whole `docker run`; the goal takes their median):",
            "",
            "| " + " | ".join(f"run {i + 1}" for i in range(len(image["runs"]))) + " |",
            "|" + "---:|" * len(image["runs"]),
            f"| {cells} |",
        ]
    elif image:
        lines += ["", f"Fixed cost inside `{image['image']}`: not measured, {image['skipped']}."]
    lines += ["", "Goals (issue 12):", "", "| goal | target | this run | met |"]
    lines.append("|---|---:|---:|:-:|")
    for goal in results.get("goals", []):
        met = {True: "yes", False: "**no**", None: "not run"}[goal["met"]]
        lines.append(f"| {goal['goal']} | {goal['target']} | {fmt(goal['value'], '.3g')} | {met} |")
    for note in results["notes"]:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def fixed_cost(work: Path) -> dict[str, Any]:
    """What a tiny job pays: `train` on 300 demo rows with the defaults (a warm-up run first,
    which fills numba's cache, then the median of three runs), and `smcluster predict` of 5 rows
    against the time its imports alone take."""
    from smcluster.tools.demo import write_job_tree

    base = work / "fixed-300"
    tree = write_job_tree(base, rows=300, files=1, hyperparameters={"id_column": "customer_id"})
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(tree)}
    # A warm-up run (it fills numba's cache and the store), then the median of three.
    runs = [run_measured([str(BIN / "train")], env, work / f"fixed-{i}.log") for i in range(4)]
    measured = sorted(r["wall_s"] for r in runs[1:])
    rows = tree / "input" / "data" / "train"
    five = work / "five.csv"
    import pandas as pd

    pd.read_csv(next(rows.glob("*.csv"))).head(5).to_csv(five, index=False)
    predict_command = [
        str(BIN / "smcluster"), "predict", "--model", str(tree / "model"), "--input", str(five),
        "--output", str(work / "five-out.csv"),
    ]  # fmt: skip
    imports_command = [
        sys.executable, "-c", "import smcluster.tools.predict, umap, joblib, sklearn.neighbors"
    ]  # fmt: skip
    # Medians of three alternating runs: the difference of two single runs is mostly noise.
    predicts, imports = [], []
    for i in range(3):
        predicts.append(run_measured(predict_command, dict(os.environ), work / f"predict-{i}.log"))
        imports.append(run_measured(imports_command, dict(os.environ), work / f"imports-{i}.log"))
    predict_s = sorted(r["wall_s"] for r in predicts)[1]
    imports_s = sorted(r["wall_s"] for r in imports)[1]
    return {
        "train_300_first_s": runs[0]["wall_s"],
        "train_300_s": measured[1],
        "train_300_runs_s": measured,
        "train_exit_codes": [r["exit_code"] for r in runs],
        "predict_5_s": predict_s,
        "predict_imports_s": imports_s,
        "predict_after_imports_s": round(predict_s - imports_s, 2),
    }


def image_fixed_cost(work: Path, image: str) -> dict[str, Any]:
    """`train` on the same 300 rows inside the CPU image (numba's cache compiled at build time):
    the `train` process timed inside the container, and the whole `docker run` around it."""
    from smcluster.tools.demo import write_job_tree

    tree = write_job_tree(
        work / "fixed-300-image", rows=300, files=1, hyperparameters={"id_column": "customer_id"}
    )
    timed = 's=$(date +%s.%N); train; c=$?; echo "train-wall $s $(date +%s.%N)"; exit $c'
    command = ["docker", "run", "--rm", "--network", "none", "-v", f"{tree}:/opt/ml", image]
    runs = []
    for i in range(IMAGE_RUNS):
        log = work / f"image-{i}.log"
        run = run_measured([*command, "sh", "-c", timed], dict(os.environ), log)
        words = next(
            (line.split() for line in log.read_text().splitlines() if "train-wall" in line), []
        )
        inside = round(float(words[2]) - float(words[1]), 2) if len(words) == 3 else None
        runs.append({"train_s": inside, "docker_run_s": run["wall_s"], "exit": run["exit_code"]})
    inside_s = [r["train_s"] for r in runs if r["train_s"] is not None]
    median = round(statistics.median(inside_s), 2) if inside_s else None
    return {"image": image, "runs": runs, "train_300_s": median}


def image_present(image: str) -> bool:
    try:
        found = subprocess.run(["docker", "image", "inspect", image], capture_output=True)
    except OSError:
        return False
    return found.returncode == 0


GOALS = (
    ("100k rows: smcluster / reference time", "ratio_100000", "<=", 0.5),
    ("100k rows: smcluster ARI", "ari_100000", ">=", 0.98),
    ("10k rows: smcluster / reference time", "ratio_10000", "<=", 1.0),
    ("1M rows: time / 100k time", "growth_1m", "<=", 4.0),
    ("1M rows: peak memory GiB", "peak_gib_1m", "<=", 2.5),
    ("300-row train, defaults, venv, after a warm-up s", "train_300_s", "<=", 5.0),
    ("300-row train, defaults, CPU image s", "image_train_300_s", "<=", 3.0),
    ("predict 5 rows after its imports s", "predict_after_imports_s", "<=", 1.0),
)


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 12's goals against this run's numbers; a goal whose input was not run says so."""
    by_rows = {e["rows"]: e for e in results["sizes"]}
    values: dict[str, float | None] = {}
    for rows in (10_000, 100_000):
        entry = by_rows.get(rows)
        values[f"ratio_{rows}"] = entry.get("ratio") if entry else None
    values["ari_100000"] = by_rows[100_000]["smcluster"].get("ari") if 100_000 in by_rows else None
    values["growth_1m"] = results["growth"].get("1000000/100000")
    million = by_rows.get(1_000_000, {}).get("smcluster", {})
    values["peak_gib_1m"] = round(million["peak_rss_mib"] / 1024, 2) if million else None
    fixed = results.get("fixed_cost") or {}
    values["train_300_s"] = fixed.get("train_300_s")
    values["predict_after_imports_s"] = fixed.get("predict_after_imports_s")
    values["image_train_300_s"] = (results.get("image_fixed_cost") or {}).get("train_300_s")
    out = []
    for label, key, op, target in GOALS:
        value = values.get(key)
        met = None if value is None else (value <= target if op == "<=" else value >= target)
        out.append({"goal": label, "target": f"{op} {target}", "value": value, "met": met})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="smcluster CPU benchmark")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="'' for none")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--no-fixed-cost", action="store_true", help="skip the 300-row runs")
    parser.add_argument(
        "--image",
        default="",
        help="CPU image for the in-image 300-row run (make image-cpu); measured when present",
    )
    parser.add_argument("--reference-max-rows", type=int, default=100_000)
    parser.add_argument(
        "--scaling-sizes",
        default="1000000,10000000",
        help="rows for the Dask workers' runs (scripts/bench_scaling.py); '' for none",
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/smcluster-bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    begun = time.perf_counter()
    fixed = {} if args.no_fixed_cost else fixed_cost(args.work)
    if fixed:
        print(f"[bench] fixed cost: {fixed}", flush=True)
    in_image: dict[str, Any] = {}
    if args.image and not args.no_fixed_cost:
        if image_present(args.image):
            in_image = image_fixed_cost(args.work, args.image)
            print(f"[bench] fixed cost in {args.image}: {in_image}", flush=True)
        else:
            in_image = {"image": args.image, "skipped": "image not built (make image-cpu)"}
    entries: list[dict[str, Any]] = []
    measured_reference: list[tuple[int, dict[str, Any]]] = []
    for rows in sizes:
        table = table_path(args.work, rows, args.features)
        print(f"[bench] {rows:,} rows: smcluster ...", flush=True)
        smc = run_smcluster(args.work, table, rows)
        print(f"[bench]   {smc['wall_s']} s, {smc['peak_rss_mib']} MiB", flush=True)
        if rows <= args.reference_max_rows:
            print(f"[bench] {rows:,} rows: reference ...", flush=True)
            ref = run_reference(args.work, table, rows)
            print(f"[bench]   {ref['wall_s']} s, {ref['peak_rss_mib']} MiB", flush=True)
            if ref["exit_code"] == 0:
                measured_reference.append((rows, ref))
        else:
            ref = {
                "skipped": (
                    f"reference not run above {args.reference_max_rows:,} rows: umap-learn "
                    "fits every row single-threaded (random_state set) and the full silhouette "
                    "is O(n^2) distances; on this machine that is hours, so the time is "
                    "extrapolated per stage from the two largest measured sizes"
                ),
                **(extrapolate(measured_reference, rows) if len(measured_reference) >= 2 else {}),
            }
        wall_ref = ref.get("wall_s") or ref.get("estimated_wall_s")
        ratio = None
        if wall_ref and smc["exit_code"] == 0:
            ratio = round(smc["wall_s"] / wall_ref, 2)
        entries.append(
            {"rows": rows, "smcluster": smc, "reference": ref, "ratio": ratio,
             "ratio_estimated": "skipped" in ref}
        )  # fmt: skip
    notes = []
    by_rows = {e["rows"]: e for e in entries}
    growth = {}
    for small, large in ((10_000, 100_000), (100_000, 1_000_000)):
        if small in by_rows and large in by_rows:
            factor = by_rows[large]["smcluster"]["wall_s"] / by_rows[small]["smcluster"]["wall_s"]
            growth[f"{large}/{small}"] = round(factor, 2)
            notes.append(
                f"smcluster wall time grows {factor:.2f}x from {small:,} to {large:,} rows "
                f"({large // small}x the rows; linear would be {large // small}x)."
            )
    notes.append(
        "Timings include interpreter start and imports; each configuration ran once, in its own "
        "subprocess, on a machine shared with other work, so expect ±15% noise."
    )
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "features": args.features,
        "fixed_cost": fixed,
        "image_fixed_cost": in_image,
        "sizes": entries,
        "growth": growth,
        "notes": notes,
        "bench_wall_s": round(time.perf_counter() - begun, 1),
    }
    results["goals"] = goals(results)
    scaling_sizes = [int(s) for s in args.scaling_sizes.split(",") if s.strip()]
    if scaling_sizes:
        from bench_scaling import markdown as scaling_markdown
        from bench_scaling import scaling, scaling_goals

        results["scaling"] = scaling(args.work, scaling_sizes, args.features)
        results["scaling"]["goals"] = scaling_goals(results["scaling"])
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    summary = markdown(results)
    if scaling_sizes:
        summary += "\n\n## Several workers (scripts/bench_scaling.py)\n\n"
        summary += scaling_markdown(results["scaling"])
    (args.out / "results.md").write_text(summary)
    print(summary)
    failed = [e["rows"] for e in entries if e["smcluster"]["exit_code"] != 0]
    if failed:
        print(f"[bench] smcluster failed at {failed}; see the logs in {args.work}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
