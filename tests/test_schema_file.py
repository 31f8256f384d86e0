"""The committed schema.graphql is what the server serves (codegen users depend on it)."""

from __future__ import annotations

import subprocess
import sys

from app.config import PROJECT_ROOT
from app.execution.executable import schema
from tests.conftest import Api


def test_committed_schema_is_current() -> None:
    committed = (PROJECT_ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == schema.as_str() + "\n", (
        "schema.graphql is stale: run `python -m app export-schema > schema.graphql`"
    )


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


CONTRACT = {
    "Query": {
        "node": ("Node", {"id": "ID!"}),
        "nodes": ("[Node]!", {"ids": "[ID!]!"}),
        "organizations": ("OrganizationConnection!", {"filter": "OrganizationFilter", "orderBy": "OrganizationOrder"}),
        "organization": ("Organization", {"slug": "String!"}),
        "countries": ("CountryConnection!", {}),
        "country": ("Country", {"code": "String!"}),
        "memberships": ("MembershipConnection!", {"filter": "MembershipFilter", "orderBy": "MembershipOrder"}),
        "chairmanships": ("ChairmanshipConnection!", {"filter": "ChairmanshipFilter", "orderBy": "ChairmanshipOrder"}),
        "events": ("EventConnection!", {"filter": "EventFilter", "orderBy": "EventOrder"}),
        "statistics": ("StatisticConnection!", {}),
        "documents": ("DocumentConnection!", {}),
        "search": ("SearchResultConnection!", {"query": "String!", "first": "Int", "after": "String"}),
    },
    "Organization": {
        "id": ("ID!", {}),
        "slug": ("String!", {}),
        "name": ("String!", {}),
        "acronym": ("String", {}),
        "aliases": ("[String!]!", {}),
        "kind": ("OrganizationKind!", {}),
        "description": ("String", {}),
        "parent": ("Organization", {}),
        "children": ("OrganizationConnection!", {}),
        "memberships": ("MembershipConnection!", {}),
        "chairmanships": ("ChairmanshipConnection!", {}),
        "events": ("EventConnection!", {}),
        "statistics": ("StatisticConnection!", {}),
        "mentions": ("MentionConnection!", {}),
        "citations": ("[Citation!]!", {}),
    },
    "Country": {
        "id": ("ID!", {}),
        "code": ("String!", {}),
        "name": ("String!", {}),
        "memberships": ("MembershipConnection!", {}),
        "chairmanships": ("ChairmanshipConnection!", {}),
        "events": ("EventConnection!", {}),
    },
    "Membership": {
        "id": ("ID!", {}),
        "member": ("Country!", {}),
        "organization": ("Organization!", {}),
        "role": ("String", {}),
        "startDate": ("PartialDate", {}),
        "endDate": ("PartialDate", {}),
        "status": ("TenureStatus!", {}),
        "citations": ("[Citation!]!", {}),
    },
    "Chairmanship": {
        "id": ("ID!", {}),
        "organization": ("Organization!", {}),
        "chair": ("Country!", {}),
        "title": ("String!", {}),
        "session": ("Int", {}),
        "officeHolder": ("String", {}),
        "coChairs": ("[Country!]!", {}),
        "predecessor": ("Country", {}),
        "startDate": ("PartialDate", {}),
        "endDate": ("PartialDate", {}),
        "events": ("EventConnection!", {}),
        "citations": ("[Citation!]!", {}),
    },
    "Event": {
        "id": ("ID!", {}),
        "title": ("String!", {}),
        "kind": ("EventKind!", {}),
        "description": ("String", {}),
        "date": ("PartialDate", {}),
        "endDate": ("PartialDate", {}),
        "location": ("String", {}),
        "organization": ("Organization", {}),
        "participants": ("EventParticipantConnection!", {"filter": "EventParticipantFilter"}),
        "recurrence": ("Recurrence", {}),
        "place": ("Place", {}),
        "basis": ("Basis!", {}),
        "basisNote": ("String", {}),
        "partnerOrganizations": ("OrganizationConnection!", {}),
        "citations": ("[Citation!]!", {}),
    },
    "Statistic": {
        "id": ("ID!", {}),
        "label": ("String!", {}),
        "value": ("Float!", {}),
        "unit": ("String", {}),
        "qualifier": ("String", {}),
        "asOf": ("PartialDate", {}),
        "organization": ("Organization", {}),
        "citations": ("[Citation!]!", {}),
    },
    "PartialDate": {
        "edtf": ("String!", {}),
        "precision": ("DatePrecision!", {}),
        "year": ("Int!", {}),
        "month": ("Int", {}),
        "day": ("Int", {}),
        "earliest": ("Date!", {}),
        "latest": ("Date!", {}),
    },
    "Document": {"id": ("ID!", {}), "slug": ("String!", {}), "title": ("String!", {}), "text": ("String!", {})},
    "Citation": {"document": ("Document!", {}), "quote": ("String!", {}), "start": ("Int!", {}), "end": ("Int!", {})},
    "Mention": {
        "document": ("Document!", {}),
        "text": ("String!", {}),
        "start": ("Int!", {}),
        "end": ("Int!", {}),
        "context": ("String!", {}),
    },
    "PageInfo": {
        "hasNextPage": ("Boolean!", {}),
        "hasPreviousPage": ("Boolean!", {}),
        "startCursor": ("String", {}),
        "endCursor": ("String", {}),
    },
    # Additions (issue 9 of ../shared/API.md)
    "EventParticipantEdge": {
        "cursor": ("String!", {}),
        "node": ("Country!", {}),
        "role": ("String", {}),
        "roleKind": ("ParticipantRole!", {}),
        "basis": ("Basis!", {}),
    },
    "EventParticipantConnection": {
        "edges": ("[EventParticipantEdge!]!", {}),
        "nodes": ("[Country!]!", {}),
        "pageInfo": ("PageInfo!", {}),
        "totalCount": ("Int!", {}),
    },
    "Recurrence": {
        "frequency": ("RecurrenceFrequency!", {}),
        "since": ("PartialDate!", {}),
        "until": ("PartialDate", {}),
        "description": ("String", {}),
    },
    "Place": {"name": ("String!", {}), "country": ("Country", {})},
    "DocumentCoverage": {
        "sentences": ("Int!", {}),
        "cited": ("Int!", {}),
        "noFact": ("Int!", {}),
        "uncited": ("[Passage!]!", {}),
    },
    "Passage": {"text": ("String!", {}), "start": ("Int!", {}), "end": ("Int!", {})},
    "OrganizationConnection": {
        "edges": ("[OrganizationEdge!]!", {}),
        "nodes": ("[Organization!]!", {}),
        "pageInfo": ("PageInfo!", {}),
        "totalCount": ("Int!", {}),
    },
}


def test_issue_9_additions_are_served() -> None:
    """The inputs, enums and fields of ../shared/API.md's "Additions (issue 9)"."""
    served = schema._schema
    for type_name in ("Country", "Membership", "Chairmanship", "Event", "Statistic"):
        fields = served.get_type(type_name).fields  # type: ignore[union-attr]
        assert str(fields["basis"].type) == "Basis!" and str(fields["basisNote"].type) == "String", type_name
    assert str(served.get_type("Statistic").fields["places"].type) == "[Place!]!"  # type: ignore[union-attr]
    assert str(served.get_type("Document").fields["coverage"].type) == "DocumentCoverage!"  # type: ignore[union-attr]
    event_filter = served.get_type("EventFilter").fields  # type: ignore[union-attr]
    assert str(event_filter["participantRole"].type) == "ParticipantRole"
    assert str(event_filter["place"].type) == "String"
    for name in ("MembershipFilter", "EventFilter", "ChairmanshipFilter", "StatisticFilter"):
        assert str(served.get_type(name).fields["within"].type) == "String", name  # type: ignore[union-attr]
    assert str(served.get_type("EventParticipantFilter").fields["roleKind"].type) == "ParticipantRole"  # type: ignore[union-attr]
    country_events = served.get_type("Country").fields["events"]  # type: ignore[union-attr]
    assert str(country_events.args["filter"].type) == "EventFilter"
    enums = {
        "ParticipantRole": {
            "HOST",
            "CHAIR",
            "CO_CHAIR",
            "CO_SPONSOR",
            "SIGNATORY",
            "MEMBER",
            "PARTICIPANT",
            "INVITEE",
            "OTHER",
        },
        "RecurrenceFrequency": {"ANNUAL", "BIENNIAL", "IRREGULAR"},
        "Basis": {"STATED", "INFERRED"},
    }
    for name, values in enums.items():
        assert set(served.get_type(name).values) == values, name  # type: ignore[union-attr]


def test_contract_names_are_served() -> None:
    """Every name ../shared/API.md fixes is served, with the contract's types."""
    served = schema._schema
    for type_name, fields in CONTRACT.items():
        graphql_type = served.get_type(type_name)
        assert graphql_type is not None, type_name
        for field_name, (returns, arguments) in fields.items():
            field = graphql_type.fields.get(field_name)  # type: ignore[union-attr]
            assert field is not None, f"{type_name}.{field_name}"
            assert str(field.type) == returns, f"{type_name}.{field_name}: {field.type}"
            for argument, argument_type in arguments.items():
                assert str(field.args[argument].type) == argument_type, f"{type_name}.{field_name}({argument})"
        if type_name in ("Organization", "Country", "Membership", "Chairmanship", "Event", "Statistic", "Document"):
            assert [i.name for i in graphql_type.interfaces] == ["Node"]  # type: ignore[union-attr]
    union = served.get_type("SearchResult")
    assert {t.name for t in union.types} == {  # type: ignore[union-attr]
        "Organization",
        "Country",
        "Membership",
        "Chairmanship",
        "Event",
        "Statistic",
        "Document",
    }
    for connection_field in ("first", "after", "last", "before"):
        assert connection_field in served.query_type.fields["events"].args  # type: ignore[union-attr]
