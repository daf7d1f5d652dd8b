"""`output.atomic`: an output file is written whole or not at all, through a symlink, straight
into a FIFO, and its path is checked before any work (the commands' tests run the real CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smcluster.contract.errors import ArgumentError, PlatformError
from smcluster.output import atomic
from smcluster.output.atomic import check_output, write_whole


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, error: type[BaseException]
) -> None:
    target = tmp_path / "page.html"
    target.write_text("the old page")

    def fail(path: Path) -> None:
        path.write_text("half a page")
        raise error

    with pytest.raises(error):
        write_whole(target, fail, "--out")
    assert target.read_text() == "the old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


def test_an_os_error_names_the_option_and_path_not_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "page.html"

    def full(path: Path) -> None:
        path.write_text("half")
        raise OSError(28, "No space left on device", str(path))

    with pytest.raises(PlatformError, match=f"cannot write --out {target}: No space left") as info:
        write_whole(target, full, "--out")
    assert ".tmp" not in info.value.problem
    assert list(tmp_path.iterdir()) == []


def test_a_dangling_symlink_creates_the_file_it_names(tmp_path: Path) -> None:
    link = tmp_path / "latest.csv"
    link.symlink_to(tmp_path / "real.csv")
    write_whole(link, lambda path: path.write_text("rows\n"), "--output")
    assert link.is_symlink() and (tmp_path / "real.csv").read_text() == "rows\n"


def test_check_output_refuses_a_folder_and_an_unwritable_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ArgumentError, match=r"--out .* is a folder"):
        check_output(tmp_path, "--out")
    with pytest.raises(PlatformError, match=r"its folder .*no.* does not exist"):
        check_output(tmp_path / "no" / "page.html", "--output")
    check_output(tmp_path / "new" / "page.html", "--out", make_parents=True)
    assert (tmp_path / "new").is_dir()
    monkeypatch.setattr(atomic.os, "access", lambda *_: False)  # root may write anywhere
    with pytest.raises(PlatformError, match=f"its folder {tmp_path} is not writable"):
        check_output(tmp_path / "page.html", "--out")
