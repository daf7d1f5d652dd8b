"""numba's on-disk cache for umap-learn's and pynndescent's compiled functions.

umap-learn compiles its functions with numba at first use and, unlike pynndescent, does not ask
numba to cache them: every process paid about 10 s to fit UMAP on 300 rows and 4 s for its first
`transform` (measured on this project's 2-core machine). Turning caching on for each compiled
function of those packages (what `@njit(cache=True)` does) makes the second process load the
machine code instead: 0.4 s and 0.1 s. numba keys each entry by the function's source file, the
argument types and the CPU it was compiled for, so a stale or foreign entry is never used.

`python -m smcluster.backends.numba_cache` fits and applies a small UMAP once, to fill the cache
(the image does it at build time; it helps where the build and the run share a CPU model).
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)

CACHED_PACKAGES = ("umap", "pynndescent")
_enabled = False


def enable_numba_cache() -> int:
    """Turn on numba's cache for every compiled function of umap-learn and pynndescent that
    is loaded; returns how many. Call it after `import umap`, before the first fit."""
    global _enabled
    if _enabled:
        return 0
    from numba.core.registry import CPUDispatcher

    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(CACHED_PACKAGES):
            continue
        for value in list(vars(module).values()):
            if not isinstance(value, CPUDispatcher):
                continue
            try:
                value.enable_caching()
            except RuntimeError:  # numba cannot locate a cache for it (no source file)
                continue
            count += 1
    _enabled = True
    log.debug("numba cache on for %d compiled functions of %s", count, CACHED_PACKAGES)
    return count


def warm(rows: int = 300) -> None:
    """Fit and apply a small UMAP once, so that the cache holds what a job compiles."""
    import numpy as np
    import umap

    from .umap_transform import prepare_umap_learn

    prepare_umap_learn()
    data = np.random.default_rng(0).normal(size=(rows, 8)).astype(np.float32)
    for components in (2, 3, 5):  # the dimensions the defaults and the plots use
        model = umap.UMAP(n_components=components, n_neighbors=15, random_state=0).fit(data)
        model.transform(data[:5])


if __name__ == "__main__":
    warm()
