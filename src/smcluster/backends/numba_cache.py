"""numba's on-disk cache for umap-learn's and pynndescent's compiled functions.

umap-learn compiles its functions with numba at first use and, unlike pynndescent, does not ask
numba to cache them: every process paid about 10 s to fit UMAP on 300 rows and 4 s for its first
`transform` (measured on this project's 2-core machine). Turning caching on for each compiled
function of those packages (what `@njit(cache=True)` does) makes the second process load the
machine code instead: 0.4 s and 0.1 s. numba keys each entry by the function's source file, the
argument types and the CPU it was compiled for, so a stale or foreign entry is never used.

`python -m smcluster.backends.numba_cache` fits and applies a small UMAP once, to fill the cache
(the image does it at build time; it helps where the build and the run share a CPU model).
`--for-image` first rounds the packages' source modification times down to whole seconds: numba
keeps an entry only while its source file's stamp (mtime with its fraction, size) is unchanged,
and an image layer may store whole seconds only (this project's Docker engine does), so without
it every entry written at build time was stale in the container and UMAP compiled again (300
rows: 16.8 s instead of 1 s).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

CACHED_PACKAGES = ("umap", "pynndescent")
# Packages whose compiled functions the cache holds: umap-learn's, pynndescent's and ours.
SOURCE_PACKAGES = ("umap", "pynndescent", "smcluster")
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


def whole_second_mtimes() -> int:
    """Round the modification time of every source file of `SOURCE_PACKAGES` down to a whole
    second (Python's own .pyc check compares whole seconds, so it stays valid); returns how many
    files changed."""
    import importlib.util

    changed = 0
    for package in SOURCE_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            for source in Path(folder).rglob("*.py"):
                stat = source.stat()
                whole = stat.st_mtime_ns - stat.st_mtime_ns % 1_000_000_000
                if whole != stat.st_mtime_ns:
                    os.utime(source, ns=(stat.st_atime_ns, whole))
                    changed += 1
    return changed


if __name__ == "__main__":
    if "--for-image" in sys.argv[1:]:
        whole_second_mtimes()
    warm()
