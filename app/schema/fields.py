"""The field declarations: each data field is declared once, here's how, and both paths read it.

A declaration makes the Strawberry field (its type, arguments and description: the SDL,
validation and introspection stay Strawberry's) and carries, in the field's `metadata`, a
*spec* saying what it reads. Strawberry's resolvers (below) and the SQL compiler
(`app.execution.compiler`) both work from that spec, so adding a field, an argument or a filter
is one change in one place. `uncovered(schema)` lists every field of the schema that has
neither a spec nor an explicit Strawberry-only mark; a test requires it to be empty.

How to declare, in a `@strawberry.type` of `app/schema/types.py` (or `values.py`):

    # a column; the column is the attribute's name unless given; enum, float and list
    # columns are converted from the row by the annotation
    slug: str = column(description="Stable natural key.")
    office_holder: str | None = column(description="Who held it.")
    kind: EventKind = column(description="What sort of event it was.")

    # a partial date, from the columns `<prefix>_edtf`, `<prefix>_earliest`, ...
    # (the prefix is the attribute's name unless given)
    end_date: PartialDate | None = partial_date("end", description="Its last day.")

    # a to-one reference: the foreign key column on this row, the target type (`| None` if it may be null)
    organization = reference("organization_id", "Organization | None", description="...")

    # a connection (Relay paging, keyset cursors) over a relation of app/data/listings.py,
    # with its filter and order inputs (each filter's `conditions()` is the SQL for both paths)
    events = connection("organization.events", description="...", filter=f.EventFilter, order=f.EventOrder)

    # a root list (in app/schema/query.py): a listing of app/data/listings.py's BASE
    events = root_connection("Event", description="...", filter=f.EventFilter, order=f.EventOrder)

    # a plain list of rows grouped by a column of another listing: citations of a fact
    citations = citations_of("event_id", description="Where the documents state this event.")

    # anything else Strawberry resolves by itself, and the compiler leaves to it:
    conflicts = strawberry_only(strawberry.field(resolver=..., description="..."), "why")

A field whose shape is none of these (a lookup, `node`, `coChairs`) is a `strawberry.field`
wrapped by `compiled(field, spec)` with a spec the compiler knows. A new field of an existing
shape needs no change to the compiler; a new shape needs a spec class here, its resolver, and
its SQL in the compiler (or `strawberry_only`, so the fast path leaves it to Strawberry).

A generated resolver's annotations are resolved in the declaring module's namespace (a
reference's target lazily in `app.schema.types`), so declarations can name types defined
later in their module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from sqlalchemy.engine import Row
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField

from app.data import paging
from app.data.ids import encode_id
from app.data.listings import BASE, ORDERINGS, RELATIONS, citations, documents
from app.data.paging import encode_cursor, page_window
from app.schema.filters import DEFAULT_ORDER, OrderDirection
from app.schema.relay import Connection, Edge, PageInfo
from app.schema.runtime import Context, Info
from app.schema.specs import (
    BOUND,
    SPEC,
    Column,
    ConnectionOf,
    DatePart,
    Embedded,
    GlobalId,
    PartialDateOf,
    Reference,
    RowsOf,
    Spec,
    Special,
    StrawberryOnly,
    Structural,
)

TYPES_MODULE = "app.schema.types"

FIRST = "Return the first n items (1 to 100; 20 when neither `first` nor `last` is given)."
AFTER = "Return items after this cursor."
LAST = "Return the last n items (1 to 100)."
BEFORE = "Return items before this cursor."

# The paging arguments every connection field takes.
First = Annotated[int | None, strawberry.argument(description=FIRST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]
Last = Annotated[int | None, strawberry.argument(description=LAST)]
Before = Annotated[str | None, strawberry.argument(description=BEFORE)]
PAGING = ("first", "after", "last", "before")


def spec_of(field: StrawberryField) -> Spec | None:
    found = field.metadata.get(SPEC) if field.metadata else None
    return found if isinstance(found, Spec) else None


# -- registry of row types -------------------------------------------------------------------

ROW_TYPES: dict[str, Any] = {}
"""GraphQL type name -> the Strawberry class made from a row (filled by `row_type`)."""

NODE_TYPES: dict[str, Any] = {}
"""The Node types among them."""

_READERS: dict[type, list[tuple[str, Callable[[Row[Any]], Any]]]] = {}


def row_type(cls: Any) -> Any:
    """Register a Strawberry type built from rows (`cls.from_row(row)` reads its columns)."""
    name = cls.__strawberry_definition__.name
    ROW_TYPES[name] = cls
    if any(base.__name__ == "Node" for base in cls.__mro__[1:]):
        NODE_TYPES[name] = cls
    return cls


def _reader(field: StrawberryField, spec: Spec) -> Callable[[Row[Any]], Any] | None:
    if isinstance(spec, PartialDateOf):
        prefix = spec.prefix or field.python_name
        value_type = field.type.of_type if isinstance(field.type, StrawberryOptional) else field.type
        return lambda row: value_type.of(row, prefix)  # type: ignore[union-attr]  # PartialDate (app.schema.values)
    if not isinstance(spec, Column):
        return None
    name = spec.column or field.python_name
    kind = field.type
    if isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    wrapped = getattr(kind, "wrapped_cls", None)
    if isinstance(wrapped, type) and issubclass(wrapped, Enum):
        enum = wrapped
        return lambda row: None if row._mapping[name] is None else enum[row._mapping[name]]
    if isinstance(kind, StrawberryList):
        return lambda row: list(row._mapping[name] or [])
    if kind is float:
        return lambda row: None if row._mapping[name] is None else float(row._mapping[name])
    return lambda row: row._mapping[name]


def from_row(cls: Any, row: Row[Any]) -> Any:
    """An instance of a row type: its columns read by their declarations, the row kept for the rest."""
    readers = _READERS.get(cls)
    if readers is None:
        readers = []
        for field in cls.__strawberry_definition__.fields:
            spec = spec_of(field)
            reader = _reader(field, spec) if spec is not None else None
            if reader is not None:
                readers.append((field.python_name, reader))
        _READERS[cls] = readers
    values = {name: read(row) for name, read in readers}
    if cls.__strawberry_definition__.name in NODE_TYPES:
        values["id"] = strawberry.ID(encode_id(cls.__strawberry_definition__.name, row.id))
    return cls(row=row, **values)


# -- declarations ----------------------------------------------------------------------------


def _field(resolver: Callable[..., Any], annotations: dict[str, Any], description: str, spec: Spec) -> Any:
    """A Strawberry field resolved by `resolver`, its parameters and result typed by `annotations` (objects,
    never strings: a type declared later is named lazily in app.schema.types)."""
    resolver.__annotations__ = annotations
    return strawberry.field(resolver=resolver, description=description, metadata={SPEC: spec})


def _lazy(type_name: str) -> Any:
    """A type of app.schema.types (which imports the value types too), named before it is declared."""
    return Annotated[type_name, strawberry.lazy(TYPES_MODULE)]


def column(name: str | None = None, *, description: str, deprecation_reason: str | None = None) -> Any:
    return strawberry.field(
        description=description, deprecation_reason=deprecation_reason, metadata={SPEC: Column(column=name)}
    )


def global_id(*, description: str) -> Any:
    return strawberry.field(description=description, metadata={SPEC: GlobalId()})


def date_part(*, description: str) -> Any:
    return strawberry.field(description=description, metadata={SPEC: DatePart()})


def partial_date(prefix: str | None = None, *, description: str) -> Any:
    return strawberry.field(description=description, metadata={SPEC: PartialDateOf(prefix=prefix)})


def structural(*, description: str) -> Any:
    return strawberry.field(description=description, metadata={SPEC: Structural()})


def structural_resolver(field: Any) -> Any:
    field.metadata = {**(field.metadata or {}), SPEC: Structural()}
    return field


def reference(column: str, target: str, *, description: str) -> Any:
    nullable = target.replace(" ", "").endswith("|None")
    type_name = target.split("|")[0].strip()

    async def resolve(self: Any, info: Info) -> Any:
        pk = getattr(self.row, column)
        if pk is None:
            return None
        return await load_node(info, type_name, pk)

    spec = Reference(column=column, target=type_name, nullable=nullable)
    returned: Any = _lazy(type_name)
    return _field(resolve, {"info": Info, "return": returned | None if nullable else returned}, description, spec)


def embedded(target: str, present: str, *, description: str, nullable: bool = True) -> Any:
    """An object of type `target` read from this row's own columns; null when the column `present` is NULL."""

    async def resolve(self: Any, info: Info) -> Any:
        if self.row._mapping[present] is None:
            return None
        return from_row(ROW_TYPES[target], self.row)

    returned: Any = _lazy(target)
    spec = Embedded(target=target, present=present)
    return _field(resolve, {"info": Info, "return": returned | None if nullable else returned}, description, spec)


def connection(
    relation: str,
    *,
    description: str,
    filter: Any = None,
    order: Any = None,
    connection_type: Any = None,
    edge_type: Any = None,
) -> Any:
    """A nested connection; `connection_type` and `edge_type` give its edges fields of their own
    (the participants edge's `role`), declared as columns of the relation's rows."""
    entity = RELATIONS[relation].entity

    async def resolve(self: Any, info: Info, **args: Any) -> Any:
        return await nested_connection(info, relation, self.row.id, args, connection_type, edge_type)

    return _paged(resolve, entity, description, filter, order, relation, connection_type)


def root_connection(entity: str, *, description: str, filter: Any = None, order: Any = None) -> Any:
    async def resolve(self: Any, info: Info, **args: Any) -> Any:
        return await root_listing(info, entity, args)

    return _paged(resolve, entity, description, filter, order, None)


def _paged(
    resolve: Callable[..., Any],
    entity: str,
    description: str,
    filter: Any,
    order: Any,
    relation: Any,
    connection_type: Any = None,
) -> Any:
    """The connection field: Relay's paging arguments, and `filter` and `orderBy` where the list has them."""
    resolver = _PAGED_RESOLVERS[(filter is not None, order is not None)](resolve)
    annotations: dict[str, Any] = {"info": Info, "first": First, "after": After, "last": Last, "before": Before}
    names = list(PAGING)
    if filter is not None:
        annotations["filter"] = Annotated[filter | None, strawberry.argument(description="Which to list.")]
        names.append("filter")
    if order is not None:
        annotations["order_by"] = Annotated[order | None, strawberry.argument(description="How to order.")]
        names.append("order_by")
    item: Any = _lazy(entity)
    annotations["return"] = connection_type if connection_type is not None else Connection[item]
    arguments = tuple("orderBy" if n == "order_by" else n for n in names)
    spec = ConnectionOf(arguments=arguments, entity=entity, relation=relation, filter=filter, order=order)
    return _field(resolver, annotations, description, spec)


def _paging_only(resolve: Callable[..., Any]) -> Callable[..., Any]:
    async def resolver(
        self: Any, info: Any, first: Any = None, after: Any = None, last: Any = None, before: Any = None
    ) -> Any:
        return await resolve(self, info, first=first, after=after, last=last, before=before)

    return resolver


def _filtered(resolve: Callable[..., Any]) -> Callable[..., Any]:
    async def resolver(
        self: Any,
        info: Any,
        first: Any = None,
        after: Any = None,
        last: Any = None,
        before: Any = None,
        filter: Any = None,
    ) -> Any:
        return await resolve(self, info, first=first, after=after, last=last, before=before, filter=filter)

    return resolver


def _ordered(resolve: Callable[..., Any]) -> Callable[..., Any]:
    async def resolver(
        self: Any,
        info: Any,
        first: Any = None,
        after: Any = None,
        last: Any = None,
        before: Any = None,
        order_by: Any = None,
    ) -> Any:
        return await resolve(self, info, first=first, after=after, last=last, before=before, order_by=order_by)

    return resolver


def _filtered_and_ordered(resolve: Callable[..., Any]) -> Callable[..., Any]:
    async def resolver(
        self: Any,
        info: Any,
        first: Any = None,
        after: Any = None,
        last: Any = None,
        before: Any = None,
        filter: Any = None,
        order_by: Any = None,
    ) -> Any:
        return await resolve(
            self, info, first=first, after=after, last=last, before=before, filter=filter, order_by=order_by
        )

    return resolver


# A connection's resolver by (has a filter, has an ordering): explicit parameters, typed per field by `_paged`.
_PAGED_RESOLVERS = {
    (False, False): _paging_only,
    (True, False): _filtered,
    (False, True): _ordered,
    (True, True): _filtered_and_ordered,
}


CITATIONS_IN_ORDER = select(citations).order_by(citations.c.document_id, citations.c.start, citations.c.id)


def citations_of(column: str, *, description: str) -> Any:
    spec = RowsOf(
        entity="Citation", name=f"citations.{column}", statement=CITATIONS_IN_ORDER, parent=citations.c[column]
    )
    return rows_of(spec, description)


def rows_of(spec: RowsOf, description: str) -> Any:
    """A plain list of rows (`spec`), each an object of the type `spec.entity`."""

    async def resolve(self: Any, info: Info) -> Any:
        ctx: Context = info.context

        async def load(keys: Sequence[int]) -> list[list[Row[Any]]]:
            return await paging.rows_grouped_by(ctx.db, spec.name, spec.statement, spec.parent, keys)

        rows = await ctx.loader(("rows", spec.name), load).load(self.row.id)
        return [from_row(ROW_TYPES[spec.entity], row) for row in rows]

    item: Any = _lazy(spec.entity)
    return _field(resolve, {"info": Info, "return": list[item]}, description, spec)


def compiled(field: Any, spec: Spec) -> Any:
    """A hand-written Strawberry field whose shape the compiler knows by its spec."""
    field.metadata = {**(field.metadata or {}), SPEC: spec}
    return field


def strawberry_only(field: Any, reason: str) -> Any:
    """A field Strawberry alone resolves: a query selecting it is answered by Strawberry."""
    field.metadata = {**(field.metadata or {}), SPEC: StrawberryOnly(reason=reason)}
    return field


def compiled_as(kind: str, *arguments: str) -> Any:
    """Decorator form of `compiled` for a hand-written field the compiler knows by `kind`."""
    return lambda field: compiled(field, Special(arguments=arguments, kind=kind))


def bounded(bound: Callable[[dict[str, Any]], int]) -> Any:
    """Decorator declaring a list field's bound (`specs.BOUND`): the most items it returns, from its arguments."""

    def declare(field: Any) -> Any:
        field.metadata = {**(field.metadata or {}), BOUND: bound}
        return field

    return declare


def bound_of(field: StrawberryField) -> Callable[[dict[str, Any]], int] | None:
    """A field's declared bound (`bounded`), or None."""
    found = field.metadata.get(BOUND) if field.metadata else None
    return found if callable(found) else None


def strawberry_only_as(reason: str) -> Any:
    """Decorator form of `strawberry_only`."""
    return lambda field: strawberry_only(field, reason)


# -- Strawberry's side: loading rows ---------------------------------------------------------


DOCUMENT_TEXT = select(documents.c.id, documents.c.text)


async def load_node(info: Info, type_name: str, pk: int) -> Any:
    """One object by primary key, batched with every other load of its type in the request."""
    ctx: Context = info.context
    table = NODE_TABLES[type_name]

    async def load(keys: Sequence[int]) -> list[Row[Any] | None]:
        return await paging.rows_by_key(ctx.db, ("node", type_name), BASE[type_name], table.c.id, keys)

    row = await ctx.loader(("node", type_name), load).load(pk)
    return None if row is None else from_row(ROW_TYPES[type_name], row)


# The tables of the types a to-one reference can load by primary key: the Node types, and Place.
NODE_TABLES = {
    name: BASE[name].selected_columns.id.table
    for name in ("Organization", "Country", "Membership", "Chairmanship", "Event", "Statistic", "Document", "Place")
}


def ordering(entity: str, order_by: Any) -> tuple[str, list[paging.SortKey]]:
    """The cursor tag and sort keys of a listing's ordering (its default when `order_by` is None)."""
    field_name = order_by.field.name if order_by is not None else DEFAULT_ORDER[entity]
    descending = order_by is not None and order_by.direction is OrderDirection.DESC
    tag = f"{entity}:{field_name}:{'DESC' if descending else 'ASC'}"
    return tag, ORDERINGS[entity][field_name](descending)


def window(ctx: Context, tag: str, keys: list[paging.SortKey], args: dict[str, Any]) -> paging.Window:
    return page_window(
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
        tag=tag,
        keys=keys,
        default_size=ctx.settings.default_page_size,
        max_size=ctx.settings.max_page_size,
    )


def edge_of(edge_type: Any, row: Row[Any], cursor: str, node: Any) -> Any:
    """An edge of a type with fields of its own: each read from the row by its declaration."""
    values = {}
    for field in edge_type.__strawberry_definition__.fields:
        spec = spec_of(field)
        reader = _reader(field, spec) if isinstance(spec, Column) else None
        if reader is not None:
            values[field.python_name] = reader(row)
    return edge_type(row=row, cursor=cursor, node=node, **values)


def build_connection(
    entity: str,
    page: paging.Page,
    tag: str,
    keys: list[paging.SortKey],
    counter: Any,
    connection_type: Any = None,
    edge_type: Any = None,
) -> Any:
    items = [from_row(ROW_TYPES[entity], row) for row in page.rows]
    cursors = [encode_cursor(tag, paging.cursor_values(row, keys)) for row in page.rows]
    if edge_type is None:
        edges = [Edge(cursor=cursor, node=item) for cursor, item in zip(cursors, items, strict=True)]
    else:
        edges = [
            edge_of(edge_type, row, cursor, item) for row, cursor, item in zip(page.rows, cursors, items, strict=True)
        ]
    return (connection_type or Connection)(
        edges=edges,
        nodes=items,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        counter=counter,
    )


async def root_listing(info: Info, entity: str, args: dict[str, Any]) -> Any:
    """A root list: filtered in SQL, read by keyset, counted only when `totalCount` is asked."""
    ctx: Context = info.context
    tag, keys = ordering(entity, args.get("order_by"))
    requested = window(ctx, tag, keys, args)
    statement = BASE[entity]
    await check_filter(ctx, args.get("filter"))
    if args.get("filter") is not None:
        statement = statement.where(*args["filter"].conditions())
    name = (entity, tag, repr(args.get("filter")))
    page = await paging.fetch_page(ctx.db, name, statement, keys, requested)

    async def counter() -> int:
        return await paging.count(ctx.db, name, statement)

    return build_connection(entity, page, tag, keys, counter)


async def nested_connection(
    info: Info,
    relation_name: str,
    parent_id: int,
    args: dict[str, Any],
    connection_type: Any = None,
    edge_type: Any = None,
) -> Any:
    """A page of one parent's children, loaded with every sibling parent's in one statement."""
    ctx: Context = info.context
    relation = RELATIONS[relation_name]
    tag, keys = ordering(relation.entity, args.get("order_by"))
    requested = window(ctx, tag, keys, args)
    statement = relation.statement
    filter_input = args.get("filter")
    await check_filter(ctx, filter_input)
    if filter_input is not None:
        statement = statement.where(*relation_conditions(filter_input, relation))
    statement_name = (relation_name, tag, repr(filter_input))
    identity = (relation_name, tag, requested, repr(filter_input))

    async def load_pages(parent_ids: Sequence[int]) -> list[paging.Page]:
        return await paging.fetch_pages(ctx.db, statement_name, statement, relation.parent, parent_ids, keys, requested)

    async def load_counts(parent_ids: Sequence[int]) -> list[int]:
        counted = relation.counted(statement, filter_input is not None)
        return await paging.count_by_parent(ctx.db, statement_name, counted, relation.parent, parent_ids)

    page = await ctx.loader(("page", *identity), load_pages).load(parent_id)

    async def counter() -> int:
        return await ctx.loader(("count", relation_name, repr(filter_input)), load_counts).load(parent_id)

    return build_connection(relation.entity, page, tag, keys, counter, connection_type, edge_type)


def relation_conditions(filter_input: Any, relation: Any) -> list[Any]:
    """A nested list's filter conditions: a country's events filter on that country's participation."""
    if relation.participation is not None:
        return list(filter_input.conditions(participation=relation.participation))
    return list(filter_input.conditions())


async def check_filter(ctx: Context, filter_input: Any) -> None:
    """Refuse a filter naming what does not exist (an unknown `within`), with BadUserInput; both paths call it."""
    if filter_input is not None and hasattr(filter_input, "check"):
        await filter_input.check(ctx)


# -- coverage --------------------------------------------------------------------------------


def uncovered(schema: Any) -> list[str]:
    """What the compiler would meet undeclared: every field of every object type reachable from
    `Query` through compiled fields that is neither declared for the compiler nor marked
    Strawberry-only, and every argument of a compiled field its declaration does not know."""
    from graphql import GraphQLObjectType, get_named_type, is_abstract_type

    problems: list[str] = []
    converter = schema.config.name_converter
    graphql_schema = schema._schema
    seen: set[str] = set()
    todo = ["Query"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        graphql_type = graphql_schema.get_type(name)
        if is_abstract_type(graphql_type):
            todo.extend(t.name for t in graphql_schema.get_possible_types(graphql_type))
            continue
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        definition = schema.get_type_by_name(name)
        by_name = {converter.get_graphql_name(f): f for f in definition.fields}
        for field_name, graphql_field in graphql_type.fields.items():
            strawberry_field = by_name.get(field_name)
            spec = spec_of(strawberry_field) if strawberry_field is not None else None
            if spec is None:
                problems.append(f"{name}.{field_name}: neither compiled nor marked strawberry_only")
                continue
            if isinstance(spec, StrawberryOnly):
                continue
            for argument in graphql_field.args:
                if argument not in spec.arguments:
                    problems.append(f"{name}.{field_name}({argument}:): an argument the compiler does not know")
            todo.append(get_named_type(graphql_field.type).name)
    return sorted(problems)


__all__ = [
    "After",
    "Before",
    "First",
    "Last",
    "column",
    "compiled",
    "connection",
    "partial_date",
    "reference",
    "root_connection",
    "strawberry_only",
]
