"""Control characters and other encodings in seed text (issue 19, finding 17): a NUL passed `seed --check` and
then `seed` on PostgreSQL died with a DBAPIError traceback; `draft` on a non-UTF-8 file printed a traceback.
Now both commands refuse such a file in one line naming the file, the character's offset (line, column) and a
code, exit 1, and write nothing, on both engines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_seeding import snapshot

PROJECT = Path(__file__).resolve().parent.parent
NUL_AT = 33  # "Mongolia joined the OSCE in 2012." ends here, in tests/fixtures/seed-small/documents/small.txt


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=PROJECT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _with_character(folder: Path, character: str, at: int = NUL_AT) -> Path:
    document = folder / "documents" / "small.txt"
    text = document.read_text(encoding="utf-8")
    document.write_text(text[:at] + character + text[at:], encoding="utf-8")
    return document


def _one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr, result.stderr
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, lines
    return lines[-1]


@pytest.mark.parametrize(
    ("character", "named"),
    [
        ("\x00", "a NUL character (U+0000)"),
        ("\x1b", "the control character U+001B"),
        ("\x0c", "the control character U+000C"),
    ],
)
def test_seed_check_refuses_a_control_character_with_its_offset(small_seed: Path, character: str, named: str) -> None:
    _with_character(small_seed, character)
    line = _one_clear_line(_cli("seed", "--check", "--seed-dir", str(small_seed)))
    assert line.startswith("seed-small/documents/small.txt: holds " + named), line
    assert f"at offset {NUL_AT} (line 1, column {NUL_AT + 1})" in line and line.endswith("[CONTROL_CHARACTER]")


def test_every_control_character_is_counted(small_seed: Path) -> None:
    document = _with_character(small_seed, "\x00", at=0)
    document.write_text(document.read_text(encoding="utf-8") + "\x01\x02", encoding="utf-8")
    line = _one_clear_line(_cli("seed", "--check", "--seed-dir", str(small_seed)))
    assert "a NUL character (U+0000) at offset 0 (line 1, column 1), and 2 more after it" in line


def test_tab_newline_and_carriage_return_are_text(small_seed: Path) -> None:
    _with_character(small_seed, "\t\r")
    result = _cli("seed", "--check", "--seed-dir", str(small_seed))
    assert "CONTROL_CHARACTER" not in result.stderr and "Traceback" not in result.stderr


def test_seed_refuses_a_nul_and_writes_nothing(small_seed: Path, migrated_db: str) -> None:
    """On PostgreSQL the NUL reached the driver: a DBAPIError traceback. Now nothing reaches either engine."""
    before = snapshot(migrated_db)
    _with_character(small_seed, "\x00")
    result = _cli("seed", "--seed-dir", str(small_seed), "--database-url", migrated_db)
    line = _one_clear_line(result)
    assert "seed failed, nothing was written (1 error(s))" in result.stderr
    assert line.startswith("seed-small/documents/small.txt: holds a NUL character (U+0000) at offset 33"), line
    assert snapshot(migrated_db) == before


def test_a_nul_written_by_a_yaml_escape_is_refused_in_the_facts(small_seed: Path) -> None:
    facts = small_seed / "small.yaml"
    facts.write_text(
        facts.read_text(encoding="utf-8").replace(
            "description: A security organization.", 'description: "A security\\0 organization."'
        ),
        encoding="utf-8",
    )
    line = _one_clear_line(_cli("seed", "--check", "--seed-dir", str(small_seed)))
    assert line.startswith("seed-small/small.yaml: organizations[0].description: holds a NUL character"), line
    assert "at character 10" in line and line.endswith("[CONTROL_CHARACTER]")


def test_draft_reports_a_file_that_is_not_utf8_as_seed_does(small_seed: Path) -> None:
    document = small_seed / "documents" / "small.txt"
    document.write_bytes(document.read_bytes()[:10] + b"\xff\xfe" + document.read_bytes()[10:])
    seeded = _one_clear_line(_cli("seed", "--check", "--seed-dir", str(small_seed)))
    drafted = _one_clear_line(_cli("draft", str(document)))
    assert drafted == "draft failed, nothing was written: " + seeded
    assert "small.txt: not UTF-8 text: 'utf-8' codec can't decode byte 0xff in position 10" in drafted
    assert drafted.endswith("[NOT_UTF8]")
    assert not (small_seed / "small.draft.yaml").exists()


def test_draft_refuses_a_control_character_as_seed_does(small_seed: Path) -> None:
    document = _with_character(small_seed, "\x00")
    seeded = _one_clear_line(_cli("seed", "--check", "--seed-dir", str(small_seed)))
    assert _one_clear_line(_cli("draft", str(document))) == "draft failed, nothing was written: " + seeded
