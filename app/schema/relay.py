"""Relay conventions: the Node interface and connections (IDs, cursors and page windows: app.data.ids, app.data.paging)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from app.errors import BadUserInput
from app.schema.specs import SPEC, GlobalId, Structural

NodeType = TypeVar("NodeType")


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


def bad_input(message: str, argument: str) -> BadUserInput:
    return BadUserInput(message, argument=argument)
