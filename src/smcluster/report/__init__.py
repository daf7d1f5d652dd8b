"""Pictures, cluster profiles and a self-contained HTML report for the model directory."""

from .writer import write_report

__all__ = ["write_report"]
