"""Credentials never written in clear: the user-info part of URIs (`https://user:token@host/`).

MLflow servers behind basic authentication are often given as such a URI. Every place the
project writes text a user did not write for themselves (the log, the failure file, the report,
the model directory, the tracker's parameters, the tools' messages) passes it through `redact`.
Pass credentials as `MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD` instead (README).
"""

from __future__ import annotations

import logging
import re

MASK = "***"
# scheme://userinfo@ : up to the last '@' before the path, as urllib and MLflow split it, so a
# password with an unescaped '@' (RFC 3986 3.2.1 wants it as %40) is masked whole.
USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s'\"<>]+@")


def redact(text: str) -> str:
    """`text` with the user-info of every URI in it replaced by `MASK`."""
    return USERINFO.sub(lambda match: f"{match['scheme']}{MASK}@", text)


def redact_value(value: object) -> object:
    """`redact` for a string, element-wise for a list or tuple; other values as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


class RedactingFormatter(logging.Formatter):
    """A log formatter whose lines (message, traceback included) never hold a URI's user-info."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def redact_logging(fmt: str) -> None:
    """Every handler of the root logger formats with `fmt` through `RedactingFormatter`."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter(fmt))
