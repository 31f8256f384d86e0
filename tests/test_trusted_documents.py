"""Trusted documents (app/http/trusted_documents.py): operations sent by `documentId`, and a mode that runs nothing else."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.http.app import create_app
from app.http.trusted_documents import EXAMPLES_DIR, TrustedDocumentsError
from tests.conftest import Api, make_api

DOCUMENT = "query Orgs($n: Int!) { organizations(first: $n) { nodes { id slug } } }"
SHA = hashlib.sha256(DOCUMENT.encode()).hexdigest()
SPEC = {"accept": "application/graphql-response+json, application/json;q=0.9"}


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({SHA: DOCUMENT}))
    return path


@pytest.fixture
async def trusted(seeded_db: str, manifest: Path) -> AsyncIterator[Api]:
    async for made in make_api(seeded_db, trusted_documents=manifest):
        yield made


@pytest.fixture
async def only_trusted(seeded_db: str, manifest: Path) -> AsyncIterator[Api]:
    async for made in make_api(seeded_db, trusted_documents=manifest, trusted_documents_only=True):
        yield made


def _code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


@pytest.mark.parametrize("document_id", [SHA, f"sha256:{SHA}"])
async def test_a_manifest_document_answers_by_its_id_over_post_and_get(trusted: Api, document_id: str) -> None:
    expected = await trusted.data(DOCUMENT, {"n": 2})
    posted = await trusted.client.post("/graphql", json={"documentId": document_id, "variables": {"n": 2}})
    assert posted.status_code == 200 and posted.json()["data"] == expected
    got = await trusted.client.get("/graphql", params={"documentId": document_id, "variables": json.dumps({"n": 2})})
    assert got.status_code == 200 and got.json()["data"] == expected
    tag = got.headers["etag"]
    again = await trusted.client.get(
        "/graphql",
        params={"documentId": document_id, "variables": json.dumps({"n": 2})},
        headers={"if-none-match": tag},
    )
    assert again.status_code == 304  # cacheable with ETags like any GET


async def test_an_unknown_id_is_persisted_query_not_found(trusted: Api) -> None:
    response = await trusted.client.post("/graphql", json={"documentId": "sha256:" + "0" * 64}, headers=SPEC)
    assert response.status_code == 400
    assert _code(response.json()) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize("document_id", ["sha256:xyz", "", "md5:" + "0" * 32, "a" * 500])
async def test_a_malformed_id_is_not_found_and_said_briefly(trusted: Api, document_id: str) -> None:
    response = await trusted.client.post("/graphql", json={"documentId": document_id})
    assert _code(response.json()) == "PERSISTED_QUERY_NOT_FOUND"
    assert len(response.json()["errors"][0]["message"]) < 300


async def test_an_id_and_a_query_together_are_refused(trusted: Api) -> None:
    response = await trusted.client.post("/graphql", json={"documentId": SHA, "query": DOCUMENT})
    assert response.status_code == 400 and _code(response.json()) == "BAD_REQUEST"


async def test_only_trusted_mode_refuses_anything_else_before_parsing(only_trusted: Api) -> None:
    ad_hoc = await only_trusted.client.post("/graphql", json={"query": "{ __typename }"}, headers=SPEC)
    assert ad_hoc.status_code == 403 and _code(ad_hoc.json()) == "TRUSTED_DOCUMENT_REQUIRED"
    broken = await only_trusted.client.post("/graphql", json={"query": "{ not valid"}, headers=SPEC)
    assert _code(broken.json()) == "TRUSTED_DOCUMENT_REQUIRED"  # refused before it was parsed
    unknown = await only_trusted.client.post("/graphql", json={"documentId": "f" * 64}, headers=SPEC)
    assert _code(unknown.json()) == "PERSISTED_QUERY_NOT_FOUND"
    by_id = await only_trusted.client.post("/graphql", json={"documentId": SHA, "variables": {"n": 1}})
    assert len(by_id.json()["data"]["organizations"]["nodes"]) == 1
    # APQ: a registration of an untrusted query is refused too.
    query = "{ countries(first: 1) { nodes { code } } }"
    apq = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}
    registered = await only_trusted.client.post("/graphql", json={"query": query, "extensions": apq})
    assert _code(registered.json()) == "TRUSTED_DOCUMENT_REQUIRED"


async def test_the_examples_are_always_trusted(only_trusted: Api) -> None:
    for path in sorted(EXAMPLES_DIR.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        sha = hashlib.sha256(text.encode()).hexdigest()
        response = await only_trusted.client.post("/graphql", json={"documentId": f"sha256:{sha}"})
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, (path.name, body)
        assert body["data"], path.name


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("entries", "said"),
    [
        ({SHA: "{ noSuchField }"}, "is not the SHA-256"),
        ({hashlib.sha256(b"{ noSuchField }").hexdigest(): "{ noSuchField }"}, "cannot run"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_a_manifest_the_server_cannot_use_stops_the_start_naming_it(
    seeded_db: str, tmp_path: Path, entries: Any, said: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(entries))
    with pytest.raises(TrustedDocumentsError, match=said):
        create_app(Settings(database_url=seeded_db, trusted_documents=path))


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
def test_a_missing_manifest_stops_the_start(seeded_db: str, tmp_path: Path) -> None:
    with pytest.raises(TrustedDocumentsError, match="cannot read it"):
        create_app(Settings(database_url=seeded_db, trusted_documents=tmp_path / "missing.json"))
