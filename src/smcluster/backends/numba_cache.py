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
from typing import Any

log = logging.getLogger(__name__)

CACHED_PACKAGES = ("umap", "pynndescent")
# Packages whose compiled functions the cache holds: umap-learn's, pynndescent's and ours.
SOURCE_PACKAGES = ("umap", "pynndescent", "smcluster")
_enabled = False


def tolerant_cache_class() -> type:
    """numba's `FunctionCache`, except that an entry it cannot read or write costs a compile,
    never the job. numba 0.64 re-pickles a function's whole index on every write, keys of
    earlier processes included, and a key that names another compiled function (pynndescent's
    distance functions) can fail to pickle (`ReferenceError: underlying object has vanished`):
    seen after some hundred runs into one environment, after which every job failed in UMAP.
    An index cut short by a killed process fails to read in the same way."""
    from numba.core.caching import FunctionCache

    class TolerantFunctionCache(FunctionCache):  # type: ignore[misc]
        def load_overload(self, sig: Any, target_context: Any) -> Any:
            try:
                return super().load_overload(sig, target_context)
            except Exception as exc:  # compiling instead is always correct
                _cache_problem("read", self._py_func, exc)
                return None

        def save_overload(self, sig: Any, data: Any) -> None:
            try:
                super().save_overload(sig, data)
            except Exception as exc:
                _cache_problem("write", self._py_func, exc)

    return TolerantFunctionCache


def _cache_problem(what: str, func: Any, exc: Exception) -> None:
    log.warning(
        "numba's cache could not %s %s.%s (%s: %s); it is compiled instead (slower, same "
        "result). If this repeats, delete the cache (the __pycache__/*.nbi and *.nbc files of "
        "umap and pynndescent, or NUMBA_CACHE_DIR).",
        what,
        getattr(func, "__module__", "?"),
        getattr(func, "__qualname__", "?"),
        type(exc).__name__,
        exc,
    )


def enable_numba_cache() -> int:
    """Turn on numba's cache, made tolerant (`tolerant_cache_class`), for every compiled
    function of umap-learn and pynndescent that is loaded (pynndescent's own cached ones
    included); returns how many. Call it after `import umap`, before the first fit."""
    global _enabled
    if _enabled:
        return 0
    from numba.core.registry import CPUDispatcher

    cache_class = tolerant_cache_class()
    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(CACHED_PACKAGES):
            continue
        for value in list(vars(module).values()):
            if not isinstance(value, CPUDispatcher):
                continue
            try:
                # What `Dispatcher.enable_caching` does, with the tolerant class.
                value._cache = cache_class(value.py_func)
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
