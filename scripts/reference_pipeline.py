"""The plain, hand-written pipeline a data scientist would write: the benchmark's baseline.

StandardScaler → umap-learn UMAP (on every row) → k-distance knee (kneed) → scikit-learn DBSCAN
→ full silhouette. No sampling, no chunking, float64 as pandas gives it. Prints one JSON object
with per-stage seconds, the ARI against the known segments and the clusters found.

    python scripts/reference_pipeline.py table.parquet --out result.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import umap
from kneed import KneeLocator
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--min-samples", type=int, default=10)
    parser.add_argument("--n-components", type=int, default=5)
    args = parser.parse_args()

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    table = pd.read_parquet(args.table)
    features = [c for c in table.columns if c not in {"row_id", "segment"}]
    lap("load")
    scaled = StandardScaler().fit_transform(table[features].to_numpy())
    lap("prepare")
    embedding = umap.UMAP(
        n_components=args.n_components, n_neighbors=15, min_dist=0.0, random_state=42
    ).fit_transform(scaled)
    lap("reduce_umap")
    distances, _ = NearestNeighbors(n_neighbors=args.min_samples).fit(embedding).kneighbors()
    curve = np.sort(distances[:, -1])
    knee = KneeLocator(np.arange(len(curve)), curve, curve="convex", direction="increasing").knee
    eps = float(curve[knee]) if knee is not None else float(np.quantile(curve, 0.9))
    lap("choose_eps")
    labels = DBSCAN(eps=eps, min_samples=args.min_samples).fit_predict(embedding)
    lap("cluster_dbscan")
    clustered = labels >= 0
    silhouette = None
    if len(np.unique(labels[clustered])) >= 2:
        silhouette = float(silhouette_score(embedding[clustered], labels[clustered]))
    lap("score")
    result = {
        "rows": len(table),
        "eps": eps,
        "n_clusters": len(np.unique(labels[clustered])),
        "noise_fraction": float(1 - clustered.mean()),
        "silhouette": silhouette,
        "ari": float(adjusted_rand_score(table["segment"], labels)),
        "timings_seconds": timings,
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
