"""Finding and checking a channel's files: formats, nesting, order, disagreement."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.channels import Channel
from smcluster.contract.errors import DataError
from smcluster.contract.tables import check_same_columns, discover


def _channel(path: Path, content_type: str | None = None) -> Channel:
    return Channel("train", path, content_type, "File")


def test_nested_mixed_files_in_sorted_order(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    (tmp_path / "2024" / "02").mkdir(parents=True)
    (tmp_path / "2024" / "01").mkdir(parents=True)
    frame.to_parquet(tmp_path / "2024" / "02" / "x.parquet", index=False)
    frame.assign(a=[5.0, 6.0]).to_csv(tmp_path / "2024" / "01" / "y.csv", index=False)
    with gzip.open(tmp_path / "z.csv.gz", "wt") as handle:
        frame.assign(a=[7.0, 8.0]).to_csv(handle, index=False)
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".hidden.csv").write_text("a,b\n9,9\n")
    files = discover(_channel(tmp_path))
    assert [f.path.name for f in files] == ["y.csv", "x.parquet", "z.csv.gz"]
    assert check_same_columns(files) == ["a", "b"]
    table = CpuBackend().concat([CpuBackend().read_file(f) for f in files])
    assert table["a"].tolist() == [5.0, 6.0, 1.0, 2.0, 7.0, 8.0]


def test_content_type_decides_for_files_without_extension(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a,b\n1,2\n")
    assert discover(_channel(tmp_path, "text/csv"))[0].format == "csv"
    with pytest.raises(DataError, match="holds no CSV or Parquet file"):
        discover(_channel(tmp_path))


def test_disagreeing_files_are_named(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(tmp_path / "one.csv", index=False)
    pd.DataFrame({"a": [1], "c": [2]}).to_csv(tmp_path / "two.csv", index=False)
    with pytest.raises(DataError) as info:
        check_same_columns(discover(_channel(tmp_path)))
    reason = info.value.reason()
    assert "two.csv" in reason and "one.csv" in reason
    assert "missing: ['b']" in reason and "extra: ['c']" in reason


def test_reordered_columns_are_aligned(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1.0], "b": [2.0]}).to_csv(tmp_path / "one.csv", index=False)
    pd.DataFrame({"b": [4.0], "a": [3.0]}).to_csv(tmp_path / "two.csv", index=False)
    files = discover(_channel(tmp_path))
    check_same_columns(files)
    table = CpuBackend().concat([CpuBackend().read_file(f) for f in files])
    assert table["a"].tolist() == [1.0, 3.0]


def test_parquet_files_whose_types_do_not_join_are_named(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1.0], "cnt": [3]}).to_parquet(tmp_path / "one.parquet")
    pd.DataFrame({"a": [2.0], "cnt": ["3"]}).to_parquet(tmp_path / "two.parquet")
    with pytest.raises(DataError) as info:
        check_same_columns(discover(_channel(tmp_path)))
    reason = info.value.reason()
    assert "files disagree on column types: 'cnt' is int64 in" in reason
    assert "one.parquet but" in reason and "string in" in reason and "two.parquet" in reason


def test_parquet_types_that_join_are_accepted(tmp_path: Path) -> None:
    # int and float join as numbers, a string and a categorical as text, all-null joins anything
    pd.DataFrame({"n": [1], "t": ["x"], "z": [1.0]}).to_parquet(tmp_path / "one.parquet")
    two = pd.DataFrame({"n": [2.5], "t": pd.Categorical(["y"]), "z": [None]})
    two.to_parquet(tmp_path / "two.parquet")
    assert check_same_columns(discover(_channel(tmp_path))) == ["n", "t", "z"]


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        check_same_columns(discover(_channel(tmp_path)))


def test_a_gzipped_empty_part_file_is_left_out_as_a_0_byte_one_is(tmp_path: Path) -> None:
    (tmp_path / "part-0.csv").write_text("a,b\n1,2\n")
    (tmp_path / "part-1.csv.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "part-2.csv").write_text("")
    assert [f.path.name for f in discover(_channel(tmp_path))] == ["part-0.csv"]
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "part-0.csv.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(DataError, match="empty \\(0 bytes, or 0 once decompressed\\)"):
        discover(_channel(alone))


def test_cr_only_line_ends_are_refused_gzipped_or_not_and_crlf_is_read(tmp_path: Path) -> None:
    for name, data in (
        ("mac.csv", b"a,b\r1,2\r3,4\r"),
        ("mac.csv.gz", gzip.compress(b"a,b\r1,2\r3,4\r")),
    ):
        folder = tmp_path / name.replace(".", "_")
        folder.mkdir()
        (folder / name).write_bytes(data)
        with pytest.raises(DataError, match="carriage return alone") as raised:
            check_same_columns(discover(_channel(folder)))
        assert "CSV UTF-8" in raised.value.fix
    (tmp_path / "windows").mkdir()
    (tmp_path / "windows" / "part.csv").write_bytes(b"a,b\r\n1,2\r\n")
    assert check_same_columns(discover(_channel(tmp_path / "windows"))) == ["a", "b"]


def test_an_empty_part_file_beside_data_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "part-0.csv").write_text("a,b\n1,2\n")
    (tmp_path / "part-1.csv").write_text("")
    assert [f.path.name for f in discover(_channel(tmp_path))] == ["part-0.csv"]


def test_decimals_and_true_false_with_blanks_are_features(tmp_path: Path) -> None:
    """Parquet decimals (money from Spark or Athena) and a CSV True/False column with blank
    cells are numbers to `features=all`; pandas alone reads both as Python objects (text)."""
    import decimal

    import numpy as np

    from smcluster.contract.hyperparameters import parse
    from smcluster.pipeline.prepare.columns import select_feature_columns

    from .jobtree import JobTree

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=300), "flag": rng.random(300) < 0.5})
    money = [decimal.Decimal(f"{v:.2f}") for v in rng.gamma(2.0, 50.0, 300)]
    frame.assign(amount=money).to_parquet(tmp_path / "part-0.parquet", index=False)
    with_blanks = frame.assign(amount=[float(m) for m in money]).astype({"flag": object})
    with_blanks.loc[::7, "flag"] = None  # written as empty cells
    with_blanks.to_csv(tmp_path / "part-1.csv", index=False)
    backend = CpuBackend()
    for table_file in discover(_channel(tmp_path)):
        read = backend.read_file(table_file)
        assert select_feature_columns(backend, read, parse({})) == ["x", "flag", "amount"]
    csv = next(f for f in discover(_channel(tmp_path)) if f.format == "csv")
    assert backend.read_file(csv)["flag"].isna().sum() == 43  # blanks stay missing
    # And a job on the mixed channel clusters on all three.
    tree = JobTree(tmp_path / "opt_ml")
    for table_file in discover(_channel(tmp_path)):
        target = tree.channel() / table_file.path.name
        target.write_bytes(table_file.path.read_bytes())
    tree.write_config({"plots": "false", "reducer": "none"})
    run = tree.run()
    assert run.returncode == 0, run.failure
    assert run.resolved()["features_used"] == ["x", "flag", "amount"]


@pytest.mark.parametrize(
    "raised",
    [
        Exception("Error tokenizing data. C error: out of memory"),  # pandas' C parser
        RuntimeError("can't start new thread"),  # a thread stack under a memory limit
        MemoryError(),
    ],
)
def test_memory_running_out_while_reading_is_exit_3_not_a_bad_file(
    tmp_path: Path, raised: BaseException
) -> None:
    """How readers surfaced memory limits (address-space limits, as a container's memory limit
    shows): each is out of memory, with a Fix, never a complaint about the file."""
    from smcluster.contract.errors import ResourceError
    from smcluster.contract.tables import TableFile, unreadable

    error = unreadable(TableFile(tmp_path / "t.csv", "csv", False), raised)
    assert isinstance(error, ResourceError) and error.exit_code == 3
    assert error.reason().startswith("OutOfMemory: ran out of memory reading") and error.fix


def _zip_of(text: bytes) -> bytes:
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("table.csv", text)
    return archive.getvalue()


TABLE_TEXT = b"a,b\n1,2\n3,4\n"


@pytest.mark.parametrize(
    ("content", "said", "fix"),
    [
        (_zip_of(TABLE_TEXT), "is a ZIP archive (an Excel .xlsx workbook is one)", "unzip it"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "Excel 97-2003 workbook", "CSV UTF-8"),
        (TABLE_TEXT.decode().encode("utf-16"), "is UTF-16 text", "iconv -f utf-16"),
        (gzip.compress(TABLE_TEXT), "gzip-compressed without a .gz name", "name it .csv.gz"),
        (b'[{"a": 1, "b": 2}]', "holds JSON", "convert it to CSV or Parquet"),
        (b"PAR1" + bytes(100), "a Parquet file with a CSV name", "a .parquet name"),
        (b"a,b\n\x00\x01\x02", "holds NUL bytes", "UTF-8 CSV or as Parquet"),
    ],
    ids=["zip", "xls", "utf16", "gzip", "json", "parquet", "nul"],
)
def test_a_file_named_csv_that_holds_something_else_is_named_with_its_own_fix(
    tmp_path: Path, content: bytes, said: str, fix: str
) -> None:
    """Each refusal names what the file holds: a workbook needs exporting, not `iconv`."""
    from smcluster.contract.tables import TableFile, read_columns

    path = tmp_path / "part-0.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as raised:
        read_columns(TableFile(path, "csv", gzipped=False))
    reason = raised.value.reason()
    problem, remedy = reason.split(" Fix: ", 1)
    assert said in problem and fix in remedy, reason
    assert "latin1" not in reason  # not the Fix for a text file in another encoding
