"""Cluster profiles in original units: exact per-cluster statistics with a pandas groupby."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NOISE = -1
TOP_FEATURES = 3  # features named per cluster as what sets it apart from the rest


def cluster_name(cluster: int) -> str:
    return "noise" if cluster == NOISE else str(cluster)


@dataclass
class Profiles:
    table: pd.DataFrame  # the rows of cluster_profiles.csv: "all", each cluster, "noise"
    zscores: pd.DataFrame  # clusters x features: (cluster mean - overall mean) / overall std
    sizes: pd.Series  # rows per cluster id (noise included), largest first


def _describe(parts: dict[str, pd.DataFrame | pd.Series], features: list[str]) -> pd.DataFrame:
    columns = {}
    for feature in features:
        columns[f"{feature}_mean"] = parts["mean"][feature]
        columns[f"{feature}_median"] = parts["median"][feature]
    return pd.DataFrame(columns)


def _distinguishing(difference: pd.DataFrame) -> list[str]:
    """'feature:+1.23; ...' for the features with the largest |standardized mean difference|."""
    values = difference.to_numpy(dtype=np.float64)
    strength = np.where(np.isnan(values), -1.0, np.abs(values))  # undefined ranks last
    ranked = np.argsort(-strength, axis=1, kind="stable")[:, :TOP_FEATURES]
    names = list(difference.columns)
    return [
        "; ".join(f"{names[j]}:{row[j]:+.2f}" for j in picks if not np.isnan(row[j]))
        for row, picks in zip(values, ranked, strict=True)
    ]


def cluster_profiles(raw: np.ndarray, labels: np.ndarray, features: list[str]) -> Profiles:
    """Size, share, mean and median per feature for every cluster and all rows, exactly."""
    frame = pd.DataFrame(np.asarray(raw, dtype=np.float64), columns=features)
    groups = frame.groupby(np.asarray(labels), sort=True)
    sizes = groups.size()
    rows = len(frame)
    overall_mean = frame.mean()
    overall_std = frame.std(ddof=0).replace(0.0, np.nan)
    sums, counts = groups.sum(), groups.count()
    rest_mean = (frame.sum() - sums) / (frame.count() - counts).replace(0, np.nan)
    difference = (groups.mean() - rest_mean) / overall_std  # NaN: no rest, or constant
    zscores = ((groups.mean() - overall_mean) / overall_std).fillna(0.0)

    per_cluster = _describe({"mean": groups.mean(), "median": groups.median()}, features)
    per_cluster.insert(0, "share", sizes / max(rows, 1))
    per_cluster.insert(0, "size", sizes)
    per_cluster["distinguishing_features"] = _distinguishing(difference)
    all_rows = _describe(
        {"mean": frame.mean().to_frame().T, "median": frame.median().to_frame().T}, features
    )
    all_rows.insert(0, "share", 1.0 if rows else 0.0)
    all_rows.insert(0, "size", rows)
    all_rows["distinguishing_features"] = ""

    noise_last = sorted(per_cluster.index, key=lambda c: (c == NOISE, c))
    per_cluster = per_cluster.loc[noise_last]
    table = pd.concat([all_rows, per_cluster], ignore_index=True)
    table.insert(0, "cluster", ["all", *(cluster_name(int(c)) for c in per_cluster.index)])
    table["size"] = table["size"].astype(np.int64)
    zscores.index = [cluster_name(int(c)) for c in zscores.index]
    return Profiles(table=table, zscores=zscores, sizes=sizes.sort_values(ascending=False))
