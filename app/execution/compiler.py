"""The compiler: a validated operation over the data fields becomes ONE SQL statement whose one
value is the response's `data`, as JSON text built by the database.

It reads the field declarations (app/schema/fields.py) and nothing else of the schema's
Python: a field declared as a column is read from its column, a partial date from its
`<prefix>_*` columns, a reference by a correlated subquery on its foreign key, a connection
by a correlated subquery reading one page by keyset (`app.data.paging.page_statement`, the
statement Strawberry's path runs too) and numbering it, a list by an ordered subquery.
Objects are `json_build_object`/`json_agg` on PostgreSQL and JSON1's `json_object`/
`json_group_array` on SQLite (3.40 has no ordered aggregates: each list is ordered in its
subquery). Only the columns a query selects are read; `totalCount` is counted only when
selected; cursors and global IDs are made in SQL (PostgreSQL) or by two deterministic
functions registered on each SQLite connection (`app.data.engine`), byte for byte as `app.schema.relay`
makes them. Every value a client sends is a bound parameter.

Arguments are read, and refused (a cursor of another ordering, a page size out of range), before
any SQL: `prepare` raises `Unsupported` for a shape it does not cover and the argument's
`ApiError` for a refused argument; either way Strawberry answers instead, and no SQL has run.
The statement's SQL text is built once per shape: fragments by their listing, columns, ordering,
window shape and filter; the statement by its text (SQLAlchemy then reuses its compiled form).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
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
from sqlalchemy import Select, Table, bindparam, func, literal_column, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import TextClause
from strawberry.types.arguments import convert_arguments

from app.data import aggregates, paging
from app.data.ids import decode_id
from app.data.listings import (
    BASE,
    RELATIONS,
    citations,
    countries,
    documents,
    mentions,
    organization_by_slug,
    uncited_sentences,
)
from app.errors import PageSizeExceeded
from app.schema.aggregate import AggregatePlan
from app.schema.fields import NODE_TABLES, ordering, relation_conditions, spec_of, window
from app.schema.query import NODE_IDS
from app.schema.releases import RELEASE_TYPE
from app.schema.runtime import Context
from app.schema.specs import (
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
)

MAX_KEYS = 50
"""Most keys one JSON object may have (PostgreSQL functions take at most 100 arguments)."""

TABLES: dict[str, Table] = {
    **NODE_TABLES,
    "Citation": citations,
    "Mention": mentions,
    "Passage": uncited_sentences,
    "DocumentCoverage": documents,
}


class Unsupported(Exception):
    """The operation uses something the compiler does not cover: Strawberry answers it."""


# -- the two engines' JSON ---------------------------------------------------------------------


class Json:
    """How one engine builds JSON values in SQL."""

    name = ""

    def obj(self, pairs: Sequence[tuple[str, str]]) -> str:
        raise NotImplementedError

    def agg(self, item: str, order: str, where: str | None) -> str:
        raise NotImplementedError

    def array(self, items: Sequence[str]) -> str:
        raise NotImplementedError

    def boolean(self, condition: str) -> str:
        raise NotImplementedError

    def json_list(self, column: str) -> str:
        raise NotImplementedError

    def global_id(self, type_name: str, pk: str) -> str:
        raise NotImplementedError

    def cursor(self, tag: str, keys: Sequence[tuple[str, type]]) -> str:
        raise NotImplementedError

    def first(self, item: str, order: str, where: str, last: bool) -> str:
        raise NotImplementedError

    def as_text(self, value: str) -> str:
        return value

    def float_value(self, value: str) -> str:
        return value


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _python_float_text(value: str) -> str:
    """PostgreSQL text of a float as Python writes it (1108.0, not 1108), for cursors and values alike."""
    return (
        f"CASE WHEN {value} = trunc({value}) AND abs({value}) < 1e16 "
        f"THEN CAST(CAST({value} AS bigint) AS text) || '.0' ELSE CAST({value} AS text) END"
    )


class PostgresJson(Json):
    name = "postgresql"

    def obj(self, pairs: Sequence[tuple[str, str]]) -> str:
        return "json_build_object(" + ", ".join(f"{_literal(k)}, {v}" for k, v in pairs) + ")"

    def agg(self, item: str, order: str, where: str | None) -> str:
        filtered = f" FILTER (WHERE {where})" if where else ""
        return f"COALESCE(json_agg({item} ORDER BY {order}){filtered}, CAST('[]' AS json))"

    def array(self, items: Sequence[str]) -> str:
        return "json_build_array(" + ", ".join(items) + ")" if items else "CAST('[]' AS json)"

    def boolean(self, condition: str) -> str:
        return f"({condition})"

    def json_list(self, column: str) -> str:
        return f"COALESCE(CAST({column} AS json), CAST('[]' AS json))"

    def global_id(self, type_name: str, pk: str) -> str:
        return f"encode(convert_to({_literal(type_name + ':')} || CAST({pk} AS text), 'UTF8'), 'base64')"

    def cursor(self, tag: str, keys: Sequence[tuple[str, type]]) -> str:
        parts = []
        for expression, python_type in keys:
            if python_type is float:
                value = _python_float_text(expression)
            elif python_type is int:
                value = f"CAST({expression} AS text)"
            else:
                value = f"CAST(to_json({expression}) AS text)"
            parts.append(f"COALESCE({value}, 'null')")
        payload = f"{_literal('[' + orjson_string(tag) + ',[')} || " + " || ',' || ".join(parts) + " || ']]'"
        encoded = f"replace(encode(convert_to({payload}, 'UTF8'), 'base64'), chr(10), '')"
        return f"rtrim(translate({encoded}, '+/', '-_'), '=')"

    def first(self, item: str, order: str, where: str, last: bool) -> str:
        return f"(array_agg({item} ORDER BY {order}) FILTER (WHERE {where}))[1]"

    def as_text(self, value: str) -> str:
        return f"CAST({value} AS text)"

    def float_value(self, value: str) -> str:
        # `json` keeps the text it is given.
        return f"CAST({_python_float_text(value)} AS json)"


class SqliteJson(Json):
    name = "sqlite"

    def obj(self, pairs: Sequence[tuple[str, str]]) -> str:
        return "json_object(" + ", ".join(f"{_literal(k)}, {v}" for k, v in pairs) + ")"

    def agg(self, item: str, order: str, where: str | None) -> str:
        # SQLite 3.40 has no ordered aggregates: the rows come ordered from the subquery.
        filtered = f" FILTER (WHERE {where})" if where else ""
        return f"json_group_array({item}){filtered}"

    def array(self, items: Sequence[str]) -> str:
        return "json_array(" + ", ".join(items) + ")"

    def boolean(self, condition: str) -> str:
        return f"CASE WHEN {condition} THEN json('true') ELSE json('false') END"

    def json_list(self, column: str) -> str:
        return f"json(COALESCE({column}, '[]'))"

    def global_id(self, type_name: str, pk: str) -> str:
        return f"kb_id({_literal(type_name)}, {pk})"

    def cursor(self, tag: str, keys: Sequence[tuple[str, type]]) -> str:
        return f"kb_cursor({_literal(tag)}, " + ", ".join(expression for expression, _t in keys) + ")"

    def first(self, item: str, order: str, where: str, last: bool) -> str:
        return f"json_extract(json_group_array({item}) FILTER (WHERE {where}), '$[{'#-1' if last else '0'}]')"


def orjson_string(value: str) -> str:
    import orjson

    return orjson.dumps(value).decode()


# -- fragments: SQLAlchemy statements as SQL text with uniquely named parameters ----------------

_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)(::)?")


class _Fragments:
    """SQL text of SQLAlchemy statements, by shape; bounded (LRU)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[Any, dict[str, Any]]] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], tuple[Any, dict[str, Any]]]) -> tuple[Any, dict[str, Any]]:
        found = self._items.get(key)
        if found is None:
            found = self._items[key] = build()
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return found


fragments = _Fragments()
statements = _Fragments(1024)


def render(statement: Any, dialect: Dialect, names: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`statement` as SQL text for `dialect`, each parameter not named `{names}...` renamed so, and
    the values it holds (processed for the driver); `values` give the named parameters' values."""
    compiled = statement.params(**values).compile(dialect=dialect)
    expanded = compiled.construct_expanded_state()
    processors = {**compiled._bind_processors, **expanded.processors}
    renamed: dict[str, str] = {}
    params: dict[str, Any] = {}
    for name, value in expanded.parameters.items():
        new = name if name.startswith(names) else f"{names}{name}"
        renamed[name] = new
        processor = processors.get(name)
        params[new] = processor(value) if processor is not None and value is not None else value
    # `:name::TYPE` (asyncpg's casts) becomes `:name ::TYPE`, which `text()` reads as a parameter.
    sql = _PARAMETER.sub(
        lambda m: ":" + renamed.get(m.group(1), m.group(1)) + (" ::" if m.group(2) else ""), expanded.statement
    )
    return sql, params


# -- the walk ------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """A compiled operation: the statement and its parameters, ready to run."""

    statement: TextClause | None
    params: dict[str, Any]
    operation: OperationDefinitionNode
    constant: str | None = None  # the data's JSON when no field reads the database (`{ __typename }`)


class _Walk:
    def __init__(
        self, schema: Any, document: DocumentNode, variables: VariableValues, ctx: Context, dialect: Dialect
    ) -> None:
        self.schema = schema
        self.graphql_schema = schema._schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.ctx = ctx
        self.dialect = dialect
        self.json: Json = PostgresJson() if dialect.name == "postgresql" else SqliteJson()
        self.params: dict[str, Any] = {}
        self.counter = 0

    def next(self, letter: str) -> str:
        self.counter += 1
        return f"{letter}{self.counter}"

    # -- selections (as graphql-core collects them) ------------------------------------------------

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
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.fragments[name]
                    if self._applies(fragment.type_condition.name.value, type_name):
                        visit(fragment.selection_set)

        for selection_set in selection_sets:
            visit(selection_set)
        if len(fields) > MAX_KEYS:
            raise Unsupported(f"more than {MAX_KEYS} fields in one object")
        return fields

    @staticmethod
    def subs(nodes: list[FieldNode]) -> list[SelectionSetNode]:
        return [node.selection_set for node in nodes if node.selection_set is not None]

    def declared(self, type_name: str, field_name: str) -> tuple[Any, Spec]:
        found = _declared(self.schema, type_name).get(field_name)
        if found is None or found[1] is None or isinstance(found[1], StrawberryOnly):
            raise Unsupported(f"{type_name}.{field_name}")
        return found  # type: ignore[return-value]

    def arguments(self, parent_type: str, nodes: list[FieldNode]) -> dict[str, Any]:
        """A field's arguments as the schema's resolvers receive them (Python names, input objects)."""
        field_name = nodes[0].name.value
        graphql_type = self.graphql_schema.get_type(parent_type)
        raw = get_argument_values(graphql_type.fields[field_name], nodes[0], self.variables)
        strawberry_field = _declared(self.schema, parent_type)[field_name][0]
        return convert_arguments(
            raw, strawberry_field.arguments, self.schema.schema_converter.scalar_registry, self.schema.config
        )

    # -- objects -----------------------------------------------------------------------------------

    def obj(self, type_name: str, alias: str, columns: set[str], selection_sets: list[SelectionSetNode]) -> str:
        """The JSON object of the row `alias` of `type_name`; `columns` collects the columns it reads."""
        graphql_type = self.graphql_schema.get_type(type_name)
        pairs: list[tuple[str, str]] = []
        for key, nodes in self.collect(type_name, selection_sets).items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, _literal(type_name)))
                continue
            field, spec = self.declared(type_name, name)
            if isinstance(spec, GlobalId):
                columns.add("id")
                pairs.append((key, self.json.global_id(type_name, f"{alias}.id")))
            elif isinstance(spec, Column):
                column = spec.column or field.python_name
                columns.add(column)
                named = get_nullable_type(graphql_type.fields[name].type)
                value = f"{alias}.{column}"
                if isinstance(named, GraphQLList):
                    value = self.json.json_list(value)
                elif named is GraphQLFloat:
                    value = self.json.float_value(value)
                elif named is GraphQLBoolean:  # SQLite keeps 0/1: a JSON true/false on both engines
                    value = self.json.boolean(value)
                pairs.append((key, value))
            elif isinstance(spec, PartialDateOf):
                pairs.append((key, self.partial_date(alias, spec.prefix or field.python_name, columns, nodes)))
            elif isinstance(spec, Reference):
                columns.add(spec.column)
                pairs.append((key, self.reference(spec, f"{alias}.{spec.column}", nodes)))
            elif isinstance(spec, Embedded):
                columns.add(spec.present)
                built = self.obj(spec.target, alias, columns, self.subs(nodes))
                pairs.append((key, f"CASE WHEN {alias}.{spec.present} IS NULL THEN NULL ELSE {built} END"))
            elif isinstance(spec, ConnectionOf) and spec.relation is not None:
                columns.add("id")
                args = self.arguments(type_name, nodes)
                connection_type = get_named_type(graphql_type.fields[name].type).name
                relation = RELATIONS[spec.relation]
                pairs.append((key, self.connection(spec.entity, args, nodes, relation, alias, connection_type)))
            elif isinstance(spec, RowsOf):
                columns.add("id")
                pairs.append((key, self.rows_of(spec, alias, nodes)))
            elif isinstance(spec, Special) and spec.kind == "document.text":
                columns.add("text")
                pairs.append((key, f"{alias}.text"))
            else:
                raise Unsupported(f"{type_name}.{name}")
        return self.json.obj(pairs)

    def partial_date(self, alias: str, prefix: str, columns: set[str], nodes: list[FieldNode]) -> str:
        columns.add(f"{prefix}_edtf")
        pairs = []
        for key, part_nodes in self.collect("PartialDate", self.subs(nodes)).items():
            part = part_nodes[0].name.value
            if part == "__typename":
                pairs.append((key, "'PartialDate'"))
                continue
            _field, spec = self.declared("PartialDate", part)
            assert isinstance(spec, DatePart)
            columns.add(f"{prefix}_{part}")
            pairs.append((key, f"{alias}.{prefix}_{part}"))
        return f"CASE WHEN {alias}.{prefix}_edtf IS NULL THEN NULL ELSE {self.json.obj(pairs)} END"

    def reference(self, spec: Reference, foreign_key: str, nodes: list[FieldNode]) -> str:
        alias = self.next("r")
        table = TABLES[spec.target]
        built = self.obj(spec.target, alias, set(), self.subs(nodes))
        return f"(SELECT {built} FROM {table.name} AS {alias} WHERE {alias}.id = {foreign_key})"

    def rows_of(self, spec: RowsOf, parent_alias: str, nodes: list[FieldNode]) -> str:
        alias = self.next("l")
        columns: set[str] = set()
        built = self.obj(spec.entity, alias, columns, self.subs(nodes))
        names = f"{alias}_"

        def build() -> tuple[str, dict[str, Any]]:
            table = TABLES[spec.entity]
            statement: Select[Any] = spec.statement
            order = list(statement._order_by_clauses)
            inner = statement.with_only_columns(
                *(table.c[c] for c in sorted(columns)), func.row_number().over(order_by=order).label("_r")
            ).where(spec.parent == literal_column(f"{parent_alias}.id"))
            return render(inner, self.dialect, names, {})

        sql, params = fragments.get(
            ("rows", spec.name, tuple(sorted(columns)), parent_alias, names, self.dialect.name), build
        )
        self.params.update(params)
        return f"(SELECT {self.json.agg(built, f'{alias}._r', None)} FROM ({sql}) AS {alias})"

    # -- connections -------------------------------------------------------------------------------

    def connection(
        self,
        entity: str,
        args: dict[str, Any],
        nodes: list[FieldNode],
        relation: Any | None,
        parent_alias: str | None,
        connection_type: str | None = None,
    ) -> str:
        tag, keys = ordering(entity, args.get("order_by"))
        requested = window(self.ctx, tag, keys, args)
        filter_input = args.get("filter")
        if getattr(filter_input, "within", None) is not None:
            # `within` names an organization that must exist (an unknown one is an error): Strawberry's
            # path looks it up before reading, which one statement cannot do first.
            raise Unsupported("filter.within")
        conditions: list[Any] = []
        if filter_input is not None:
            conditions = relation_conditions(filter_input, relation) if relation else filter_input.conditions()
        alias = self.next("p")
        names = f"{alias}_"
        connection_name = connection_type or f"{entity}Connection"
        edge_name_of_type = connection_name.removesuffix("Connection") + "Edge"
        fields = self.collect(connection_name, self.subs(nodes))
        columns: set[str] = {"id"}
        linked: set[str] = set()  # the edge's own fields: columns of the relation's link rows
        pairs: list[tuple[str, str]] = []
        needs_page = False
        kept = f"{alias}._r <= :{names}size"
        display = f"{alias}._r DESC" if requested.backwards else f"{alias}._r"
        reverse_display = f"{alias}._r" if requested.backwards else f"{alias}._r DESC"
        key_sql = [(f"{alias}._k{i}", key.python_type) for i, key in enumerate(keys)]
        more = f"count(*) > :{names}size"
        count_sql = None
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((key, _literal(connection_name)))
            elif name == "totalCount":
                count_sql = count_sql or self.count(entity, relation, conditions, filter_input, parent_alias, names)
                pairs.append((key, count_sql))
            elif name == "nodes":
                needs_page = True
                built = self.obj(entity, alias, columns, self.subs(field_nodes))
                pairs.append((key, self.json.agg(built, display, kept)))
            elif name == "edges":
                needs_page = True
                edge_pairs = []
                for edge_key, edge_nodes in self.collect(edge_name_of_type, self.subs(field_nodes)).items():
                    edge_name = edge_nodes[0].name.value
                    if edge_name == "__typename":
                        edge_pairs.append((edge_key, _literal(edge_name_of_type)))
                    elif edge_name == "cursor":
                        edge_pairs.append((edge_key, self.json.cursor(tag, key_sql)))
                    elif edge_name == "node":
                        edge_pairs.append((edge_key, self.obj(entity, alias, columns, self.subs(edge_nodes))))
                    else:
                        edge_field, edge_spec = self.declared(edge_name_of_type, edge_name)
                        if not isinstance(edge_spec, Column) or relation is None:
                            raise Unsupported(f"{edge_name_of_type}.{edge_name}")
                        column = edge_spec.column or edge_field.python_name
                        linked.add(column)
                        edge_pairs.append((edge_key, f"{alias}.{column}"))
                pairs.append((key, self.json.agg(self.json.obj(edge_pairs), display, kept)))
            elif name == "pageInfo":
                info = []
                for info_key, info_nodes in self.collect("PageInfo", self.subs(field_nodes)).items():
                    info_name = info_nodes[0].name.value
                    if info_name == "__typename":
                        info.append((info_key, "'PageInfo'"))
                    elif info_name == "hasNextPage":
                        needs_page = needs_page or not requested.backwards
                        value = (
                            more if not requested.backwards else ("1 = 1" if requested.before is not None else "1 = 0")
                        )
                        info.append((info_key, self.json.boolean(value)))
                    elif info_name == "hasPreviousPage":
                        needs_page = needs_page or requested.backwards
                        value = more if requested.backwards else ("1 = 1" if requested.after is not None else "1 = 0")
                        info.append((info_key, self.json.boolean(value)))
                    elif info_name == "startCursor":
                        needs_page = True
                        info.append((info_key, self.json.first(self.json.cursor(tag, key_sql), display, kept, False)))
                    elif info_name == "endCursor":
                        needs_page = True
                        info.append(
                            (info_key, self.json.first(self.json.cursor(tag, key_sql), reverse_display, kept, True))
                        )
                    else:
                        raise Unsupported(f"PageInfo.{info_name}")
                pairs.append((key, self.json.obj(info)))
            else:
                raise Unsupported(f"{entity}Connection.{name}")
        built_connection = self.json.obj(pairs)
        if not needs_page:
            return f"(SELECT {built_connection})"
        values = paging.window_parameters(requested, names)
        shape = (
            "page",
            entity,
            relation.name if relation is not None else None,
            tuple(sorted(columns)),
            tuple(sorted(linked)),
            tag,
            paging.window_shape(requested),
            repr(filter_input),
            parent_alias,
            names,
            self.dialect.name,
        )

        def build() -> tuple[str, dict[str, Any]]:
            table = TABLES[entity]
            statement = relation.statement if relation is not None else BASE[entity]
            link_columns = [c for c in statement.selected_columns if c.name in linked]
            statement = statement.with_only_columns(*(table.c[c] for c in sorted(columns)), *link_columns)
            if conditions:
                statement = statement.where(*conditions)
            if relation is not None:
                statement = statement.where(relation.parent == literal_column(f"{parent_alias}.id"))
            page = paging.page_statement(statement, keys, requested, runs=relation is None, names=names)
            return render(page, self.dialect, names, values)

        sql, params = fragments.get(shape, build)
        self.params.update(params)
        self.params.update(values)
        self.params[f"{names}size"] = requested.size
        fetch = ", ".join(
            f"q._k{i} {'DESC' if key.descending != requested.backwards else 'ASC'}"
            + ((" NULLS FIRST" if key.descending != requested.backwards else " NULLS LAST") if key.nullable else "")
            for i, key in enumerate(keys)
        )
        numbered = f"SELECT q.*, row_number() OVER (ORDER BY {fetch}) AS _r FROM ({sql}) AS q ORDER BY {display.split('.', 1)[1]}"
        return f"(SELECT {built_connection} FROM ({numbered}) AS {alias})"

    def count(
        self,
        entity: str,
        relation: Any | None,
        conditions: list[Any],
        filter_input: Any,
        parent_alias: str | None,
        names: str,
    ) -> str:
        count_names = f"{names}n_"
        shape = ("count", entity, relation.name if relation else None, repr(filter_input), parent_alias, count_names)

        def build() -> tuple[str, dict[str, Any]]:
            statement = relation.statement if relation is not None else BASE[entity]
            if conditions:
                statement = statement.where(*conditions)
            if relation is not None:
                counted = relation.counted(statement, filter_input is not None)
                built = (
                    counted.with_only_columns(func.count())
                    .where(relation.parent == literal_column(f"{parent_alias}.id"))
                    .order_by(None)
                )
            else:
                built = select(func.count()).select_from(statement.order_by(None).subquery())
            return render(built, self.dialect, count_names, {})

        sql, params = fragments.get((*shape, self.dialect.name), build)
        self.params.update(params)
        return f"({sql})"

    # -- the root ----------------------------------------------------------------------------------

    def root(self, operation: OperationDefinitionNode) -> str:
        pairs: list[tuple[str, str]] = []
        for key, nodes in self.collect("Query", [operation.selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, "'Query'"))
                continue
            _field, spec = self.declared("Query", name)
            if isinstance(spec, ConnectionOf):
                pairs.append((key, self.connection(spec.entity, self.arguments("Query", nodes), nodes, None, None)))
            elif isinstance(spec, Special) and spec.kind in ("organization", "country"):
                pairs.append((key, self.lookup(spec.kind, nodes)))
            elif isinstance(spec, Special) and spec.kind == "node":
                type_name, pk = decode_id(self.arguments("Query", nodes)["id"], NODE_IDS)
                if type_name == RELEASE_TYPE:
                    raise Unsupported("node(id:) of a data release")
                pairs.append((key, self.node(type_name, pk, nodes)))
            elif isinstance(spec, Special) and spec.kind == "aggregate":
                pairs.append((key, self.aggregate(nodes)))
            elif isinstance(spec, Special) and spec.kind == "nodes":
                ids = self.arguments("Query", nodes)["ids"]
                limit = self.ctx.settings.max_page_size
                if len(ids) > limit:
                    raise PageSizeExceeded(
                        f"`ids` has {len(ids)} IDs; at most {limit} at once", argument="ids", limit=limit
                    )
                decoded = [decode_id(value, NODE_IDS) for value in ids]
                if any(type_name == RELEASE_TYPE for type_name, _pk in decoded):
                    raise Unsupported("nodes(ids:) with a data release")
                pairs.append((key, self.json.array([self.node(t, pk, nodes) for t, pk in decoded])))
            else:
                raise Unsupported(f"Query.{name}")
        return self.json.as_text(self.json.obj(pairs))

    def aggregate(self, nodes: list[FieldNode]) -> str:
        """`Query.aggregate`: its one statement (app/data/aggregates.py), its groups as a JSON list."""
        plan = AggregatePlan.of_arguments(self.arguments("Query", nodes))
        alias = self.next("g")
        names = f"{alias}_"
        sql, params = fragments.get(
            ("aggregate", plan.shape, names, self.dialect.name),
            lambda: render(plan.statement(self.dialect.name), self.dialect, names, {}),
        )
        self.params.update(params)
        self.params[f"{names}{aggregates.FIRST}"] = plan.first
        self.params[f"{names}{aggregates.MIN_COUNT}"] = plan.min_count
        columns = {"count": "total", "events": "event", "memberships": "membership", "chairmanships": "chairmanship"}
        pairs: list[tuple[str, str]] = []
        for key, field_nodes in self.collect("AggregateGroup", self.subs(nodes)).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((key, "'AggregateGroup'"))
            elif name == "keys":
                pairs.append((key, self.json.array([f"{alias}.k{i}" for i in range(len(plan.keys))])))
            elif name in columns:
                pairs.append((key, f"{alias}.{columns[name]}"))
            else:
                raise Unsupported(f"AggregateGroup.{name}")
        return f"(SELECT {self.json.agg(self.json.obj(pairs), f'{alias}._r', None)} FROM ({sql}) AS {alias})"

    def node(self, type_name: str, pk: int, nodes: list[FieldNode]) -> str:
        alias = self.next("n")
        self.params[f"{alias}_id"] = pk
        built = self.obj(type_name, alias, set(), self.subs(nodes))
        return f"(SELECT {built} FROM {TABLES[type_name].name} AS {alias} WHERE {alias}.id = :{alias}_id)"

    def lookup(self, kind: str, nodes: list[FieldNode]) -> str:
        alias = self.next("o")
        names = f"{alias}_"
        args = self.arguments("Query", nodes)
        type_name = "Organization" if kind == "organization" else "Country"
        columns: set[str] = {"id"}
        built = self.obj(type_name, alias, columns, self.subs(nodes))
        value = args["slug"].strip().lower() if kind == "organization" else args["code"].strip().upper()

        def build() -> tuple[str, dict[str, Any]]:
            table = TABLES[type_name]
            chosen = [table.c[c] for c in sorted(columns)]
            parameter: Any = bindparam(f"{names}value")
            if kind == "organization":
                statement = organization_by_slug(parameter).with_only_columns(*chosen)
            else:
                statement = BASE["Country"].with_only_columns(*chosen).where(countries.c.code == parameter)
            return render(statement, self.dialect, names, {f"{names}value": value})

        shape = ("lookup", kind, tuple(sorted(columns)), names, self.dialect.name)
        sql, params = fragments.get(shape, build)
        self.params.update(params)
        self.params[f"{names}value"] = value
        return f"(SELECT {built} FROM ({sql}) AS {alias})"


_DECLARED: dict[tuple[int, str], dict[str, tuple[Any, Spec | None]]] = {}


def _declared(schema: Any, type_name: str) -> dict[str, tuple[Any, Spec | None]]:
    """GraphQL field name -> (the Strawberry field, its spec) of a type."""
    key = (id(schema), type_name)
    found = _DECLARED.get(key)
    if found is None:
        definition = schema.get_type_by_name(type_name)
        converter = schema.config.name_converter
        found = _DECLARED[key] = {converter.get_graphql_name(f): (f, spec_of(f)) for f in definition.fields}
    return found


# -- entry points --------------------------------------------------------------------------------


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


def unsupported(schema: Any, document: DocumentNode, operation_name: str | None) -> str | None:
    """Why the compiler cannot answer this document (a field it does not cover), or None.

    Decided from the document alone: every field of every branch (whatever the directives and
    type conditions) must be declared for the compiler and not marked Strawberry-only.
    """
    try:
        operation = operation_of(document, operation_name)
    except Unsupported as reason:
        return str(reason)
    if operation.operation is not OperationType.QUERY:
        return "only queries"
    graphql_schema = schema._schema
    fragments_by_name = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
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
                    return f"{type_name}.{name}"  # introspection, or a field validation refuses
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
                fragment = fragments_by_name.get(selection.name.value)
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


def prepare(
    schema: Any, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None, ctx: Context
) -> Prepared:
    """The one statement answering a validated query; Unsupported or a refused argument's ApiError
    before any SQL runs."""
    operation = operation_of(document, operation_name)
    if operation.operation is not OperationType.QUERY:
        raise Unsupported("only queries")
    coerced = get_variable_values(schema._schema, operation.variable_definitions or (), variables or {})
    if not isinstance(coerced, VariableValues):
        raise Unsupported("variables do not coerce: let the schema report it")
    dialect = ctx.db.engine.dialect
    walk = _Walk(schema, document, coerced, ctx, _named(dialect))
    selected = walk.collect("Query", [operation.selection_set])
    if all(nodes[0].name.value == "__typename" for nodes in selected.values()):
        # No field reads the database: the answer needs no statement (0 SQL, as before the compiler).
        constant = "{" + ",".join(f'{orjson_string(key)}:"Query"' for key in selected) + "}"
        return Prepared(None, {}, operation, constant=constant)
    # The data version beside the data, read in the statement's own snapshot (app.data.session).
    sql = (
        "SELECT "
        + walk.root(operation)
        + " AS data, (SELECT version FROM dataset_state WHERE id = 1) AS version,"
        + " (SELECT database_id FROM dataset_state WHERE id = 1) AS database_id"
    )
    statement = statements.get(sql, lambda: (text(sql), {}))[0]
    return Prepared(statement=statement, params=walk.params, operation=operation)


_NAMED: dict[type, Dialect] = {}


def _named(dialect: Dialect) -> Dialect:
    """The engine's dialect with named parameters (`:name`), to render fragments as text."""
    found = _NAMED.get(type(dialect))
    if found is None:
        found = _NAMED[type(dialect)] = type(dialect)(paramstyle="named")  # type: ignore[call-arg]
    return found


async def execute(prepared: Prepared, ctx: Context) -> str:
    """The response's `data`, as JSON text (the data version it was read at: `ctx.db.version()`)."""
    if prepared.constant is not None:
        return prepared.constant
    assert prepared.statement is not None
    rows = await ctx.db.all(prepared.statement, prepared.params)
    row: Any = rows[0]  # SQLAlchemy's Row, or asyncpg's Record (app.data.session): both index by position
    data, version = row[0], row[1]
    ctx.db.statement_version = None if version is None else int(version)
    ctx.db.database = row[2] or ""
    return str(data)


__all__ = ["Prepared", "Unsupported", "execute", "prepare", "unsupported"]
