"""The `train` entrypoint SageMaker runs (`docker run <image> train`).

Answers `--help` and `--version` without touching anything. Otherwise it reserves the failure
file (an unwritable output folder stops the job before any work) and runs the job in its own
process under `Supervisor`, which passes SIGTERM on and writes a true reason when native code
ends the job without one (`supervisor.py`).
"""

from __future__ import annotations

import logging
import sys

from .contract.failure import EXIT_BAD_INPUT, EXIT_PLATFORM, reserve_failure, write_failure
from .contract.logs import configure_logging
from .contract.paths import JobPaths
from .supervisor import Supervisor
from .version import __version__

USAGE = f"""\
usage: train [--help | --version]

smcluster {__version__}: the SageMaker training entrypoint. Reads the SageMaker-shaped tree
under $SAGEMAKER_BASE_DIR (default /opt/ml): input/config/hyperparameters.json,
inputdataconfig.json, resourceconfig.json and the channels under input/data/ (train, and
optionally validation); SM_CHANNEL_<NAME>, SM_MODEL_DIR and SM_OUTPUT_DATA_DIR override folders.
Writes the model directory (manifest.json last) and prints one metric line per score; on
failure writes the reason to output/failure.

Settings are hyperparameters, never arguments: `smcluster hyperparameters` lists them.
Exit codes: 0 done, 2 bad input, 3 out of memory, 4 disk or permission, 1 internal error,
143 stopped (SIGTERM), 130 interrupted (SIGINT).
"""


def main(argv: list[str] | None = None) -> int:
    """Console script `train`. Extra arguments (SageMaker passes none, or `train`) are refused."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in {"-h", "--help"}:
        print(USAGE, end="")
        return 0
    if args == ["--version"]:
        print(f"smcluster {__version__}")
        return 0
    configure_logging()
    paths = JobPaths.from_env()
    if args and args != ["train"]:
        reason = (
            f"ArgumentError: `train` takes no arguments, got {' '.join(args)!r}. "
            "Fix: pass settings as hyperparameters (hyperparameters.json); `train --help` "
            "says more."
        )
        logging.getLogger("smcluster").error("%s", reason)
        write_failure(paths, reason)
        return EXIT_BAD_INPUT
    unwritable = reserve_failure(paths)
    if unwritable is not None:
        logging.getLogger("smcluster").error("%s", unwritable)  # the log is all that is left
        return EXIT_PLATFORM
    return Supervisor(paths).run()


if __name__ == "__main__":
    sys.exit(main())
