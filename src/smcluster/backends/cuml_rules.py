"""What cuML 26.10 accepts, and how its conventions map onto smcluster's, as plain rules.

Importable without RAPIDS, so the GPU backend's validation and parameter mapping are tested on
the CPU (tests/test_cuml_rules.py); `backends/gpu.py` applies them.
"""

from __future__ import annotations

from typing import Any

from ..contract.errors import HyperparameterError
from ..contract.schema import Hyperparameters
from .base import ReducerSettings

TSNE_COMPONENTS = 2  # cuML's TSNE embeds in exactly two dimensions
HDBSCAN_MAX_NEIGHBOURS = 1023  # cuML's HDBSCAN: 1 <= min_samples <= 1023 (hdbscan.pyx)
# smcluster's `min_samples` counts the point itself (scikit-learn's convention): one more.
HDBSCAN_MAX_MIN_SAMPLES = HDBSCAN_MAX_NEIGHBOURS + 1


TSNE_MAX_NEIGHBOURS = 1023  # cuML's TSNE caps n_neighbors there (t_sne.pyx _init_params)
# scikit-learn's t-SNE defaults (sklearn/manifold/_t_sne.py): early exaggeration 12, learning
# rate "auto" = max(rows / early_exaggeration / 4, 50), 3 * perplexity + 1 neighbours.
SKLEARN_EARLY_EXAGGERATION = 12.0


def tsne_arguments(settings: ReducerSettings) -> dict[str, Any]:
    """cuML TSNE's arguments under scikit-learn's rules, so both backends embed alike.

    cuML's default `learning_rate_method="adaptive"` replaces the neighbour count above 2,000
    rows (max(102 - 0.0012 n, 30): 66 at 30,000 rows, whatever the perplexity), the learning
    rate (n / 3) and the early exaggeration (24 above 10,000 rows), while scikit-learn takes
    3 * perplexity + 1 neighbours: the two embeddings parted above a perplexity of about 22.
    "none" keeps the values given here, scikit-learn's own."""
    rows = max(settings.fit_rows, 2)
    neighbours = min(int(3 * settings.perplexity + 1), TSNE_MAX_NEIGHBOURS, rows - 1)
    return {
        **settings.arguments(),
        "n_neighbors": neighbours,
        "learning_rate_method": "none",
        "learning_rate": max(rows / SKLEARN_EARLY_EXAGGERATION / 4, 50.0),
        "early_exaggeration": SKLEARN_EARLY_EXAGGERATION,
    }


def hdbscan_neighbours(min_cluster_size: int, min_samples: int | None) -> tuple[int, str | None]:
    """cuML's `min_samples` for smcluster's, and a note when cuML's limit capped it.

    scikit-learn's HDBSCAN (the CPU) counts the point itself among its `min_samples` and
    defaults it to `min_cluster_size`; cuML counts neighbours without the point, with the same
    default ("to match sklearn.cluster.HDBSCAN(min_samples=k), use cuml.cluster.HDBSCAN(
    min_samples=k - 1)"). Passing the value unchanged put the GPU's core distances one
    neighbour further out than the CPU's.
    """
    wanted = (min_cluster_size if min_samples is None else min_samples) - 1
    if wanted <= HDBSCAN_MAX_NEIGHBOURS:
        return wanted, None
    return HDBSCAN_MAX_NEIGHBOURS, (
        f"algorithm=hdbscan on the gpu: min_samples defaults to min_cluster_size "
        f"({min_cluster_size:,}), above cuML's limit of {HDBSCAN_MAX_MIN_SAMPLES:,}; "
        f"min_samples={HDBSCAN_MAX_MIN_SAMPLES:,} is used (set min_samples to choose)"
    )


def check(hp: Hyperparameters) -> list[HyperparameterError]:
    """The hyperparameters cuML cannot run, every one at once."""
    problems = []
    if hp.reducer == "tsne" and hp.n_components != TSNE_COMPONENTS:
        problems.append(
            HyperparameterError(
                f"reducer=tsne gives exactly {TSNE_COMPONENTS} dimensions on the gpu "
                f"(cuML's TSNE), n_components={hp.n_components} was asked for.",
                f"set n_components to {TSNE_COMPONENTS}, or use reducer=umap.",
            )
        )
    if (
        hp.algorithm == "hdbscan"
        and hp.min_samples is not None
        and hp.min_samples > HDBSCAN_MAX_MIN_SAMPLES
    ):
        problems.append(
            HyperparameterError(
                f"algorithm=hdbscan on the gpu takes min_samples up to "
                f"{HDBSCAN_MAX_MIN_SAMPLES} (cuML), {hp.min_samples} was asked for.",
                f"set min_samples to {HDBSCAN_MAX_MIN_SAMPLES} or less.",
            )
        )
    return problems
