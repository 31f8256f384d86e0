"""The committed schema.graphql is what the server serves (codegen users depend on it)."""

from __future__ import annotations

import subprocess
import sys

from app.config import PROJECT_ROOT
from app.schema import schema
from tests.conftest import Api


def test_committed_schema_is_current() -> None:
    committed = (PROJECT_ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == schema.as_str() + "\n", "schema.graphql is stale: run `python -m app export-schema > schema.graphql`"


def test_export_schema_command_prints_the_sdl() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "export-schema"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == schema.as_str() + "\n"


async def test_sdl_is_served(api: Api) -> None:
    response = await api.client.get("/schema.graphql")
    assert response.status_code == 200
    assert response.text == (PROJECT_ROOT / "schema.graphql").read_text(encoding="utf-8")


def test_contract_names_are_served() -> None:
    """The names ../shared/API.md fixes are in the schema."""
    sdl = schema.as_str()
    for name in (
        "interface Node",
        "node(id: ID!): Node",
        "nodes(ids: [ID!]!): [Node]!",
        "organization(slug: String!): Organization",
        "country(code: String!): Country",
        "union SearchResult = Organization | Country | Membership | Chairmanship | Event | Statistic | Document",
        "type PartialDate",
        "earliest: Date!",
        "totalCount: Int!",
        "hasPreviousPage: Boolean!",
        "coChairs: [Country!]!",
        "partnerOrganizations(",
        "officeHolder: String",
        "status: TenureStatus!",
        "qualifier: String",
        "asOf: PartialDate",
        "mentions(",
        "citations: [Citation!]!",
    ):
        assert name in sdl, name
