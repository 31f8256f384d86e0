"""The API over HTTP: every root field, node round trips, lookups, citations, IDs (both engines)."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import SEED_DIR
from app.seeding import validate
from app.seeding.dataset import Dataset
from tests.conftest import Api


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return validate(SEED_DIR)


ROOT_LISTS = {
    "organizations": "organizations",
    "countries": "countries",
    "memberships": "memberships",
    "chairmanships": "chairmanships",
    "events": "events",
    "statistics": "statistics",
}


@pytest.mark.parametrize("field", list(ROOT_LISTS))
async def test_root_list_counts_every_record(api: Api, dataset: Dataset, field: str) -> None:
    data = await api.data(f"{{ {field}(first: 100) {{ totalCount nodes {{ id }} pageInfo {{ hasNextPage }} }} }}")
    expected = len(dataset.facts[ROOT_LISTS[field]])
    assert data[field]["totalCount"] == expected
    assert len(data[field]["nodes"]) == min(expected, 100)
    assert len({node["id"] for node in data[field]["nodes"]}) == len(data[field]["nodes"])


async def test_documents_root_and_text(api: Api, dataset: Dataset) -> None:
    data = await api.data("{ documents { totalCount nodes { slug title language text sha256 } } }")
    assert data["documents"]["totalCount"] == len(dataset.documents)
    document = data["documents"]["nodes"][0]
    assert document["text"] == dataset.documents[document["slug"]].text


async def test_every_citation_quotes_its_document(api: Api) -> None:
    # Each document's text once, not once per citation: a whole text weighs 50 objects of the cost limit.
    data = await api.data(
        "{ events(first: 100) { nodes { citations { quote start end document { slug } } } }"
        " documents(first: 100) { nodes { slug text } } }"
    )
    texts = {document["slug"]: document["text"] for document in data["documents"]["nodes"]}
    citations = [c for node in data["events"]["nodes"] for c in node["citations"]]
    assert citations
    for citation in citations:
        assert texts[citation["document"]["slug"]][citation["start"] : citation["end"]] == citation["quote"]


async def test_every_fact_has_a_citation(api: Api) -> None:
    query = "{ %s(first: 100) { nodes { citations { quote } } } }"
    for field in ROOT_LISTS:
        data = await api.data(query % field)
        assert all(node["citations"] for node in data[field]["nodes"]), field


@pytest.mark.parametrize("slug", ["escap", "ESCAP", "Escap", " escap "])
async def test_organization_by_slug_or_acronym_any_case(api: Api, slug: str) -> None:
    data = await api.data("query($s: String!) { organization(slug: $s) { slug acronym parent { slug } } }", {"s": slug})
    assert data["organization"] == {"slug": "escap", "acronym": "ESCAP", "parent": {"slug": "united-nations"}}


async def test_unknown_organization_is_null(api: Api) -> None:
    assert (await api.data('{ organization(slug: "unesco") { slug } }'))["organization"] is None


async def test_country_by_code(api: Api, dataset: Dataset) -> None:
    data = await api.data('{ country(code: "mng") { code name memberships(first: 100) { totalCount } } }')
    expected = sum(1 for fact in dataset.facts["memberships"].values() if fact.values["member"] == "MNG")
    assert data["country"]["code"] == "MNG"
    assert data["country"]["memberships"]["totalCount"] == expected
    assert (await api.data('{ country(code: "XYZ") { code } }'))["country"] is None


async def test_organization_relations(api: Api, dataset: Dataset) -> None:
    data = await api.data(
        """{ organization(slug: "community-of-democracies") {
            children(first: 100) { totalCount nodes { slug parent { slug } } }
            chairmanships { nodes { slug chair { code } predecessor { code } coChairs { code } } }
            mentions(first: 100) { totalCount nodes { text start end context document { text } } }
        } }"""
    )
    org = data["organization"]
    children = {
        slug for slug, f in dataset.facts["organizations"].items() if f.values["parent"] == "community-of-democracies"
    }
    assert {node["slug"] for node in org["children"]["nodes"]} == children
    assert all(node["parent"]["slug"] == "community-of-democracies" for node in org["children"]["nodes"])
    expected_mentions = [m for m in dataset.mentions if m[0] == "community-of-democracies"]
    assert org["mentions"]["totalCount"] == len(expected_mentions)
    for mention in org["mentions"]["nodes"]:
        assert mention["document"]["text"][mention["start"] : mention["end"]] == mention["text"]
        assert mention["text"] in mention["context"]
    presidency = next(c for c in org["chairmanships"]["nodes"] if c["predecessor"])
    assert presidency["chair"]["code"] == "MNG"
    assert presidency["predecessor"]["code"] == "LTU"


async def test_membership_fields(api: Api, dataset: Dataset) -> None:
    data = await api.data(
        """{ memberships(first: 100) { nodes { slug role status member { code } organization { slug }
             startDate { edtf precision year month day earliest latest } endDate { edtf } } } }"""
    )
    by_slug = {node["slug"]: node for node in data["memberships"]["nodes"]}
    for slug, fact in dataset.facts["memberships"].items():
        node = by_slug[slug]
        assert node["member"]["code"] == fact.values["member"]
        assert node["organization"]["slug"] == fact.values["organization"]
        assert node["status"] == fact.values["status"]
        start = fact.values["start"]
        if start is None:
            assert node["startDate"] is None
        else:
            assert node["startDate"]["edtf"] == start.edtf
            assert node["startDate"]["precision"] == start.precision.value
            assert node["startDate"]["earliest"] == start.earliest.isoformat()
            assert node["startDate"]["latest"] == start.latest.isoformat()


async def test_event_relations(api: Api, dataset: Dataset) -> None:
    data = await api.data(
        """{ events(first: 100) { nodes { slug kind symbol location organization { slug } chairmanship { slug }
             participants(first: 20) { totalCount nodes { code } } partnerOrganizations(first: 20) { totalCount nodes { slug } }
             date { edtf } endDate { edtf } } } }"""
    )
    by_slug = {node["slug"]: node for node in data["events"]["nodes"]}
    assert set(by_slug) == set(dataset.facts["events"])
    for slug, fact in dataset.facts["events"].items():
        node = by_slug[slug]
        assert node["participants"]["totalCount"] == len(node["participants"]["nodes"])  # all on the page
        assert {p["code"] for p in node["participants"]["nodes"]} == {c for c, _ in fact.links["participants"]}
        assert {p["slug"] for p in node["partnerOrganizations"]["nodes"]} == set(fact.links["partner_organizations"])
        assert (node["organization"] or {}).get("slug") == fact.values["organization"]
        assert (node["chairmanship"] or {}).get("slug") == fact.values["chairmanship"]
        assert (node["endDate"] or {}).get("edtf") == (fact.values["end"].edtf if fact.values["end"] else None)


async def test_resolution_symbol(api: Api) -> None:
    data = await api.data('{ events(filter: {symbol: "A/RES/64/214"}) { nodes { kind date { edtf } } } }')
    assert data["events"]["nodes"] == [{"kind": "RESOLUTION", "date": {"edtf": "2009"}}]


async def test_statistics_fields(api: Api, dataset: Dataset) -> None:
    data = await api.data(
        "{ statistics(first: 100) { nodes { slug value unit qualifier asOf { edtf } organization { slug } } } }"
    )
    by_slug = {node["slug"]: node for node in data["statistics"]["nodes"]}
    for slug, fact in dataset.facts["statistics"].items():
        assert by_slug[slug]["value"] == fact.values["value"]
        assert by_slug[slug]["qualifier"] == fact.values["qualifier"]
    peacekeepers = [n for n in by_slug.values() if n["value"] == 18139]
    assert peacekeepers and peacekeepers[0]["qualifier"] == "more than"


NODE_QUERIES = {
    "organizations": "Organization { slug }",
    "countries": "Country { code }",
    "memberships": "Membership { slug }",
    "chairmanships": "Chairmanship { slug }",
    "events": "Event { slug }",
    "statistics": "Statistic { slug }",
    "documents": "Document { slug }",
}


@pytest.mark.parametrize("field", list(NODE_QUERIES))
async def test_node_round_trip(api: Api, field: str) -> None:
    fragment = NODE_QUERIES[field]
    key = fragment.split("{ ")[1].split(" ")[0]
    listed = await api.data(f"{{ {field}(first: 100) {{ nodes {{ id {key} }} }} }}")
    nodes = listed[field]["nodes"]
    ids = [node["id"] for node in nodes]
    one = await api.data(f"query($id: ID!) {{ node(id: $id) {{ id __typename ... on {fragment} }} }}", {"id": ids[0]})
    assert one["node"]["id"] == ids[0]
    assert one["node"][key] == nodes[0][key]
    many = await api.data(
        f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ id ... on {fragment} }} }}", {"ids": list(reversed(ids))}
    )
    assert [node["id"] for node in many["nodes"]] == list(reversed(ids))
    assert api.last_statements == 1  # every node of one type in one statement


async def test_nodes_of_mixed_types(api: Api) -> None:
    listed = await api.data("{ events(first: 1) { nodes { id } } countries(first: 1) { nodes { id } } }")
    ids = [listed["events"]["nodes"][0]["id"], listed["countries"]["nodes"][0]["id"]]
    data = await api.data("query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", {"ids": ids})
    assert [node["__typename"] for node in data["nodes"]] == ["Event", "Country"]


@pytest.mark.parametrize(
    "bad_id",
    ["", "not-base64!", "bm90LWEtbm9kZQ==", "T3JnYW5pemF0aW9uOmFiYw==", "V2lkZ2V0OjE="],
    ids=["empty", "not-base64", "no-colon", "non-numeric", "unknown-type"],
)
async def test_malformed_ids_are_refused(api: Api, bad_id: str) -> None:
    errors = await api.errors("query($id: ID!) { node(id: $id) { id } }", {"id": bad_id})
    assert errors[0]["extensions"]["code"] == "INVALID_ID"
    assert "not an ID of this API" in errors[0]["message"]


async def test_unknown_id_of_a_known_type_is_null(api: Api) -> None:
    import base64

    missing = base64.b64encode(b"Organization:999999").decode()
    data = await api.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [missing]})
    assert data["nodes"] == [None]


async def test_too_many_ids_are_refused(api: Api) -> None:
    import base64

    ids = [base64.b64encode(f"Country:{n}".encode()).decode() for n in range(101)]
    errors = await api.errors("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert errors[0]["extensions"]["code"] == "PAGE_SIZE_EXCEEDED"


async def test_health_endpoints(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok", "version": "0.2.0"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_readyz_fails_when_migrations_are_behind(migrated_db: str) -> None:
    import asyncio

    from app.data.migrations import downgrade
    from tests.conftest import make_api

    downgrade(migrated_db, "0001")

    async def probe() -> Any:
        from contextlib import aclosing

        async with aclosing(make_api(migrated_db)) as apis:
            async for api in apis:
                return await api.client.get("/readyz")

    response = asyncio.run(probe())
    assert response.status_code == 503
    from app.data.migrations import head_revision

    assert f"at migration 0001, expected {head_revision()}" in response.json()["reason"]


def _descriptions_missing(schema_json: Any) -> list[str]:
    missing = []
    for type_ in schema_json["types"]:
        if type_["name"].startswith("__") or type_["name"] in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not type_.get("description"):
            missing.append(type_["name"])
        for field in (type_.get("fields") or []) + (type_.get("inputFields") or []):
            if not field.get("description"):
                missing.append(f"{type_['name']}.{field['name']}")
            for argument in field.get("args") or []:
                if not argument.get("description"):
                    missing.append(f"{type_['name']}.{field['name']}({argument['name']})")
        for value in type_.get("enumValues") or []:
            if not value.get("description"):
                missing.append(f"{type_['name']}.{value['name']}")
    return missing


async def test_everything_has_a_description(api: Api) -> None:
    data = await api.data(
        """{ __schema { types { name description
            fields { name description args { name description } }
            inputFields { name description }
            enumValues { name description } } } }"""
    )
    assert _descriptions_missing(data["__schema"]) == []


async def test_counts_through_link_tables_match_the_lists(api: Api) -> None:
    """totalCount of a relation through a link table counts the links when unfiltered, the children when filtered."""
    countries = (
        await api.data(
            """{ countries(first: 30) { nodes { code
                all: events(first: 100) { totalCount nodes { id kind } }
                summits: events(first: 100, filter: { kind: SUMMIT }) { totalCount nodes { id } } } } }"""
        )
    )["countries"]["nodes"]
    assert sum(c["all"]["totalCount"] for c in countries) > 50
    for country in countries:
        assert country["all"]["totalCount"] == len(country["all"]["nodes"])
        summits = [n for n in country["all"]["nodes"] if n["kind"] == "SUMMIT"]
        assert country["summits"]["totalCount"] == len(country["summits"]["nodes"]) == len(summits)
    events = (
        await api.data(
            """{ events(first: 49) { nodes {
                participants(first: 100) { totalCount nodes { code } }
                partnerOrganizations(first: 50) { totalCount nodes { slug } } } } }"""
        )
    )["events"]["nodes"]
    assert any(e["participants"]["totalCount"] > 1 for e in events)
    assert any(e["partnerOrganizations"]["totalCount"] for e in events)
    for event in events:
        assert event["participants"]["totalCount"] == len(event["participants"]["nodes"])
        assert event["partnerOrganizations"]["totalCount"] == len(event["partnerOrganizations"]["nodes"])
