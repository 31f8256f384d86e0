"""The documents' commands run as written in a fresh shell, and their links lead somewhere.

Every shell block of README.md and docs/*.md (and every `$ ` line of their output blocks) is read:
a `python -m app` command must parse with the real command line (subcommand, options, their values),
a `make` target must exist in the Makefile, a script must exist, and the project's tools must be
called through `.venv/bin/` (a fresh shell's `python` is not the project's).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.__main__ import build_parser
from app.config import PROJECT_ROOT

DOCUMENTS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
# Tools the project installs into .venv: a fresh shell finds another one, or none.
PROJECT_TOOLS = {"python", "python3", "pip", "pip3", "pytest", "gunicorn", "uvicorn", "alembic", "ruff", "mypy"}
OPERATORS = re.compile(r"\s(?:&&|\|\||;|\|)\s")


@dataclass(frozen=True)
class Command:
    document: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.document.relative_to(PROJECT_ROOT)}:{self.line}: {self.text}"


def _commands(document: Path) -> list[Command]:
    """Each command line of the document's shell blocks, continuation lines joined."""
    found: list[Command] = []
    language: str | None = None
    pending, start = "", 0
    for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), 1):
        fence = re.match(r"^\s*```(\w*)", line)
        if fence:
            language = None if language is not None else fence.group(1) or "text"
            continue
        if language is None:
            continue
        text = line.strip()
        if language not in SHELL_LANGUAGES:
            if not text.startswith("$ "):
                continue
            text = text[2:]
        if not pending:
            start = number
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        text, pending = pending + text, ""
        if text and not text.startswith("#"):
            found.extend(Command(document, start, part.strip()) for part in OPERATORS.split(text) if part.strip())
    return found


ALL = [command for document in DOCUMENTS for command in _commands(document)]


def _words(command: Command) -> list[str]:
    """The command's words, without its comment, redirections and leading VAR=value assignments."""
    words = shlex.split(command.text, comments=True)
    for index, word in enumerate(words):
        if re.match(r"^\d*[<>]", word):
            words = words[:index]
            break
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        words = words[1:]
    return words


def _make_targets() -> set[str]:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w.-]*):", makefile, re.M))


def test_the_documents_have_commands_to_check() -> None:
    runs = [c for c in ALL if "-m app" in c.text]
    assert len(runs) > 20 and any(c.document.name == "README.md" for c in runs)


@pytest.mark.parametrize("command", ALL, ids=str)
def test_each_command_runs_as_written(command: Command) -> None:
    words = _words(command)
    if not words:
        return
    program = words[0]
    assert program not in PROJECT_TOOLS, (
        f"{command}: a fresh shell's {program} is not the project's; write .venv/bin/{program}"
    )
    if program == "make":
        targets = _make_targets()
        for word in words[1:]:
            if "=" not in word and not word.startswith("-"):
                assert word in targets, f"{command}: the Makefile has no target {word!r}"
        return
    if program.startswith(".venv/bin/"):
        tool = Path(sys.executable).parent / program.removeprefix(".venv/bin/")
        assert tool.exists(), f"{command}: the install puts no {tool.name} in .venv/bin"
        if words[1:3] == ["-m", "app"]:
            _parses(command, words[3:])
        elif len(words) > 1 and words[1].endswith(".py"):
            assert (PROJECT_ROOT / words[1]).is_file(), f"{command}: no script {words[1]}"
        return
    if program.startswith(("scripts/", "./")):
        assert (PROJECT_ROOT / program).is_file(), f"{command}: no script {program}"


def _parses(command: Command, arguments: list[str]) -> None:
    """The arguments parse with the real command line, or the test fails with argparse's own message."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(arguments)
    except SystemExit as leaving:
        assert leaving.code == 0, f"{command}: {said.getvalue().strip()}"


def test_a_wrong_command_fails_the_check() -> None:
    """The check above can fail: an option `seed` does not have, a target the Makefile lacks."""
    wrong = Command(PROJECT_ROOT / "README.md", 1, ".venv/bin/python -m app seed --no-such-option")
    with pytest.raises(AssertionError, match="unrecognized arguments: --no-such-option"):
        test_each_command_runs_as_written(wrong)
    with pytest.raises(AssertionError, match="no target 'deploy'"):
        test_each_command_runs_as_written(Command(PROJECT_ROOT / "README.md", 1, "make deploy"))
    with pytest.raises(AssertionError, match=re.escape("write .venv/bin/python")):
        test_each_command_runs_as_written(Command(PROJECT_ROOT / "README.md", 1, "python -m app migrate"))


def test_every_subcommand_is_documented() -> None:
    parser = build_parser()
    [commands] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    documented = {_words(c)[3] for c in ALL if _words(c)[1:3] == ["-m", "app"] and len(_words(c)) > 3}
    assert set(commands.choices) <= documented


# -- links -------------------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    anchors, fenced = set(), False
    for line in document.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"^#{1,6} (.+)$", line)):
            anchors.add(_slug(heading.group(1)))
    return anchors


def _links(document: Path) -> list[tuple[int, str]]:
    found, fenced = [], False
    for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            found.extend((number, target) for target in re.findall(r"\]\(([^)\s]+)\)", line))
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_every_link_leads_somewhere(document: Path) -> None:
    broken = []
    for number, target in _links(document):
        if re.match(r"^(https?|mailto):", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"line {number}: {target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"line {number}: {target} (no heading #{anchor})")
    assert not broken, "\n".join(broken)


def test_the_readme_is_a_front_page() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    for page in ("frontend", "seeding", "operations", "configuration", "limits-and-errors", "performance"):
        assert f"(docs/{page}.md)" in readme, f"the README's contents do not link docs/{page}.md"
