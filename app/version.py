"""The API's version: pyproject.toml's `version`, shown at /healthz and in `Query.apiVersion`."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@cache
def version() -> str:
    """From pyproject.toml when the source tree is here (an editable install may hold an older copy), else the package's metadata."""
    if PYPROJECT.exists():
        return str(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"])
    return metadata.version("mongolia-multilateral-kb")
