"""One declaration per field: the schema's every field is declared for the fast path or marked
Strawberry-only, and a field or argument added on Strawberry's side alone is caught."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
import strawberry
from sqlalchemy.exc import OperationalError

from app.execution import compiler
from app.execution.executable import schema
from app.schema.fields import SPEC, column, compiled, connection, strawberry_only, uncovered
from app.schema.specs import ConnectionOf, Special
from tests.conftest import Api, make_api


def test_every_field_is_declared_for_the_compiler_or_marked_strawberry_only() -> None:
    assert uncovered(schema) == []


def _probe_schema(extra_field: bool, extra_argument: bool, marked: bool) -> strawberry.Schema:
    """A schema like ours with one type changed as a reviewer would: a field or an argument
    added with Strawberry alone, outside the declarations."""

    async def events(
        self: Any,
        info: strawberry.Info,
        first: int | None = None,
        kind_only: Annotated[str | None, strawberry.argument(description="new")] = None,
    ) -> str:
        return "x"

    if not extra_argument:
        del events.__annotations__["kind_only"]

        async def events(self: Any, info: strawberry.Info, first: int | None = None) -> str:  # type: ignore[no-redef]
            return "x"

    namespace: dict[str, Any] = {
        "__annotations__": {"row": strawberry.Private[Any], "slug": str},
        "slug": column(description="declared"),
        "events": strawberry.field(resolver=events, metadata={SPEC: ConnectionOf(arguments=("first",))}),
    }
    if extra_field:
        namespace["__annotations__"]["added"] = str
        added = strawberry.field(description="added on Strawberry's side alone")
        namespace["added"] = strawberry_only(added, "a reason") if marked else added
    probe = strawberry.type(type("Probe", (), namespace))

    def resolve() -> Any:
        return None

    query = strawberry.type(
        type(
            "Query",
            (),
            {
                "__annotations__": {"probe": probe | None},
                "probe": compiled(strawberry.field(resolver=resolve), Special(kind="probe")),
            },
        )
    )
    return strawberry.Schema(query=query)


def test_a_field_added_on_strawberrys_side_alone_fails_the_check() -> None:
    assert uncovered(_probe_schema(extra_field=False, extra_argument=False, marked=False)) == []
    assert uncovered(_probe_schema(extra_field=True, extra_argument=False, marked=False)) == [
        "Probe.added: neither compiled nor marked strawberry_only"
    ]
    assert uncovered(_probe_schema(extra_field=True, extra_argument=False, marked=True)) == []


def test_an_argument_added_on_strawberrys_side_alone_fails_the_check() -> None:
    """The issue's experiment: `kindOnly` added to a connection field's resolver, not its declaration."""
    assert uncovered(_probe_schema(extra_field=False, extra_argument=True, marked=False)) == [
        "Probe.events(kindOnly:): an argument the compiler does not know"
    ]


def test_a_connection_declaration_makes_the_field_and_its_spec() -> None:
    field = connection("organization.events", description="d")
    spec = field.metadata[SPEC]
    assert isinstance(spec, ConnectionOf)
    assert spec.arguments == ("first", "after", "last", "before")
    assert spec.entity == "Event"


def test_strawberry_only_fields_are_refused_before_any_sql() -> None:
    from graphql import parse

    covered = parse('{ organization(slug: "un") { slug events { nodes { title } } } }')
    assert compiler.unsupported(schema, covered, None) is None
    conflicts = parse('{ organization(slug: "un") { ... on Organization { conflicts { field } } } }')
    assert compiler.unsupported(schema, conflicts, None) == "Organization.conflicts"
    assert compiler.unsupported(schema, parse('{ search(query: "x") { totalCount } }'), None) == "Query.search"
    assert compiler.unsupported(schema, parse("{ __schema { queryType { name } } }"), None) == "Query.__schema"


async def test_a_strawberry_only_query_is_served_by_strawberry_every_time(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    query = '{ organization(slug: "un") { slug conflicts { field } } }'
    with caplog.at_level(logging.INFO, logger="app.access"):
        first = await api.data(query)
        second = await api.data(query + " ")
    assert first == second
    served = [r.event["servedBy"] for r in caplog.records if r.name == "app.access"]  # type: ignore[attr-defined]
    assert served == ["strawberry", "strawberry"]


@pytest.fixture
async def uncached(seeded_db: str) -> AsyncIterator[Api]:
    async for made in make_api(seeded_db, result_cache_size=0):
        yield made


async def test_verify_reports_a_disagreement_as_an_internal_error(
    uncached: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    query = "query Two { organizations(first: 2) { nodes { slug } } }"
    await uncached.data(query)  # Strawberry answers first; the document is now hot
    real = compiler.execute

    async def wrong(*args: Any, **kwargs: Any) -> Any:
        return (await real(*args, **kwargs)).replace('"asem"', '"not-it"')

    monkeypatch.setattr(compiler, "execute", wrong)
    with caplog.at_level(logging.ERROR, logger="app.errors"):
        errors = await uncached.errors(query)
    assert errors[0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    logged = [r for r in caplog.records if r.name == "app.errors"]
    assert logged and "not-it" in str(logged[-1].exc_info[1])  # type: ignore[index]


async def test_a_statement_timeout_on_the_fast_path_is_timeout_never_a_second_run(
    uncached: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    query = "query Three { organizations(first: 3) { nodes { slug } } }"
    await uncached.data(query)

    async def times_out(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT ...", {}, _Interrupted("interrupted"))

    monkeypatch.setattr(compiler, "execute", times_out)
    with caplog.at_level(logging.INFO, logger="app.access"):
        errors = await uncached.errors(query)
    assert errors[0]["extensions"]["code"] == "TIMEOUT"
    events = [r.event for r in caplog.records if r.name == "app.access"]  # type: ignore[attr-defined]
    assert events[-1]["sqlStatements"] == 0  # Strawberry did not run it again
    assert events[-1]["servedBy"] == "executor"


class _Interrupted(Exception):
    """Stands for sqlite3's OperationalError("interrupted") (app/execution/faults.py reads the name)."""


_Interrupted.__name__ = "OperationalError"


async def test_execution_strawberry_turns_the_fast_path_off(seeded_db: str, caplog: pytest.LogCaptureFixture) -> None:
    query = "query Four($n: Int) { organizations(first: $n) { nodes { slug } } }"
    async for api in make_api(seeded_db, execution="strawberry"):
        with caplog.at_level(logging.INFO, logger="app.access"):
            await api.data(query, {"n": 4})
            await api.data(query, {"n": 3})
    served = [r.event["servedBy"] for r in caplog.records if r.name == "app.access"]  # type: ignore[attr-defined]
    assert served == ["strawberry", "strawberry"]
