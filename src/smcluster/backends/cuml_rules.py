"""What cuML 26.10 accepts, and how its conventions map onto smcluster's, as plain rules.

Importable without RAPIDS, so the GPU backend's validation and parameter mapping are tested on
the CPU (tests/test_cuml_rules.py); `backends/gpu.py` applies them.
"""

from __future__ import annotations

from ..contract.errors import HyperparameterError
from ..contract.schema import Hyperparameters

TSNE_COMPONENTS = 2  # cuML's TSNE embeds in exactly two dimensions
HDBSCAN_MAX_NEIGHBOURS = 1023  # cuML's HDBSCAN: 1 <= min_samples <= 1023 (hdbscan.pyx)
# smcluster's `min_samples` counts the point itself (scikit-learn's convention): one more.
HDBSCAN_MAX_MIN_SAMPLES = HDBSCAN_MAX_NEIGHBOURS + 1


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
