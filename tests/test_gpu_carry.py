"""scripts/gpu_carry.py: which wheels travel, the pieces, and an install from them.

Real wheels (built here with the standard zip layout), real pieces on disk, and a real pip
install into a fresh virtual environment; only the GPU import probe is left out (no GPU here).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import gpu_carry  # noqa: E402


def make_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """A pure-Python wheel holding module `name` with VERSION, as pip expects it."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f"VERSION = {version!r}\n" + "# padding\n" * 400,
        f"{info}/METADATA": "\n".join(
            ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
            + [f"Requires-Dist: {r}" for r in requires]
        )
        + "\n\nA description that mentions Requires-Dist: nothing.\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture()
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    make_wheel(folder, "alpha", "1.0", ("beta>=2.0", "delta; python_version < '3.0'"))
    make_wheel(folder, "beta", "2.1")
    make_wheel(folder, "gamma", "1.0")
    make_wheel(folder, "numba_cuda_mlir", "0.6.0")
    return folder


def test_choose_carries_what_the_machine_lacks_or_has_at_a_wrong_version(wheels: Path) -> None:
    read = [gpu_carry.Wheel.read(p) for p in sorted(wheels.glob("*.whl"))]
    assert next(w for w in read if w.name == "alpha").requires == [
        "beta>=2.0",
        "delta; python_version < '3.0'",
    ]
    device = {"beta": "1.5", "gamma": "1.0", "delta": "0.1"}
    choices = {c.wheel.name: c for c in gpu_carry.choose(read, device, {}, "3.12")}
    assert choices["alpha"].carry and choices["alpha"].reason == "missing there"
    assert choices["beta"].carry and ">=2.0 (from alpha)" in choices["beta"].reason
    assert not choices["gamma"].carry  # the machine's 1.0 is what the set needs
    assert not choices["numba-cuda-mlir"].carry  # never loaded by the check
    # The project's own pins: a different version there travels anyway.
    pinned = {c.wheel.name: c for c in gpu_carry.choose(read, device, {"gamma": "0.9"}, "3.12")}
    assert pinned["gamma"].carry and "project pins 0.9" in pinned["gamma"].reason


def test_requirements_under_extras_count(tmp_path: Path) -> None:
    """RAPIDS pins the CUDA libraries through extras (cuda-toolkit[cublas]): those count too."""
    make_wheel(tmp_path, "top", "1.0", ("ctk[cublas]==13.*",))
    make_wheel(
        tmp_path, "ctk", "13.1", ("cublas==13.1.*; extra == 'cublas'", "cufft; extra == 'cufft'")
    )
    make_wheel(tmp_path, "cublas", "13.1.0")
    read = [gpu_carry.Wheel.read(p) for p in sorted(tmp_path.glob("*.whl"))]
    # top travels; the machine's ctk is this 13.1 (same metadata), its cublas is not 13.1.
    device = {"ctk": "13.1", "cublas": "13.0.2"}
    choices = {c.wheel.name: c for c in gpu_carry.choose(read, device, {}, "3.12")}
    assert choices["cublas"].carry and "==13.1.* (from ctk)" in choices["cublas"].reason
    assert choices["top"].carry and not choices["ctk"].carry
    # A ctk of another version there brings its own pins (unknown here): its cublas stays.
    device = {"ctk": "13.0.1", "cublas": "13.0.2"}
    choices = {c.wheel.name: c for c in gpu_carry.choose(read, device, {}, "3.12")}
    assert not choices["cublas"].carry and not choices["ctk"].carry
    assert "cufft" not in gpu_carry.declared_constraints(read, "3.12")  # extra not asked for
    assert "cublas" in gpu_carry.declared_constraints(read, "3.12")


def pack(wheels: Path, tmp_path: Path, freeze: str) -> tuple[str, Path]:
    """`pack` against a machine with this freeze list, in ~500-byte pieces: (stdout, out)."""
    (tmp_path / "freeze.txt").write_text(freeze)
    out = tmp_path / "carry"
    packed = run_carry(
        sys.executable,
        *("pack", "--wheels", str(wheels), "--device-freeze", str(tmp_path / "freeze.txt")),
        *("--out", str(out), "--piece-mib", "0.0005", "--cache", str(tmp_path / "xz")),
    )
    assert packed.returncode == 0, packed.stderr
    return packed.stdout, out


def test_nothing_to_carry_writes_no_pieces(wheels: Path, tmp_path: Path) -> None:
    stdout, out = pack(wheels, tmp_path, "alpha==1.0\nbeta==2.1\ngamma==1.0\n")
    assert "nothing to carry" in stdout and not out.exists()


def test_project_pins_follow_pyproject_with_cuda_13_names() -> None:
    pins = gpu_carry.project_pins("13")
    assert pins["cudf-cu13"].startswith("26.10")
    assert "cupy-cuda13x" in pins and "cudf-cu12" not in pins
    assert pins["numpy"]


def run_carry(python: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, str(ROOT / "scripts" / "gpu_carry.py"), *args], capture_output=True, text=True
    )


def test_pieces_install_in_a_fresh_environment(wheels: Path, tmp_path: Path) -> None:
    stdout, out = pack(wheels, tmp_path, "beta==1.5\ngamma==1.0\n")
    pieces = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(pieces) >= 3  # ~500-byte pieces of two compressed wheels
    assert f"in {len(pieces)} pieces" in stdout

    venv = tmp_path / "machine"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    keep = tmp_path / "kept"

    absent = run_carry(python, "keep", str(tmp_path / "not-carried"), "--keep", str(keep))
    assert absent.returncode == 1 and "holds no piece" in absent.stderr
    kept = run_carry(python, "keep", str(pieces[0]), "--keep", str(keep))
    assert f"pieces missing ({len(pieces) - 1} of {len(pieces)})" in kept.stdout
    assert f".gpu-carry/{len(pieces):02d}" in kept.stdout
    refused = run_carry(python, "install", "--keep", str(keep), "--no-import-check")
    assert refused.returncode == 1 and "carry the pieces named" in refused.stderr

    kept = run_carry(python, "keep", *map(str, pieces[1:]), "--keep", str(keep))
    assert "every piece is here" in kept.stdout
    damaged = next(keep.glob("*-02")) / gpu_carry.PIECE_NAME
    original = damaged.read_bytes()
    damaged.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    refused = run_carry(python, "install", "--keep", str(keep), "--no-import-check")
    assert refused.returncode == 1 and "piece 02 is damaged" in refused.stderr
    damaged.write_bytes(original)

    # A leftover piece of an older pack must not wipe the complete newer one.
    older = tmp_path / "older"
    shutil.copytree(next(keep.glob("*-01")), older)
    info = json.loads((older / gpu_carry.PIECE_INFO).read_text())
    info.update(pack="0123456789ab", made="2000-01-01T00:00:00")
    (older / gpu_carry.PIECE_INFO).write_text(json.dumps(info))
    stale = run_carry(python, "keep", str(older), "--keep", str(keep))
    assert stale.returncode == 1 and "older than the pieces kept here" in stale.stderr

    wheel_dir = str(tmp_path / "unpacked")
    installed = run_carry(
        python, "install", "--keep", str(keep), "--wheel-dir", wheel_dir, "--no-import-check"
    )
    assert installed.returncode == 0, installed.stderr
    assert "2 wheels unpacked" in installed.stdout
    versions = subprocess.run(
        [python, "-c", "import alpha, beta; print(alpha.VERSION, beta.VERSION)"],
        capture_output=True,
        text=True,
    )
    assert versions.stdout.split() == ["1.0", "2.1"]
