"""Real npm clients against the real server (clients/): codegen, tsc, Apollo Client 4 with APQ over GET and
relayStylePagination, urql with the persisted exchange. The project installs into a cache folder (tests/live.py)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
@pytest.mark.npm
def test_codegen_tsc_apollo_and_urql(seeded_db: str, tmp_path: Path) -> None:
    project = clients_dir()
    codegen = _tool(project, "graphql-codegen", "--config", "codegen.ts")
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    generated = (project / "src" / "gql" / "graphql.ts").read_text()
    assert "Date: { input: string; output: string; }" in generated  # the README's scalar mapping
    assert "export type NestedQuery = " in generated  # the examples are typed too
    tsc = _tool(project, "tsc", "-p", "tsconfig.json")
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr

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
    assert exchanges(urql["first"]) == [("GET", 200, True), ("GET", 200, False)]  # miss, then the query by GET
    assert exchanges(urql["second"]) == [("GET", 200, True)]
    assert urql["fieldError"]["codes"] == ["INVALID_PAGE_SIZE"]
    assert urql["requestError"] == {"codes": ["BAD_USER_INPUT"], "data": None, "status": 400}
