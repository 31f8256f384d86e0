"""A database the command line cannot use (issue 19, finding 21): `migrate` and `seed` printed a 135-line
traceback for a wrong address, `serve` started anyway, and a mistyped SQLite path made folders silently.

Each case runs the real command in a subprocess: it exits 1 with one or two lines naming the address (password
hidden), what failed and what to try, and no traceback; `serve` refuses to start; no folder is made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from tests.conftest import PG_SERVER, make_api, require_postgres
from tests.services import free_port
from tests.test_cli import CLEAN_ENV

SHARED = PG_SERVER.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]  # postgresql://user@host:port


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "app", *args]
    if args[0] == "serve":
        command += ["--port", str(free_port())]
    return subprocess.run(command, cwd=PROJECT_ROOT, env=CLEAN_ENV, capture_output=True, text=True, timeout=90)


def _lines(result: subprocess.CompletedProcess[str], command: str) -> list[str]:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    assert lines[0].startswith(f"{command}: "), lines
    assert lines[-1].strip().startswith("try: "), lines
    return lines


COMMANDS = [("migrate",), ("seed",), ("serve",)]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_refused_connection_names_the_address_without_its_password(command: tuple[str, ...]) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://kb:hunter2@127.0.0.1:{port}/kb"
    first, hint = _lines(_run(*command, "--database-url", url), command[0])
    assert f"postgresql://kb:***@127.0.0.1:{port}/kb" in first and "hunter2" not in first + hint
    assert f"the connection to 127.0.0.1:{port} was refused" in first
    assert "DATABASE_URL" in hint


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_missing_database_says_how_to_create_it(command: tuple[str, ...]) -> None:
    require_postgres()
    first, hint = _lines(_run(*command, "--database-url", f"{SHARED}/kb_missing_issue_19"), command[0])
    assert "the database 'kb_missing_issue_19' does not exist on 127.0.0.1:5432" in first
    assert "createdb -h 127.0.0.1 -p 5432 -U postgres kb_missing_issue_19" in hint


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_refused_user_is_an_authentication_failure(command: tuple[str, ...]) -> None:
    require_postgres()
    host = SHARED.split("@", 1)[1]
    url = f"postgresql://nobody_issue_19:secret@{host}/postgres"
    first, hint = _lines(_run(*command, "--database-url", url), command[0])
    assert f"PostgreSQL at {host} refused user 'nobody_issue_19'" in first and "secret" not in first + hint
    assert "check the user and password" in hint


def test_an_unknown_host_is_named() -> None:
    first, hint = _lines(_run("migrate", "--database-url", "postgresql://kb@no-such-host.invalid/kb"), "migrate")
    assert "the host 'no-such-host.invalid' was not found" in first and "correct the host" in hint


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_sqlite_path_in_a_missing_folder_is_refused_and_no_folder_is_made(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    missing = tmp_path / "mistyped" / "deeper"
    first, hint = _lines(_run(*command, "--database-url", f"sqlite:///{missing}/kb.sqlite3"), command[0])
    assert f"the folder {missing} does not exist" in first and f"mkdir -p {missing}" in hint
    assert not (tmp_path / "mistyped").exists()


def test_a_sqlite_path_naming_a_folder_is_refused(tmp_path: Path) -> None:
    first, _hint = _lines(_run("migrate", "--database-url", f"sqlite:///{tmp_path}"), "migrate")
    assert f"{tmp_path} is a folder" in first


def test_serve_refuses_a_sqlite_file_that_does_not_exist(tmp_path: Path) -> None:
    first, hint = _lines(_run("serve", "--database-url", f"sqlite:///{tmp_path}/kb.sqlite3"), "serve")
    assert f"the file {tmp_path}/kb.sqlite3 does not exist" in first and "migrate" in hint
    assert not (tmp_path / "kb.sqlite3").exists()


def test_migrate_still_makes_a_new_sqlite_file_in_a_folder_that_exists(tmp_path: Path) -> None:
    result = _run("migrate", "--database-url", f"sqlite:///{tmp_path}/kb.sqlite3")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "kb.sqlite3").is_file()


async def test_readyz_names_the_address_and_what_failed() -> None:
    """/readyz said only `OSError`; it names the address (password hidden) and the failure, as the CLI does."""
    port = free_port()
    async for api in make_api(f"postgresql://kb:hunter2@127.0.0.1:{port}/kb"):
        response = await api.client.get("/readyz")
        assert response.status_code == 503
        reason = response.json()["reason"]
        assert f"postgresql://kb:***@127.0.0.1:{port}/kb" in reason and "was refused" in reason, reason
        assert "hunter2" not in response.text
