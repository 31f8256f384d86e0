"""Global IDs: opaque, strictly parsed, one per object (Relay's object identification)."""

from __future__ import annotations

import base64
import binascii
import re

from app.errors import InvalidId


def encode_id(type_name: str, pk: int) -> str:
    """An opaque global ID: base64 of "Type:pk", as Relay servers conventionally do."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


ID_TEXT = re.compile(r"([A-Z][A-Za-z]*):(0|[1-9][0-9]*)")
MAX_ID_LENGTH = 200
MAX_KEY = 2**31 - 1
"""The largest primary key a row can have: the id columns are INTEGER (PostgreSQL's reach 2^31 - 1)."""
NO_ROW = 0
"""The key an ID past every row's range is read as: no row has it (keys start at 1), so it is not found."""


def decode_id(global_id: str, expected: set[str] | None = None) -> tuple[str, int]:
    """(type name, primary key) of a global ID, or InvalidId saying what is wrong.

    Parsed strictly, so that one object answers to one ID only: canonical base64 of
    `Type:number`, ASCII digits without leading zeros. A well-formed ID whose number is past
    the key column's range names no object: it is read as NO_ROW, so `node` gives null.
    """
    problem = f"{global_id[:MAX_ID_LENGTH]!r} is not an ID of this API (IDs come from the `id` field)"
    if len(global_id) > MAX_ID_LENGTH:
        raise InvalidId(problem)
    try:
        raw = base64.b64decode(global_id.encode("ascii"), validate=True)
        text = raw.decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidId(problem) from None
    found = ID_TEXT.fullmatch(text)
    if found is None or base64.b64encode(raw).decode() != global_id:
        raise InvalidId(problem)
    type_name, digits = found.groups()
    if expected is not None and type_name not in expected:
        raise InvalidId(problem)
    number = int(digits) if len(digits) <= len(str(MAX_KEY)) else NO_ROW
    return type_name, number if number <= MAX_KEY else NO_ROW
