"""Seed-folder safety: what `seed` reads stays inside the seed folder and within size and depth.

- **Inside the folder**: every file is resolved (symlinks followed) and must be a regular file
  under the resolved seed folder, as Jekyll's safe mode requires; a link that leads out (to
  `/etc/passwd`, say) is refused, naming the file, and its target is never read.
- **Size**: a file over `SEED_MAX_FILE_BYTES` (10 MB) is refused before it is read; the curated
  facts files are tens of KB (a 50 MB one took more than 240 s and 3.5 GB before).
- **Depth**: YAML nested deeper than `MAX_NESTING_DEPTH` is refused from the parser's events,
  before any object is built (a 1,000-deep list raised an uncaught RecursionError).

Each refusal is a `SeedError` like any other: file, record, field, message.
"""

from __future__ import annotations

import stat
from pathlib import Path

import yaml

from app.config import get_settings

MAX_NESTING_DEPTH = 20
"""Mappings and lists inside each other; the format's deepest (a citation of a record) is 5."""

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
