"""Does a smaller UMAP fit sample lose rare segments? `train` on the same large table with only
`umap_fit_sample_size` changed, ARI and the fate of three rare segments per run.

Each table: `--rows` rows of 20 features, 8 common Gaussian segments in a 6-dimensional latent
space and three rare ones (0.5%, 0.3% and 0.1% of the rows), 2% uniform outliers; `--far` places
the rare segments' centres twice as far out. For each rare segment the line gives its rows, the
share of them in its most common predicted cluster (recall) and that cluster's purity (0 when
that cluster is noise or mostly other rows).

    .venv/bin/python scripts/fit_sample_check.py --rows 100000 --seeds 1,2 --samples 100000,30000
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

RARE_SHARES = (0.005, 0.003, 0.001)
COMMON = 8


def table(rows: int, seed: int, far: bool, features: int = 20, latent: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shares = np.array([(1 - sum(RARE_SHARES)) / COMMON] * COMMON + list(RARE_SHARES))
    centres = rng.normal(0.0, 4.0, (len(shares), latent))
    if far:
        centres[COMMON:] *= 2.0
    mixing = rng.normal(0.0, 1.0, (latent, features))
    segment = rng.choice(len(shares), size=rows, p=shares)
    points = centres[segment] + rng.normal(0.0, 1.0, (rows, latent))
    values = (points @ mixing + rng.normal(0.0, 0.5, (rows, features))).astype(np.float32)
    outliers = rng.random(rows) < 0.02
    low, high = values.min(axis=0), values.max(axis=0)
    values[outliers] = rng.uniform(low, high, (int(outliers.sum()), features))
    frame = pd.DataFrame(values, columns=[f"f{i:02d}" for i in range(features)])
    frame.insert(0, "row_id", np.arange(rows))
    frame["segment"] = np.where(outliers, -1, segment)
    return frame


def run_train(base: Path, frame: pd.DataFrame, sample: int) -> tuple[np.ndarray, float] | None:
    hyperparameters = {
        "id_column": "row_id",
        "label_column": "segment",
        "tracker": "none",
        "plots": "false",
        "umap_fit_sample_size": str(sample),
    }
    paths = write_job_config(base, hyperparameters, {"train": channel_config(PARQUET)})
    frame.to_parquet(paths.channel_dir("train") / "part-000.parquet", index=False)
    train = Path(sys.executable).parent / "train"
    started = time.perf_counter()
    done = subprocess.run(
        [str(train)], env={**os.environ, "SAGEMAKER_BASE_DIR": str(base)}, capture_output=True
    )
    wall = time.perf_counter() - started
    if done.returncode:
        print(done.stderr.decode()[-2000:], file=sys.stderr)
        return None
    labels = pd.read_parquet(base / "model" / "labels.parquet").set_index("row_id")
    return labels.loc[frame["row_id"].to_numpy(), "cluster"].to_numpy(), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--samples", default="100000,30000")
    parser.add_argument("--far", action="store_true")
    parser.add_argument("--work", type=Path, default=Path("/tmp/smcluster-fit-sample"))
    args = parser.parse_args()
    for seed in [int(s) for s in args.seeds.split(",")]:
        frame = table(args.rows, seed, args.far)
        truth = frame["segment"].to_numpy()
        for sample in [int(s) for s in args.samples.split(",")]:
            got = run_train(args.work / f"seed{seed}-sample{sample}", frame, sample)
            if got is None:
                return 1
            predicted, wall = got
            line: dict[str, object] = {
                "seed": seed,
                "sample": sample,
                "seconds": round(wall, 1),
                "ari": round(adjusted_rand_score(truth, predicted), 4),
                "clusters": len(set(predicted.tolist()) - {-1}),
            }
            for offset, share in enumerate(RARE_SHARES):
                members = truth == COMMON + offset
                values, counts = np.unique(predicted[members], return_counts=True)
                best = values[np.argmax(counts)]
                purity = float((truth[predicted == best] == COMMON + offset).mean())
                line[f"rare {share:.1%}"] = {
                    "rows": int(members.sum()),
                    "recall": round(float(counts.max() / members.sum()), 2),
                    "purity": round(purity if best != -1 else 0.0, 2),
                }
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
