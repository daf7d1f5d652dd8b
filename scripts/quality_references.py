"""The two references `make quality` scores smcluster's `train` against.

- `naive`: the script a data scientist would write by hand: median-impute NaN, StandardScaler,
  `umap.UMAP(n_components=3, n_neighbors=15, min_dist=0.0, random_state=42)`, the k-distance
  curve with k = min_samples = 10 (`NearestNeighbors(10).kneighbors()`, the point itself left
  out, as in `scripts/reference_pipeline.py`), kneed's knee (convex, increasing, S=1; fallback:
  the curve's 90% quantile), `DBSCAN(eps, min_samples=10)`.
- `hdbscan`: median-impute, StandardScaler, `sklearn.cluster.HDBSCAN()` with its defaults.

Each runs on the feature CSV `train` reads (every column a feature) and writes one JSON object
with the labels (-1 = noise), the eps chosen where there is one and the seconds it took:

    python scripts/quality_references.py naive table.csv --out result.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

MIN_SAMPLES = 10


def standardized(features: pd.DataFrame) -> np.ndarray:
    imputed = SimpleImputer(strategy="median").fit_transform(features.to_numpy(dtype=float))
    return StandardScaler().fit_transform(imputed)


def naive(features: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
    """standardize → umap-learn 3-D → knee of the k-distance curve → DBSCAN."""
    import umap
    from kneed import KneeLocator
    from sklearn.cluster import DBSCAN
    from sklearn.neighbors import NearestNeighbors

    scaled = standardized(features)
    embedding = umap.UMAP(
        n_components=3, n_neighbors=15, min_dist=0.0, random_state=42
    ).fit_transform(scaled)
    distances, _ = NearestNeighbors(n_neighbors=MIN_SAMPLES).fit(embedding).kneighbors()
    curve = np.sort(distances[:, -1])
    knee = KneeLocator(np.arange(len(curve)), curve, curve="convex", direction="increasing").knee
    if knee is not None:
        eps, method = float(curve[knee]), "knee"
    else:
        eps, method = float(np.quantile(curve, 0.9)), "quantile_0.9"
    labels = DBSCAN(eps=eps, min_samples=MIN_SAMPLES).fit_predict(embedding)
    return labels, {"eps": eps, "eps_method": method}


def hdbscan(features: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
    """standardize → scikit-learn HDBSCAN with its defaults."""
    from sklearn.cluster import HDBSCAN

    return HDBSCAN().fit_predict(standardized(features)), {}


METHODS = {"naive": naive, "hdbscan": hdbscan}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("method", choices=sorted(METHODS))
    parser.add_argument("table", type=Path, help="CSV with a header; every column a feature")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    features = pd.read_csv(args.table)
    started = time.perf_counter()
    labels, info = METHODS[args.method](features)
    result = {
        "method": args.method,
        "rows": len(features),
        "fit_seconds": round(time.perf_counter() - started, 3),
        **info,
        "labels": [int(v) for v in labels],
    }
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
