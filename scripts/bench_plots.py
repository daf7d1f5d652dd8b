"""Plot-stage cost against row count: time `draw_plots` on synthetic results of 10k and 1M rows.

The plots draw a stratified sample capped at `plot_sample_size`, so their time should stay
within a small constant however many rows were clustered. The exact cluster profiles (a pandas
groupby over every row) are timed too, for information: they grow with rows by design.

    .venv/bin/python scripts/bench_plots.py [--small 10000] [--large 1000000] [--max-ratio 3]

Writes bench/results/plots.json and exits 1 when large/small exceeds --max-ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from smcluster.report.profiles import cluster_profiles
from smcluster.report.writer import draw_plots
from smcluster.synthetic import synthetic_result


def time_rows(rows: int, repeats: int) -> dict[str, float]:
    result = synthetic_result(rows, clusters=12, dims=3, features=10, seed=1)
    began = time.perf_counter()
    profiles = cluster_profiles(result.train.raw_features, result.train.labels, result.features)
    profile_seconds = time.perf_counter() - began
    best = float("inf")
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            draw_plots(result, Path(folder), profiles)
            best = min(best, time.perf_counter() - began)
    return {
        "rows": rows,
        "plot_seconds": round(best, 3),
        "profile_seconds": round(profile_seconds, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs per size")
    parser.add_argument("--max-ratio", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/plots.json"))
    args = parser.parse_args()

    time_rows(2_000, 1)  # warm-up: imports, font cache, first-figure costs stay out of the ratio
    small = time_rows(args.small, args.repeats)
    large = time_rows(args.large, args.repeats)
    ratio = large["plot_seconds"] / small["plot_seconds"]
    report = {
        "benchmark": "plots",
        "plot_sample_size": int(synthetic_result(10).hp.plot_sample_size),
        "small": small,
        "large": large,
        "plot_time_ratio": round(ratio, 3),
        "max_ratio": args.max_ratio,
        "within_bound": ratio <= args.max_ratio,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"plots: {small['rows']:,} rows {small['plot_seconds']:.2f}s, "
        f"{large['rows']:,} rows {large['plot_seconds']:.2f}s, ratio {ratio:.2f}x "
        f"(bound {args.max_ratio:g}x); exact profiles {small['profile_seconds']:.2f}s vs "
        f"{large['profile_seconds']:.2f}s; written to {args.out}"
    )
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
