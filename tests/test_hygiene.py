"""Project hygiene: the version shown where it is promised, .env.example complete, a changelog, a licence, `make run`'s skip."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

from app.config import Settings
from tests.conftest import Api

PROJECT = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["version"]


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", (PROJECT / ".env.example").read_text(), re.MULTILINE))
    assert listed == {name.upper() for name in Settings.model_fields}


async def test_the_version_is_at_healthz_and_in_the_schema(api: Api) -> None:
    assert (await api.client.get("/healthz")).json()["version"] == VERSION
    assert await api.data("{ apiVersion }") == {"apiVersion": VERSION}


def test_the_changelog_has_the_version_and_keeps_a_changelog_s_shape() -> None:
    changelog = (PROJECT / "CHANGELOG.md").read_text()
    assert "keepachangelog.com" in changelog and "semver.org" in changelog
    assert f"## [{VERSION}]" in changelog
    assert (PROJECT / "LICENSE").read_text().startswith("MIT License")


def test_make_run_skips_the_install_when_nothing_changed(tmp_path: Path) -> None:
    """`make -n` (what make would do): nothing to install once the stamp is newer than pyproject.toml."""
    stamp = PROJECT / ".venv" / ".installed"
    if not stamp.exists():  # a venv made before the stamp existed: make it as `make install` would
        stamp.touch()
    stamp.touch()
    dry = subprocess.run(["make", "-n", "install"], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert "pip install" not in dry.stdout, dry.stdout
    older = (PROJECT / "pyproject.toml").stat().st_mtime - 10
    os.utime(stamp, (older, older))
    try:
        dry = subprocess.run(["make", "-n", "install"], cwd=PROJECT, capture_output=True, text=True, check=True)
        assert "pip install" in dry.stdout, dry.stdout  # pyproject.toml changed: install again
    finally:
        stamp.touch()
