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

from smcluster.backends import memory_plan
from smcluster.contract.hyperparameters import parse
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


MEMORY_ROWS = (1_000_000, 5_000_000, 20_000_000)
MEMORY_FEATURES = 50
MEMORY_SETTINGS: tuple[tuple[str, dict[str, str]], ...] = (
    ("defaults", {}),
    ("algorithm=hdbscan", {"algorithm": "hdbscan"}),
    ("algorithm=hdbscan min_samples=16", {"algorithm": "hdbscan", "min_samples": "16"}),
)


def memory_table() -> str:
    """`backends/memory_plan.py` at the README's sizes: the planned peak per GPU, and the stage
    that would not fit (the job refuses before it, exit 3)."""
    header = ["hyperparameters", "rows", *(f"{g.name} ({g.instances})" for g in memory_plan.GPUS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, values in MEMORY_SETTINGS:
        hp = parse(values)
        for rows in MEMORY_ROWS:
            cells = []
            for gpu in memory_plan.GPUS:
                free = gpu.free_at_start
                plan = memory_plan.plan(rows, MEMORY_FEATURES, hp, free)
                refused = memory_plan.problem(plan, hp, free, gpu.name)
                peak = plan.peak
                text = f"{peak.peak / 2**30:,.1f}"
                cells.append(f"{text} ✓" if refused is None else f"**{text} ✗** {peak.stage}")
            lines.append(f"| {label} | {rows / 1e6:g}M | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def generated_blocks() -> dict[str, str]:
    return {
        "stages": stage_table(),
        "gpu-memory-plan": memory_table(),
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
