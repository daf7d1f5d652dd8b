"""Rewrite the generated blocks of README.md from the schema and the metric registry.

`make readme` runs it; `test_readme_generated_blocks_are_current` in `tests/test_cli.py` fails
when the README is out of date.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from functools import partial
from pathlib import Path

from smcluster.contract.schema import SCHEMA
from smcluster.output.metric_lines import metric_definitions
from smcluster.pipeline.run import STAGES

README = Path(__file__).resolve().parent.parent / "README.md"


def stage_table() -> str:
    """`pipeline.run.STAGES` as declared: order, names, where the work is, what it does."""
    lines = [
        "| # | stage | timed as | rows | checkpointed | function | what it does |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, stage in enumerate(STAGES, 1):
        work = stage.work
        module = work.__module__.removeprefix("smcluster.").replace(".", "/")
        doc = " ".join((inspect.getdoc(work) or "").split())
        lines.append(
            f"| {number} | {stage.name} | `{stage.timed_as or stage.name}` "
            f"| {stage.rows or '-'} | {'yes' if stage.checkpointed else 'no'} "
            f"| `{module}.py:{work.__name__}` | {doc} |"
        )
    return "\n".join(lines) + "\n"


def generated_blocks() -> dict[str, str]:
    return {
        "stages": stage_table(),
        "hyperparameters": SCHEMA.markdown_table(),
        "metric-definitions": "```json\n"
        + json.dumps(metric_definitions()[:2], indent=2)
        + "\n```\n",
    }


def _with_body(match: re.Match[str], body: str) -> str:
    return match.group(1) + body + match.group(2)


def render(text: str) -> str:
    for name, body in generated_blocks().items():
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED {name} -->\n).*?(<!-- END GENERATED {name} -->)", re.S
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md lacks the markers for the generated block '{name}'")
        text = pattern.sub(partial(_with_body, body=body), text)
    return text


def main() -> int:
    current = README.read_text()
    updated = render(current)
    if "--check" in sys.argv:
        return 0 if updated == current else 1
    README.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
