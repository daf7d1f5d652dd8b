"""How a command that produces text ends: its text and exit 0, or its reason and code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..contract.secrets import redact

Command = Callable[[argparse.Namespace], int]


def guarded(command: Callable[[argparse.Namespace], str]) -> Command:
    """Print the command's text and exit 0, or an AWS refusal as its reason with a Fix and exit
    2. Neither ever shows a URI's credentials (`secrets.py`): runs, lineage and leaderboard
    print what trackers and SageMaker recorded. Every other failure is `cli.main`'s, by the
    one rule of `contract.failure.known_failure`."""

    def run(args: argparse.Namespace) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        from ..tools.aws_errors import aws_fix

        try:
            text = command(args)
        except (BotoCoreError, ClientError) as exc:
            print(redact(f"AWSError: {exc}. Fix: {aws_fix(exc)}"), file=sys.stderr)
            return 2
        print(redact(text.rstrip("\n")))
        return 0

    return run
