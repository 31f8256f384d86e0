"""The command line explains itself: help with defaults, one clear line for a busy port, progress on a terminal."""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import httpx
import pytest

import app.__main__ as cli
from app.config import PROJECT_ROOT
from app.data.migrations import upgrade
from tests.conftest import Databases
from tests.live import free_port

# The environment of a fresh shell: none of the settings the suite's own process may carry.
CLEAN_ENV = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "PORT", "HOST", "SEED_DIR"}}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    [commands] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return dict(commands.choices)


def test_every_subcommand_is_in_the_summary_with_its_help() -> None:
    parser = cli.build_parser()
    summary = parser.format_help()
    [commands] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    helped = {choice.dest: choice.help for choice in commands._choices_actions}
    for name in _subcommands():
        assert name in summary
        assert helped.get(name), f"{name} has no help line"


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_option_has_help_and_says_its_default(name: str) -> None:
    command = _subcommands()[name]
    assert command.description, f"{name} has no description"
    for action in command._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        label = action.option_strings[-1] if action.option_strings else action.dest
        assert action.help, f"{name} {label} has no help"
        takes_a_value = action.nargs != 0
        if takes_a_value and action.option_strings:
            assert "default" in action.help, f"{name} {label}: the help does not say its default"


def test_serve_on_a_busy_port_is_one_line_naming_the_port_and_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=CLEAN_ENV,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {port}" in lines[0] and "already in use" in lines[0] and "PORT" in lines[0]


def test_the_port_setting_is_read_when_it_is_busy() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "app", "serve"],
            cwd=PROJECT_ROOT,
            env={**CLEAN_ENV, "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0 and f"port {port} " in done.stderr


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
def test_serve_takes_the_database_url_as_an_option(seeded_db: str, tmp_path: Path) -> None:
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port), "--database-url", seeded_db],
            cwd=tmp_path,  # no .env here, and no DATABASE_URL in the environment
            env={**CLEAN_ENV, "PYTHONPATH": str(PROJECT_ROOT), "LOG_LEVEL": "warning"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": '{ organization(slug: "escap") { acronym } }'}
        )
        assert answer.json()["data"] == {"organization": {"acronym": "ESCAP"}}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


def test_a_missing_seed_folder_is_named_as_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-folder"
    assert cli.main(["seed", "--check", "--seed-dir", str(missing)]) == 1
    assert f"{missing}: the seed folder does not exist (--seed-dir or SEED_DIR)" in capsys.readouterr().err
    assert cli.main(["seed", "--check", "--seed-dir", str(tmp_path)]) == 1
    assert "the seed folder has no documents/ folder" in capsys.readouterr().err


def test_a_missing_document_is_named_as_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["draft", str(tmp_path / "report.txt")]) == 2
    assert f"{tmp_path / 'report.txt'} does not exist" in capsys.readouterr().err


def test_a_python_without_the_dependencies_is_told_to_use_the_venv(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def without_alembic(_args: argparse.Namespace) -> int:
        raise ModuleNotFoundError("No module named 'alembic'", name="alembic")

    monkeypatch.setattr(cli, "_migrate", without_alembic)
    assert cli.main(["migrate"]) == 1
    said = capsys.readouterr().err
    assert "'alembic' is not installed" in said and "make install" in said and ".venv/bin/python -m app" in said


def _on_a_terminal(command: list[str]) -> tuple[int, str]:
    """Run `command` with its stderr on a pseudo-terminal 100 columns wide; its exit status and stderr."""
    reader, writer = pty.openpty()
    fcntl.ioctl(writer, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=writer)
    os.close(writer)
    said = b""
    while True:
        try:
            chunk = os.read(reader, 4096)
        except OSError:  # EIO: the terminal's last writer is gone
            break
        if not chunk:
            break
        said += chunk
    os.close(reader)
    return process.wait(60), said.decode()


def test_the_synthetic_seed_shows_its_progress_on_a_terminal_only(databases: Databases) -> None:
    url = databases.new("sqlite")
    upgrade(url)
    status, shown = _on_a_terminal([sys.executable, "-m", "app", "seed", "--synthetic", "3", "--database-url", url])
    assert status == 0, shown
    final = shown.replace("\r", "\n").strip().splitlines()[-1]
    assert "synthetic seed: 100%" in final and "3/3" in final and "organizations/s" in final, shown

    piped = subprocess.run(
        [sys.executable, "-m", "app", "seed", "--synthetic", "3", "--reset", "--database-url", url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""  # no bar and no escape codes in a log file
    assert "3 synthetic organizations written" in piped.stdout
