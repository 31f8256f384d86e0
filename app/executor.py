"""A batch executor for validated queries: one level of the tree at a time, straight from Core rows.

Strawberry resolves each field of each object through its own machinery (about 8 µs a field);
a nested page of 600 objects spends most of its time there. This executor walks the validated
document once per request and resolves every field for all objects of a level together,
reusing the same batched reads (`app.queries`) and the same argument, filter, ordering and
paging rules as the schema, so results are identical (tests compare both paths).

It covers the data fields of the schema. Anything else (introspection, search, a field it
does not know, any error) raises `Unsupported` or the error, and the caller runs the query
through Strawberry instead, so errors and limits keep one implementation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLFloat,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values, get_variable_values
from sqlalchemy.engine import Row
from strawberry.types.arguments import convert_arguments

from app import queries
from app.schema.context import Context
from app.schema.fields import (
    DOCUMENT_TEXT,
    NODE_TABLES,
    NODE_TYPES,
    check_filter,
    ordering,
    relation_conditions,
    spec_of,
    window,
)
from app.schema.listings import BASE, RELATIONS, countries, documents
from app.schema.query import organization_lookup
from app.schema.relay import decode_id, encode_cursor, encode_id
from app.schema.specs import (
    Column,
    ConnectionOf,
    GlobalId,
    PartialDateOf,
    Reference,
    RowsOf,
    Spec,
    Special,
    StrawberryOnly,
)

Out = dict[str, Any]


class Unsupported(Exception):
    """The query uses something this executor does not cover; run it through Strawberry."""


# -- what each type's fields are: their declarations (app/schema/fields.py) -------------------


@functools.cache
def _declared(schema: Any, type_name: str) -> dict[str, tuple[Any, Spec | None]]:
    """GraphQL field name -> (the Strawberry field, its spec) of a type."""
    definition = schema.get_type_by_name(type_name)
    converter = schema.config.name_converter
    return {converter.get_graphql_name(f): (f, spec_of(f)) for f in definition.fields}


def _column_reader(field: Any, spec: Column, graphql_type: Any) -> Callable[[Row[Any]], Any]:
    name = spec.column or field.python_name
    named = get_nullable_type(graphql_type)
    if isinstance(named, GraphQLList):
        return lambda r: list(r._mapping[name] or [])
    if named is GraphQLFloat:
        return lambda r: None if r._mapping[name] is None else float(r._mapping[name])
    return lambda r: r._mapping[name]


def _partial_date(row: Row[Any], prefix: str, fields: list[tuple[str, str]]) -> Out | None:
    edtf = getattr(row, f"{prefix}_edtf")
    if edtf is None:
        return None
    out: Out = {}
    for key, name in fields:
        if name == "edtf":
            out[key] = edtf
        elif name in ("earliest", "latest"):
            value: dt.date = getattr(row, f"{prefix}_{name}")
            out[key] = value.isoformat()
        elif name == "__typename":
            out[key] = "PartialDate"
        else:
            out[key] = getattr(row, f"{prefix}_{name}")
    return out


class _Request:
    """One execution: the document's fragments, the coerced variables, the context."""

    def __init__(self, schema: Any, document: DocumentNode, variables: VariableValues, context: Context) -> None:
        self.schema = schema
        self.graphql_schema = schema._schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.ctx = context
        self.db = context.db
        self.batches: dict[str, tuple[dict[int, None], asyncio.Future[dict[int, Row[Any]]]]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    # -- selections --------------------------------------------------------------------------

    def _included(self, node: Any) -> bool:
        if not node.directives:
            return True
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include.get("if") is False)

    def _applies(self, condition: str | None, type_name: str) -> bool:
        if condition is None or condition == type_name:
            return True
        graphql_type = self.graphql_schema.get_type(type_name)
        if isinstance(graphql_type, GraphQLObjectType):
            return any(interface.name == condition for interface in graphql_type.interfaces)
        return False

    def collect(self, type_name: str, selection_sets: Sequence[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        """Response key -> field nodes, in document order, fragments and directives applied."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition.name.value if selection.type_condition else None
                    if self._applies(condition, type_name):
                        visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if getattr(selection, "arguments", None):
                        raise Unsupported("fragment arguments")
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.fragments[name]
                    if self._applies(fragment.type_condition.name.value, type_name):
                        visit(fragment.selection_set)

        for selection_set in selection_sets:
            visit(selection_set)
        return fields

    @staticmethod
    def sub_selections(nodes: list[FieldNode]) -> list[SelectionSetNode]:
        return [node.selection_set for node in nodes if node.selection_set is not None]

    def arguments(self, parent_type: str, nodes: list[FieldNode]) -> dict[str, Any]:
        """A field's arguments as the schema's resolvers receive them (Python names, input objects)."""
        field_name = nodes[0].name.value
        graphql_type = self.graphql_schema.get_type(parent_type)
        assert isinstance(graphql_type, GraphQLObjectType)
        raw = get_argument_values(graphql_type.fields[field_name], nodes[0], self.variables)
        definition = self.schema.get_type_by_name(parent_type)
        strawberry_field = next(
            f for f in definition.fields if self.schema.config.name_converter.get_graphql_name(f) == field_name
        )
        return convert_arguments(
            raw, strawberry_field.arguments, self.schema.schema_converter.scalar_registry, self.schema.config
        )

    # -- objects -----------------------------------------------------------------------------

    async def objects(
        self, type_name: str, rows: list[Row[Any]], outs: list[Out], selection_sets: list[SelectionSetNode]
    ) -> None:
        """Fill `outs[i]` with the selected fields of `rows[i]`, all rows at once."""
        if not rows:
            return
        fields = self.collect(type_name, selection_sets)
        declared = _declared(self.schema, type_name)
        graphql_type = self.graphql_schema.get_type(type_name)
        pending = []
        referenced: dict[str, list[tuple[str, list[FieldNode], str]]] = {}
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                for out in outs:
                    out[key] = type_name
                continue
            field, spec = declared.get(name, (None, None))
            if spec is None or isinstance(spec, StrawberryOnly):
                raise Unsupported(f"{type_name}.{name}")
            if isinstance(spec, GlobalId):
                for row, out in zip(rows, outs, strict=True):
                    out[key] = encode_id(type_name, row.id)
            elif isinstance(spec, Column):
                getter = _column_reader(field, spec, graphql_type.fields[name].type)
                for row, out in zip(rows, outs, strict=True):
                    out[key] = getter(row)
            elif isinstance(spec, PartialDateOf):
                prefix = spec.prefix or field.python_name
                date_fields = [
                    (k, n[0].name.value) for k, n in self.collect("PartialDate", self.sub_selections(nodes)).items()
                ]
                for row, out in zip(rows, outs, strict=True):
                    out[key] = _partial_date(row, prefix, date_fields)
            else:
                for out in outs:
                    out[key] = None  # placeholder keeps the document's key order
                if isinstance(spec, Reference):
                    referenced.setdefault(spec.target, []).append((key, nodes, spec.column))
                elif isinstance(spec, ConnectionOf) and spec.relation is not None:
                    pending.append(self.nested_connection(type_name, rows, outs, key, nodes, spec.relation))
                elif isinstance(spec, RowsOf):
                    pending.append(self.rows_of(spec, rows, outs, key, nodes))
                elif isinstance(spec, Special) and spec.kind == "document.text":
                    pending.append(self.document_text(rows, outs, key))
                else:
                    raise Unsupported(f"{type_name}.{name}")
        # Siblings run one after another: the request's connection runs one statement at a time.
        # Sibling fields run concurrently so that loads of one type from different branches
        # share a statement, as the request's loaders (app.schema.context.Loader) do.
        steps = [self.references(rows, outs, target, wanted) for target, wanted in referenced.items()]
        await asyncio.gather(*steps, *pending)

    async def nodes_by_id(self, type_name: str, ids: Sequence[int]) -> dict[int, Row[Any]]:
        """Rows by primary key; every request for a type made in the same turn of the loop is one statement."""
        batch = self.batches.get(type_name)
        if batch is None:
            batch = self.batches[type_name] = ({}, asyncio.get_running_loop().create_future())
            asyncio.get_running_loop().call_soon(lambda: self.tasks.add(asyncio.create_task(self._load(type_name))))
        wanted, ready = batch
        wanted.update(dict.fromkeys(ids))
        return await asyncio.shield(ready)

    async def _load(self, type_name: str) -> None:
        await self.db.idle()
        wanted, ready = self.batches.pop(type_name)
        table = NODE_TABLES[type_name]
        unique = list(wanted)
        try:
            rows = await queries.rows_by_key(self.db, ("node", type_name), BASE[type_name], table.c.id, unique)
        except Exception as error:  # noqa: BLE001 - handed to every waiter, which re-raises it
            ready.set_exception(error)
            return
        ready.set_result({pk: row for pk, row in zip(unique, rows, strict=True) if row is not None})

    async def references(
        self, rows: list[Row[Any]], outs: list[Out], target: str, wanted: list[tuple[str, list[FieldNode], str]]
    ) -> None:
        """To-one fields of one target type (chair and predecessor), loaded in one statement."""
        ids = [getattr(row, column) for _key, _nodes, column in wanted for row in rows]
        if not any(pk is not None for pk in ids):
            return
        found = await self.nodes_by_id(target, [pk for pk in ids if pk is not None])
        for key, nodes, column in wanted:
            targets: list[Row[Any]] = []
            target_outs: list[Out] = []
            for row, out in zip(rows, outs, strict=True):
                pk = getattr(row, column)
                related = found.get(pk) if pk is not None else None
                if related is None:
                    continue
                child: Out = {}
                out[key] = child
                targets.append(related)
                target_outs.append(child)
            await self.objects(target, targets, target_outs, self.sub_selections(nodes))

    async def rows_of(
        self, spec: RowsOf, rows: list[Row[Any]], outs: list[Out], key: str, nodes: list[FieldNode]
    ) -> None:
        grouped = await queries.rows_grouped_by(
            self.db, spec.name, spec.statement, spec.parent, [row.id for row in rows]
        )
        await self.lists(spec.entity, grouped, outs, key, nodes)

    async def lists(
        self, type_name: str, grouped: list[list[Row[Any]]], outs: list[Out], key: str, nodes: list[FieldNode]
    ) -> None:
        """Fill a plain list field of each parent, the children of all parents in one batch."""
        all_rows: list[Row[Any]] = []
        all_outs: list[Out] = []
        for group, out in zip(grouped, outs, strict=True):
            children: list[Out] = [{} for _ in group]
            out[key] = children
            all_rows.extend(group)
            all_outs.extend(children)
        await self.objects(type_name, all_rows, all_outs, self.sub_selections(nodes))

    async def document_text(self, rows: list[Row[Any]], outs: list[Out], key: str) -> None:
        texts = await queries.rows_by_key(
            self.db, "document_text", DOCUMENT_TEXT, documents.c.id, [row.id for row in rows]
        )
        for text_row, out in zip(texts, outs, strict=True):
            out[key] = text_row.text if text_row is not None else None

    # -- connections -------------------------------------------------------------------------

    async def nested_connection(
        self,
        parent_type: str,
        rows: list[Row[Any]],
        outs: list[Out],
        key: str,
        nodes: list[FieldNode],
        relation_name: str,
    ) -> None:
        relation = RELATIONS[relation_name]
        args = self.arguments(parent_type, nodes)
        tag, keys = ordering(relation.entity, args.get("order_by"))
        paging = window(self.ctx, tag, keys, args)
        statement = relation.statement
        await check_filter(self.ctx, args.get("filter"))
        if args.get("filter") is not None:
            statement = statement.where(*relation_conditions(args["filter"], relation))
        parent_ids = list(dict.fromkeys(row.id for row in rows))
        name = (relation_name, tag, repr(args.get("filter")))
        pages = await queries.fetch_pages(self.db, name, statement, relation.parent, parent_ids, keys, paging)
        connection_type = get_named_type(
            self.graphql_schema.get_type(parent_type).fields[nodes[0].name.value].type
        ).name
        fields = self.collect(connection_type, self.sub_selections(nodes))
        counts: list[int] | None = None
        if any(n[0].name.value == "totalCount" for n in fields.values()):
            counted = relation.counted(statement, args.get("filter") is not None)
            counts = await queries.count_by_parent(self.db, name, counted, relation.parent, parent_ids)
        by_parent = dict(zip(parent_ids, range(len(parent_ids)), strict=True))
        connection_outs = []
        for row, out in zip(rows, outs, strict=True):
            connection: Out = {}
            out[key] = connection
            connection_outs.append((connection, pages[by_parent[row.id]], counts[by_parent[row.id]] if counts else 0))
        await self.connections(relation.entity, tag, keys, fields, connection_outs, connection_type)

    async def connections(
        self,
        entity: str,
        tag: str,
        keys: list[queries.SortKey],
        fields: dict[str, list[FieldNode]],
        connection_outs: list[tuple[Out, queries.Page, int]],
        connection_type: str | None = None,
    ) -> None:
        """Fill connection objects (edges, nodes, pageInfo, totalCount), their items in one batch per selection.

        An edge type may have fields of its own (the participants edge's `role`): columns of the rows.
        """
        type_name = connection_type or f"{entity}Connection"
        edge_type = type_name.removesuffix("Connection") + "Edge"
        batches: list[tuple[list[Row[Any]], list[Out], list[SelectionSetNode]]] = []
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                for out, _page, _count in connection_outs:
                    out[key] = type_name
            elif name == "totalCount":
                for out, _page, count in connection_outs:
                    out[key] = count
            elif name == "pageInfo":
                info_fields = self.collect("PageInfo", self.sub_selections(nodes))
                for out, page, _count in connection_outs:
                    out[key] = self.page_info(page, tag, keys, info_fields)
            elif name == "nodes":
                rows: list[Row[Any]] = []
                outs: list[Out] = []
                for out, page, _count in connection_outs:
                    items: list[Out] = [{} for _ in page.rows]
                    out[key] = items
                    rows.extend(page.rows)
                    outs.extend(items)
                batches.append((rows, outs, self.sub_selections(nodes)))
            elif name == "edges":
                edge_fields = self.collect(edge_type, self.sub_selections(nodes))
                edge_columns = self.edge_columns(edge_type, edge_fields)
                rows = []
                outs = []
                node_selections: list[SelectionSetNode] = []
                for out, page, _count in connection_outs:
                    edges = []
                    for row in page.rows:
                        edge: Out = {}
                        for edge_key, edge_nodes in edge_fields.items():
                            edge_name = edge_nodes[0].name.value
                            if edge_name == "cursor":
                                edge[edge_key] = encode_cursor(tag, queries.cursor_values(row, keys))
                            elif edge_name == "__typename":
                                edge[edge_key] = edge_type
                            elif edge_name == "node":
                                child: Out = {}
                                edge[edge_key] = child
                                rows.append(row)
                                outs.append(child)
                            elif edge_key in edge_columns:
                                edge[edge_key] = edge_columns[edge_key](row)
                            else:
                                raise Unsupported(f"{edge_type}.{edge_name}")
                        edges.append(edge)
                    out[key] = edges
                for edge_nodes in edge_fields.values():
                    if edge_nodes[0].name.value == "node":
                        node_selections.extend(self.sub_selections(edge_nodes))
                batches.append((rows, outs, node_selections))
            else:
                raise Unsupported(f"{type_name}.{name}")
        for rows, outs, selections in batches:
            await self.objects(entity, rows, outs, selections)

    def edge_columns(
        self, edge_type: str, edge_fields: dict[str, list[FieldNode]]
    ) -> dict[str, Callable[[Row[Any]], Any]]:
        """Readers of an edge type's own fields that are columns of the rows, by response key."""
        declared = _declared(self.schema, edge_type)
        graphql_type = self.graphql_schema.get_type(edge_type)
        readers = {}
        for key, nodes in edge_fields.items():
            field, spec = declared.get(nodes[0].name.value, (None, None))
            if isinstance(spec, Column):
                readers[key] = _column_reader(field, spec, graphql_type.fields[nodes[0].name.value].type)
        return readers

    def page_info(
        self, page: queries.Page, tag: str, keys: list[queries.SortKey], fields: dict[str, list[FieldNode]]
    ) -> Out:
        info: Out = {}
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "hasNextPage":
                info[key] = page.has_next
            elif name == "hasPreviousPage":
                info[key] = page.has_previous
            elif name == "startCursor":
                info[key] = encode_cursor(tag, queries.cursor_values(page.rows[0], keys)) if page.rows else None
            elif name == "endCursor":
                info[key] = encode_cursor(tag, queries.cursor_values(page.rows[-1], keys)) if page.rows else None
            elif name == "__typename":
                info[key] = "PageInfo"
            else:
                raise Unsupported(f"PageInfo.{name}")
        return info

    # -- the root ----------------------------------------------------------------------------

    async def root(self, operation: OperationDefinitionNode) -> Out:
        data: Out = {}
        for key, nodes in self.collect("Query", [operation.selection_set]).items():
            name = nodes[0].name.value
            data[key] = None
            if name == "__typename":
                data[key] = "Query"
                continue
            _field, spec = _declared(self.schema, "Query").get(name, (None, None))
            if isinstance(spec, ConnectionOf):
                data[key] = await self.root_connection(spec.entity, nodes)
            elif name == "organization":
                data[key] = await self.lookup(nodes, "Organization")
            elif name == "country":
                data[key] = await self.lookup(nodes, "Country")
            elif name == "node":
                type_name, pk = decode_id(self.arguments("Query", nodes)["id"], set(NODE_TYPES))
                data[key] = (await self.typed_nodes([(type_name, pk)], nodes))[0]
            elif name == "nodes":
                ids = self.arguments("Query", nodes)["ids"]
                if len(ids) > self.ctx.settings.max_page_size:
                    raise Unsupported("too many ids: let the schema report it")
                data[key] = await self.typed_nodes([decode_id(value, set(NODE_TYPES)) for value in ids], nodes)
            else:
                raise Unsupported(f"Query.{name}")
        return data

    async def root_connection(self, entity: str, nodes: list[FieldNode]) -> Out:
        field_name = nodes[0].name.value
        args = self.arguments("Query", nodes)
        tag, keys = ordering(entity, args.get("order_by"))
        paging = window(self.ctx, tag, keys, args)
        statement = BASE[entity]
        await check_filter(self.ctx, args.get("filter"))
        if args.get("filter") is not None:
            statement = statement.where(*args["filter"].conditions())
        name = (entity, tag, repr(args.get("filter")))
        page = await queries.fetch_page(self.db, name, statement, keys, paging)
        fields = self.collect(f"{entity}Connection", self.sub_selections(nodes))
        count = 0
        if any(n[0].name.value == "totalCount" for n in fields.values()):
            count = await queries.count(self.db, name, statement)
        out: Out = {}
        await self.connections(entity, tag, keys, fields, [(out, page, count)])
        assert field_name
        return out

    async def lookup(self, nodes: list[FieldNode], type_name: str) -> Out | None:
        args = self.arguments("Query", nodes)
        if type_name == "Organization":
            statement = organization_lookup(args["slug"])
        else:
            statement = BASE["Country"].where(countries.c.code == args["code"].strip().upper())
        rows = await self.db.all(statement)
        if not rows:
            return None
        out: Out = {}
        await self.objects(type_name, rows[:1], [out], self.sub_selections(nodes))
        return out

    async def typed_nodes(self, ids: list[tuple[str, int]], nodes: list[FieldNode]) -> list[Out | None]:
        results: list[Out | None] = [None] * len(ids)
        by_type: dict[str, list[int]] = {}
        for index, (type_name, _pk) in enumerate(ids):
            by_type.setdefault(type_name, []).append(index)
        for type_name, indexes in by_type.items():
            found = await self.nodes_by_id(type_name, [ids[i][1] for i in indexes])
            rows, outs = [], []
            for index in indexes:
                row = found.get(ids[index][1])
                if row is None:
                    continue
                out: Out = {}
                results[index] = out
                rows.append(row)
                outs.append(out)
            await self.objects(type_name, rows, outs, self.sub_selections(nodes))
        return results


def unsupported(schema: Any, document: DocumentNode, operation_name: str | None) -> str | None:
    """Why the fast path cannot answer this document (a field it does not cover), or None.

    Decided from the document alone, before any SQL: every field of every branch (whatever
    the directives and type conditions) must be declared for the compiler, and not marked
    Strawberry-only (app/schema/fields.py).
    """
    try:
        operation = operation_of(document, operation_name)
    except Unsupported as reason:
        return str(reason)
    if operation.operation is not OperationType.QUERY:
        return "only queries"
    graphql_schema = schema._schema
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    seen: set[tuple[str, str]] = set()

    def walk(type_name: str, selection_set: SelectionSetNode) -> str | None:
        graphql_type = graphql_schema.get_type(type_name)
        if graphql_type is None:
            return f"unknown type {type_name}"
        concrete = (
            [graphql_type]
            if isinstance(graphql_type, GraphQLObjectType)
            else list(graphql_schema.get_possible_types(graphql_type))
        )
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name == "__typename":
                    continue
                if name.startswith("__") or not any(name in t.fields for t in concrete):
                    return f"{type_name}.{name}"  # introspection, or a field validation will refuse
                for object_type in concrete:
                    if name not in object_type.fields:
                        continue  # a field of another branch of an abstract type
                    _field, spec = _declared(schema, object_type.name).get(name, (None, None))
                    if spec is None or isinstance(spec, StrawberryOnly):
                        return f"{object_type.name}.{name}"
                    if selection.selection_set is not None:
                        target = get_named_type(object_type.fields[name].type).name
                        problem = walk(target, selection.selection_set)
                        if problem is not None:
                            return problem
            elif isinstance(selection, InlineFragmentNode):
                target = selection.type_condition.name.value if selection.type_condition else type_name
                problem = walk(target, selection.selection_set)
                if problem is not None:
                    return problem
            elif isinstance(selection, FragmentSpreadNode):
                key = (type_name, selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is None:
                    return f"unknown fragment {selection.name.value}"
                if key in seen:
                    continue
                seen.add(key)
                problem = walk(fragment.type_condition.name.value, fragment.selection_set)
                if problem is not None:
                    return problem
        return None

    return walk("Query", operation.selection_set)


def operation_of(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            raise Unsupported("operation name needed")
        return operations[0]
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    raise Unsupported("unknown operation")


async def execute(
    schema: Any, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None, context: Context
) -> Out:
    """The `data` of a validated query, or Unsupported / an error for Strawberry to handle."""
    operation = operation_of(document, operation_name)
    if operation.operation is not OperationType.QUERY:
        raise Unsupported("only queries")
    coerced = get_variable_values(schema._schema, operation.variable_definitions or (), variables or {})
    if not isinstance(coerced, VariableValues):
        raise Unsupported("variables do not coerce: let the schema report it")
    request = _Request(schema, document, coerced, context)
    return await request.root(operation)


__all__ = ["Unsupported", "execute", "unsupported"]
