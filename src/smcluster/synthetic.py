"""Synthetic data with known answers: the demo's customers, wide segment tables, and run results.

- `make_customers`: a realistic customer table (six segments with skewed, sparse RFM-style
  features, uniform outliers, missing values) for the demo and the tests;
- `make_segments`: wide tables of Gaussian segments mixed into many columns, for benchmarks and
  the GPU check (generated in chunks, so 5M rows fit in a few GB);
- `synthetic_result`: a `RunResult` built straight from random blobs (no reducer, no DBSCAN),
  for plot benchmarks and report tests of degenerate shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .contract.hyperparameters import parse
from .pipeline.cluster.eps import EpsChoice
from .pipeline.prepare.pca import fit_pca
from .pipeline.run import RunResult, SplitResult

NOISE_LABEL = "noise"


@dataclass(frozen=True)
class Segment:
    name: str
    weight: float
    recency_days: float  # mean days since last order
    orders_per_year: float
    order_value: float  # median spend per order
    web_share: float  # share of orders placed online
    discount_share: float  # share of orders with a discount (0: never)
    returns_rate: float
    tenure_years: float


SEGMENTS: tuple[Segment, ...] = (
    Segment("champions", 0.12, 8, 40, 120, 0.7, 0.05, 0.02, 6),
    Segment("loyal", 0.22, 25, 14, 60, 0.4, 0.15, 0.04, 4),
    Segment("bargain_hunters", 0.18, 40, 10, 25, 0.8, 0.75, 0.08, 2),
    Segment("new", 0.16, 15, 2, 45, 0.9, 0.3, 0.01, 0.2),
    Segment("at_risk", 0.17, 200, 5, 70, 0.3, 0.1, 0.12, 5),
    Segment("hibernating", 0.15, 480, 1, 30, 0.2, 0.02, 0.03, 3),
)
FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "web_share",
    "discount_share",
    "returns_rate",
    "support_contacts_per_year",
    "email_open_rate",
)


def make_customers(
    rows: int = 20_000,
    noise_fraction: float = 0.03,
    missing_fraction: float = 0.02,
    seed: int = 7,
    first_id: int = 1,
) -> pd.DataFrame:
    """Customers of six segments plus uniform outliers; `segment` holds the true label.
    Ids run from `first_id`, so that a second table (the demo's validation rows) has its own."""
    rng = np.random.default_rng(seed)
    weights = np.array([s.weight for s in SEGMENTS])
    n_noise = round(rows * noise_fraction)
    counts = rng.multinomial(rows - n_noise, weights / weights.sum())
    parts = [_segment_rows(rng, segment, n) for segment, n in zip(SEGMENTS, counts, strict=True)]
    parts.append(_noise_rows(rng, n_noise))
    table = pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=seed)
    table = table.reset_index(drop=True)
    table.insert(0, "customer_id", [f"C{i:07d}" for i in range(first_id, first_id + len(table))])
    # Opt-outs never open e-mails: a feature that is genuinely missing for some customers.
    missing = rng.random(len(table)) < missing_fraction
    table.loc[missing, "email_open_rate"] = np.nan
    return table[["customer_id", *FEATURES, "segment"]]


def _segment_rows(rng: np.random.Generator, s: Segment, n: int) -> pd.DataFrame:
    frequency = rng.poisson(rng.lognormal(np.log(s.orders_per_year), 0.3, n)) + 1
    order_value = rng.lognormal(np.log(s.order_value), 0.35, n)
    discount = np.where(
        rng.random(n) < 0.15,
        0.0,
        rng.beta(20 * s.discount_share + 0.5, 20 * (1 - s.discount_share) + 0.5, n),
    )
    returns = np.where(
        rng.random(n) < 0.4,
        0.0,
        rng.beta(40 * s.returns_rate + 0.5, 40 * (1 - s.returns_rate) + 0.5, n),
    )
    return pd.DataFrame(
        {
            "recency_days": rng.gamma(4.0, s.recency_days / 4.0, n).round(),
            "frequency": frequency,
            "monetary": (frequency * order_value).round(2),
            "avg_order_value": order_value.round(2),
            "tenure_days": (rng.gamma(6.0, s.tenure_years * 365 / 6.0, n) + 1).round(),
            "web_share": rng.beta(30 * s.web_share + 1, 30 * (1 - s.web_share) + 1, n).round(3),
            "discount_share": discount.round(3),
            "returns_rate": returns.round(3),
            "support_contacts_per_year": rng.gamma(2.0, (0.2 + 3 * s.returns_rate) / 2, n).round(2),
            "email_open_rate": rng.beta(2 + 10 * s.discount_share, 6, n).round(3),
            "segment": s.name,
        }
    )


def _noise_rows(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frequency = rng.integers(1, 80, n)
    order_value = rng.uniform(5, 400, n)
    return pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 720, n).round(),
            "frequency": frequency,
            "monetary": (frequency * order_value).round(2),
            "avg_order_value": order_value.round(2),
            "tenure_days": rng.uniform(1, 4000, n).round(),
            "web_share": rng.uniform(0, 1, n).round(3),
            "discount_share": rng.uniform(0, 1, n).round(3),
            "returns_rate": rng.uniform(0, 0.5, n).round(3),
            "support_contacts_per_year": rng.uniform(0, 5, n).round(2),
            "email_open_rate": rng.uniform(0, 1, n).round(3),
            "segment": NOISE_LABEL,
        }
    )


CHUNK_ROWS = 500_000


def make_segments(
    rows: int,
    n_features: int = 30,
    n_segments: int = 8,
    latent_dim: int = 6,
    redundant: int = 3,
    noise_fraction: float = 0.02,
    seed: int = 0,
) -> pd.DataFrame:
    """Columns `row_id`, `f00`..`fNN` (float32) and `segment` (the true label)."""
    parts = iter_segments(rows, n_features, n_segments, latent_dim, redundant, noise_fraction, seed)
    return pd.concat(list(parts), ignore_index=True)


def iter_segments(
    rows: int,
    n_features: int = 30,
    n_segments: int = 8,
    latent_dim: int = 6,
    redundant: int = 3,
    noise_fraction: float = 0.02,
    seed: int = 0,
) -> Iterator[pd.DataFrame]:
    """`make_segments`' table in parts of at most `CHUNK_ROWS` rows, generated one at a time
    (a 10M-row table for `make bench` without holding it whole)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, (n_segments, latent_dim))
    weights = rng.uniform(0.5, 1.5, n_segments)
    weights /= weights.sum()
    independent = n_features - redundant
    mixing = rng.normal(0.0, 1.0, (latent_dim, independent))
    names = np.array([f"s{i}" for i in range(n_segments)] + [NOISE_LABEL])
    for start in range(0, rows, CHUNK_ROWS):
        count = min(CHUNK_ROWS, rows - start)
        segment = rng.choice(n_segments, size=count, p=weights)
        latent = centres[segment] + rng.normal(0.0, 1.0, (count, latent_dim))
        values = latent @ mixing + rng.normal(0.0, 0.5, (count, independent))
        copies = values[:, :redundant] * 1.5 + rng.normal(0.0, 0.05, (count, redundant))
        values = np.hstack([values, copies]).astype(np.float32)
        outliers = rng.random(count) < noise_fraction
        low, high = values.min(axis=0), values.max(axis=0)
        values[outliers] = rng.uniform(low, high, (int(outliers.sum()), n_features))
        truth = np.where(outliers, -1, segment)
        frame = pd.DataFrame(values, columns=[f"f{i:02d}" for i in range(n_features)])
        frame.insert(0, "row_id", np.arange(start, start + count, dtype=np.int64))
        frame["segment"] = names[truth]  # -1 indexes the last name: noise
        yield frame


def synthetic_result(
    rows: int,
    clusters: int = 6,
    dims: int = 3,
    features: int = 10,
    noise_share: float = 0.05,
    seed: int = 0,
    hyperparameters: dict[str, str] | None = None,
    with_eps: bool = True,
) -> RunResult:
    """`rows` points in `clusters` Gaussian blobs (sizes uneven) plus `noise_share` noise."""
    rng = np.random.default_rng(seed)
    if clusters:
        weights = rng.uniform(0.2, 1.0, clusters) ** 2
        labels = rng.choice(clusters, size=rows, p=weights / weights.sum()).astype(np.int32)
        labels[rng.random(rows) < noise_share] = -1
    else:
        labels = np.full(rows, -1, dtype=np.int32)
    centres = rng.normal(0, 6, (max(clusters, 1), dims))
    embedding = rng.normal(0, 1, (rows, dims)).astype(np.float32)
    clustered = labels >= 0
    embedding[clustered] += centres[labels[clustered]]
    embedding[~clustered] *= 8
    mixing = rng.normal(0, 1, (dims, features))
    prepared = embedding @ mixing + rng.normal(0, 0.5, (rows, features))
    prepared = (prepared - prepared.mean(axis=0)) / prepared.std(axis=0)
    raw = np.exp(prepared * 0.5) * rng.uniform(1, 100, features)  # skewed, original units
    names = [f"feature_{i}" for i in range(features)]
    curve = np.sort(rng.gamma(2.0, 0.2, 2000))
    hp = parse({"reducer": "none", **(hyperparameters or {})})
    split = SplitResult(
        ids=np.arange(rows),
        kept=np.ones(rows, dtype=bool),
        labels=labels,
        embedding=embedding,
        raw_features=raw,
        truth=None,
        metrics={"silhouette": 0.5, "noise_fraction": float((~clustered).mean())},
    )
    return RunResult(
        hp=hp,
        backend_info={"backend": "cpu"},
        features=names,
        eps=EpsChoice(float(curve[1800]), "knee", 10, curve, 1800) if with_eps else None,
        model=None,
        train=split,
        validation=None,
        timings={"synthetic": 0.0},
        prep_report={},
        pca=fit_pca(prepared.astype(np.float32), names, np),
    )
