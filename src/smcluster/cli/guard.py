"""How a command that produces text ends: its text and exit 0, or its reason and code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..contract.errors import SmclusterError
from ..contract.secrets import redact

Command = Callable[[argparse.Namespace], int]


def guarded(command: Callable[[argparse.Namespace], str]) -> Command:
    """Print the command's text and exit 0, or print the reason and exit with the error's own
    code (`SmclusterError.exit_code`: 2 bad input, 3 memory, 4 the machine), 2 for an AWS
    refusal. Neither ever shows a URI's credentials (`secrets.py`):
    runs, lineage and leaderboard print what trackers and SageMaker recorded."""

    def run(args: argparse.Namespace) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        from ..tools.aws_errors import aws_fix

        try:
            text = command(args)
        except SmclusterError as exc:
            print(exc.reason(), file=sys.stderr)
            return exc.exit_code
        except (BotoCoreError, ClientError) as exc:
            print(redact(f"AWSError: {exc}. Fix: {aws_fix(exc)}"), file=sys.stderr)
            return 2
        print(redact(text.rstrip("\n")))
        return 0

    return run
