"""Read metric values out of a job log the way SageMaker does: every regex on every line."""

from __future__ import annotations

import re

from smcluster.output.metric_lines import metric_definitions


def scrape(log: str) -> dict[str, float]:
    """For each definition, the first capture group of the last matching line (as a tuner ranks)."""
    found: dict[str, float] = {}
    for definition in metric_definitions():
        pattern = re.compile(definition["Regex"])
        for line in log.splitlines():
            match = pattern.search(line)
            if match:
                found[definition["Name"]] = float(match.group(1))
    return found
