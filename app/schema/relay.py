"""Relay conventions: global IDs, the Node interface, cursors, connections and page windows."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from app.queries import SortKey, Window, decode_key_value, encode_key_value
from app.schema.errors import (
    BadUserInput,
    InvalidCursor,
    InvalidId,
    InvalidPageSize,
    InvalidPagination,
    PageSizeExceeded,
)
from app.schema.specs import SPEC, GlobalId, Structural

NodeType = TypeVar("NodeType")


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


@strawberry.interface(description="An object with a globally unique, opaque ID (Relay's Node).")
class Node:
    id: strawberry.ID = strawberry.field(
        description="The object's global ID: opaque, stable, accepted by `node` and `nodes`.",
        metadata={SPEC: GlobalId()},
    )


@strawberry.type(description="Where a page sits in its list (Relay's PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items follow this page.", metadata={SPEC: Structural()}
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page.", metadata={SPEC: Structural()}
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first item.", metadata={SPEC: Structural()}
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item.", metadata={SPEC: Structural()}
    )


@strawberry.type(description="An item of a list, with the cursor to page from it.")
class Edge(Generic[NodeType]):
    cursor: str = strawberry.field(
        description="Opaque position of this item; pass to `after` or `before`.", metadata={SPEC: Structural()}
    )
    node: NodeType = strawberry.field(description="The item.", metadata={SPEC: Structural()})


@strawberry.type(description="A page of a list, read by keyset: any page costs what the first costs.")
class Connection(Generic[NodeType]):
    edges: list[Edge[NodeType]] = strawberry.field(
        description="The page's items with their cursors.", metadata={SPEC: Structural()}
    )
    nodes: list[NodeType] = strawberry.field(
        description="The page's items, without cursors.", metadata={SPEC: Structural()}
    )
    page_info: PageInfo = strawberry.field(
        description="Cursors and whether more pages exist.", metadata={SPEC: Structural()}
    )
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many items the whole list has, filters applied (counted only when asked).",
        metadata={SPEC: Structural()},
    )
    async def total_count(self) -> int:
        return await self.counter()


def encode_cursor(tag: str, values: Sequence[Any]) -> str:
    payload = orjson.dumps([tag, [encode_key_value(value) for value in values]])
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, tag: str, keys: Sequence[SortKey], argument: str) -> tuple[Any, ...]:
    """The sort key values a cursor holds; InvalidCursor unless it came from this very ordering."""
    problem = f"`{argument}` is not a cursor of this list in this order (cursors come from `cursor` or `pageInfo`)"
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        found_tag, values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if found_tag != tag or len(values) != len(keys):
            raise ValueError(tag)
        return tuple(decode_key_value(key, value) for key, value in zip(keys, values, strict=True))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidCursor(problem, argument=argument) from None


def page_window(
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    tag: str,
    keys: Sequence[SortKey],
    default_size: int,
    max_size: int,
) -> Window:
    """Check Relay paging arguments and decode their cursors."""
    if first is not None and last is not None:
        raise InvalidPagination("give `first` or `last`, not both")
    for name, size in (("first", first), ("last", last)):
        if size is None:
            continue
        if size > max_size:
            raise PageSizeExceeded(
                f"`{name}: {size}` asks for more than {max_size} items; page with `after`/`before` instead",
                argument=name,
                limit=max_size,
            )
        if size < 1:
            raise InvalidPageSize(f"`{name}` must be between 1 and {max_size}, not {size}", argument=name)
    if first is None and last is None:
        first = default_size
    return Window(
        first=first,
        after=decode_cursor(after, tag, keys, "after") if after is not None else None,
        last=last,
        before=decode_cursor(before, tag, keys, "before") if before is not None else None,
    )


def bad_input(message: str, argument: str) -> BadUserInput:
    return BadUserInput(message, argument=argument)
