"""The one place the version is written; pyproject.toml, the Makefile and the image read it."""

__version__ = "0.1.0"
