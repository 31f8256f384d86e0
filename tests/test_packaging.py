"""The project installs as a user installs it, into a fresh virtualenv, and the build warns of nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT

# Files the build reads: the package, its metadata, the licence and the README (the long description).
SOURCES = ["app", "pyproject.toml", "LICENSE", "README.md"]


def _copy_of_the_project(target: Path) -> Path:
    """The files a build reads, without .venv, caches or egg-info left by other installs."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


def _install(tmp_path: Path, *extra: str) -> str:
    """pip install the project (without its dependencies) into a fresh venv; pip's whole output."""
    project = _copy_of_the_project(tmp_path / "project")
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=False)
    # The machine's own pip configuration (extra indexes, constraints) is not the project's to test.
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(fresh / "bin" / "python"), "install", "--no-deps", *extra, "."],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    said = done.stdout + done.stderr
    if done.returncode != 0 and re.search(r"(?i)could not (find|fetch)|network|connection", said):
        pytest.skip(f"pip could not reach the package index for the build requirements:\n{said[-500:]}")
    assert done.returncode == 0, said
    return said


def test_pip_install_prints_no_warning(tmp_path: Path) -> None:
    said = _install(tmp_path)
    warnings = [line for line in said.splitlines() if re.search(r"(?i)warn|deprecat", line)]
    assert not warnings, said
    assert "Successfully installed mongolia-multilateral-kb" in said


def test_an_editable_install_prints_no_deprecation(tmp_path: Path) -> None:
    """`make install`'s form; setuptools' note on editable installs of a flat layout is information, not a warning
    of change."""
    said = _install(tmp_path, "--editable")
    assert not re.search(r"(?i)deprecat|no longer supported|stop(s)? being supported", said), said


def test_the_licence_is_an_spdx_expression_and_the_build_requirements_are_bounded() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert project["project"]["license-files"] == ["LICENSE"]
    for requirement in project["build-system"]["requires"]:
        assert ">=" in requirement and "<" in requirement, requirement
