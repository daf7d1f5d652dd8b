"""`train` runs the job in a child process and answers for it when native code ends it without a
reason: memory (SIGKILL from the kernel's out-of-memory killer, OpenBLAS' or LLVM's last line),
a crash, a stop passed on before the child could answer it. Each test asserts the exit code,
the failure file and the model directory."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smcluster.contract.failure import KILLED_REASON, reserve_failure
from smcluster.contract.paths import JobPaths
from smcluster.supervisor import Supervisor

from .jobtree import JobTree

# Time windows and memory limits: `make test` runs this module alone, after the parallel part.
pytestmark = pytest.mark.serial


def _blobs(rows: int, columns: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=6, size=(4, columns))
    values = centers[rng.integers(0, 4, rows)] + rng.normal(size=(rows, columns))
    frame = pd.DataFrame(values, columns=[f"f{i}" for i in range(columns)])
    frame.insert(0, "customer_id", np.arange(rows))
    return frame


def _job_process(train_pid: int) -> int:
    children = Path(f"/proc/{train_pid}/task/{train_pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _start_and_wait(job_tree: JobTree) -> subprocess.Popen[str]:
    job_tree.write_table(_blobs(3000, 6))
    job_tree.write_config({"id_column": "customer_id"})
    process = job_tree.start()
    assert process.stdout is not None
    for line in process.stdout:  # wait until the job is under way
        if "features (" in line:
            break
    return process


def _assert_nothing_published(job_tree: JobTree) -> None:
    assert not job_tree.looks_complete()
    assert not (job_tree.model_dir / ".incomplete").exists()


def test_a_job_process_killed_outright_is_out_of_memory(job_tree: JobTree) -> None:
    """SIGKILL to the job's process is how the kernel's out-of-memory killer ends it."""
    process = _start_and_wait(job_tree)
    os.kill(_job_process(process.pid), signal.SIGKILL)
    assert process.stdout is not None
    rest = process.stdout.read()
    assert process.wait(timeout=60) == 3
    first = job_tree.failure_first_line()
    # Where it was killed depends on timing: in a stage, or between two (named after the last).
    assert re.match(
        r"OutOfMemory: the job process ended \(killed by SIGKILL\) during "
        r"(stage '\w+'|the step after stage '\w+') ",
        first,
    ), first
    assert "out-of-memory killer" in first and " Fix: use a larger instance" in first
    assert first in rest  # the log says it too
    _assert_nothing_published(job_tree)


def test_killing_train_kills_its_job(job_tree: JobTree) -> None:
    """Nothing outlives `train`: its job process dies with it (the parent-death signal)."""
    process = _start_and_wait(job_tree)
    child = _job_process(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text()
    assert job_tree.failure_first_line().startswith("Killed: the job ended without")


# Stand-ins for the job process: a native library's last words cannot be caused on demand, so
# these real processes write them and end as that library would; the supervisor is the real one.
STAGE = "2026-12-03 17:15:25,343 INFO smcluster.stage: stage reduce_umap: started\n"
DONE = "2026-12-03 17:15:29,001 INFO smcluster.stage: stage reduce_umap: done in 3.66s (job 9.1s)\n"
STAND_INS = [
    (  # OpenBLAS: its message, then exit(1)
        f"sys.stderr.write({STAGE!r} + 'OpenBLAS error: Memory allocation still failed after "
        "10 retries, giving up.\\n'); sys.stderr.flush(); os._exit(1)",
        3,
        "OutOfMemory: the job process ended (exit status 1) during stage 'reduce_umap' as memory "
        "ran out: the log says 'OpenBLAS error: Memory allocation still failed",
    ),
    (  # LLVM: its message, then abort()
        f"sys.stderr.write({STAGE!r} + 'LLVM ERROR: Unable to allocate section memory!\\n'); "
        "sys.stderr.flush(); os.abort()",
        3,
        "OutOfMemory: the job process ended (killed by SIGABRT) during stage 'reduce_umap'",
    ),
    (  # a segfault with no word about memory: a crash, named as one
        f"sys.stderr.write({STAGE!r} + 'Fatal Python error: Segmentation fault\\n'); "
        "sys.stderr.flush(); os.kill(os.getpid(), signal.SIGSEGV)",
        1,
        "InternalError: the job process ended (killed by SIGSEGV) during stage 'reduce_umap' "
        "without a reason; its last line from native code: 'Fatal Python error: Segmentation",
    ),
    (  # after a stage finished and before the next began: not blamed on the finished one
        f"sys.stderr.write({STAGE!r} + {DONE!r} + 'Fatal Python error: Aborted\\n'); "
        "sys.stderr.flush(); os.abort()",
        1,
        "InternalError: the job process ended (killed by SIGABRT) during the step after stage "
        "'reduce_umap' without a reason",
    ),
    (  # before any stage
        "sys.stderr.write('Fatal Python error: Aborted\\n'); sys.stderr.flush(); os.abort()",
        1,
        "InternalError: the job process ended (killed by SIGABRT) during start-up (before the "
        "first stage) without a reason",
    ),
    (  # the job's own reason stands, whatever its exit code
        "open(os.environ['FAILURE'], 'w').write('DataError: bad table. Fix: mend it.\\n'); "
        "os._exit(2)",
        2,
        "DataError: bad table. Fix: mend it.",
    ),
]


@pytest.mark.parametrize(("script", "code", "first"), STAND_INS, ids=lambda v: str(v)[:12])
def test_a_job_that_ends_without_a_reason_gets_one(
    tmp_path: Path, script: str, code: int, first: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))
    paths = JobPaths.from_env()
    monkeypatch.setenv("FAILURE", str(paths.failure_file))
    staging = paths.model_dir / ".incomplete"
    staging.mkdir(parents=True)
    (staging / "labels.parquet").write_bytes(b"half")
    assert reserve_failure(paths) is None
    command = [sys.executable, "-c", f"import os, signal, sys; {script}"]
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        assert Supervisor(paths, command).run() == code
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert paths.failure_file.read_text().splitlines()[0].startswith(first)
    assert not paths.failure_file.read_text().startswith(KILLED_REASON)
    if code != 2:
        assert not staging.exists()  # left as a run that never started


def test_memory_limits_at_several_sizes_give_exit_3_with_a_reason(job_tree: JobTree) -> None:
    """Address-space limits (as a container's memory limit surfaces) from the imports to UMAP:
    every run either finishes or ends with exit 3, an OutOfMemory reason and a Fix, never exit
    1, a bare traceback, a hang or a half-written model directory."""
    outcomes = []
    for rows, columns, mib in [(450, 5, 700), (450, 5, 900), (30_000, 20, 850), (30_000, 20, 1100)]:
        for leftover in (job_tree.model_dir, job_tree.base / "input" / "data"):
            subprocess.run(["rm", "-rf", str(leftover)], check=True)
        job_tree.write_table(_blobs(rows, columns))
        job_tree.write_config({"id_column": "customer_id"})
        limit = mib * 1024**2

        def cap_memory(limit: int = limit) -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        run = job_tree.run(preexec_fn=cap_memory, timeout=300)
        outcomes.append((rows, mib, run.returncode))
        assert run.returncode in (0, 3), (rows, mib, run.stderr[-3000:])
        if run.returncode == 3:
            first = job_tree.failure_first_line()
            assert first.startswith("OutOfMemory: ") and " Fix: " in first, (rows, mib, first)
            assert first in run.stderr, (rows, mib, run.stderr[-3000:])
            _assert_nothing_published(job_tree)
        else:
            assert job_tree.looks_complete(), (rows, mib, run.stderr[-3000:])
    assert sum(code == 3 for *_, code in outcomes) >= 2, outcomes


def test_the_memory_cgroup_is_read_as_the_kernel_writes_it(tmp_path: Path) -> None:
    """cgroup v2 files (the layout a container sees at /sys/fs/cgroup) and v1's, as evidence."""
    from smcluster.contract.memory import CgroupMemory, cgroup_pressure

    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("1073741824\n")
    (v2 / "memory.peak").write_text("1040187392\n")
    (v2 / "memory.events").write_text("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n")
    now = CgroupMemory.read(v2)
    assert now == CgroupMemory(limit=1024**3, peak=1040187392, oom_kills=2)
    before = CgroupMemory(limit=1024**3, peak=10, oom_kills=1)
    assert cgroup_pressure(now, before) == [
        "the kernel's out-of-memory killer ended 1 process(es) of the container",
        "the container's memory use peaked at 992 MiB of its 1,024 MiB limit",
    ]
    (v2 / "memory.max").write_text("max\n")  # no limit: a peak is no evidence
    assert cgroup_pressure(CgroupMemory.read(v2), now) == []

    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # no limit
    (v1 / "memory" / "memory.max_usage_in_bytes").write_text("5000\n")
    (v1 / "memory" / "memory.oom_control").write_text("oom_kill_disable 0\noom_kill 3\n")
    assert CgroupMemory.read(v1) == CgroupMemory(limit=None, peak=5000, oom_kills=3)


def _cap(mib: int):
    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mib * 1024**2, mib * 1024**2))

    return cap_memory


def test_an_address_space_below_what_the_libraries_need_is_refused_before_they_load(
    job_tree: JobTree,
) -> None:
    """Below the floor OpenBLAS spins for good (predict at 350 and 450 MiB hung) or exits 1."""
    job_tree.write_table(_blobs(450, 5))
    job_tree.write_config({"id_column": "customer_id"})
    run = job_tree.run(preexec_fn=_cap(450), env={"OPENBLAS_NUM_THREADS": "2"}, timeout=60)
    assert run.returncode == 3, run.stderr[-2000:]
    first = job_tree.failure_first_line()
    assert first.startswith("OutOfMemory: the job may use at most 450 MiB of address space")
    assert "less than the 644 MiB" in first and "OPENBLAS_NUM_THREADS=1 to need 578 MiB" in first
    assert "smcluster.job_process" not in run.stderr and not job_tree.model_dir.exists()


def test_predict_under_memory_limits_exits_3_with_a_fix(job_tree: JobTree, tmp_path: Path) -> None:
    job_tree.write_table(_blobs(450, 5))
    job_tree.write_config({"id_column": "customer_id", "reducer": "pca", "n_components": "3"})
    assert job_tree.run().returncode == 0
    rows = tmp_path / "rows.csv"
    _blobs(30_000, 5).to_csv(rows, index=False)
    codes = {}
    for mib in (450, 700, 1400):
        out = tmp_path / f"assigned-{mib}.csv"
        done = subprocess.run(
            [str(Path(sys.executable).with_name("smcluster")), "predict", "--model",
             str(job_tree.model_dir), "--input", str(rows), "--output", str(out)],
            capture_output=True, text=True, timeout=120, preexec_fn=_cap(mib),
            env={**os.environ, "OPENBLAS_NUM_THREADS": "2"},
        )  # fmt: skip
        codes[mib] = done.returncode
        assert done.returncode in (0, 3), (mib, done.stderr[-2000:])
        assert "Traceback" not in done.stderr
        if done.returncode == 3:
            last = done.stderr.strip().splitlines()[-1]  # refused up front, or ran out
            assert last.startswith("OutOfMemory: ") and "smcluster predict" in last, last
            assert "Fix: " in done.stderr and not out.exists()
            assert not list(tmp_path.glob(".*.tmp"))
        else:
            assert len(pd.read_csv(out)) == 30_000
    assert codes[450] == 3 and codes[1400] == 0, codes


@pytest.mark.parametrize(
    ("first", "second", "to_job"),
    [
        (signal.SIGINT, signal.SIGTERM, False),  # Ctrl-C, then the platform's stop, to `train`
        (signal.SIGTERM, signal.SIGTERM, True),  # straight to the job's process, back to back
    ],
    ids=["int-term-to-train", "term-term-to-job"],
)
def test_two_stops_close_together_end_the_job_once(
    job_tree: JobTree, first: signal.Signals, second: signal.Signals, to_job: bool
) -> None:
    """A second signal used to run the stop handler inside the first and deadlock on its lock."""
    for gap in (0.0, 0.002, 0.01):
        subprocess.run(["rm", "-rf", str(job_tree.model_dir)], check=True)
        process = _start_and_wait(job_tree)
        target = _job_process(process.pid) if to_job else process.pid
        os.kill(target, first)
        time.sleep(gap)
        os.kill(target, second)
        assert process.stdout is not None
        process.stdout.read()
        assert process.wait(timeout=60) == 128 + first, gap
        assert job_tree.failure_first_line().startswith(f"Stopped: the job received {first.name}")
        _assert_nothing_published(job_tree)


def test_sighup_stops_like_sigterm(job_tree: JobTree) -> None:
    """A closed terminal or ssh session (SIGHUP) stops the job with a reason that says so."""
    process = _start_and_wait(job_tree)
    process.send_signal(signal.SIGHUP)
    assert process.stdout is not None
    process.stdout.read()
    assert process.wait(timeout=60) == 128 + signal.SIGHUP
    first = job_tree.failure_first_line()
    assert first.startswith("Stopped: the job received SIGHUP") and "session closed" in first
    _assert_nothing_published(job_tree)


@pytest.mark.parametrize(
    "redirect", [">/dev/full 2>/dev/full", ">&- 2>&-", "2>&1 | head -c 0"], ids=str
)
def test_a_log_nobody_can_read_does_not_fail_the_job(job_tree: JobTree, redirect: str) -> None:
    """Standard output and error full, closed or a closed pipe: the job still ends as it
    decided (here: complete), with its metrics in metrics.json."""
    job_tree.write_table(_blobs(500, 4))
    job_tree.write_config({"id_column": "customer_id", "reducer": "pca", "n_components": "2"})
    train = Path(sys.executable).with_name("train")
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; exec 3>&1; {train} {redirect}; echo rc=$? >&3"],
        env=job_tree.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "rc=0" in done.stdout, (done.stdout, done.stderr[-2000:])
    assert job_tree.looks_complete() and not job_tree.failure_file.exists()
    assert "n_clusters" in (job_tree.model_dir / "metrics.json").read_text()


@pytest.mark.parametrize(
    "clash", ["model.joblib/", "manifest.json/", ".incomplete", "plots", "FILE"], ids=str
)
def test_entries_of_the_user_where_ours_go_are_refused_before_anything_moves(
    job_tree: JobTree, tmp_path: Path, clash: str
) -> None:
    """A folder named like one of our files, a file named like one of our folders, or
    SM_MODEL_DIR naming a file: exit 4 naming the entry, nothing of the run published."""
    job_tree.write_table(_blobs(300, 4))
    job_tree.write_config({"id_column": "customer_id", "reducer": "pca", "n_components": "2"})
    model_dir = tmp_path / "model-dir"
    if clash == "FILE":
        model_dir.write_text("not a folder")
    else:
        model_dir.mkdir()
        entry = model_dir / clash.rstrip("/")
        entry.mkdir() if clash.endswith("/") else entry.write_text("mine")
    before = sorted(p.name for p in model_dir.iterdir()) if model_dir.is_dir() else None
    run = job_tree.run(env={"SM_MODEL_DIR": str(model_dir)})
    assert run.returncode == 4, run.stderr[-2000:]
    first = job_tree.failure_first_line()
    assert first.startswith("PlatformError: the model directory") and " Fix: " in first
    if before is not None:
        assert clash.rstrip("/") in first and "nothing of this run was published" in first
        assert sorted(p.name for p in model_dir.iterdir()) == before  # only the user's entry
    else:
        assert model_dir.read_text() == "not a folder"
