"""Seed-folder safety: what `seed` reads stays inside the seed folder and within size and depth.

- **Inside the folder**: every file is resolved (symlinks followed) and must be a regular file
  under the resolved seed folder, as Jekyll's safe mode requires; a link that leads out (to
  `/etc/passwd`, say) is refused, naming the file, and its target is never read.
- **Size**: a file over `SEED_MAX_FILE_BYTES` (10 MB) is refused before it is read; the curated
  facts files are tens of KB (a 50 MB one took more than 240 s and 3.5 GB before).
- **Text**: a document holding NUL or another control character (tab, newline and carriage
  return excepted), and a string in a facts file holding one (YAML's `"\\0"` escape writes it),
  are refused with the character's offset, line and column (`CONTROL_CHARACTER`): PostgreSQL's
  `text` refuses NUL (`seed` died with a DBAPIError traceback after `seed --check` passed) and
  SQLite cuts a string at it, and the API refuses control characters in what clients send.
- **Depth**: YAML nested deeper than `MAX_NESTING_DEPTH` is refused from the parser's events,
  before any object is built (a 1,000-deep list raised an uncaught RecursionError).

Each refusal is a `SeedError` like any other: file, record, field, message.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import yaml

from app.config import get_settings

MAX_NESTING_DEPTH = 20
"""Mappings and lists inside each other; the format's deepest (a citation of a record) is 5."""

CONTROL_CHARACTER = "CONTROL_CHARACTER"
NOT_UTF8 = "NOT_UTF8"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def unsafe_file(path: Path, root: Path, max_bytes: int | None = None) -> str | None:
    """Why `path` may not be read as a seed file, or None."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        return f"leads outside the seed folder (to {resolved}); seed files must be inside {root}, links too"
    try:
        status = resolved.stat()
    except OSError as error:
        return f"cannot be read: {error.strerror}"
    if not stat.S_ISREG(status.st_mode):
        return "is not a regular file"
    limit = get_settings().seed_max_file_bytes if max_bytes is None else max_bytes
    if status.st_size > limit:
        return (
            f"is {status.st_size:,} bytes; the limit is {limit:,} (SEED_MAX_FILE_BYTES): split it into several "
            "documents or files"
        )
    return None


def control_character(text: str, *, unit: str = "offset") -> str | None:
    """Where `text` holds NUL or another control character (tab, newline and carriage return excepted), or None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    offset = found.start()
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    char = found.group()
    name = "a NUL character (U+0000)" if char == "\x00" else f"the control character U+{ord(char):04X}"
    more = sum(1 for _ in _CONTROL.finditer(text, offset + 1))
    after = f", and {more:,} more after it" if more else ""
    where = f"at {unit} {offset:,}" + (f" (line {line}, column {column})" if "\n" in text else "")
    return (
        f"holds {name} {where}{after}; remove it: seed text may not hold control characters (tab, newline and "
        "carriage return excepted), which PostgreSQL cannot store (NUL) and the API refuses"
    )


def nesting_problem(text: str) -> str | None:
    """Whether YAML `text` nests deeper than the format allows (checked on parser events only)."""
    depth = 0
    for event in yaml.parse(text, Loader=_PARSER):
        if isinstance(event, _OPENING):
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                line = f" (line {event.start_mark.line + 1})" if event.start_mark is not None else ""
                return f"nests lists and mappings more than {MAX_NESTING_DEPTH} levels deep{line}; the format nests at most 5"
        elif isinstance(event, _CLOSING):
            depth -= 1
    return None
