"""Real npm clients against the real server (clients/): codegen, tsc, Apollo Client 4 with APQ over GET and
relayStylePagination, urql with the persisted exchange. The project installs into a cache folder (tests/live.py)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse

from tests.live import PROJECT, LiveServer, clients_dir, node


def _tool(project: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(project / "node_modules" / ".bin" / name), *args],
        cwd=project,
        env={**os.environ, "KB_PROJECT": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def project() -> Path:
    """The client project with its code generated (types and the trusted-documents manifest) and type-checked."""
    project = clients_dir()
    codegen = _tool(project, "graphql-codegen", "--config", "codegen.ts")
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    generated = (project / "src" / "gql" / "graphql.ts").read_text()
    assert "Date: { input: string; output: string; }" in generated  # the README's scalar mapping
    assert "export type NestedQuery = " in generated  # the examples are typed too
    tsc = _tool(project, "tsc", "-p", "tsconfig.json")
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr
    return project


@pytest.mark.npm
def test_codegen_writes_the_trusted_documents_manifest(project: Path) -> None:
    """codegen's client preset (`persistedDocuments`): a JSON object from each operation's SHA-256 (hex) to its
    text, the examples' operations included, each generated document carrying its hash for the clients to send."""
    manifest = json.loads((project / "src" / "gql" / "persisted-documents.json").read_text())
    assert all(hashlib.sha256(text.encode()).hexdigest() == key for key, text in manifest.items())
    names = {parse(text).definitions[0].name.value for text in manifest.values()}  # type: ignore[attr-defined]
    examples = {
        parse(path.read_text()).definitions[0].name.value  # type: ignore[attr-defined]
        for path in (PROJECT / "app" / "examples").glob("*.graphql")
    }
    assert examples | {"OrganizationBySlug", "OrganizationsPage", "PagedEvents"} <= names
    generated = (project / "src" / "gql" / "graphql.ts").read_text()
    assert all(f'"__meta__":{{"hash":"{key}"}}' in generated for key in manifest)


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
@pytest.mark.npm
def test_codegen_tsc_apollo_and_urql(seeded_db: str, tmp_path: Path, project: Path) -> None:
    with LiveServer(seeded_db, tmp_path / "server.log", LOG_LEVEL="warning") as server:
        apollo_run = node("src/apollo.ts", server.url, cwd=project)
        assert apollo_run.returncode == 0, apollo_run.stderr
        urql_run = node("src/urql.ts", server.url, cwd=project)
        assert urql_run.returncode == 0, urql_run.stderr
    apollo = json.loads(apollo_run.stdout)
    urql = json.loads(urql_run.stdout)
    print("apollo:", json.dumps(apollo))
    print("urql:", json.dumps(urql))

    def exchanges(run: dict[str, object]) -> list[tuple[str, int, bool]]:
        return [(e["method"], e["status"], e["hashed"]) for e in run["exchanges"]]  # type: ignore[attr-defined, index]

    first, second, third = apollo["runs"]
    assert (
        first["name"]
        == second["name"]
        == third["name"]
        == "United Nations Economic and Social Commission for Asia and the Pacific"
    )
    assert exchanges(first) == [("GET", 200, True), ("POST", 200, False)]  # miss, then registered
    assert exchanges(second) == [("GET", 200, True)]  # one hashed GET
    assert exchanges(third) == [("GET", 304, True)]  # revalidated by its ETag
    paging = apollo["paging"]
    assert paging["sizes"][-1] == paging["totalCount"] == paging["distinct"] > 5
    assert paging["sizes"] == sorted(set(paging["sizes"]))  # each fetchMore grew the list

    assert urql["first"]["name"] == "Organization for Security and Co-operation in Europe"
    # codegen adds `__typename` as both clients do, so urql sends the very document Apollo registered: a hit,
    # then the same GET revalidated by its ETag.
    assert exchanges(urql["first"]) == [("GET", 200, True)]
    assert exchanges(urql["second"]) == [("GET", 304, True)]
    assert urql["fieldError"]["codes"] == ["INVALID_PAGE_SIZE"]
    assert urql["requestError"] == {"codes": ["BAD_USER_INPUT"], "data": None, "status": 400}


def _sent(run: dict[str, Any]) -> list[tuple[str, int, bool, bool]]:
    """(method, status, sent a documentId, sent a query) of each exchange."""
    return [(e["method"], e["status"], e["documentId"], e["query"]) for e in run["exchanges"]]


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
@pytest.mark.npm
def test_apollo_and_urql_send_only_trusted_documents(seeded_db: str, tmp_path: Path, project: Path) -> None:
    """Against a server in only-trusted mode loading codegen's manifest, Apollo Client and urql send `documentId`
    (by GET, revalidated by its ETag) and never a query's text; an operation outside the manifest is refused."""
    manifest_path = project / "src" / "gql" / "persisted-documents.json"
    manifest = json.loads(manifest_path.read_text())
    by_slug = next(key for key, text in manifest.items() if text.startswith("query OrganizationBySlug("))
    settings = {"TRUSTED_DOCUMENTS": str(manifest_path), "TRUSTED_DOCUMENTS_ONLY": "true", "LOG_LEVEL": "warning"}
    with LiveServer(seeded_db, tmp_path / "server.log", **settings) as server:
        answered = httpx.post(server.url, json={"documentId": f"sha256:{by_slug}", "variables": {"slug": "escap"}})
        assert answered.status_code == 200 and answered.json().get("data"), answered.text  # the server's part
        apollo_run = node("src/apollo-trusted.ts", server.url, cwd=project)
        assert apollo_run.returncode == 0, apollo_run.stderr
        urql_run = node("src/urql-trusted.ts", server.url, cwd=project)
        assert urql_run.returncode == 0, urql_run.stderr
    apollo = json.loads(apollo_run.stdout)
    urql = json.loads(urql_run.stdout)
    print("apollo:", json.dumps(apollo))
    print("urql:", json.dumps(urql))

    first, second = apollo["runs"]
    assert first["name"] == second["name"] == "United Nations Economic and Social Commission for Asia and the Pacific"
    assert _sent(first) == [("GET", 200, True, False)]
    assert _sent(second) == [("GET", 304, True, False)]  # cacheable: revalidated by its ETag
    assert apollo["aggregate"]["groups"] > 10 and _sent(apollo["aggregate"]) == [("GET", 200, True, False)]
    assert apollo["adHoc"]["codes"] == ["TRUSTED_DOCUMENT_REQUIRED"]
    [(_method, status, _id, query)] = _sent(apollo["adHoc"])
    assert status in (400, 403) and query

    assert urql["first"]["name"] == "Organization for Security and Co-operation in Europe"
    assert _sent(urql["first"]) == [("GET", 200, True, False)]
    assert urql["aggregate"]["groups"] > 10 and _sent(urql["aggregate"]) == [("GET", 200, True, False)]
    assert urql["adHoc"]["codes"] == ["TRUSTED_DOCUMENT_REQUIRED"]
