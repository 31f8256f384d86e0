"""Seed-folder safety (findings 9 and 10): what `seed` reads stays inside the seed folder, and a
huge or deeply nested file is refused with the usual file/record/field report, never a
traceback, and nothing is written."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.seeding import SeedFailed, seed, validate
from tests.conftest import make_api

PROJECT = Path(__file__).resolve().parent.parent


def _errors(folder: Path) -> list[str]:
    with pytest.raises(SeedFailed) as failed:
        validate(folder)
    return failed.value.errors


def _check(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "seed", "--check", "--seed-dir", str(folder)],
        cwd=PROJECT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_document_that_links_out_of_the_folder_is_refused_and_never_served(
    small_seed: Path, migrated_db: str
) -> None:
    text = small_seed / "documents" / "small.txt"
    text.unlink()
    text.symlink_to("/etc/passwd")
    errors = _errors(small_seed)
    assert any("small.txt" in e and "outside the seed folder" in e and "/etc/passwd" in e for e in errors), errors
    with pytest.raises(SeedFailed):
        asyncio.run(seed(migrated_db, small_seed))

    async def served() -> list[str]:
        texts: list[str] = []
        async for api in make_api(migrated_db):  # run to its end, so the app's lifespan closes what it opened
            data = await api.data("{ documents { nodes { text } } }")
            texts = [node["text"] for node in data["documents"]["nodes"]]
        return texts

    assert not any("root:" in text for text in asyncio.run(served()))


@pytest.mark.parametrize("which", ["small.yaml", "documents/small.yaml"])
def test_facts_and_metadata_that_link_out_are_refused(small_seed: Path, tmp_path: Path, which: str) -> None:
    outside = tmp_path / "elsewhere.yaml"
    target = small_seed / which
    outside.write_text(target.read_text())
    target.unlink()
    target.symlink_to(outside)
    errors = _errors(small_seed)
    assert any(which.split("/")[-1] in e and "outside the seed folder" in e for e in errors), errors


def test_a_folder_that_links_out_is_refused(small_seed: Path, tmp_path: Path) -> None:
    documents = small_seed / "documents"
    moved = tmp_path / "documents-elsewhere"
    documents.rename(moved)
    documents.symlink_to(moved, target_is_directory=True)
    errors = _errors(small_seed)
    assert any("documents/small." in e and "outside the seed folder" in e for e in errors), errors


def test_a_link_inside_the_folder_is_fine(small_seed: Path) -> None:
    text = small_seed / "documents" / "small.txt"
    kept = small_seed / "documents" / "kept-text"
    text.rename(kept)
    text.symlink_to(kept.name)
    assert validate(small_seed).counts()["documents"] == 1


def test_a_facts_file_over_the_size_limit_is_refused_unread(small_seed: Path) -> None:
    facts = small_seed / "small.yaml"
    with facts.open("a") as out:
        out.write(("# padding " + "x" * 89 + "\n") * 110_000)  # 11 MB of comments
    assert facts.stat().st_size > 10_000_000
    errors = _errors(small_seed)
    assert any("small.yaml" in e and "the limit is 10,000,000" in e and "SEED_MAX_FILE_BYTES" in e for e in errors)
    result = _check(small_seed, SEED_MAX_FILE_BYTES="20000000")  # the setting raises it
    assert result.returncode in (0, 3), result.stderr


def test_the_size_limit_is_a_setting(small_seed: Path) -> None:
    result = _check(small_seed, SEED_MAX_FILE_BYTES="100")
    assert result.returncode == 1
    assert "the limit is 100 (SEED_MAX_FILE_BYTES)" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("depth", [21, 1_000, 100_000])
def test_yaml_nested_too_deep_is_refused_without_a_traceback(small_seed: Path, depth: int) -> None:
    facts = small_seed / "small.yaml"
    facts.write_text(facts.read_text() + "\nextra: " + "[" * depth + "]" * depth + "\n")
    result = _check(small_seed)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    # ours, or libyaml's own limit (1,000) as a YAML error: either way the file and a clear reason
    assert "small.yaml: nests lists and mappings more than 20 levels deep" in result.stderr or (
        "small.yaml: not valid YAML" in result.stderr and "maximum nesting depth" in result.stderr
    )
