"""A realistic synthetic customer table: skewed, sparse RFM features, known segments, noise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


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
NOISE_LABEL = "noise"
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
) -> pd.DataFrame:
    """Customers of six segments plus uniform outliers; `segment` holds the true label."""
    rng = np.random.default_rng(seed)
    weights = np.array([s.weight for s in SEGMENTS])
    n_noise = round(rows * noise_fraction)
    counts = rng.multinomial(rows - n_noise, weights / weights.sum())
    parts = [_segment_rows(rng, segment, n) for segment, n in zip(SEGMENTS, counts, strict=True)]
    parts.append(_noise_rows(rng, n_noise))
    table = pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=seed)
    table = table.reset_index(drop=True)
    table.insert(0, "customer_id", [f"C{i:07d}" for i in range(1, len(table) + 1)])
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


def _beta(mean: float, concentration: float) -> tuple[float, float]:
    return concentration * mean + 0.5, concentration * (1 - mean) + 0.5


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


DEMO_HYPERPARAMETERS = {
    "id_column": "customer_id",
    "label_column": "segment",
    "log_transform": "auto",
    "n_neighbors": "30",  # the segments are broad: a wider neighbourhood keeps each one whole
}


def write_job_tree(
    base: Path,
    rows: int = 20_000,
    files: int = 3,
    file_format: str = "csv",
    seed: int = 7,
    hyperparameters: dict[str, str] | None = None,
    validation_rows: int = 0,
) -> Path:
    """A SageMaker-shaped `/opt/ml` tree holding the demo table split into `files` files."""
    train_dir = base / "input" / "data" / "train"
    config_dir = base / "input" / "config"
    for folder in (train_dir, config_dir):
        folder.mkdir(parents=True, exist_ok=True)
    table = make_customers(rows, seed=seed)
    content_type = _write_split(table, train_dir, files, file_format)
    channels = {"train": {"ContentType": content_type, "TrainingInputMode": "File"}}
    if validation_rows:
        validation_dir = base / "input" / "data" / "validation"
        validation_dir.mkdir(parents=True, exist_ok=True)
        _write_split(make_customers(validation_rows, seed=seed + 1), validation_dir, 1, file_format)
        channels["validation"] = dict(channels["train"])
    values = hyperparameters if hyperparameters is not None else DEMO_HYPERPARAMETERS
    (config_dir / "hyperparameters.json").write_text(
        json.dumps({k: str(v) for k, v in values.items()})
    )
    (config_dir / "inputdataconfig.json").write_text(json.dumps(channels))
    (config_dir / "resourceconfig.json").write_text(
        json.dumps(
            {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}
        )
    )
    return base


def _write_split(table: pd.DataFrame, folder: Path, files: int, file_format: str) -> str:
    for stale in folder.glob("part-*"):
        stale.unlink()
    for index, part in enumerate(np.array_split(np.arange(len(table)), max(files, 1))):
        chunk = table.iloc[part]
        if file_format == "parquet":
            chunk.to_parquet(folder / f"part-{index:03d}.parquet", index=False)
        else:
            chunk.to_csv(folder / f"part-{index:03d}.csv", index=False)
    return "application/x-parquet" if file_format == "parquet" else "text/csv"
