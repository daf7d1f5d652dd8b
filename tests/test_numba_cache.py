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


def test_a_damaged_cache_index_costs_a_compile_not_the_job(tmp_path: Path) -> None:
    """An index cut short (a process killed while writing it) makes plain numba raise
    UnpicklingError on the next call; the tolerant cache warns and compiles instead."""
    (tmp_path / "jitted.py").write_text(
        "import numba\n\n@numba.njit\ndef plus_one(x):\n    return x + 1\n"
    )
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import logging; "
        "logging.basicConfig(); import jitted; "
        "from smcluster.backends.numba_cache import tolerant_cache_class; "
        "f = jitted.plus_one; "
        "f._cache = tolerant_cache_class()(f.py_func) if sys.argv[1] == 'tolerant' else None; "
        "f.enable_caching() if sys.argv[1] == 'plain' else None; print(f(41))"
    )

    def call(kind: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, kind], capture_output=True, text=True, timeout=300
        )

    assert call("tolerant").stdout.strip() == "42"
    (index,) = (tmp_path / "__pycache__").glob("jitted.plus_one-*.nbi")
    index.write_bytes(index.read_bytes()[:7])
    plain = call("plain")
    assert plain.returncode != 0 and "UnpicklingError" in plain.stderr
    tolerant = call("tolerant")
    assert tolerant.returncode == 0 and tolerant.stdout.strip() == "42", tolerant.stderr
    assert "numba's cache could not" in tolerant.stderr and "compiled instead" in tolerant.stderr
