"""Adversarial inputs to `train`: every case runs the real entrypoint as a subprocess on a real
`/opt/ml` tree and checks the exit code, the failure file's first line, that no traceback reached
the log, and what the model directory holds (one complete run, or nothing of ours).

Classes covered: unreadable files (truncated gzip, non-UTF-8, extra fields, corrupt Parquet),
silent-loss traps (no header row, float32 overflow, JSON-decoded text, an empty config), misleading
reasons (other delimiters, header-only files, identical rows, non-table files), hyperparameter
reports that name every problem, symlinks out of the channel, hosts, the disk refusing a write,
and the model directory across reruns. `smcluster predict` and `tune-local` have their own file.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from .jobtree import FAST, JobTree, TrainRun

PCA_ONLY = {"reducer": "pca", "n_components": "2"}


def _customers(rows: int = 300) -> pd.DataFrame:
    from smcluster.synthetic import make_customers

    return make_customers(rows, seed=5)


def _csv_lines() -> list[str]:
    return _customers().to_csv(index=False).splitlines(keepends=True)


def _write(tree: JobTree, name: str, data: str | bytes) -> None:
    path = tree.channel() / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


@dataclass(frozen=True)
class Case:
    arrange: Callable[[JobTree], None]
    code: int
    first_line: str  # the failure file's first line starts with this ("" when code is 0)
    fragments: tuple[str, ...] = ()  # also in the first line (or, for code 0, in the log)


def truncated_gzip(tree: JobTree) -> None:
    data = gzip.compress("".join(_csv_lines()).encode())
    _write(tree, "part-0.csv.gz", data[: len(data) // 2])
    tree.write_config(FAST)


def latin1_data_row(tree: JobTree) -> None:
    lines = _csv_lines()
    lines[4] = "Caf\xe9," + lines[4].split(",", 1)[1]
    _write(tree, "part-0.csv", "".join(lines).encode("latin-1"))
    tree.write_config(FAST)


def latin1_header(tree: JobTree) -> None:
    lines = _csv_lines()
    lines[0] = lines[0].replace("customer_id", "client_n\xb0", 1)
    _write(tree, "part-0.csv", "".join(lines).encode("latin-1"))
    tree.write_config({**FAST, "id_column": "", "label_column": "segment"})


def extra_fields(tree: JobTree) -> None:
    lines = _csv_lines()
    lines[7] = lines[7].rstrip("\n") + ",1,2\n"
    _write(tree, "part-0.csv", "".join(lines))
    tree.write_config(FAST)


def no_header_row(tree: JobTree) -> None:
    _write(tree, "part-0.csv", "".join(_csv_lines()[1:]))
    tree.write_config(PCA_ONLY)


def semicolons(tree: JobTree) -> None:
    _write(tree, "part-0.csv", _customers().to_csv(index=False, sep=";"))
    tree.write_config(FAST)


def cr_line_ends(tree: JobTree) -> None:
    """Excel for Mac's "CSV": lines end with CR alone."""
    _write(tree, "part-0.csv", _customers().to_csv(index=False, lineterminator="\r"))
    tree.write_config(FAST)


def _nested_parquet(tree: JobTree) -> None:
    """List, struct and map columns beside the numbers, as Parquet writers produce them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(_customers(), preserve_index=False)
    rows = table.num_rows
    table = table.append_column("tags", pa.array([["web", "app"]] * rows))
    table = table.append_column("address", pa.array([{"zip": 1010, "city": "x"}] * rows))
    mapped = pa.array([[("a", 1)]] * rows, type=pa.map_(pa.string(), pa.int64()))
    pq.write_table(table.append_column("counts", mapped), tree.channel() / "part-0.parquet")


def nested_parquet_columns(tree: JobTree) -> None:
    _nested_parquet(tree)
    tree.write_config(FAST)


def nested_parquet_feature(tree: JobTree) -> None:
    _nested_parquet(tree)
    tree.write_config({**FAST, "features": "recency_days,monetary,tags"})


def symlink_loop(tree: JobTree) -> None:
    tree.write_table(_customers())
    (tree.channel() / "latest.csv").symlink_to("latest.csv")  # leads to itself
    tree.write_config(FAST)


def tabs(tree: JobTree) -> None:
    _write(tree, "part-0.csv", _customers().to_csv(index=False, sep="\t"))
    tree.write_config(FAST)


def beyond_float32(tree: JobTree) -> None:
    frame = _customers()
    frame.loc[[3, 9], "monetary"] = [1e39, -2e40]
    tree.write_table(frame)
    tree.write_config(FAST)


def identical_rows(tree: JobTree) -> None:
    tree.write_table(pd.DataFrame({"a": [1.5] * 200, "b": [2.0] * 200}))
    tree.write_config(PCA_ONLY)


def header_only_beside_data(tree: JobTree) -> None:
    tree.write_table(_customers())
    _write(tree, "part-1.csv", _csv_lines()[0])
    tree.write_config(FAST)


def only_header_rows(tree: JobTree) -> None:
    _write(tree, "part-0.csv", _csv_lines()[0])
    _write(tree, "part-1.csv", _csv_lines()[0])
    tree.write_config(FAST)


def documents_beside_data(tree: JobTree) -> None:
    tree.write_table(_customers())
    _write(tree, "README.txt", "About this table\nrows are customers, one per line\n")
    _write(tree, "schema.json", '{"columns": 12}')
    _write(tree, "notes.md", "# notes\n")
    _write(tree, ".DS_Store", b"\x00\x00\x00\x01Bud1\x00")
    tree.write_config(FAST)


def documents_only(tree: JobTree) -> None:
    _write(tree, "README.txt", "a,b\n1,2\n")
    tree.write_config(FAST)


def parquet_types_disagree(tree: JobTree) -> None:
    customers = _customers()
    tree.write_table(customers.iloc[:150], file="part-0.parquet")
    # The same column as text in the second part: joined, it was skipped as non-numeric.
    tree.write_table(customers.iloc[150:].astype({"frequency": str}), file="part-1.parquet")
    tree.write_config(FAST)


def csv_named_parquet(tree: JobTree) -> None:
    _write(tree, "part-0.parquet", "".join(_csv_lines()))
    tree.write_config(FAST)


def corrupt_parquet(tree: JobTree) -> None:
    path = tree.channel() / "part-0.parquet"
    _customers().to_parquet(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[:16] + b"\xff" * 64 + data[-200:])
    tree.write_config(FAST)


def symlink_out_of_channel(tree: JobTree) -> None:
    os.symlink("/etc/passwd", tree.channel() / "part-0.csv")
    tree.write_config(FAST)


def linked_folder_out_of_channel(tree: JobTree) -> None:
    tree.write_table(_customers())
    os.symlink("/etc", tree.channel() / "more")
    tree.write_config(FAST)


def unknown_names(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config({**FAST, "min_sample": "5", "epss": "0.3", "colour": "red"})


def unknown_and_invalid(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config({**FAST, "min_sample": "5", "eps": "-0.5"})


def id_column_named_true(tree: JobTree) -> None:
    tree.write_table(_customers().rename(columns={"customer_id": "true"}))
    tree.write_config({**FAST, "id_column": "true"})


def id_column_named_cluster(tree: JobTree) -> None:
    tree.write_table(_customers().rename(columns={"customer_id": "cluster"}))
    tree.write_config({**FAST, "id_column": "cluster"})


def id_column_named_embedding(tree: JobTree) -> None:
    tree.write_table(_customers().rename(columns={"customer_id": "embedding_0"}))
    tree.write_config({**FAST, "id_column": "embedding_0"})


def experiment_named_null(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config({**FAST, "experiment_name": "null"})


def empty_hyperparameters_file(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config(FAST)
    (tree.config_dir / "hyperparameters.json").write_text("")


def hyperparameters_not_json(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config(FAST)
    (tree.config_dir / "hyperparameters.json").write_text("{'eps': 0.5}")


def hyperparameters_a_list(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config(FAST)
    (tree.config_dir / "hyperparameters.json").write_text('["eps", "0.5"]')


def misspelt_columns(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config(
        {**FAST, "id_column": "Customer_ID", "features": "recency_day,frequency,monetery"}
    )


def labels_partly_missing(tree: JobTree) -> None:
    frame = _customers()
    frame.loc[:20, "segment"] = np.nan
    tree.write_table(frame)
    tree.write_config(FAST)


def saved_index_column(tree: JobTree) -> None:
    _write(tree, "part-0.csv", _customers().to_csv())  # index=True: a first column with no name
    tree.write_config(FAST)


def hyperparameters_with_bom(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config({**FAST, "eps": "auto"})
    path = tree.config_dir / "hyperparameters.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def two_hosts_validation_sharded(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_table(_customers().head(100), name="validation")
    sharded = {"ContentType": "text/csv", "S3DistributionType": "ShardedByS3Key"}
    tree.write_config(FAST, {"train": sharded, "validation": sharded})
    resources = {"current_host": "algo-1", "hosts": ["algo-1", "algo-2"]}
    (tree.config_dir / "resourceconfig.json").write_text(json.dumps(resources))


def inputdataconfig_not_json(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config(FAST)
    (tree.config_dir / "inputdataconfig.json").write_text("{train:")


def inputdataconfig_channel_not_an_object(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config(FAST)
    (tree.config_dir / "inputdataconfig.json").write_text('{"train": "text/csv"}')


def hosts_not_names(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config(FAST)
    resources = {"current_host": "algo-1", "hosts": [None, 1, {}]}
    (tree.config_dir / "resourceconfig.json").write_text(json.dumps(resources))


def hyperparameters_file_is_a_folder(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config(FAST)
    path = tree.config_dir / "hyperparameters.json"
    path.unlink()
    path.mkdir()


def deeply_nested_value(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config({**FAST, "eps": "[" * 1000 + "]" * 1000})


def parquet_damaged_inside(tree: JobTree) -> None:
    tree.write_table(_customers(), file="part-0.parquet")
    path = tree.channel() / "part-0.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] + data[-8:])  # magic bytes at both ends, no footer
    tree.write_config(FAST)


def file_name_not_utf8(tree: JobTree) -> None:
    tree.write_config(FAST)
    data = _customers().to_csv(index=False).encode()
    with open(os.fsencode(tree.channel()) + b"/part\xff.csv", "wb") as handle:
        handle.write(data)


CASES = {
    "truncated gzip": Case(truncated_gzip, 2, "DataError:", ("truncated or corrupt gzip",)),
    "channel spec not an object": Case(
        inputdataconfig_channel_not_an_object, 2, "ChannelError:", ("hold no object",)
    ),
    "hosts not names": Case(hosts_not_names, 2, "ChannelError:", ("a list of host names",)),
    "hyperparameters file a folder": Case(
        hyperparameters_file_is_a_folder, 2, "HyperparameterError:", ("is a folder",)
    ),
    "deeply nested value": Case(deeply_nested_value, 2, "HyperparameterError:", ("eps",)),
    "parquet damaged inside": Case(
        parquet_damaged_inside, 2, "DataError:", ("is not a readable Parquet file",)
    ),
    "file name not UTF-8": Case(file_name_not_utf8, 0, ""),
    "latin-1 data row": Case(latin1_data_row, 2, "DataError:", ("line 5 is not UTF-8",)),
    "latin-1 header": Case(latin1_header, 2, "DataError:", ("line 1 is not UTF-8",)),
    "extra fields": Case(
        extra_fields, 2, "DataError:", ("line 8 has 14 fields where the header has 12",)
    ),
    "no header row": Case(no_header_row, 2, "DataError:", ("has no header row",)),
    "semicolons": Case(semicolons, 2, "DataError:", ("semicolon-separated",)),
    "tabs": Case(tabs, 2, "DataError:", ("tab-separated",)),
    "nested Parquet columns": Case(
        nested_parquet_columns, 0, "", ("skipping column 'tags'", "skipping column 'counts'")
    ),
    "nested Parquet feature": Case(
        nested_parquet_feature, 2, "DataError:", ("'tags' holds lists, structs or maps",)
    ),
    "symbolic link loop": Case(
        symlink_loop, 2, "DataError:", ("lead round in a loop: latest.csv", "remove those links")
    ),
    "cr_line_ends": Case(cr_line_ends, 2, "DataError:", ("carriage return alone", "CSV UTF-8")),
    "beyond float32": Case(beyond_float32, 2, "DataError:", ("monetary (2 values)",)),
    "identical rows": Case(identical_rows, 2, "DataError:", ("identical in every feature (a, b)",)),
    "header-only file beside data": Case(
        header_only_beside_data, 0, "", ("1 file(s) hold a header and no rows",)
    ),
    "only header rows": Case(only_header_rows, 2, "DataError:", ("has a header but no rows",)),
    "documents beside data": Case(
        documents_beside_data, 0, "", ("skipped 3 file(s) that are not tables",)
    ),
    "documents only": Case(documents_only, 2, "DataError:", ("(ignored: README.txt)",)),
    "csv named parquet": Case(csv_named_parquet, 2, "DataError:", ("is not a Parquet file",)),
    "corrupt parquet": Case(corrupt_parquet, 2, "DataError:", ("Parquet",)),
    "parquet parts disagree on a type": Case(
        parquet_types_disagree,
        2,
        "DataError: files disagree on column types: 'frequency' is",
        ("part-0.parquet but", "string in", "part-1.parquet"),
    ),
    "symlink out of channel": Case(
        symlink_out_of_channel, 2, "DataError:", ("symbolic links that lead outside it: part-0",)
    ),
    "linked folder out of channel": Case(
        linked_folder_out_of_channel, 2, "DataError:", ("lead outside it: more",)
    ),
    "three unknown names": Case(
        unknown_names,
        2,
        "HyperparameterError: 3 problems:",
        ("'min_sample'. Did you mean 'min_samples'?", "'epss'", "'colour'"),
    ),
    "unknown and invalid": Case(
        unknown_and_invalid, 2, "HyperparameterError: 2 problems:", ("'eps' = '-0.5'",)
    ),
    "id column named true": Case(id_column_named_true, 0, ""),
    # labels.parquet would hold one `cluster` column: the labels, the ids lost.
    "id column named cluster": Case(
        id_column_named_cluster, 2, "HyperparameterError:", ("id_column 'cluster' has the name",)
    ),
    "id column named embedding_0": Case(
        id_column_named_embedding, 2, "HyperparameterError:", ("id_column 'embedding_0'",)
    ),
    "saved index column": Case(
        saved_index_column, 0, "", ("leaving out column(s) without a name in the header",)
    ),
    "hyperparameters with a BOM": Case(hyperparameters_with_bom, 0, ""),
    "labels partly missing": Case(
        labels_partly_missing, 0, "", ("21 of 300 rows have no value in label_column",)
    ),
    "misspelt columns": Case(
        misspelt_columns,
        2,
        "DataError: 2 problems:",
        (
            "id_column 'Customer_ID' is not a column of the table (did you mean 'customer_id'?)",
            "'recency_day' (did you mean 'recency_days'?)",
            "'monetery' (did you mean 'monetary'?)",
        ),
    ),
    "experiment named null": Case(experiment_named_null, 0, ""),
    "empty hyperparameters file": Case(
        empty_hyperparameters_file, 2, "HyperparameterError:", ("is empty",)
    ),
    "hyperparameters not json": Case(
        hyperparameters_not_json, 2, "HyperparameterError:", ("is not valid JSON",)
    ),
    "hyperparameters a list": Case(
        hyperparameters_a_list, 2, "HyperparameterError:", ("not a JSON object",)
    ),
    "two hosts, validation sharded": Case(
        two_hosts_validation_sharded, 2, "ChannelError:", ("validation are ShardedByS3Key",)
    ),
    "inputdataconfig not json": Case(
        inputdataconfig_not_json, 2, "ChannelError:", ("is not valid JSON",)
    ),
}


def assert_clean_exit(run: TrainRun, tree: JobTree) -> None:
    assert "Traceback" not in run.log, run.log[-3000:]
    assert not (tree.model_dir / ".incomplete").exists()
    if run.returncode == 0:
        assert run.failure is None
        assert tree.looks_complete()
    else:
        assert run.failure is not None, run.log[-2000:]
        assert not tree.looks_complete()
        left = sorted(p.name for p in tree.model_dir.iterdir()) if tree.model_dir.exists() else []
        assert left == [], left


@pytest.mark.parametrize("name", list(CASES))
def test_adversarial_input(job_tree: JobTree, name: str) -> None:
    case = CASES[name]
    case.arrange(job_tree)
    run = job_tree.run(timeout=300)
    assert run.returncode == case.code, (run.failure, run.log[-2000:])
    assert_clean_exit(run, job_tree)
    if case.code == 0:
        for fragment in case.fragments:
            assert fragment in run.log, run.log[-3000:]
        return
    first = job_tree.failure_first_line()
    assert first.startswith(case.first_line), first
    for fragment in case.fragments:
        assert fragment in first, first
    assert "Fix:" in first
    assert first in run.log  # the reason is in the log too (CloudWatch)


def test_the_failure_file_never_quotes_a_linked_file(job_tree: JobTree) -> None:
    symlink_out_of_channel(job_tree)
    run = job_tree.run()
    assert run.returncode == 2
    assert "root:" not in (run.failure or "") and "root:" not in run.log


def test_text_hyperparameters_keep_their_words(job_tree: JobTree) -> None:
    id_column_named_true(job_tree)
    job_tree.set_hyperparameters({**job_tree.hyperparameters(), "experiment_name": "null"})
    run = job_tree.run()
    assert run.returncode == 0, run.failure
    resolved = run.resolved()["hyperparameters"]
    assert (resolved["id_column"], resolved["experiment_name"]) == ("true", "null")


def test_a_rerun_leaves_exactly_one_run_in_the_model_directory(job_tree: JobTree) -> None:
    frame = _customers()
    job_tree.write_table(frame)
    job_tree.write_table(frame.head(100), name="validation")
    job_tree.write_config(FAST, {"train": {"ContentType": "text/csv"}, "validation": {}})
    assert job_tree.run().returncode == 0
    assert (job_tree.model_dir / "validation_labels.parquet").exists()
    (job_tree.model_dir / "mine.txt").write_text("a user's own file is never deleted")
    job_tree.write_config(FAST)  # the second run has no validation channel
    run = job_tree.run()
    assert run.returncode == 0, run.failure
    manifest = json.loads((job_tree.model_dir / "manifest.json").read_text())
    listed = {name.split("/")[0] for name in manifest["files"]}
    on_disk = {p.name for p in job_tree.model_dir.iterdir()} - {"manifest.json", "mine.txt"}
    assert on_disk == listed and "validation_labels.parquet" not in on_disk
    assert "mine.txt" in run.log  # named in a warning, left in place


def test_a_failed_rerun_leaves_nothing_of_the_earlier_run(job_tree: JobTree) -> None:
    job_tree.write_table(_customers())
    job_tree.write_config(FAST)
    assert job_tree.run().returncode == 0
    job_tree.set_hyperparameters({**job_tree.hyperparameters(), "eps": "-1"})
    run = job_tree.run()
    assert run.returncode == 2
    assert_clean_exit(run, job_tree)


def _limit_file_size() -> None:
    # Python ignores SIGXFSZ, so writing past the limit raises OSError(EFBIG) instead.
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_a_refused_write_is_a_platform_error_not_a_bug(job_tree: JobTree) -> None:
    job_tree.write_table(_customers(2000))
    job_tree.write_config(FAST)
    run = job_tree.run(preexec_fn=_limit_file_size)
    assert run.returncode == 4, (run.failure, run.log[-2000:])
    first = job_tree.failure_first_line()
    assert first.startswith("PlatformError: the system refused "), first
    assert "File too large" in first and "Fix:" in first
    assert_clean_exit(run, job_tree)


def test_ctrl_c_stops_like_sigterm(job_tree: JobTree) -> None:
    import signal
    import time

    job_tree.write_table(_customers(3000))
    job_tree.write_config({"id_column": "customer_id", "label_column": "segment"})
    process = job_tree.start()
    assert process.stdout is not None
    for line in process.stdout:  # wait until the job is under way
        if "features (" in line:
            break
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    rest = process.stdout.read()
    assert process.wait(timeout=60) == 130
    assert "Traceback" not in rest
    first = job_tree.failure_first_line()
    assert first.startswith("Stopped: the job received SIGINT"), first
    assert not (job_tree.model_dir / ".incomplete").exists()
    assert not job_tree.looks_complete()


def test_a_job_killed_outright_leaves_a_true_reason(job_tree: JobTree) -> None:
    import signal

    job_tree.write_table(_customers(3000))
    job_tree.write_config({"id_column": "customer_id", "label_column": "segment"})
    process = job_tree.start()
    assert process.stdout is not None
    for line in process.stdout:
        if "features (" in line:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert job_tree.failure_first_line().startswith("Killed: the job ended without")


def test_values_well_inside_float32_are_kept() -> None:
    # The float32 check must not trip on large but representable values.
    from smcluster.backends.cpu import CpuBackend
    from smcluster.pipeline.prepare.features import feature_matrix

    frame = pd.DataFrame({"a": [3.0e38, -3.0e38, np.inf, np.nan], "b": [1.0, 2.0, 3.0, 4.0]})
    matrix = feature_matrix(CpuBackend(), frame, ["a", "b"])
    assert np.isfinite(matrix[:2]).all() and np.isinf(matrix[2, 0]) and np.isnan(matrix[3, 0])


def test_memory_exhaustion_is_recognised_however_a_library_says_it() -> None:
    from smcluster.contract.failure import is_out_of_memory

    # What llvmlite raised under a 900 MiB address-space limit (measured): the memory reason is
    # only in the error it was raised from.
    try:
        try:
            raise OSError("libllvmlite.so: failed to map segment from shared object")
        except OSError as inner:
            raise OSError(
                "Could not find/load shared object file 'libllvmlite.so' from resource location"
            ) from inner
    except OSError as outer:
        assert is_out_of_memory(outer)
    assert is_out_of_memory(RuntimeError("std::bad_alloc"))
    assert is_out_of_memory(MemoryError())
    assert not is_out_of_memory(OSError("No such file or directory"))


def test_an_output_folder_that_cannot_be_written_stops_the_job_before_any_work(
    job_tree: JobTree,
) -> None:
    """`output` is a file where the folder should be (as root, a read-only folder is still
    writable; a file in its place is refused the same way): exit 4 at once, the reason in the
    log, no training."""
    job_tree.write_table(_customers())
    job_tree.write_config(FAST)
    (job_tree.base / "output").write_text("not a folder")
    run = job_tree.run(timeout=120)
    assert run.returncode == 4, run.log[-2000:]
    assert "PlatformError: cannot write the failure file" in run.log
    assert "so the job stops before any work" in run.log and "Fix: make" in run.log
    assert "stage reduce" not in run.log and "Traceback" not in run.log
    assert not (job_tree.model_dir / "manifest.json").exists()
