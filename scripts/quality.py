"""`make quality`: smcluster's `train` and two references scored on a labelled battery.

For each set of `scripts/quality_sets.py` (seeded, regenerated offline) the harness writes the
feature table, and nothing else (no id, no truth), as CSV into a SageMaker-shaped tree under
`--work` and runs, one subprocess each:

- `train`: the real console script of this environment (`SAGEMAKER_BASE_DIR` = the tree) with
  the hyperparameters `{"tracker": "none", "plots": "false"}` only, so every clustering choice is
  a default (neither changes the labels: one skips the run record, the other the pictures);
  `--hp name=value` adds more for experiments;
- `naive`: standardize → umap-learn 3-D → k-distance knee → DBSCAN (`quality_references.py`);
- `hdbscan`: standardize → scikit-learn HDBSCAN with its defaults (`quality_references.py`);
- `train/<algorithm>` (`--algorithms`, default every other choice of the schema): `train` with
  only `algorithm` set, so each choice a tuning job may try is scored on its own defaults.

The sets: the generated battery of `quality_sets.py` and, as family `benchmark`, the real files
of a benchmark-suite folder (`--benchmarks`, else $SMCLUSTER_BENCHMARKS, else
`../shared/benchmarks` when it exists; `none` leaves them out). The data is read where it lies,
never copied into the repository.

Scores per set and method, against the set's truth (planted outliers are labelled "noise"):
AMI and ARI over all rows (noise is one more label on both sides), `noise_recall` (share of the
planted outliers labelled -1; only where the set plants some), `segment_ari` (ARI on the rows
whose truth is not noise), clusters found (noise excluded) against the true count (a set is
`off` when more than twice or fewer than half as many are found), share labelled noise, and the wall
seconds of the subprocess (interpreter start, imports and numba's compilation included; its CPU
seconds too, which other work on the machine inflates less). A failed run scores 0 in the
medians and is listed with its reason. Writes `quality.json` and `quality.md` to `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

from quality_sets import FAMILIES, NOISE, QualitySet, benchmark_folder, select

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REFERENCES = Path(__file__).resolve().parent / "quality_references.py"
BASE_HP = {"tracker": "none", "plots": "false"}
REFERENCES_METHODS = ("naive", "hdbscan")
ALGORITHMS = ("hdbscan", "kmeans", "gmm")  # the schema's choices besides the default dbscan
GAP_THRESHOLD = 0.10
COUNT_FACTOR = 2.0  # clusters found more than this times (or under 1/this of) the true count


def parse_hp(pairs: list[str]) -> dict[str, str]:
    extra = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--hp expects name=value, got {pair!r}")
        extra[name.strip()] = value
    return extra


def write_tree(base: Path, features: pd.DataFrame, hp: dict[str, str]) -> Path:
    """A fresh SageMaker-shaped tree holding the features as one CSV; returns the CSV."""
    from smcluster.contract.local_tree import CSV, channel_config, write_job_config

    if base.exists():
        shutil.rmtree(base)
    paths = write_job_config(base, hp, {"train": channel_config(CSV)})
    table = paths.channel_dir("train") / "table.csv"
    features.to_csv(table, index=False)
    return table


def run_logged(command: list[str], log: Path, env: dict[str, str] | None = None):
    """Exit code, wall seconds and CPU seconds (user + system, `os.wait4` rusage) of a command."""
    started = time.perf_counter()
    with log.open("w") as handle:
        process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    timing = {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }
    return os.waitstatus_to_exitcode(status), timing


def last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def run_train(base: Path, rows: int) -> dict[str, Any]:
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base.resolve())}
    code, timing = run_logged([str(BIN / "train")], base / "train.log", env)
    result: dict[str, Any] = {"exit_code": code, **timing, "log": str(base / "train.log")}
    return read_train_outputs(base, rows, result)


def read_train_outputs(base: Path, rows: int, result: dict[str, Any]) -> dict[str, Any]:
    """Labels (in row order), eps and stage times of a finished job, or its failure reason."""
    if result["exit_code"] != 0:
        failure = base / "output" / "failure"
        reason = failure.read_text().splitlines() if failure.exists() else []
        result["failure"] = reason[0] if reason else last_line(base / "train.log")
        return result
    labels = pd.read_parquet(base / "model" / "labels.parquet")
    order = np.argsort(labels["row"].to_numpy(), kind="stable")
    result["labels"] = labels["cluster"].to_numpy()[order]
    metrics = json.loads((base / "model" / "metrics.json").read_text())
    eps = metrics.get("eps") or {}
    result["eps"] = eps.get("eps")
    result["eps_method"] = eps.get("method")
    result["stage_seconds"] = metrics.get("timings_seconds", {})
    if len(result["labels"]) != rows:
        result["failure"] = f"labels.parquet has {len(result['labels'])} rows for {rows}"
        result.pop("labels")
    return result


def run_reference(method: str, table: Path, folder: Path, rows: int) -> dict[str, Any]:
    out, log = folder / f"{method}.json", folder / f"{method}.log"
    command = [sys.executable, str(REFERENCES), method, str(table), "--out", str(out)]
    code, timing = run_logged(command, log)
    result: dict[str, Any] = {"exit_code": code, **timing, "log": str(log)}
    if code != 0:
        result["failure"] = last_line(log)
        return result
    payload = json.loads(out.read_text())
    result["labels"] = np.asarray(payload.pop("labels"))
    result.update({k: payload[k] for k in ("eps", "eps_method", "fit_seconds") if k in payload})
    if len(result["labels"]) != rows:
        result["failure"] = f"{len(result['labels'])} labels for {rows} rows"
        result.pop("labels")
    return result


def score(truth: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Noise is one more label on both sides (-1 and "noise"); -2 (dropped) is its own label."""
    predicted = labels.astype(str)
    planted = truth == NOISE
    scores: dict[str, Any] = {
        "ami": float(adjusted_mutual_info_score(truth, predicted)),
        "ari": float(adjusted_rand_score(truth, predicted)),
        "noise_recall": float((labels[planted] == -1).mean()) if planted.any() else None,
        "segment_ari": float(adjusted_rand_score(truth[~planted], predicted[~planted])),
        "n_clusters": len(np.unique(labels[labels >= 0])),
        "noise_share": float((labels == -1).mean()),
    }
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}


def count_off(found: int, true: int) -> bool:
    """More than `COUNT_FACTOR` times, or under 1/`COUNT_FACTOR` of, the true cluster count."""
    return found > COUNT_FACTOR * true or found * COUNT_FACTOR < true


def run_set(qs: QualitySet, work: Path, hp: dict[str, str], methods: tuple[str, ...]):
    features, truth = qs.load()
    base = work / qs.name
    table = write_tree(base, features, hp)
    true_clusters = len(np.unique(truth[truth != NOISE]))
    entry: dict[str, Any] = {
        "set": qs.name,
        "family": qs.family,
        "description": qs.description,
        "rows": len(features),
        "features": features.shape[1],
        "missing_values": int(features.isna().sum().sum()),
        "true_clusters": true_clusters,
        "planted_outliers": int((truth == NOISE).sum()),
        "methods": {},
    }
    for method in methods:
        if method == "train":
            result = run_train(base, len(features))
        elif method.startswith("train/"):
            variant = base / method.replace("/", "_")
            write_tree(variant, features, {**hp, "algorithm": method.split("/", 1)[1]})
            result = run_train(variant, len(features))
        else:
            result = run_reference(method, table, base, len(features))
        labels = result.pop("labels", None)
        result["status"] = "ok" if labels is not None else "failed"
        if labels is not None:
            result.update(score(truth, labels))
            result["count_off"] = count_off(result["n_clusters"], true_clusters)
        entry["methods"][method] = result
        status = result.get("failure") or f"AMI {result['ami']:.3f}, k={result['n_clusters']}"
        print(f"  {qs.name:<24} {method:<8} {result['seconds']:>7.1f}s  {status}", flush=True)
    return entry


def value(entry: dict[str, Any], method: str, key: str) -> float | None:
    result = entry["methods"].get(method)
    if result is None:
        return None
    if result["status"] != "ok":
        return 0.0 if key in ("ami", "ari") else None  # a failed run scores 0
    return result.get(key)


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 4) if present else None


def summarize(entries: list[dict[str, Any]], methods: tuple[str, ...]) -> dict[str, Any]:
    summary: dict[str, Any] = {"medians": {}, "family_median_ami": {}}
    for method in methods:
        summary["medians"][method] = {
            key: median([value(e, method, key) for e in entries])
            for key in ("ami", "ari", "noise_recall", "segment_ari", "seconds")
        }
        for key in ("seconds", "cpu_seconds"):
            summary["medians"][method][f"total_{key}"] = round(
                sum(e["methods"][method][key] for e in entries if method in e["methods"]), 1
            )
        summary["medians"][method]["failed"] = [
            e["set"] for e in entries if e["methods"][method]["status"] != "ok"
        ]
        summary["medians"][method]["count_off"] = [
            e["set"] for e in entries if e["methods"][method].get("count_off", True)
        ]
    for family in FAMILIES:
        members = [e for e in entries if e["family"] == family]
        if members:
            summary["family_median_ami"][family] = {
                "sets": len(members),
                **{m: median([value(e, m, "ami") for e in members]) for m in methods},
            }
    references = [m for m in methods if m in REFERENCES_METHODS]
    if "train" in methods and references:
        gaps, best_reference = {}, {}
        for e in entries:
            best = max(value(e, m, "ami") or 0.0 for m in references)
            best_reference[e["set"]] = best
            gaps[e["set"]] = round((value(e, "train", "ami") or 0.0) - best, 4)
            e["train_gap_ami"] = gaps[e["set"]]
        summary["train_gap_ami"] = {
            "median": median(list(gaps.values())),
            "threshold": GAP_THRESHOLD,
            "sets_below": sorted(s for s, g in gaps.items() if g < -GAP_THRESHOLD),
        }
        summary["train_gap_ami"]["count_below"] = len(summary["train_gap_ami"]["sets_below"])
        # Sets where train's count is off while some reference's is within range.
        summary["count_off_where_a_reference_is_not"] = sorted(
            e["set"]
            for e in entries
            if e["methods"]["train"].get("count_off", True)
            and any(e["methods"][m].get("count_off") is False for m in references)
        )
        for family, row in summary["family_median_ami"].items():
            members = [e for e in entries if e["family"] == family]
            row["better_reference"] = median([best_reference[e["set"]] for e in members])
        summary["better_reference_median_ami"] = median(list(best_reference.values()))
    return summary


def fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def cell(entry: dict[str, Any], method: str, key: str, digits: int = 3) -> str:
    result = entry["methods"].get(method)
    if result is None:
        return "-"
    if result["status"] != "ok":
        return "FAIL" if key in ("ami", "ari") else "-"
    return fmt(result.get(key), digits)


def markdown(payload: dict[str, Any]) -> str:
    entries, summary, methods = payload["sets"], payload["summary"], tuple(payload["methods"])
    load = payload["load_average_1min"]
    lines = [
        "# smcluster quality battery",
        "",
        f"{len(entries)} sets; `train` with hyperparameters {json.dumps(payload['train_hp'])} "
        "(tracker and plots change no label; every clustering choice is a default"
        + (", plus the `--hp` overrides" if payload["extra_hp"] else "")
        + f"); references: {', '.join(m for m in methods if m != 'train') or 'none'}. "
        f"Wall time {payload['wall_seconds']:.0f} s with --jobs {payload['jobs']} on "
        f"{payload['machine']['cpus']} CPUs (load average {load['start']:.1f} at the start, "
        f"{load['end']:.1f} at the end); {payload['cpu_seconds']:.0f} CPU seconds in all, "
        f"so about {payload['idle_estimate_seconds']:.0f} s on idle cores. "
        "A failed run scores 0 in the medians.",
        "",
        "## AMI and ARI per set (noise is one more label on both sides)",
        "",
    ]
    head = ["set", "family", "rows", "feat", "k true", "outliers"]
    head += [f"AMI {m}" for m in methods] + [f"ARI {m}" for m in methods]
    if "train_gap_ami" in summary:
        head.append("train - best ref AMI")
    lines += ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for e in entries:
        row = [e["set"], e["family"], str(e["rows"]), str(e["features"]), str(e["true_clusters"])]
        row.append(str(e["planted_outliers"] or "-"))
        row += [cell(e, m, "ami") for m in methods] + [cell(e, m, "ari") for m in methods]
        if "train_gap_ami" in summary:
            gap = e["train_gap_ami"]
            row.append(f"**{gap:+.3f}**" if gap < -GAP_THRESHOLD else f"{gap:+.3f}")
        lines.append("| " + " | ".join(row) + " |")
    medians = summary["medians"]
    row = ["**median**", "", "", "", "", ""]
    row += [f"**{fmt(medians[m]['ami'])}**" for m in methods]
    row += [f"**{fmt(medians[m]['ari'])}**" for m in methods]
    if "train_gap_ami" in summary:
        row.append(f"**{summary['train_gap_ami']['median']:+.3f}**")
    lines.append("| " + " | ".join(row) + " |")
    if "train_gap_ami" in summary:
        gap = summary["train_gap_ami"]
        lines += [
            "",
            f"`train` is more than {GAP_THRESHOLD:.2f} AMI below the better reference on "
            f"**{gap['count_below']} of {len(entries)}** sets"
            + (f": {', '.join(gap['sets_below'])}." if gap["sets_below"] else "."),
            "",
            f"Median AMI of the per-set better reference: "
            f"**{fmt(summary['better_reference_median_ami'])}**. `train` finds more than "
            f"{COUNT_FACTOR:g}x or under 1/{COUNT_FACTOR:g} of the true cluster count while a "
            f"reference is within that range on "
            f"**{len(summary['count_off_where_a_reference_is_not'])}** sets"
            + (
                f": {', '.join(summary['count_off_where_a_reference_is_not'])}."
                if summary["count_off_where_a_reference_is_not"]
                else "."
            ),
        ]
    lines += [
        "",
        "## Clusters found, noise, seconds",
        "",
        "k = clusters found (noise excluded; **bold** when more than twice or under half the "
        "true count); noise = share of rows labelled -1; recall = share of planted outliers "
        "labelled -1; seg ARI = ARI on the rows that are not planted outliers; s = wall "
        "seconds of the subprocess.",
        "",
    ]
    head = ["set", "k true"]
    for m in methods:
        head += [f"k {m}", f"noise {m}", f"recall {m}", f"seg ARI {m}", f"s {m}"]
    lines += ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for e in entries:
        row = [e["set"], str(e["true_clusters"])]
        for m in methods:
            k = cell(e, m, "n_clusters")
            row += [
                f"**{k}**" if e["methods"][m].get("count_off") else k,
                cell(e, m, "noise_share", 2),
                cell(e, m, "noise_recall", 2),
                cell(e, m, "segment_ari"),
                fmt(e["methods"][m]["seconds"], 1),
            ]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "## Medians",
        "",
        "| method | AMI | ARI | noise recall | segment ARI | k off (>2x or <1/2) | s per set "
        "| s total | CPU s total | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in methods:
        s = medians[m]
        lines.append(
            f"| {m} | {fmt(s['ami'])} | {fmt(s['ari'])} | {fmt(s['noise_recall'])} | "
            f"{fmt(s['segment_ari'])} | {len(s['count_off'])} of {len(entries)} | "
            f"{fmt(s['seconds'], 1)} | {fmt(s['total_seconds'], 1)} | "
            f"{fmt(s['total_cpu_seconds'], 1)} | {', '.join(s['failed']) or '-'} |"
        )
    lines += [
        "",
        "## Median AMI per family",
        "",
        "| family | sets | " + " | ".join(methods) + " | better reference |",
        "|---|---:|" + "---:|" * (len(methods) + 1),
    ]
    for family, row in summary["family_median_ami"].items():
        cells = " | ".join(fmt(row[m]) for m in methods)
        lines.append(f"| {family} | {row['sets']} | {cells} | {fmt(row.get('better_reference'))} |")
    failures = [
        (e["set"], m, r["failure"])
        for e in entries
        for m, r in e["methods"].items()
        if r.get("failure")
    ]
    if failures:
        lines += ["", "## Failures", ""]
        lines += [f"- {s} / {m}: {reason}" for s, m, reason in failures]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", help="comma-separated subset (default: every set)")
    parser.add_argument(
        "--hp", action="append", default=[], metavar="NAME=VALUE",
        help="extra train hyperparameter (repeatable), for experiments",
    )  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1, help="sets run in parallel (default 1)")
    parser.add_argument("--no-references", action="store_true", help="run train only")
    parser.add_argument(
        "--algorithms", default=",".join(ALGORITHMS),
        help="algorithms also run as train/<name> on their defaults, comma-separated "
        f"(default {','.join(ALGORITHMS)}; 'none' for none)",
    )  # fmt: skip
    parser.add_argument(
        "--benchmarks",
        help="folder of benchmark-suite files (<name>.data.gz, <name>.labels0.gz), scored as "
        "family 'benchmark' (default $SMCLUSTER_BENCHMARKS, else ../shared/benchmarks when "
        "present; 'none' leaves them out)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--work", type=Path, default=ROOT / "tmp" / "quality")
    args = parser.parse_args()

    benchmarks = benchmark_folder(args.benchmarks)
    sets = select(args.sets, benchmarks)
    extra_hp = parse_hp(args.hp)
    hp = {**BASE_HP, **extra_hp}
    variants = [a.strip() for a in args.algorithms.split(",") if a.strip() not in ("", "none")]
    unknown = sorted(set(variants) - set(ALGORITHMS))
    if unknown:
        raise SystemExit(
            f"--algorithms: unknown {', '.join(unknown)}; known {', '.join(ALGORITHMS)}"
        )
    methods = (
        "train",
        *([] if args.no_references else REFERENCES_METHODS),
        *(f"train/{a}" for a in variants),
    )
    if not (BIN / "train").exists():
        raise SystemExit(f"{BIN / 'train'} not found: run `make install` first")
    args.work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"quality: {len(sets)} sets"
        + (
            f" ({sum(qs.family == 'benchmark' for qs in sets)} from {benchmarks})"
            if benchmarks
            else ""
        )
        + f", methods {', '.join(methods)}, --jobs {args.jobs}, "
        f"train hyperparameters {json.dumps(hp)} (tracker and plots change no label)",
        flush=True,
    )
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    # Largest sets first, so that parallel jobs finish together; results keep registry order.
    by_size = sorted(sets, key=lambda qs: -len(qs.load()[1]))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        done = {
            qs.name: future
            for qs, future in (
                (qs, pool.submit(run_set, qs, args.work, hp, methods)) for qs in by_size
            )
        }
        entries = [done[qs.name].result() for qs in sets]
    wall = round(time.perf_counter() - started, 1)
    cpu = sum(r["cpu_seconds"] for e in entries for r in e["methods"].values())

    payload = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git_revision": git_revision(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "jobs": args.jobs,
        "wall_seconds": wall,
        "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]},
        "cpu_seconds": round(cpu, 1),
        # the subprocesses' CPU time spread over the parallel jobs: the wall time on idle cores
        "idle_estimate_seconds": round(cpu / max(1, min(args.jobs, os.cpu_count() or 1)), 1),
        "methods": list(methods),
        "train_hp": hp,
        "extra_hp": extra_hp,
        "benchmarks": str(benchmarks) if benchmarks else None,
        "summary": summarize(entries, methods),
        "sets": entries,
    }
    (args.out / "quality.json").write_text(json.dumps(payload, indent=2))
    text = markdown(payload)
    (args.out / "quality.md").write_text(text)
    print()
    print(text)
    print(f"wrote {args.out / 'quality.json'} and {args.out / 'quality.md'} in {wall:.0f} s")
    return 0


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True)
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
