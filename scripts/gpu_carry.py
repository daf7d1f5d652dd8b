"""Carry the RAPIDS wheels to a GPU machine that has no network, in pieces of a bounded size.

The GPU machines lent to this project (the `device` tool) reach no package index and take at
most 64 MiB per call, the working tree included; a warm machine keeps what earlier calls left.
So `make gpu-check` gets RAPIDS there in three steps:

  here   python scripts/gpu_carry.py pack --wheels DIR --device-freeze FREEZE --out .gpu-carry
         picks from DIR (the wheel set of `GPU_CHECK_DOWNLOAD=DIR GPU_CHECK_CUDA=13 ...
         scripts/gpu_check.sh`) the wheels the machine lacks (FREEZE: its `pip list
         --format=freeze`), packs them xz-compressed into one stream and cuts it into
         .gpu-carry/01, 02, ... of at most --piece-mib each;
  there  one call per piece carries .gpu-carry/NN and runs `python3 scripts/gpu_carry.py keep
         .gpu-carry/NN` (moves it to /tmp/gpu-carry and says which pieces are still missing).
         Send the pieces back to back: a lent machine goes back once left idle (the device
         tool's `idle_release_s`), and a later call starts a bare one without the pieces;
  there  `python3 scripts/gpu_carry.py install` checks every piece's hash, unpacks the wheels
         and installs them with pip into that interpreter's own environment (offline, no
         dependency resolution: the selection here made the set complete), then runs a small
         cuML DBSCAN on the GPU. Not `pip --target` + PYTHONPATH: RAPIDS finds its CUDA
         libraries (libnvJitLink, ...) through cuda-pathfinder, which searches
         site.getsitepackages() only, so a carried CUDA library outside it is never loaded.
         The machine is discarded after the session, so replacing its packages is harmless.

Which wheels travel: a package the machine lacks; one of the project's own requirements whose
pinned version the machine does not have (the check runs the project's pins); one whose version
there fails a requirement the wheel set declares (nvidia-nvjitlink>=13.3 for libcudf, say). The
machine's own copy is used for the rest (its CUDA libraries, CuPy of the same version), and
NOT_NEEDED lists what the check never loads. `install` needs only the standard library and pip.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PIECE_MIB = 60  # the call's 64 MiB also carries the working tree (about 1.5 MiB)
DEFAULT_KEEP = Path("/tmp/gpu-carry")
PIECE_NAME = "stream.part"
PIECE_INFO = "piece.json"

# In the wheel set (pulled by RAPIDS' optional extras) but never loaded by the check: leaving
# them behind saves about 190 MiB, three calls.
NOT_NEEDED = {
    "numba-cuda-mlir": "cuDF imports it only for rolling-window UDFs (cudf/core/window/rolling.py)",
    "nvidia-nvvm": "numba-cuda's kernel compiler; the check JIT-compiles no numba kernels",
    "nvidia-cuda-nvcc": "numba-cuda's kernel compiler; the check JIT-compiles no numba kernels",
}

# The interpreter of the target machine, for the wheel set's environment markers.
TARGET_MARKERS = {
    "implementation_name": "cpython",
    "platform_machine": "x86_64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
    "platform_python_implementation": "CPython",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Wheel:
    path: Path
    name: str
    version: str
    requires: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> Wheel:
        dist, version = path.name.split("-")[:2]
        with zipfile.ZipFile(path) as archive:
            # The wheel's own dist-info sits at the top; vendored ones lie deeper.
            metadata = next(
                n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)
            )
            text = archive.read(metadata).decode("utf-8", "replace")
        lines = text.split("\n\n")[0].splitlines()  # the headers, not the description
        requires = [
            line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")
        ]
        return cls(path, canonical(dist), version, requires)


@dataclass(frozen=True)
class Choice:
    wheel: Wheel
    carry: bool
    reason: str


def project_pins(cuda: str) -> dict[str, str]:
    """The project's requirements (dependencies, cpu and gpu extras) as name -> pinned version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pins = {}
    for line in project["dependencies"] + extras["cpu"] + extras["gpu"]:
        line = line.replace("-cu12", f"-cu{cuda}").replace("cuda12x", f"cuda{cuda}x")
        name, _, version = line.partition("==")
        pins[canonical(name.split("[")[0])] = version.strip()
    return pins


def declared_constraints(wheels: list[Wheel], python: str) -> dict[str, list[str]]:
    """Every version requirement the wheels declare for the target interpreter, by package.

    Extras count: RAPIDS asks for `cupy-cuda13x[ctk]` and `cuda-toolkit[cublas,...]`, whose
    pins of the CUDA libraries sit under `extra == "..."` markers; the extras asked for are
    collected until no new one appears, and each requirement is evaluated under them.
    """
    from packaging.requirements import Requirement

    environment = {**TARGET_MARKERS, "python_version": python, "python_full_version": f"{python}.0"}
    parsed = {w.name: [Requirement(line) for line in w.requires] for w in wheels}
    asked: dict[str, set[str]] = {name: {""} for name in parsed}

    def active(requirement: Requirement, extras: set[str]) -> bool:
        marker = requirement.marker
        return marker is None or any(marker.evaluate({**environment, "extra": e}) for e in extras)

    changed = True
    while changed:
        changed = False
        for name, requirements in parsed.items():
            for requirement in requirements:
                if active(requirement, asked[name]):
                    wanted = asked.setdefault(canonical(requirement.name), {""})
                    if not set(requirement.extras) <= wanted:
                        wanted |= set(requirement.extras)
                        changed = True
    constraints: dict[str, list[str]] = {}
    for name, requirements in parsed.items():
        for requirement in requirements:
            if active(requirement, asked[name]) and str(requirement.specifier):
                spec = f"{requirement.specifier} (from {name})"
                constraints.setdefault(canonical(requirement.name), []).append(spec)
    return constraints


def choose(
    wheels: list[Wheel], device: dict[str, str], pins: dict[str, str], python: str
) -> list[Choice]:
    """Which wheels travel and why (see the module docstring for the rule).

    The requirements that count are those of what will be installed there: the carried wheels,
    and the machine's packages of the same version as a wheel here (same metadata). A package
    the machine has at another version brings its own, unknown here, and is left to them.
    Carrying a wheel adds its requirements, so the choice is repeated until nothing changes.
    """
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    carried: dict[str, str] = {}  # name -> why
    for wheel in wheels:
        there = device.get(wheel.name)
        if wheel.name in NOT_NEEDED:
            continue
        if there is None:
            carried[wheel.name] = "missing there"
        elif wheel.name in pins and Version(there) != Version(pins[wheel.name]):
            carried[wheel.name] = f"project pins {pins[wheel.name]}, there {there}"
    while True:
        sources = [
            w
            for w in wheels
            if w.name in carried or Version(device.get(w.name, "0")) == Version(w.version)
        ]
        constraints = declared_constraints(sources, python)
        added = {}
        for wheel in wheels:
            there = device.get(wheel.name)
            if wheel.name in carried or wheel.name in NOT_NEEDED or there is None:
                continue
            failed = [
                spec
                for spec in constraints.get(wheel.name, [])
                if not SpecifierSet(spec.split(" (from")[0]).contains(
                    Version(there), prereleases=True
                )
            ]
            if failed:
                added[wheel.name] = f"there {there} fails {'; '.join(failed)}"
        if not added:
            break
        carried.update(added)
    choices = []
    for wheel in sorted(wheels, key=lambda w: w.name):
        if wheel.name in NOT_NEEDED:
            choices.append(Choice(wheel, False, f"not needed: {NOT_NEEDED[wheel.name]}"))
        elif wheel.name in carried:
            choices.append(Choice(wheel, True, carried[wheel.name]))
        else:
            choices.append(Choice(wheel, False, f"there {device[wheel.name]} will do"))
    return choices


def read_freeze(path: Path) -> dict[str, str]:
    """`pip list --format=freeze` (or `pip freeze`) lines as name -> version."""
    found = {}
    for line in path.read_text().splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and not name.startswith("#"):
            found[canonical(name)] = version.split("+")[0].strip()
    return found


def compressed(wheel: Wheel, cache: Path) -> Path:
    """The wheel re-stored without zip compression and xz-compressed (cached by name and size).

    CUDA libraries in wheels are deflated; stored and xz -9 they come out about a quarter
    smaller (libcuml: 62 MiB wheel, 45 MiB), i.e. fewer calls."""
    target = cache / f"{wheel.path.name}.{wheel.path.stat().st_size}.xz"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    stored = io.BytesIO()
    with zipfile.ZipFile(wheel.path) as source, zipfile.ZipFile(stored, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            info.compress_type = zipfile.ZIP_STORED
            copy.writestr(info, data)
    partial = target.with_suffix(".partial")
    if shutil.which("xz"):  # multi-threaded where the tool is there; the same .xz format
        subprocess.run(
            ["xz", "-9", "-T0", "-c"],
            input=stored.getvalue(),
            stdout=partial.open("wb"),
            check=True,
        )
    else:
        partial.write_bytes(lzma.compress(stored.getvalue(), preset=9))
    partial.rename(target)
    return target


def pack(args: argparse.Namespace) -> int:
    wheels = [Wheel.read(p) for p in sorted(Path(args.wheels).glob("*.whl"))]
    if not wheels:
        return fail(
            f"no wheels in {args.wheels}", "fill it with GPU_CHECK_DOWNLOAD (scripts/gpu_check.sh)."
        )
    device = read_freeze(Path(args.device_freeze)) if args.device_freeze else {}
    choices = choose(wheels, device, project_pins(args.cuda), args.python)
    carried = [c.wheel for c in choices if c.carry]
    for choice in choices:
        size = choice.wheel.path.stat().st_size / 2**20
        verb = "carry" if choice.carry else "leave"
        print(f"{verb} {size:7.1f} MiB  {choice.wheel.path.name}: {choice.reason}")

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    if not carried:
        print("gpu-carry: the machine has every wheel the check needs; nothing to carry")
        return 0
    out.mkdir(parents=True)
    stream = out / "stream.tar"
    started = time.monotonic()
    with tarfile.open(stream, "w") as tar:  # largest first: the long xz runs start early
        for wheel in sorted(carried, key=lambda w: -w.path.stat().st_size):
            tar.add(compressed(wheel, Path(args.cache)), arcname=f"{wheel.path.name}.xz")
    pieces = split(stream, out, int(args.piece_mib * 2**20))
    stream.unlink()
    total = sum(p.stat().st_size for p in pieces) / 2**20
    wheel_mib = sum(w.path.stat().st_size for w in carried) / 2**20
    print(
        f"gpu-carry: {len(carried)} wheels ({wheel_mib:.0f} MiB) in {len(pieces)} pieces, "
        f"{total:.0f} MiB, under {out}/ "
        f"({time.monotonic() - started:.0f} s); one call per piece, then install"
    )
    return 0


def split(stream: Path, out: Path, piece_bytes: int) -> list[Path]:
    """Cut the stream into numbered piece folders, each with its hash and the pack's identity.

    The pack is named by the stream's hash (the same selection packed again is the same pack,
    so pieces already on the machine stay good) and dated, so that `keep` can tell an older
    pack's leftover piece from a newer pack."""
    size = stream.stat().st_size
    count = max(1, -(-size // piece_bytes))
    whole = hashlib.sha256()
    with stream.open("rb") as source:
        for block in iter(lambda: source.read(2**20), b""):
            whole.update(block)
    pack = {"pack": whole.hexdigest()[:12], "made": time.strftime("%Y-%m-%dT%H:%M:%S")}
    pieces = []
    with stream.open("rb") as source:
        for index in range(1, count + 1):
            folder = out / f"{index:02d}"
            folder.mkdir()
            data = source.read(piece_bytes)
            (folder / PIECE_NAME).write_bytes(data)
            info = {**pack, "index": index, "count": count, "sha256": sha256(data)}
            (folder / PIECE_INFO).write_text(json.dumps(info))
            pieces.append(folder / PIECE_NAME)
    return pieces


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pieces_in(keep: Path) -> tuple[list[Path], list[str]]:
    """The pieces under `keep` (one pack: `keep` drops older ones), in order, and every problem."""
    infos = [(json.loads(p.read_text()), p.parent) for p in sorted(keep.glob(f"*/{PIECE_INFO}"))]
    if not infos:
        return [], [f"no pieces under {keep}: carry .gpu-carry/NN and run `keep` for each"]
    mine = {info["index"]: (info, folder) for info, folder in infos}
    count = infos[0][0]["count"]
    problems = []
    missing = [i for i in range(1, count + 1) if i not in mine]
    if missing:
        names = ", ".join(f".gpu-carry/{i:02d}" for i in missing)
        problems.append(f"pieces missing ({len(missing)} of {count}): carry {names}")
    ordered = []
    for index in sorted(mine):
        info, folder = mine[index]
        part = folder / PIECE_NAME
        if not part.exists() or sha256(part.read_bytes()) != info["sha256"]:
            problems.append(
                f"piece {index:02d} is damaged (hash differs): carry .gpu-carry/{index:02d} again"
            )
        ordered.append(part)
    return ordered, problems


def keep(args: argparse.Namespace) -> int:
    """Move carried pieces out of the working tree (kept while the machine stays warm)."""
    target = Path(args.keep)
    target.mkdir(parents=True, exist_ok=True)
    for folder in args.pieces:
        if not (Path(folder) / PIECE_INFO).exists():
            return fail(f"{folder} holds no piece", "name it in the call's carry list.")
        info = json.loads((Path(folder) / PIECE_INFO).read_text())
        for old in target.glob(f"*/{PIECE_INFO}"):
            kept = json.loads(old.read_text())
            if kept["pack"] == info["pack"]:
                continue
            if kept["made"] > info["made"]:  # a leftover of an older pack: keep the newer one
                return fail(
                    f"{folder} is piece {info['index']:02d} of a pack made {info['made']}, "
                    f"older than the pieces kept here (made {kept['made']})",
                    "carry the pieces of the newest pack only.",
                )
            shutil.rmtree(old.parent)  # a newer pack replaces an older one
        destination = target / f"{info['pack']}-{info['index']:02d}"
        shutil.rmtree(destination, ignore_errors=True)
        shutil.move(folder, destination)
    _, problems = pieces_in(target)
    print("; ".join(problems) if problems else "gpu-carry: every piece is here; run install")
    return 0


class Joined(io.RawIOBase):
    """The pieces read back as one stream."""

    def __init__(self, parts: list[Path]) -> None:
        self.files: Iterator[io.BufferedReader] = (p.open("rb") for p in parts)
        self.current: io.BufferedReader | None = next(self.files, None)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self.current is not None:
            n = self.current.readinto(buffer)
            if n:
                return n
            self.current.close()
            self.current = next(self.files, None)
        return 0


def install(args: argparse.Namespace) -> int:
    parts, problems = pieces_in(Path(args.keep))
    if problems:
        return fail("; ".join(problems), "carry the pieces named, then run install again.")
    started = time.monotonic()
    wheels = Path(args.wheel_dir)
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    with tarfile.open(fileobj=io.BufferedReader(Joined(parts), 2**20), mode="r|") as tar:
        for member in tar:
            source = tar.extractfile(member)
            if source is None or not member.name.endswith(".whl.xz"):
                continue
            with (
                lzma.open(source) as unpacked,
                (wheels / member.name[: -len(".xz")]).open("wb") as out,
            ):
                shutil.copyfileobj(unpacked, out, 2**20)
    names = sorted(str(p) for p in wheels.glob("*.whl"))
    print(
        f"gpu-carry: {len(names)} wheels unpacked ({time.monotonic() - started:.0f} s)", flush=True
    )
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps"]
    command += ["--no-compile", "--no-cache-dir", *names]
    if subprocess.run(command).returncode != 0:
        return fail(
            "pip could not install the carried wheels (its message is above)", "see the message."
        )
    print(
        f"gpu-carry: installed into {sys.prefix} ({time.monotonic() - started:.0f} s)", flush=True
    )
    if args.no_import_check:
        return 0
    probe = (
        "import cupy, cudf, cuml; from cuml.cluster import DBSCAN; "
        "x = cupy.random.default_rng(0).random((1000, 2), dtype=cupy.float32); "
        "n = int((DBSCAN(eps=0.1, min_samples=5).fit(x).labels_ >= 0).sum()); "
        "print('gpu-carry: cudf', cudf.__version__, 'cuml', cuml.__version__, 'cupy', "
        "cupy.__version__, 'DBSCAN clustered', n, 'of 1000 rows on', "
        "cupy.cuda.runtime.getDeviceProperties(0)['name'].decode())"
    )
    if subprocess.run([sys.executable, "-c", probe]).returncode != 0:
        return fail("cuDF/cuML did not import or run (the error is above)", "carry what it names.")
    return 0


def fail(what: str, then: str) -> int:
    print(f"gpu-carry: {what}; {then}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack", help="choose, compress and cut the wheels here")
    p.add_argument("--wheels", required=True, help="the wheel folder (GPU_CHECK_DOWNLOAD)")
    p.add_argument("--device-freeze", help="`pip list --format=freeze` of the GPU machine")
    p.add_argument("--out", default=".gpu-carry")
    p.add_argument("--cache", default=None, help="compressed wheels (default: WHEELS/.xz)")
    p.add_argument("--piece-mib", type=float, default=DEFAULT_PIECE_MIB)
    p.add_argument("--cuda", default="13")
    p.add_argument("--python", default="3.12", help="the GPU machine's Python (markers)")
    k = commands.add_parser("keep", help="there: move carried pieces to --keep")
    k.add_argument("pieces", nargs="+")
    k.add_argument("--keep", default=str(DEFAULT_KEEP))
    i = commands.add_parser("install", help="there: check, unpack and install the pieces")
    i.add_argument("--keep", default=str(DEFAULT_KEEP))
    i.add_argument("--wheel-dir", default="/tmp/gpu-carry-wheels")
    i.add_argument("--no-import-check", action="store_true", help="skip the cuDF/cuML probe")
    args = parser.parse_args(argv)
    if args.command == "pack" and args.cache is None:
        args.cache = str(Path(args.wheels) / ".xz")
    return {"pack": pack, "keep": keep, "install": install}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
