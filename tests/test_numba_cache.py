"""umap-learn's compiled functions land in numba's on-disk cache, so that the next process loads
them instead of compiling for ~10 s (speed itself is measured by `make bench`, not here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_small_umap_fills_the_cache_for_umap_learn_itself(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "smcluster.backends.numba_cache"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    indexes = [p.name for p in tmp_path.rglob("*.nbi")]
    # umap-learn asks numba to cache none of umap_.py's functions and one of layouts.py's.
    assert any(name.startswith("umap_.") for name in indexes), indexes
    assert sum(name.startswith("layouts.") for name in indexes) >= 2, indexes
