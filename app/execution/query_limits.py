"""Query limits checked before execution: size, tokens, depth, aliases, directives, cost.

One walk over the operation computes every number. Each fragment is summarised once and
reused at every spread, so a document whose fragments spread each other many times (or in
a cycle, which validation then reports) costs time in proportion to its length, never to
its expansion. The numbers themselves are those of the expanded query: an alias inside a
fragment spread five times counts five times.

Cost is the most objects the response can hold: GitHub's node count (each list's size
multiplied along its path) extended to single objects, because an object costs its fields
whether it sits in a list or not, and a chain of single objects (`organization { parent {
parent ... } }`) would otherwise come free under every item. So each object field counts
once per parent instance, and a list field counts its items. A connection's page is its
`first` or `last` (variables resolved and coerced to their types, as execution sees them: a
page size of `100.0` is 100; the default page size when neither is given); a
page selected through both `nodes` and `edges` counts twice, since both appear in the
response, and `edges { node }` counts the edge and the node; a connection selected for
`totalCount` or `pageInfo` alone counts one page, because the page is read anyway.
`nodes(ids:)` counts its IDs; a list that declares its bound (`app.schema.fields.bounded`:
`aggregate` counts its groups; `timeline`'s buckets and their `items(first:)` count what the whole
timeline holds, read once per data version, so a timeline that can answer thousands of objects
costs thousands and takes a heavy slot) counts that; any other list of objects (`citations`,
`coChairs`) counts `OTHER_LIST_ITEMS`. Introspection is counted exactly, from the schema. Page
sizes above the maximum count as the maximum, since the resolver refuses them. On an abstract
type, fragments on its object types count for the costliest of them (an object is of one type);
others count every branch. Scalars count nothing, except the few in
`SCALAR_WEIGHTS` whose values are whole documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_composite_type,
    is_list_type,
    visit,
)
from graphql.execution.values import get_variable_values
from graphql.language import Visitor
from graphql.type import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from app.config import Settings
from app.errors import (
    VALIDATION_FAILED_CODE,
    ApiError,
    IntrospectionDisabled,
    QueryTooComplex,
    QueryTooDeep,
    QueryTooLarge,
    TooManyAliases,
    TooManyDirectives,
)
from app.execution.input_checks import collapse_repeats
from app.request import RequestRecord
from app.schema.fields import bound_of
from app.schema.specs import BOUND_FACTS, BOUND_GROUP_BY, BOUND_PAGE

STRAWBERRY_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF

OTHER_LIST_ITEMS = 10
"""How many items a list of objects other than a page counts as: a fact has a few citations."""

SCALAR_WEIGHTS = {("Document", "text"): 50}
"""Scalars that cost like many objects: a document's whole text (10-25 KB) each time it is selected."""

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass(frozen=True)
class Measure:
    """The numbers of one selection set, for one instance of its parent."""

    cost: int = 0
    depth: int = 0
    aliases: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            self.cost + other.cost,
            max(self.depth, other.depth),
            self.aliases + other.aliases,
        )


class QueryMeasure:
    """Measures the operations of one document against one schema and one set of variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        *,
        default_page_size: int,
        max_page_size: int,
        facts: Any = None,
    ) -> None:
        self.schema = schema
        self.facts = facts  # what the data holds, for the bounds that read it (app.schema.specs.BOUND_FACTS)
        self.group_by: str | None = None  # the nearest enclosing `groupBy` of one value (specs.BOUND_GROUP_BY)
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self.sent: dict[str, Any] = dict(variables or {})
        self.variables: dict[str, Any] = dict(self.sent)
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._fragment_measures: dict[tuple[str, int | None, str | None], Measure] = {}
        self._in_progress: set[tuple[str, int | None, str | None]] = set()
        self._introspection = IntrospectionCount(schema, self.fragments)

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        """The numbers of one operation, on its variables as execution will see them: coerced to their
        types (a page size of `100.0` for an Int is 100, as graphql-core runs it), defaults filled in.
        Variables that cannot be coerced refuse the operation before it runs: it is measured on them as
        they were sent."""
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), self.sent, max_errors=1)
        if isinstance(coerced, list):
            self.variables = dict(self.sent)
            for definition in operation.variable_definitions or ():
                name = definition.variable.name.value
                if name not in self.variables and definition.default_value is not None:
                    self.variables[name] = _literal(definition.default_value, {})
        else:
            self.variables = {name: _by_name(value) for name, value in coerced.coerced.items()}
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return Measure()
        return self._selection_set(root, operation.selection_set, page=None)

    def _selection_set(self, parent: GraphQLNamedType, selection_set: SelectionSetNode, page: int | None) -> Measure:
        """The selection's numbers. On an abstract type, an object is of one type only: fragments on one
        object type each are counted for the costliest of those types, not for all of them together."""
        total = Measure()
        by_type: dict[str, Measure] = {}
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection, page)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                if target is None:
                    continue
                measure = self._selection_set(target, selection.selection_set, page)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                target = self.schema.get_type(fragment.type_condition.name.value) if fragment else None
                measure = self._fragment(selection.name.value, page)
            else:
                continue
            if is_abstract_type(parent) and isinstance(target, GraphQLObjectType) and target is not parent:
                by_type[target.name] = by_type.get(target.name, Measure()) + measure
            else:
                total += measure
        if by_type:
            branches = list(by_type.values())
            costliest = max(branches, key=lambda measure: measure.cost)
            deepest = max(measure.depth for measure in branches)
            total += Measure(costliest.cost, deepest, sum(measure.aliases for measure in branches))
        return total

    def _fragment(self, name: str, page: int | None) -> Measure:
        key = (name, page, self.group_by)
        known = self._fragment_measures.get(key)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or key in self._in_progress:
            return Measure()  # unknown or cyclic: validation reports it
        target = self.schema.get_type(fragment.type_condition.name.value)
        if target is None:
            return Measure()
        self._in_progress.add(key)
        measure = self._selection_set(target, fragment.selection_set, page)
        self._in_progress.discard(key)
        self._fragment_measures[key] = measure
        return measure

    def _field(self, parent: GraphQLNamedType, node: FieldNode, page: int | None) -> Measure:
        aliases = 1 if node.alias else 0
        name = node.name.value
        definition = _field_definition(self.schema, parent, name)
        if definition is None or node.selection_set is None:
            return Measure(cost=SCALAR_WEIGHTS.get((parent.name, name), 0), aliases=aliases, depth=1)
        target = get_named_type(definition.type)
        if not is_composite_type(target):
            return Measure(aliases=aliases, depth=1)
        child_page = self._page_size(node) if _is_connection(target, definition) else None
        outer_group_by = self.group_by
        group_by = self._argument(node, "groupBy")
        if isinstance(group_by, str):
            self.group_by = group_by
        try:
            inner = self._selection_set(target, node.selection_set, child_page)
        finally:
            self.group_by = outer_group_by
        if child_page is not None:
            inner = Measure(max(inner.cost, child_page), inner.depth, inner.aliases)
        if name in INTROSPECTION_ROOTS:
            cost = self._introspection.root(node, self.variables)
            return Measure(cost=cost, depth=0, aliases=aliases + inner.aliases)
        items = self._items(parent, name, node, definition, page)
        depth = inner.depth + 1
        count = items or 1  # objects this field returns per parent
        cost = count + count * inner.cost
        return Measure(cost=cost, depth=depth, aliases=aliases + inner.aliases)

    def _items(
        self, parent: GraphQLNamedType, name: str, node: FieldNode, definition: GraphQLField, page: int | None
    ) -> int:
        """How many items this list field returns per parent; 0 for a single object."""
        if not is_list_type(get_nullable_type(definition.type)):
            return 0
        bound = _declared_bound(definition)
        if bound is not None:
            arguments = {a.name.value: _literal(a.value, self.variables) for a in node.arguments or ()}
            arguments[BOUND_PAGE] = self._page_size(node)
            arguments[BOUND_GROUP_BY] = self.group_by
            if self.facts is not None:
                arguments[BOUND_FACTS] = self.facts
            return max(1, bound(arguments))
        if page is not None and name in ("nodes", "edges"):
            return page
        if name == "nodes" and "ids" in definition.args:
            ids = self._argument(node, "ids")
            return min(len(ids), self.max_page_size) if isinstance(ids, list) else self.max_page_size
        return OTHER_LIST_ITEMS

    def _page_size(self, node: FieldNode) -> int:
        sizes = [size for size in (self._argument(node, "first"), self._argument(node, "last")) if _is_int(size)]
        if not sizes:
            return self.default_page_size
        return max(1, min(max(sizes), self.max_page_size))

    def _argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return _literal(argument.value, self.variables)
        return None


class IntrospectionCount:
    """Exactly how many objects an introspection selection returns from this schema.

    Introspection answers come from the schema, never the database, so they can be counted
    exactly rather than bounded; each (selection set, schema element) pair is counted once,
    so `fields { type { fields { type ... } } }` is counted in time linear in the query and
    the schema, however large the count.
    """

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments
        self._known: dict[tuple[int, int], int] = {}
        self._in_progress: set[tuple[int, int]] = set()

    def root(self, node: FieldNode, variables: Mapping[str, Any]) -> int:
        if node.selection_set is None:
            return 0
        if node.name.value == "__schema":
            return self._count(node.selection_set, self.schema, "__Schema")
        name = next((_literal(a.value, variables) for a in node.arguments or () if a.name.value == "name"), None)
        named = self.schema.get_type(name) if isinstance(name, str) else None
        return self._count(node.selection_set, named, "__Type") if named is not None else 0

    def _count(self, selection_set: SelectionSetNode, element: Any, kind: str) -> int:
        key = (id(selection_set), id(element))
        known = self._known.get(key)
        if known is not None:
            return known
        if key in self._in_progress:
            return 0  # a fragment cycle: validation reports it
        self._in_progress.add(key)
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode) and selection.selection_set is not None:
                for child, child_kind in self._children(kind, selection.name.value, element):
                    total += 1 + self._count(selection.selection_set, child, child_kind)
            elif isinstance(selection, InlineFragmentNode):
                total += self._count(selection.selection_set, element, kind)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in self.fragments:
                total += self._count(self.fragments[selection.name.value].selection_set, element, kind)
        self._in_progress.discard(key)
        self._known[key] = total
        return total

    def _children(self, kind: str, field: str, element: Any) -> list[tuple[Any, str]]:
        """The schema elements a field of an introspection object returns (none, one or many)."""
        if kind == "__Schema":
            if field == "types":
                return [(named, "__Type") for named in self.schema.type_map.values()]
            if field == "directives":
                return [(directive, "__Directive") for directive in self.schema.directives]
            root = {"queryType": "query", "mutationType": "mutation", "subscriptionType": "subscription"}.get(field)
            found = getattr(self.schema, f"{root}_type", None) if root else None
            return [(found, "__Type")] if found is not None else []
        if kind == "__Type":
            return self._type_children(field, element)
        if kind in ("__Field", "__Directive") and field == "args":
            return [(argument, "__InputValue") for argument in element.args.values()]
        if kind in ("__Field", "__InputValue") and field == "type":
            return [(element.type, "__Type")]
        return []

    def _type_children(self, field: str, element: Any) -> list[tuple[Any, str]]:
        if field == "ofType":
            of_type = getattr(element, "of_type", None)
            return [(of_type, "__Type")] if of_type is not None else []
        if field == "fields" and isinstance(element, GraphQLObjectType | GraphQLInterfaceType):
            return [(value, "__Field") for value in element.fields.values()]
        if field == "inputFields" and isinstance(element, GraphQLInputObjectType):
            return [(value, "__InputValue") for value in element.fields.values()]
        if field == "interfaces" and isinstance(element, GraphQLObjectType | GraphQLInterfaceType):
            return [(value, "__Type") for value in element.interfaces]
        if field == "possibleTypes" and is_abstract_type(element):
            return [(value, "__Type") for value in self.schema.get_possible_types(element)]
        if field == "enumValues" and isinstance(element, GraphQLEnumType):
            return [(value, "__EnumValue") for value in element.values.values()]
        return []


def _by_name(value: Any) -> Any:
    """A coerced variable as the cost walk reads arguments: enum values by their names, as literals are."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, list):
        return [_by_name(item) for item in value]
    if isinstance(value, dict):
        return {key: _by_name(item) for key, item in value.items()}
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _literal(value: ValueNode, variables: Mapping[str, Any]) -> Any:
    """The Python value of an argument, variables resolved; None for what is not a plain value."""
    if isinstance(value, VariableNode):
        return variables.get(value.name.value)
    if isinstance(value, IntValueNode):
        return int(value.value)
    if isinstance(value, ListValueNode):
        return [_literal(item, variables) for item in value.values]
    if isinstance(value, NullValueNode):
        return None
    return getattr(value, "value", None)


def _field_definition(schema: GraphQLSchema, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if name == "__schema":
        return SchemaMetaFieldDef
    if name == "__type":
        return TypeMetaFieldDef
    fields = getattr(parent, "fields", None)
    return fields.get(name) if fields is not None else None


def _declared_bound(definition: GraphQLField) -> Callable[[dict[str, Any]], int] | None:
    """The bound a list field declares (`app.schema.fields.bounded`): its most items, from its arguments."""
    declared = (definition.extensions or {}).get(STRAWBERRY_DEFINITION)
    return bound_of(declared) if isinstance(declared, StrawberryField) else None


def _is_connection(target: GraphQLNamedType, definition: GraphQLField) -> bool:
    return target.name.endswith("Connection") and ("first" in definition.args or "last" in definition.args)


def count_directives(document: DocumentNode) -> int:
    """Directives written in the document (each once, as the parser and validator see them)."""
    counter = _DirectiveCounter()
    visit(document, counter)
    return counter.count


class _DirectiveCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, _node: DirectiveNode, *_args: Any) -> None:
        self.count += 1


def uses_introspection(document: DocumentNode) -> bool:
    """Whether any selection asks for `__schema` or `__type` (`__typename` is not introspection)."""
    return any(node.name.value in INTROSPECTION_ROOTS for node in _fields(document))


def _fields(document: DocumentNode) -> Iterator[FieldNode]:
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode):
            yield node
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)


def selected_operations(document: DocumentNode, name: str | None) -> list[OperationDefinitionNode]:
    """The operation that runs; every one when the name does not pick one (validation then complains)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if name is not None and op.name is not None and op.name.value == name]
    return chosen or operations


def check_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    settings: Settings,
    facts: Any = None,
) -> tuple[int, ApiError | None]:
    """(cost of the operation, the first limit it breaks or None); `facts`: what the data holds, for the
    bounds that read it (the executor's; without them such a list counts the most it could ever hold)."""
    if not settings.introspection and uses_introspection(document):
        return 0, IntrospectionDisabled(
            "Introspection is turned off on this server; the schema is documented elsewhere by its owners."
        )
    directives = count_directives(document)
    if directives > settings.max_directives:
        return 0, TooManyDirectives(
            f"The query has {directives} directives; the limit is {settings.max_directives}. "
            "Use fewer @include/@skip, or send separate queries.",
            directives=directives,
            limit=settings.max_directives,
        )
    measure = QueryMeasure(
        schema,
        document,
        variables,
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
        facts=facts,
    )
    operations = selected_operations(document, operation_name)
    measures = [measure.operation(operation) for operation in operations]
    depth = max((m.depth for m in measures), default=0)
    aliases = max((m.aliases for m in measures), default=0)
    cost = max((m.cost for m in measures), default=0)
    if depth > settings.max_query_depth:
        return cost, QueryTooDeep(
            f"The query nests fields {depth} levels deep; the limit is {settings.max_query_depth}. "
            "Ask for fewer nested levels, and fetch deeper objects with `node(id:)` in a second query.",
            depth=depth,
            limit=settings.max_query_depth,
        )
    if aliases > settings.max_aliases:
        return cost, TooManyAliases(
            f"The query uses {aliases} aliases (an alias in a fragment counts at every spread); "
            f"the limit is {settings.max_aliases}. Use `nodes(ids:)` or a filter instead of many aliased fields.",
            aliases=aliases,
            limit=settings.max_aliases,
        )
    if cost > settings.max_query_cost:
        return cost, QueryTooComplex(
            f"The query could return up to {cost:,} objects (each list's `first`/`last` multiplied along its "
            f"path, {settings.default_page_size} where neither is given); the limit is "
            f"{settings.max_query_cost:,}. Ask for smaller pages or fewer nested lists, and page with `after`.",
            cost=cost,
            limit=settings.max_query_cost,
        )
    return cost, None


def _batch_too_complex(total: int, limit: int) -> QueryTooComplex:
    """The operations of one batched request share one budget."""
    return QueryTooComplex(
        f"The batch's operations together could return up to {total:,} objects; the limit is {limit:,} "
        "for the whole request. Send fewer operations per batch, or smaller ones.",
        cost=total,
        limit=limit,
    )


class HeavySlots:
    """A worker's heavy slots: a semaphore whose waits are kept on the request's record (for
    `kb_heavy_slot_wait_seconds`)."""

    def __init__(self, size: int) -> None:
        self._semaphore = asyncio.Semaphore(size)

    @contextlib.asynccontextmanager
    async def taken(self, record: RequestRecord | None) -> AsyncIterator[None]:
        started = time.perf_counter()
        async with self._semaphore:
            if record is not None:
                record.heavy_wait_seconds = time.perf_counter() - started
            yield


_HEAVY_SLOTS: dict[int, HeavySlots] = {}


def heavy_slots(size: int) -> HeavySlots:
    """This process's slots for heavy operations (one event loop per worker process)."""
    slots = _HEAVY_SLOTS.get(size)
    if slots is None:
        slots = _HEAVY_SLOTS[size] = HeavySlots(size)
    return slots


class QueryLimits(SchemaExtension):
    """Refuses a query that breaks a limit, before validation and execution; queues heavy ones.

    The limits come from the request's settings (`info.context.settings`), so each app
    built by `create_app(settings)` enforces its own. An operation costing `heavy_query_cost`
    or more waits for one of the worker's `max_heavy_operations` slots before it executes:
    one worker's event loop then interleaves cheap requests with one big answer instead of
    sixteen, and the wait counts against the request's deadline. A heavy operation's SQLite
    reads go through aiosqlite's thread, so they do not hold the event loop either.
    """

    cost = 0

    def on_parse(self) -> Iterator[None]:
        settings = self._settings()
        query = self.execution_context.query
        if settings is not None:
            if query is not None and self.execution_context.graphql_document is None:
                size = len(query.encode())
                if size > settings.max_query_bytes:
                    raise QueryTooLarge(
                        f"The query is {size:,} bytes; the limit is {settings.max_query_bytes:,}. "
                        "Send a shorter query (fragments help).",
                        bytes=size,
                        limit=settings.max_query_bytes,
                    )
            options: dict[str, Any] = self.execution_context.parse_options  # type: ignore[assignment]
            options.update(max_lexical_tokens=settings.max_tokens, max_comments=settings.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        settings = self._settings()
        document = context.graphql_document
        record = getattr(context.context, "record", None)
        checked = getattr(context.context, "checked_cost", None)
        if checked is not None:
            self.cost = checked  # checked before Strawberry was called (app.execution.executor)
        elif settings is not None and document is not None:
            operation_name = context.operation_name
            operations = selected_operations(document, operation_name)
            facts = getattr(context.context, "cost_facts", None)
            cost, error = check_document(
                context.schema._schema, document, context.variables, operation_name, settings, facts
            )
            self.cost = cost
            if record is not None:
                if len(operations) == 1 and operations[0].name is not None:
                    record.operation = operations[0].name.value
                record.cost += cost
                if error is None and record.cost > settings.max_query_cost:
                    error = _batch_too_complex(record.cost, settings.max_query_cost)
            if error is not None:
                context.pre_execution_errors = [error]
        yield
        if context.pre_execution_errors:
            collapse_repeats(context.pre_execution_errors)
        for reported in context.pre_execution_errors or ():
            if not (reported.extensions or {}).get("code"):
                reported.extensions = {**(reported.extensions or {}), "code": VALIDATION_FAILED_CODE}

    async def on_execute(self) -> AsyncIterator[None]:
        settings = self._settings()
        if settings is None or self.cost < settings.heavy_query_cost:
            yield
            return
        db = getattr(self.execution_context.context, "db", None)
        if db is not None:
            # SQLite: read through aiosqlite's thread, not in the event loop's own thread, so the
            # loop answers other requests while a big page is read (app.data.engine.create_sqlite_reader).
            db.sync_engine = None
        async with heavy_slots(settings.max_heavy_operations).taken(
            getattr(self.execution_context.context, "record", None)
        ):
            yield

    def _settings(self) -> Settings | None:
        return getattr(self.execution_context.context, "settings", None)
