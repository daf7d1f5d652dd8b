"""Install smcluster into the image's Python, at build time only (standard library only).

    python3 install_package.py --variant cpu|gpu|gpu-rapids SOURCE_DIR

Where it installs: the base image's own Python when pip may install into it (the RAPIDS base's
conda environment, python:3.x images); otherwise, when the interpreter is marked
EXTERNALLY-MANAGED (PEP 668, Debian's python3) or has no pip, a virtual environment in /opt/venv,
which the Dockerfile puts first on PATH. A venv rather than `--break-system-packages`: pip never
overwrites files that Debian's package manager owns, and the image has one clean environment.

What it installs:
- cpu: `SOURCE[cpu]` with the exact pins from pyproject.toml.
- gpu (the default GPU image): `SOURCE[cpu,gpu]` with the exact pins, on a plain Python base:
  RAPIDS from its pip wheels, which carry their CUDA libraries and need only the host's driver;
  umap-learn too, so the image also runs the CPU path where no GPU is present.
- gpu-rapids (on a RAPIDS base image): the base image's packages win. The package goes in with
  `--no-deps`; each of its core and `gpu` requirements that the base already provides (by name,
  or by name without the CUDA suffix: `cudf-cu12` is conda's `cudf`) is kept as it is; the rest
  is installed under a constraints file that pins every package of the base to the version it
  has, so no dependency can upgrade or reinstall RAPIDS, NumPy, pandas or anything else the base
  brought. A conflict fails the build,
  naming the package, instead of silently replacing part of RAPIDS. Every base version that
  differs from the project's pin is printed, so the build log says which pins did not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

VENV = Path("/opt/venv")
PACKAGE = "smcluster"
RAPIDS_MODULES = ("cudf", "cuml", "cupy")
PIP = ("-m", "pip", "--disable-pip-version-check", "--no-input")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def without_cuda_suffix(name: str) -> str:
    return re.sub(r"-(cu\d+|cuda\d+x?)$", "", name)


def run(*args: str) -> str:
    print("+", " ".join(args), flush=True)
    return subprocess.run(args, check=True, text=True, stdout=subprocess.PIPE).stdout


def pip_usable(python: str) -> bool:
    marker = Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED"
    if marker.exists():
        return False
    probe = subprocess.run([python, *PIP, "--version"], capture_output=True)
    return probe.returncode == 0


def choose_python() -> str:
    if pip_usable(sys.executable):
        return sys.executable
    run(sys.executable, "-m", "venv", str(VENV))
    return str(VENV / "bin" / "python")


def installed(python: str) -> dict[str, str]:
    listing = json.loads(run(python, *PIP, "list", "--format=json"))
    return {canonical(item["name"]): item["version"] for item in listing}


def requirements(python: str, extra: str) -> list[str]:
    """Core requirements plus those of `extra`, read from the installed package's metadata."""
    code = f"import importlib.metadata as m, json; print(json.dumps(m.requires({PACKAGE!r})))"
    wanted = []
    for line in json.loads(run(python, "-c", code)) or []:
        spec, _, marker = line.partition(";")
        extra_match = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        if extra_match and extra_match.group(1) != extra:
            continue
        rest = re.sub(r"(and\s+)?extra\s*==\s*['\"][^'\"]+['\"](\s+and)?", "", marker).strip()
        wanted.append(f"{spec.strip()}; {rest}" if rest else spec.strip())
    return wanted


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise SystemExit(f"cannot read a package name from requirement {requirement!r}")
    return canonical(match.group(1))


def install_pinned(python: str, source: str, extras: str) -> None:
    run(python, *PIP, "install", f"{source}[{extras}]")


def check_rapids(python: str) -> None:
    """Fail before installing anything when the base has no RAPIDS."""
    # find_spec, not import: importing cuDF needs a GPU, and the build has none.
    find = (
        "import importlib.util as u, sys; print(*[m for m in sys.argv[1:] if not u.find_spec(m)])"
    )
    absent = run(python, "-c", find, *RAPIDS_MODULES).split()
    if absent:
        raise SystemExit(
            f"error: the base image lacks the RAPIDS modules {', '.join(absent)}. Fix: build the "
            "gpu-rapids variant on a RAPIDS base image (make image-rapids), or the gpu variant, "
            "which installs RAPIDS' pip wheels on any Python base (make image)."
        )


def pinned_version(requirement: str) -> str | None:
    match = re.search(r"==\s*([^;,\s]+)", requirement)
    return match.group(1) if match else None


def install_over_rapids(python: str, source: str) -> None:
    check_rapids(python)
    base = installed(python)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("".join(f"{name}=={version}\n" for name, version in sorted(base.items())))
        constraints = handle.name
    run(python, *PIP, "install", "--no-deps", source)
    missing = []
    for requirement in requirements(python, "gpu"):
        name = requirement_name(requirement)
        provided = next((n for n in (name, without_cuda_suffix(name)) if n in base), None)
        if provided:
            pin = pinned_version(requirement)
            differs = f" (not the project's pin {pin})" if pin and pin != base[provided] else ""
            print(
                f"keeping the base image's {provided}=={base[provided]} for {requirement}{differs}"
            )
        else:
            missing.append(requirement)
    if missing:
        run(python, *PIP, "install", "--constraint", constraints, *missing)
    os.unlink(constraints)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=("cpu", "gpu", "gpu-rapids"), required=True)
    parser.add_argument("source", help="folder holding pyproject.toml")
    args = parser.parse_args()
    python = choose_python()
    if args.variant == "gpu-rapids":
        install_over_rapids(python, args.source)
    else:
        install_pinned(python, args.source, "cpu" if args.variant == "cpu" else "cpu,gpu")
    # Fail the build, not the first training job, when the package cannot be imported.
    run(python, "-c", f"import {PACKAGE}.train, {PACKAGE}.cli")
    return 0


if __name__ == "__main__":
    sys.exit(main())
