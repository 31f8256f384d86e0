"""Two databases never share an ETag: each has a random identity (`DatasetState.database_id`), written
once (migration 0015 or its first seed), read with the data version in the answer's own snapshot and
part of every ETag and result-cache key. Every database counts its seeds from 1, so without it a
client's copy from one database would be answered 304 by another (a blue/green switch)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.data.engine import create_engine
from app.data.migrations import upgrade
from app.seeding import seed
from tests.conftest import Databases, make_api

# Compiled (one statement selects the version and the identity beside the data) and Strawberry's path
# (`search` is Strawberry's: it reads both in its snapshot, last).
QUERIES = {
    "compiled": '{ organization(slug: "osce") { name description } }',
    "strawberry": '{ search(query: "security", first: 3) { nodes { __typename } } }',
}


def _seeded(databases: Databases, engine_name: str, seed_dir: Path) -> str:
    url = databases.new(engine_name)
    upgrade(url)
    asyncio.run(seed(url, seed_dir, redis_url=""))
    return url


def _identity(url: str) -> str | None:
    async def read() -> str | None:
        engine = create_engine(url, pool=False)
        try:
            async with engine.connect() as conn:
                return (await conn.exec_driver_sql("SELECT database_id FROM dataset_state")).scalar()
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _version(tag: str) -> int:
    return int(tag.strip('"').split("-")[0][1:])


@pytest.mark.parametrize("path", sorted(QUERIES))
async def test_two_databases_seeded_alike_never_share_a_tag(
    databases: Databases, engine_name: str, small_seed: Path, path: str
) -> None:
    blue = await asyncio.to_thread(_seeded, databases, engine_name, small_seed)
    green = await asyncio.to_thread(_seeded, databases, engine_name, small_seed)
    identities = {"blue": await asyncio.to_thread(_identity, blue), "green": await asyncio.to_thread(_identity, green)}
    assert identities["blue"] != identities["green"]
    params = {"query": QUERIES[path]}
    tags = {}
    bodies = {}
    for name, url in (("blue", blue), ("green", green)):
        async for api in make_api(url):
            response = await api.client.get("/graphql", params=params)
            assert response.status_code == 200, response.text
            tags[name], bodies[name] = response.headers["etag"], response.json()
            assert f"-{identities[name]}-" in tags[name]
    assert bodies["blue"] == bodies["green"]
    assert _version(tags["blue"]) == _version(tags["green"]) == 1  # the same version, yet two tags
    assert tags["blue"] != tags["green"]

    async for api in make_api(green):
        # Blue's copy, revalidated against green: green's answer, never a 304.
        revalidated = await api.client.get("/graphql", params=params, headers={"if-none-match": tags["blue"]})
        assert revalidated.status_code == 200
        assert revalidated.headers["etag"] == tags["green"] and revalidated.json() == bodies["green"]
        # A tag of another database naming a far newer version says nothing of this one's: not a 503.
        newer = tags["blue"].replace('"v1-', '"v99-')
        ahead = await api.client.get("/graphql", params=params, headers={"if-none-match": newer})
        assert ahead.status_code == 200 and ahead.headers["etag"] == tags["green"]
        # Its own tag still revalidates.
        same = await api.client.get("/graphql", params=params, headers={"if-none-match": tags["green"]})
        assert same.status_code == 304


def test_the_identity_is_written_once(databases: Databases, engine_name: str, small_seed: Path) -> None:
    url = _seeded(databases, engine_name, small_seed)
    first = _identity(url)
    assert first and len(first) == 12
    path = small_seed / "small.yaml"
    path.write_text(path.read_text().replace("A security organization.", "A security organization, again."))
    asyncio.run(seed(url, small_seed, redis_url=""))
    assert _identity(url) == first  # a re-seed keeps it


def test_a_database_seeded_before_gets_its_identity_when_migrated(databases: Databases, engine_name: str) -> None:
    url = databases.new(engine_name)
    upgrade(url, "0011_lookup_indexes")

    async def insert() -> None:
        engine = create_engine(url, pool=False)
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("INSERT INTO dataset_state (id, version) VALUES (1, 4)")
        finally:
            await engine.dispose()

    asyncio.run(insert())
    upgrade(url)
    found = _identity(url)
    assert found is not None and len(found) == 12
