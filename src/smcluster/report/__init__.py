"""Pictures, cluster profiles and a self-contained HTML report for the model directory.

Reads a finished `pipeline.run.RunResult`; may import `contract`, `backends` and `pipeline`.
"""

from .writer import write_report

__all__ = ["write_report"]
