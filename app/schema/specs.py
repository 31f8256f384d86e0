"""Specs: what a declared field reads (app/schema/fields.py makes them, the compiler reads them).

Plain data, importing nothing of the schema, so every schema module can use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SPEC = "kb.spec"
"""The key of a Strawberry field's `metadata` that holds its spec."""

BOUND = "kb.bound"
"""The key of a list field's `metadata` that holds its bound: a function of the field's arguments, as
the query gives them (variables resolved, enum values by name, absent ones missing), returning the
most items the list can hold. The cost walk (app/execution/query_limits.py) counts the list by it.
Besides the field's own arguments, the walk passes the keys below."""

BOUND_PAGE = "kb.page"
"""In a bound's arguments: the page the field's `first`/`last` ask for (the default page when neither is given,
at most the largest page), as the resolver will read it."""

BOUND_GROUP_BY = "kb.groupBy"
"""In a bound's arguments: the `groupBy` argument (one value) of the nearest enclosing field that has one."""

BOUND_FACTS = "kb.facts"
"""In a bound's arguments: what the data holds, as the executor last read it (app.schema.timeline.TimelineFacts),
or missing when it has not: a bound that needs it then counts the most the list could ever hold."""


@dataclass(frozen=True)
class Spec:
    """What a field reads; `arguments` are the GraphQL arguments the compiler understands."""

    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Column(Spec):
    column: str | None = None  # None: the attribute's name


@dataclass(frozen=True)
class GlobalId(Spec):
    """`id`: the Relay global ID of the row's type and primary key."""


@dataclass(frozen=True)
class DatePart(Spec):
    """A part of a partial date: the column `<prefix>_<part>`."""


@dataclass(frozen=True)
class PartialDateOf(Spec):
    prefix: str | None = None  # None: the attribute's name


@dataclass(frozen=True)
class Reference(Spec):
    column: str = ""
    target: str = ""
    nullable: bool = True


@dataclass(frozen=True)
class ConnectionOf(Spec):
    """A page of a listing: a nested relation (`relation`) or a root listing (`entity` alone)."""

    entity: str = ""
    relation: str | None = None
    filter: Any = None
    order: Any = None


@dataclass(frozen=True)
class Embedded(Spec):
    """An object made of the same row's columns (an event's recurrence): null when `present` is NULL."""

    target: str = ""
    present: str = ""


@dataclass(frozen=True)
class Structural(Spec):
    """A field of a connection, edge or page info: compiled with its connection."""


@dataclass(frozen=True)
class RowsOf(Spec):
    """A plain list: every row of `statement` whose `parent` column is this row's id, in its order."""

    entity: str = ""
    name: str = ""
    statement: Any = None
    parent: Any = None


@dataclass(frozen=True)
class Special(Spec):
    """A field the compiler knows by name (`kind`): lookups, `node`, `nodes`, `Document.text`."""

    kind: str = ""


@dataclass(frozen=True)
class StrawberryOnly(Spec):
    reason: str = ""
