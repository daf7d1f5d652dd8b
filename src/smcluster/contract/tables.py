"""A channel's table files: which files, in which format, whether they agree, their fingerprint,
and what a failure to read one of them means to the user.

Reading their rows is a backend's job (pandas or cuDF); this module finds and checks the files,
and turns a reader's exception into a reason that names the file and line (`unreadable`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import logging
import math
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .channels import Channel
from .errors import DataError, PlatformError, ResourceError, SmclusterError
from .failure import is_out_of_memory

log = logging.getLogger(__name__)

CSV_TYPES = {"text/csv", "text/csv;header=present", "application/csv"}
PARQUET_TYPES = {"application/x-parquet", "application/parquet", "application/vnd.apache.parquet"}
TABLE_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
GZIP_EXTENSIONS = {".gz", ".gzip"}
PARQUET_MAGIC = b"PAR1"
SNIFF_BYTES = 4096
LINE_END_PROBE = 1 << 16  # bytes read to tell CR-only line ends (no LF among them)
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class TableFile:
    path: Path
    format: str  # "csv" or "parquet"
    gzipped: bool

    def open_binary(self) -> BinaryIO:
        """The file's bytes, decompressed when it is gzipped."""
        if self.gzipped:
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return open(self.path, "rb")


def format_of(path: Path, content_type: str | None) -> tuple[str | None, bool]:
    """The format a file's name declares; without a table extension, the channel's ContentType
    decides only for names without any extension (Hadoop's `part-00000`): `README.txt`,
    `meta.json` or `notes.md` are never read as tables."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] in GZIP_EXTENSIONS
    core = suffixes[-2] if gzipped and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    if gzipped and len(suffixes) == 1:
        core = ""
    if core in TABLE_EXTENSIONS:
        return TABLE_EXTENSIONS[core], gzipped
    if core and not re.fullmatch(r"\.c?\d+", core):  # Spark's `.c000` part numbers
        return None, gzipped
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in {t.split(";")[0] for t in CSV_TYPES}:
        return "csv", gzipped
    if kind in PARQUET_TYPES:
        return "parquet", gzipped
    return None, gzipped


def _is_hidden(path: Path, root: Path) -> bool:
    # Spark and Hadoop leave _SUCCESS and .crc files beside the data; editors leave dotfiles.
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _walk(root: Path) -> tuple[list[Path], list[str], list[str]]:
    """Files under `root` in sorted order, the symlinks that lead out of it, and those that
    lead nowhere (a loop).

    Links are not followed blindly: one that resolves inside the channel is read as its target
    (once), one that leads outside is refused, so that a channel cannot pull in `/etc/passwd`.
    """
    real_root = root.resolve()
    found: dict[Path, Path] = {}
    outside: list[str] = []
    loops: list[str] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in list(dirs):
            link = here / name
            if link.is_symlink():
                dirs.remove(name)  # a linked folder inside the channel is walked as itself
                real = _resolved(link)
                if real is None:
                    loops.append(str(link.relative_to(root)))
                elif not _inside(real, real_root):
                    outside.append(str(link.relative_to(root)))
        for name in names:
            path = here / name
            real = _resolved(path)
            if real is None:
                if not _is_hidden(path, root):
                    loops.append(str(path.relative_to(root)))
                continue
            if path.is_symlink() and not _inside(real, real_root):
                if not _is_hidden(path, root):
                    outside.append(str(path.relative_to(root)))
                continue
            found.setdefault(real, path)
    return sorted(found.values()), sorted(outside), sorted(loops)


def _resolved(path: Path) -> Path | None:
    """The path a link leads to; None for a loop (Python raises RuntimeError or OSError)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def _holds_nothing(table_file: TableFile) -> bool:
    """0 bytes, or a gzip stream of 0 bytes (what compressing an empty part file gives): left
    out alike. A damaged gzip file is not empty: reading it says what is wrong."""
    if table_file.path.stat().st_size == 0:
        return True
    if not table_file.gzipped:
        return False
    try:
        with table_file.open_binary() as handle:
            return handle.read(1) == b""
    except (OSError, EOFError, zlib.error):
        return False


def discover(channel: Channel) -> list[TableFile]:
    """Table files under the channel folder (nested too), in a stable, sorted order."""
    paths, outside, loops = _walk(channel.path)
    problems = []
    if outside:
        problems.append(
            DataError(
                f"channel '{channel.name}' holds symbolic links that lead outside it: "
                f"{', '.join(outside[:5])}.",
                "copy the files into the channel folder instead of linking to them.",
            )
        )
    if loops:
        problems.append(
            DataError(
                f"channel '{channel.name}' holds symbolic links that lead round in a loop: "
                f"{', '.join(loops[:5])}{' ...' if len(loops) > 5 else ''}.",
                "remove those links (or point them at the files they stand for).",
            )
        )
    if problems:
        raise DataError.combine(problems)
    files: list[TableFile] = []
    skipped: list[str] = []
    empty: list[Path] = []
    for path in paths:
        if not path.is_file() or _is_hidden(path, channel.path):
            continue
        fmt, gzipped = format_of(path, channel.content_type)
        if fmt is None:
            skipped.append(str(path.relative_to(channel.path)))
            continue
        table_file = TableFile(path, fmt, gzipped)
        if _holds_nothing(table_file):  # Spark writes empty part files for empty partitions
            empty.append(path)
            continue
        files.append(table_file)
    if empty and not files:
        raise DataError(
            f"{', '.join(str(p) for p in empty[:5])} {'is' if len(empty) == 1 else 'are'} "
            "empty (0 bytes, or 0 once decompressed).",
            "upload the table with a header row and rows.",
        )
    if empty:
        log.warning(
            "channel %s: left out %d empty file(s) (0 bytes, or 0 once decompressed): %s",
            channel.name,
            len(empty),
            ", ".join(str(p.relative_to(channel.path)) for p in empty[:10]),
        )
    if skipped:
        log.warning(
            "channel %s: skipped %d file(s) that are not tables: %s",
            channel.name,
            len(skipped),
            ", ".join(skipped[:10]) + (" ..." if len(skipped) > 10 else ""),
        )
    if not files:
        extra = f" (ignored: {', '.join(skipped[:5])})" if skipped else ""
        raise DataError(
            f"channel '{channel.name}' at {channel.path} holds no CSV or Parquet file{extra}.",
            "upload .csv, .csv.gz or .parquet files, or set the channel's ContentType to "
            "text/csv or application/x-parquet for files without an extension.",
        )
    return files


def _looks_like_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _cr_line_ends(table_file: TableFile) -> DataError:
    # pandas would read them, cuDF's reader (the GPU path) splits lines at LF only: one refusal
    # keeps a job's outcome the same on either backend.
    return DataError(
        f"{table_file.path} ends its lines with a carriage return alone (CR, as Excel for "
        'Mac\'s "CSV" and classic Mac OS write them); smcluster reads CSV whose lines end '
        "with LF or CRLF.",
        'save the table as "CSV UTF-8 (Comma delimited)" (Excel) or convert its line ends, '
        "for example `tr '\\r' '\\n' < in.csv > out.csv`.",
    )


# What a file named as CSV holds instead, told by its first bytes, and the Fix for that cause.
EXPORT_CSV = (
    'export the sheet as "CSV UTF-8 (Comma delimited)" (Excel) or save the table as Parquet'
)
FILE_SIGNATURES: list[tuple[bytes, str, str]] = [
    (
        PARQUET_MAGIC,
        "a Parquet file with a CSV name",
        "give it a .parquet name.",
    ),
    (
        b"PK\x03\x04",
        "a ZIP archive (an Excel .xlsx workbook is one)",
        f"unzip it, or {EXPORT_CSV}.",
    ),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls)", f"{EXPORT_CSV}."),
    (
        b"\xff\xfe",
        'UTF-16 text (Excel\'s "Unicode Text" writes it)',
        "save it as UTF-8, for example `iconv -f utf-16 -t utf-8 in.csv > out.csv`.",
    ),
    (
        b"\xfe\xff",
        "UTF-16 text",
        "save it as UTF-8, for example `iconv -f utf-16 -t utf-8 in.csv > out.csv`.",
    ),
    (b"\x1f\x8b", "gzip-compressed without a .gz name", "name it .csv.gz."),
    (b"BZh", "bzip2-compressed", "decompress it, or compress it with gzip as .csv.gz."),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it, or compress it with gzip as .csv.gz."),
    (b"(\xb5/\xfd", "zstd-compressed", "decompress it, or compress it with gzip as .csv.gz."),
]


def _not_csv_text(table_file: TableFile, start: bytes) -> DataError | None:
    """A refusal naming what the file holds when its first bytes say it is not CSV text, so
    that the Fix matches the cause (a workbook needs exporting, not re-encoding)."""
    for signature, what, fix in FILE_SIGNATURES:
        if start.startswith(signature):
            return DataError(f"{table_file.path} is {what}, not CSV text.", fix)
    if start.lstrip()[:2] in (b"[{", b'{"'):
        return DataError(
            f"{table_file.path} holds JSON, not CSV text.",
            "convert it to CSV or Parquet (for example `pandas.read_json(path, lines=...)` "
            "then `.to_csv(index=False)`).",
        )
    if b"\x00" in start:
        return DataError(
            f"{table_file.path} holds NUL bytes: binary data, or UTF-16 text without a "
            "byte-order mark, not CSV text.",
            "upload the table as UTF-8 CSV or as Parquet (`iconv -f utf-16le -t utf-8` "
            "converts UTF-16 text).",
        )
    return None


def _header_fields(table_file: TableFile, line: bytes) -> list[str]:
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(table_file, 1, exc) from None
    fields = [name.strip() for name in next(csv.reader([text.rstrip("\r\n")]), [])]
    if len(fields) == 1:
        for delimiter, name in OTHER_DELIMITERS.items():
            if delimiter in fields[0]:
                raise DataError(
                    f"{table_file.path} looks {name}-separated (its header is one column, "
                    f"{fields[0][:80]!r}); smcluster reads comma-separated CSV.",
                    "save the table as comma-separated CSV (or as Parquet).",
                )
    numbers = [f for f in fields if _looks_like_number(f)]
    if fields and len(numbers) * 2 >= len(fields):
        raise DataError(
            f"{table_file.path} has no header row: {len(numbers)} of the {len(fields)} fields "
            f"of its first line are numbers ({', '.join(numbers[:5])}"
            f"{', ...' if len(numbers) > 5 else ''}), and reading them as column names would "
            "lose that row.",
            "add a header row of column names as the first line of every CSV file (SageMaker's "
            "built-in algorithms take headerless CSV; smcluster needs the names). If these are "
            "the names, start them with a letter (`y2024` rather than `2024`).",
        )
    return fields


def _read_header(table_file: TableFile) -> tuple[list[str], dict[str, Any]]:
    """The column names of one file, read cheaply (header line or Parquet footer), and the
    Arrow type of each column for Parquet (a CSV header declares none)."""
    try:
        if table_file.format == "parquet":
            import pyarrow.parquet as pq

            with table_file.open_binary() as handle:
                if handle.read(len(PARQUET_MAGIC)) != PARQUET_MAGIC:
                    raise DataError(
                        f"{table_file.path} is not a Parquet file (it does not start with "
                        "Parquet's magic bytes).",
                        "upload Parquet files with a .parquet extension and CSV files with .csv.",
                    )
                handle.seek(0)
                schema = pq.read_schema(handle)
                return list(schema.names), dict(zip(schema.names, schema.types, strict=True))
        with table_file.open_binary() as handle:
            start = handle.read(LINE_END_PROBE)
            not_csv = _not_csv_text(table_file, start)
            if not_csv is not None:
                raise not_csv
            if b"\r" in start and b"\n" not in start:
                raise _cr_line_ends(table_file)
            handle.seek(0)
            first_line = handle.readline()
    except SmclusterError:
        raise
    except Exception as exc:
        raise unreadable(table_file, exc) from None
    if not first_line.strip():
        raise DataError(
            f"{table_file.path} is empty.", "remove it or upload the table with a header row."
        )
    return _header_fields(table_file, first_line), {}


def read_columns(table_file: TableFile) -> list[str]:
    """The column names of one file, read cheaply (header line or Parquet footer)."""
    return _read_header(table_file)[0]


def _type_family(arrow_type: Any) -> str | None:
    """What a Parquet column's type becomes when pandas or cuDF joins the files: integers and
    floats join as numbers, strings and dictionary-encoded strings as text, an all-null column
    joins anything (None). Other types only join their own kind: any other pair of different
    families turns the column into mixed objects that features=all then skips as non-numeric."""
    import pyarrow.types as pat

    if pat.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pat.is_null(arrow_type):
        return None
    if pat.is_integer(arrow_type) or pat.is_floating(arrow_type):
        return "number"
    if pat.is_string(arrow_type) or pat.is_large_string(arrow_type):
        return "text"
    return str(arrow_type)


def _type_clashes(files: list[TableFile], types: list[dict[str, Any]]) -> DataError | None:
    """Parquet files whose declared types for one column do not join (int64 in one file,
    string in another): named with the files and types instead of losing the column."""
    first: dict[str, tuple[str, Any, Path]] = {}
    clashes: dict[str, str] = {}
    for table_file, declared in zip(files, types, strict=True):
        for name, arrow_type in declared.items():
            family = _type_family(arrow_type)
            if family is None or name in clashes:
                continue
            seen_family, seen_type, seen_path = first.setdefault(
                name, (family, arrow_type, table_file.path)
            )
            if seen_family != family:
                clashes[name] = (
                    f"'{name}' is {seen_type} in {seen_path} but {arrow_type} in {table_file.path}"
                )
    if not clashes:
        return None
    shown = list(clashes.values())
    return DataError(
        f"files disagree on column types: {'; '.join(shown[:5])}"
        + (f" (and {len(shown) - 5} more columns)" if len(shown) > 5 else "")
        + ".",
        "write every file with the same type for each column (cast the column before writing, "
        "e.g. `df[name] = df[name].astype('float64')`), or split the files into separate jobs.",
    )


def read_as_text(id_column: str, columns: list[str]) -> list[str]:
    """The columns a CSV reader keeps as text, exactly as written: the id column, when the table
    has one (an absent id column is the feature selection's error, with its closest name)."""
    return [id_column] if id_column and id_column in columns else []


def check_same_columns(files: list[TableFile]) -> list[str]:
    """All files must share one set of columns, and Parquet files types that join; name the
    columns that differ."""
    headers = [_read_header(table_file) for table_file in files]
    reference = headers[0][0]
    for table_file, (columns, _) in zip(files[1:], headers[1:], strict=True):
        if set(columns) != set(reference):
            missing = sorted(set(reference) - set(columns))
            extra = sorted(set(columns) - set(reference))
            raise DataError(
                f"files disagree on columns: {table_file.path} differs from {files[0].path} "
                f"(missing: {missing or 'none'}; extra: {extra or 'none'}).",
                "give every file in a channel the same header, or split them into separate jobs.",
            )
    duplicates = sorted({c for c in reference if reference.count(c) > 1})
    if duplicates:
        raise DataError(
            f"{files[0].path} repeats column names: {', '.join(duplicates)}.",
            "give every column a unique name.",
        )
    clash = _type_clashes(files, [types for _, types in headers])
    if clash is not None:
        raise clash
    return reference


def _not_utf8(table_file: TableFile, line: int, exc: UnicodeDecodeError) -> DataError:
    byte = exc.object[exc.start : exc.start + 1].hex()
    return DataError(
        f"{table_file.path} line {line} is not UTF-8 text (byte 0x{byte} at column "
        f"{exc.start + 1}).",
        "save the file as UTF-8 (for example `iconv -f latin1 -t utf-8 in.csv > out.csv`).",
    )


def _first_bad_line(table_file: TableFile) -> DataError | None:
    """Where a file stops being UTF-8: read line by line, only once reading it failed."""
    with table_file.open_binary() as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return _not_utf8(table_file, number, exc)
    return None


FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def unreadable(table_file: TableFile, exc: BaseException) -> SmclusterError:
    """The user's reason for a reader's exception on this file (pandas, pyarrow, cuDF, gzip)."""
    where = str(table_file.path)
    # However the reader says it ("Error tokenizing data. C error: out of memory", a failed
    # thread start), memory running out is not a fault of the file.
    if is_out_of_memory(exc):
        return ResourceError(
            f"ran out of memory reading {where}.",
            "use an instance with more memory, or split the table across fewer rows per job.",
        )
    if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)):
        return DataError(
            f"{where} is a truncated or corrupt gzip file ({exc}).",
            "upload it again; `gzip -t FILE` checks a file before upload.",
        )
    if isinstance(exc, UnicodeDecodeError):
        try:
            located = _first_bad_line(table_file)
        except Exception:
            located = None
        return located or _not_utf8(table_file, 0, exc)
    if isinstance(exc, PermissionError):
        return PlatformError(
            f"no permission to read {where} ({exc.strerror}).",
            "make the channel's files readable by the job's user.",
        )
    # The system's refusals carry an errno; pyarrow raises OSError without one for a damaged
    # file ("Couldn't deserialize thrift"), which is the file's fault, not the volume's.
    if isinstance(exc, OSError) and exc.errno is not None:
        return PlatformError(
            f"the system could not read {where}: {exc.strerror or exc}.",
            "check the volume the channel is on (FastFile mode: the S3 object still exists), "
            "and rerun the job.",
        )
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    counted = FIELD_COUNT.search(message)
    if counted:
        expected, line, saw = counted.groups()
        return DataError(
            f"{where} line {line} has {saw} fields where the header has {expected}.",
            "quote values that contain commas, or remove the extra fields from that line.",
        )
    if table_file.format == "parquet":
        return DataError(
            f"{where} is not a readable Parquet file: {message}.",
            "write it again with pandas, pyarrow or Spark, and upload it whole.",
        )
    return DataError(
        f"{where} is not a readable CSV file: {message}.",
        "check that it is comma-separated UTF-8 text with one header row.",
    )


def fingerprint(files: list[TableFile], root: Path) -> str:
    """One SHA-256 over every file's path relative to `root` and its bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(table_file.path for table_file in files):
        # fsencode: a name that is not UTF-8 comes back as the bytes it was read from.
        digest.update(os.fsencode(path.relative_to(root).as_posix()) + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
