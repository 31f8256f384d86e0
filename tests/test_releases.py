"""Data releases, their changes and the export, through HTTP on both engines (issue 21)."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.__main__ import main
from app.data.records import TYPES
from app.execution.executable import schema
from app.http.export import EXPORT_PATH
from app.seeding import seed
from tests.conftest import make_api

RELEASE = "{ dataRelease { id version seededAt exportUrl licence citation counts { type count } documents { slug } } }"
CHANGES = """query($filter: ChangeFilter, $after: String) {
  changes(first: 2, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { release action type slug fields { field before after }
      node { id ... on Event { title } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
LISTS = {
    "Document": "documents",
    "Country": "countries",
    "Organization": "organizations",
    "Membership": "memberships",
    "Chairmanship": "chairmanships",
    "Event": "events",
    "Statistic": "statistics",
}


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "small.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


async def test_releases_and_changes(migrated_db: str, small_seed: Path) -> None:
    await seed(migrated_db, small_seed)
    async for api in make_api(migrated_db, data_version_check_seconds=0):
        first = (await api.data(RELEASE))["dataRelease"]
        assert first["seededAt"].endswith("Z") and first["exportUrl"] == EXPORT_PATH
        assert "licence" in first["licence"] and first["documents"] == [{"slug": "small"}]
        assert {c["type"]: c["count"] for c in first["counts"]}["Event"] == 3

        # A seed that changes nothing makes no release.
        outcome = await seed(migrated_db, small_seed)
        assert outcome.report is not None and not outcome.report.changes
        assert (await api.data(RELEASE))["dataRelease"]["version"] == first["version"]
        assert (await api.data("{ dataReleases { totalCount } }"))["dataReleases"]["totalCount"] == 1

        # One event's title changed: exactly one UPDATED change, with the title before and after.
        _edit(small_seed, "title: ESCAP meeting", "title: ESCAP annual meeting")
        outcome = await seed(migrated_db, small_seed)
        assert outcome.report is not None
        assert [change.line() for change in outcome.report.changes] == [
            'UPDATED  Event escap-meeting: title "ESCAP meeting" -> "ESCAP annual meeting"'
        ]
        second = (await api.data(RELEASE))["dataRelease"]
        assert second["version"] == first["version"] + 1
        page = (await api.data(CHANGES, {"filter": {"since": first["version"]}}))["changes"]
        assert page["totalCount"] == 1
        assert page["edges"][0]["node"] == {
            "release": second["version"],
            "action": "UPDATED",
            "type": "Event",
            "slug": "escap-meeting",
            "fields": [{"field": "title", "before": '"ESCAP meeting"', "after": '"ESCAP annual meeting"'}],
            "node": {"id": page["edges"][0]["node"]["node"]["id"], "title": "ESCAP annual meeting"},
        }

        # Removing a record keeps its slug and last values; its node is gone.
        start = "  - slug: conference-hosted\n"
        path = small_seed / "small.yaml"
        text = path.read_text(encoding="utf-8")
        block = text[text.index(start) : text.index("statistics:")]
        path.write_text(text.replace(block, ""), encoding="utf-8")
        await seed(migrated_db, small_seed)
        removed = (await api.data(CHANGES, {"filter": {"action": "REMOVED", "type": "Event"}}))["changes"]
        assert removed["totalCount"] == 1
        gone = removed["edges"][0]["node"]
        assert (gone["slug"], gone["node"]) == ("conference-hosted", None)
        fields = {f["field"]: f for f in gone["fields"]}
        assert fields["title"] == {"field": "title", "before": '"Conference hosted"', "after": None}
        assert json.loads(fields["citations"]["before"])[0]["quote"] == "in April, 2013 it hosted a conference"

        # Newest first, keyset paged; the filters combine; a bad type is a coded error.
        everything = (await api.data(CHANGES))["changes"]
        assert everything["edges"][0]["node"]["release"] == second["version"] + 1
        assert everything["pageInfo"]["hasNextPage"]
        seen = [edge["node"]["release"] for edge in everything["edges"]]
        after = everything["pageInfo"]["endCursor"]
        while after is not None:
            page = (await api.data(CHANGES, {"after": after}))["changes"]
            seen += [edge["node"]["release"] for edge in page["edges"]]
            after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
        assert len(seen) == everything["totalCount"] and seen == sorted(seen, reverse=True)
        one = await api.data(CHANGES, {"filter": {"slug": "escap-meeting", "action": "UPDATED"}})
        assert one["changes"]["totalCount"] == 1
        errors = await api.errors(CHANGES, {"filter": {"type": "Nothing"}})
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"

        # Releases newest first; node(id:) resolves one (Strawberry answers it, the compiler leaves it).
        releases = (await api.data("{ dataReleases(first: 5) { nodes { id version } } }"))["dataReleases"]["nodes"]
        assert [r["version"] for r in releases] == [second["version"] + 1, second["version"], first["version"]]
        found = await api.data(
            "query($id: ID!) { node(id: $id) { id ... on DataRelease { version } } }", {"id": releases[1]["id"]}
        )
        assert found["node"] == {"id": releases[1]["id"], "version": second["version"]}


async def _export_lines(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get(EXPORT_PATH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/gzip"
    return [json.loads(line) for line in gzip.decompress(response.content).decode().splitlines()]


async def test_export_matches_the_api(seeded_db: str) -> None:
    async for api in make_api(seeded_db):
        lines = await _export_lines(api.client)
        counts = Counter(line["type"] for line in lines)
        query = "{ " + " ".join(f"{name} {{ totalCount }}" for name in LISTS.values()) + " }"
        totals = await api.data(query)
        assert {t: counts[t] for t in TYPES} == {t: totals[LISTS[t]]["totalCount"] for t in TYPES}
        texts = {line["slug"]: line["text"] for line in lines if line["type"] == "Document"}
        for line in lines:
            assert set(line) >= {"type", "id", "slug", "citations"}
            if line["type"] == "Event":
                assert line["citations"], line["slug"]
            for citation in line["citations"]:
                assert texts[citation["document"]][citation["start"] : citation["end"]] == citation["quote"]
        # The same record through the API and the export.
        event = next(line for line in lines if line["type"] == "Event" and line["organization"])
        node = (
            await api.data(
                "query($id: ID!) { node(id: $id) { ... on Event { slug title organization { slug } } } }",
                {"id": event["id"]},
            )
        )["node"]
        assert (node["slug"], node["title"], node["organization"]["slug"]) == (
            event["slug"],
            event["title"],
            event["organization"],
        )


def test_export_has_every_field_the_api_serves(seeded_db: str, tmp_path: Path) -> None:
    """Each type's line holds every field of the type (lists of related records are their own types' lines)."""
    out = tmp_path / "kb.jsonl"
    assert main(["export", "--out", str(out), "--database-url", seeded_db]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    graphql = schema._schema
    for type_name in TYPES:
        line = next(line for line in lines if line["type"] == type_name)
        served = {
            name
            for name, field in graphql.get_type(type_name).fields.items()  # type: ignore[union-attr]
            if not str(field.type).rstrip("!").endswith("Connection") and name not in ("conflicts", "mentions")
        }
        extra = {"type", "slug", "citations", "participants", "partnerOrganizations"}
        assert served - set(line) == set(), type_name
        assert set(line) - served - extra == set(), type_name

    folder = tmp_path / "csv"
    assert main(["export", "--format", "csv", "--out", str(folder), "--database-url", seeded_db]) == 0
    for type_name in TYPES:
        with (folder / f"{type_name.lower()}.csv").open(encoding="utf-8") as rows:
            assert len(list(csv.DictReader(rows))) == sum(1 for line in lines if line["type"] == type_name)
    with (folder / "citations.csv").open(encoding="utf-8") as rows:
        assert len(list(csv.DictReader(rows))) == sum(len(line["citations"]) for line in lines)


async def test_download_revalidates_and_follows_the_release(migrated_db: str, small_seed: Path) -> None:
    await seed(migrated_db, small_seed)
    async for api in make_api(migrated_db, data_version_check_seconds=0):
        version = (await api.data(RELEASE))["dataRelease"]["version"]
        # The release an answer names is the data version its ETag names: one snapshot.
        tagged = await api.client.get("/graphql", params={"query": "{ dataRelease { version } events { totalCount } }"})
        assert tagged.json()["data"]["dataRelease"]["version"] == version
        assert tagged.headers["etag"].startswith(f'"v{version}-')
        first = await api.client.get(EXPORT_PATH)
        assert first.status_code == 200
        etag = first.headers["etag"]
        database = tagged.headers["etag"].strip('"').split("-")[1]  # "v<version>-<database>-<digest>"
        assert etag == f'"kb-export-{database}-{version}"'  # the database's own identity, as /graphql names it
        assert f"knowledge-base-v{version}.jsonl.gz" in first.headers["content-disposition"]
        assert "content-encoding" not in first.headers  # a gzip file, sent as it is
        for sent in (etag, f"W/{etag}", f'"other", {etag}'):
            again = await api.client.get(EXPORT_PATH, headers={"If-None-Match": sent})
            assert (again.status_code, again.headers["etag"], again.content) == (304, etag, b"")

        _edit(small_seed, "title: ESCAP meeting", "title: ESCAP annual meeting")
        await seed(migrated_db, small_seed)
        changed = await api.client.get(EXPORT_PATH, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert f"knowledge-base-v{version + 1}.jsonl.gz" in changed.headers["content-disposition"]
        titles = {line["title"] for line in await _export_lines(api.client) if line["type"] == "Event"}
        assert "ESCAP annual meeting" in titles and "ESCAP meeting" not in titles


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
async def test_export_is_built_once_per_release(migrated_db: str, small_seed: Path) -> None:
    from app.config import Settings
    from app.http.app import create_app

    await seed(migrated_db, small_seed)
    app = create_app(Settings(database_url=migrated_db, execution="verify", data_version_check_seconds=0))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        bodies = {(await client.get(EXPORT_PATH)).content for _ in range(3)}
        route = next(route for route in app.routes if getattr(route, "path", "") == EXPORT_PATH)
        assert len(bodies) == 1 and route.endpoint.__self__.builds == 1  # type: ignore[attr-defined]


def test_export_loads_into_duckdb(seeded_db: str, tmp_path: Path) -> None:
    """The README's example: the gzipped JSONL straight into DuckDB, one row per record, citations as a list."""
    duckdb = pytest.importorskip("duckdb", reason="duckdb is in the test extra (make install)")
    out = tmp_path / "knowledge-base.jsonl.gz"
    assert main(["export", "--out", str(out), "--database-url", seeded_db]) == 0
    lines = [json.loads(line) for line in gzip.decompress(out.read_bytes()).decode().splitlines()]
    found = duckdb.sql(
        f"SELECT type, count(*), sum(len(citations)) FROM read_json_auto('{out}') GROUP BY type"
    ).fetchall()
    expected = Counter(line["type"] for line in lines)
    cited = Counter()
    for line in lines:
        cited[line["type"]] += len(line["citations"])
    assert {row[0]: (row[1], row[2]) for row in found} == {t: (expected[t], cited[t]) for t in expected}


async def test_download_when_the_database_is_down_is_503() -> None:
    """No database to read (nothing listens on the port): 503 with Retry-After, as /graphql answers, not a 500."""
    async for api in make_api("postgresql://postgres@127.0.0.1:1/nothing"):
        response = await api.client.get(EXPORT_PATH)
        assert (response.status_code, response.headers["retry-after"]) == (503, "1")
        assert response.json()["code"] == "SERVICE_UNAVAILABLE"
