"""Clusters that differ only in whether one mostly-zero feature is zero are one group.

Customer tables are full of features that are zero for many rows (no discount, no return,
never bought a category). UMAP, seeing thousands of rows tied at exactly zero in one column,
often cuts a segment in two along that column alone: the same customers, with and without a
return. Two clusters are merged when, for one feature, one cluster is mostly zero and the other
mostly not (zero shares `ZERO_SHARE_GAP` apart) while no other feature's mean differs by
`OTHER_FEATURES_SD` standard deviations; with `merge_sparse_splits=false` they are kept and
the job warns instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

ZERO_SHARE_GAP = 0.5
OTHER_FEATURES_SD = 0.5
MAX_CLUSTERS = 500  # pairs are compared all at once: k x k x features


@dataclass
class SparseSplit:
    kept: int  # the cluster that remains
    merged: int  # the cluster folded into it
    feature: str
    zero_shares: tuple[float, float]


@dataclass
class SplitReport:
    labels: np.ndarray
    splits: list[SparseSplit] = field(default_factory=list)

    def mapping(self) -> dict[int, int]:
        """Old cluster id → the id it was merged into (chains followed)."""
        result: dict[int, int] = {}
        for split in self.splits:
            for old, new in list(result.items()):
                if new == split.merged:
                    result[old] = split.kept
            result[split.merged] = split.kept
        return result


@dataclass
class ClusterSums:
    """Per-cluster row counts, zero counts and sums of the scaled features, made in one pass
    over the rows (a weighted bincount per feature) and merged in O(features): the search
    never goes back over the rows, which at millions of rows cost one mask per cluster, again
    after every merge."""

    ids: np.ndarray
    rows: np.ndarray
    zeros: np.ndarray  # clusters x features
    sums: np.ndarray  # clusters x features

    @classmethod
    def of(cls, labels: np.ndarray, zero: np.ndarray, scaled: np.ndarray) -> ClusterSums:
        clustered = labels >= 0
        ids, index = np.unique(labels[clustered], return_inverse=True)
        k = len(ids)
        rows = np.bincount(index, minlength=k).astype(np.float64)

        def per_cluster(values: np.ndarray) -> np.ndarray:
            kept = values[clustered]
            columns = [
                np.bincount(index, weights=kept[:, j], minlength=k) for j in range(kept.shape[1])
            ]
            return np.stack(columns, axis=1) if columns else np.zeros((k, 0))

        return cls(ids, rows, per_cluster(zero), per_cluster(scaled))

    def merge(self, kept: int, merged: int) -> None:
        """Fold cluster `merged` into cluster `kept`."""
        into, gone = (int(np.searchsorted(self.ids, c)) for c in (kept, merged))
        self.rows[into] += self.rows[gone]
        self.zeros[into] += self.zeros[gone]
        self.sums[into] += self.sums[gone]
        keep = np.arange(len(self.ids)) != gone
        self.ids, self.rows = self.ids[keep], self.rows[keep]
        self.zeros, self.sums = self.zeros[keep], self.sums[keep]

    def zero_share(self, cluster: int, feature: int) -> float:
        at = int(np.searchsorted(self.ids, cluster))
        return float(self.zeros[at, feature] / self.rows[at])


def _pairs(sums: ClusterSums) -> list[tuple[int, int, int]]:
    """(kept, merged, feature) for every qualifying pair, the most alike first."""
    ids = sums.ids
    if len(ids) < 2 or len(ids) > MAX_CLUSTERS:
        return []
    zero_share = sums.zeros / sums.rows[:, None]
    means = sums.sums / sums.rows[:, None]
    gaps = np.abs(zero_share[:, None, :] - zero_share[None, :, :])
    feature = gaps.argmax(axis=2)
    differences = np.abs(means[:, None, :] - means[None, :, :])
    np.put_along_axis(differences, feature[:, :, None], 0.0, axis=2)  # the split feature itself
    other = differences.max(axis=2)
    ok = np.triu((gaps.max(axis=2) >= ZERO_SHARE_GAP) & (other < OTHER_FEATURES_SD), k=1)
    found = sorted(zip(*np.nonzero(ok), strict=True), key=lambda ij: other[ij])
    return [(int(ids[i]), int(ids[j]), int(feature[i, j])) for i, j in found]


def find_sparse_splits(
    labels: np.ndarray, raw: np.ndarray, prepared: np.ndarray, columns: list[str], merge: bool
) -> SplitReport:
    """Merge (or, with `merge=False`, only report) clusters split along one sparse feature."""
    labels = labels.copy()
    zero = np.nan_to_num(raw, nan=1.0) == 0
    spread = prepared.std(axis=0)
    scaled = prepared / np.where(spread > 0, spread, 1.0)
    report = SplitReport(labels)
    sums = ClusterSums.of(labels, zero, scaled)
    while pairs := _pairs(sums):
        for kept, merged, feature in pairs if not merge else pairs[:1]:
            shares = (sums.zero_share(kept, feature), sums.zero_share(merged, feature))
            report.splits.append(SparseSplit(kept, merged, columns[feature], shares))
            action = "merged" if merge else "kept apart (merge_sparse_splits=false)"
            (log.info if merge else log.warning)(
                "clusters %d and %d differ only in whether '%s' is zero (%.0f%% and %.0f%% "
                "zero): one segment split by a sparse feature; %s",
                kept,
                merged,
                columns[feature],
                100 * shares[0],
                100 * shares[1],
                action,
            )
        if not merge:
            break
        sums.merge(report.splits[-1].kept, report.splits[-1].merged)
    if merge and report.splits:  # one pass over the rows, whatever the number of merges
        lookup = np.arange(int(labels.max()) + 1, dtype=labels.dtype)
        for old_id, new_id in report.mapping().items():
            lookup[old_id] = new_id
        clustered = labels >= 0
        labels[clustered] = lookup[labels[clustered]]
    report.labels = labels
    return report
