"""Write a file whole or not at all: a hidden temporary file beside it, then a rename.

A reader never sees half a file, and a failed write leaves the earlier file (or none) and no
temporary file behind. Two kinds of target are not renamed over: a symbolic link is written
through (the temporary file goes beside the file it names, which the rename then replaces, as
`>` in a shell would write it), and a FIFO, a device or a `/dev/...` or `/proc/...` path is
written directly (a rename would put a plain file where a reader waits on the pipe).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..contract.errors import ArgumentError, PlatformError

# Paths the kernel answers itself (/dev/stdout, /dev/fd/3, /proc/self/fd/1): never renamed over.
SPECIAL_ROOTS = ("/dev/", "/proc/")


def _written_directly(target: Path) -> bool:
    if str(target.absolute()).startswith(SPECIAL_ROOTS):
        return True
    try:
        mode = target.stat().st_mode  # follows links: what a write would reach
    except OSError:
        return False  # a new file (or a dangling link): written atomically
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def check_output(target: Path, option: str, make_parents: bool = False) -> None:
    """Refuse, before any work, an output path that cannot be written: a folder, or a missing or
    read-only parent folder (created first when `make_parents`)."""
    if _written_directly(target):
        return
    if target.is_dir():
        raise ArgumentError(
            f"{option} {target} is a folder.", f"give {option} a file name, e.g. {target}/NAME."
        )
    parent = Path(os.path.realpath(target)).parent
    if make_parents and not parent.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_write(target, option, exc) from None
    if not parent.is_dir():
        raise PlatformError(
            f"cannot write {option} {target}: its folder {parent} does not exist.",
            "choose a writable path in an existing folder.",
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PlatformError(
            f"cannot write {option} {target}: its folder {parent} is not writable.",
            "choose a folder this user may write, or make it writable.",
        )


def _cannot_write(target: Path, option: str, exc: OSError) -> PlatformError:
    return PlatformError(
        f"cannot write {option} {target}: {exc.strerror or exc}.",
        "choose a writable path in an existing folder with free space.",
    )


def write_whole(target: Path, write: Callable[[Path], object], option: str) -> None:
    """Call `write(path)` to fill `target` atomically (or directly, see the module's note); an
    OSError is a PlatformError naming `option` and `target`, never the temporary file."""
    if _written_directly(target):
        try:
            write(target)
        except OSError as exc:
            raise _cannot_write(target, option, exc) from None
        return
    final = Path(os.path.realpath(target)) if target.is_symlink() else target
    temporary = final.with_name(f".{final.name}.tmp")
    try:
        write(temporary)
        os.replace(temporary, final)
    except BaseException as exc:  # Ctrl-C or a writer's own error: no temporary file left
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(exc, OSError):
            raise _cannot_write(target, option, exc) from None
        raise
