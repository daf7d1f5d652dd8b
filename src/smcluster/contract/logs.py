"""The job's log format, as CloudWatch receives it from `train` and its job process."""

from __future__ import annotations

import logging
import os
import sys

from .secrets import redact_logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    level = os.environ.get("SMCLUSTER_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)
    redact_logging(LOG_FORMAT)  # a URI's credentials never reach the log (CloudWatch)
    for noisy in ("numba", "matplotlib", "urllib3", "botocore", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
