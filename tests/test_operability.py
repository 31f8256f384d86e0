"""What operators need: request IDs, /metrics across workers, extensions.cost, clean JSON logs from boot to stop."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Api
from tests.live import LiveServer


async def test_a_sane_request_id_is_echoed_and_put_in_errors(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    sent = "client-7f3a.42:trace"
    ok = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": sent})
    assert ok.headers["x-request-id"] == sent
    failed = await api.client.post("/graphql", json={"query": "{ nope }"}, headers={"x-request-id": sent})
    assert failed.json()["errors"][0]["extensions"]["requestId"] == sent
    refused = await api.client.post(
        "/graphql", content=b"{", headers={"x-request-id": sent, "content-type": "application/json"}
    )
    assert refused.json()["errors"][0]["extensions"]["requestId"] == sent


@pytest.mark.parametrize("sent", ["", "has spaces", "x" * 129, 'quote"d', "é"])
async def test_an_insane_request_id_is_replaced(api: Api, sent: str) -> None:
    response = await api.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers=[(b"x-request-id", sent.encode())]
    )
    made = response.headers["x-request-id"]
    assert made != sent and re.fullmatch(r"[0-9a-f]{32}", made)


async def test_every_request_gets_its_own_id(api: Api) -> None:
    ids = {(await api.client.get("/healthz")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


async def test_successful_answers_carry_their_cost(api: Api) -> None:
    query = '{ organization(slug: "escap") { id events(first: 3) { nodes { id } } } }'
    first = (await api.client.post("/graphql", json={"query": query})).json()
    assert first["extensions"]["cost"] == {"requested": 5, "actual": 5}  # organization, connection, 3 events
    again = (await api.client.post("/graphql", json={"query": query})).json()  # from the result cache
    assert again == first
    failed = (await api.client.post("/graphql", json={"query": "{ events(first: 0) { nodes { id } } }"})).json()
    assert "extensions" not in failed


async def test_metrics_in_process(api: Api) -> None:
    await api.client.post("/graphql", json={"query": "query Probe { __typename }"})
    chart = (Path(__file__).parent.parent / "app" / "examples" / "timeline-chart.graphql").read_text()
    await api.client.post("/graphql", json={"query": chart})
    page = await api.client.get("/metrics")
    assert page.headers["content-type"].startswith("text/plain; version=")
    # a trusted document's (an example's) operation is a label of its own; a name a client chose is `other`
    assert 'kb_http_requests_total{operation="MongoliaEngagements",path="/graphql",status="200"}' in page.text
    assert 'kb_http_requests_total{operation="other",path="/graphql",status="200"}' in page.text
    assert 'operation="Probe"' not in page.text


async def test_client_chosen_operation_names_make_no_series(api: Api) -> None:
    before = (await api.client.get("/metrics")).text.count("kb_http_requests_total{")
    for index in range(300):
        await api.client.post("/graphql", json={"query": f"query Name{index} {{ __typename }}"})
    page = (await api.client.get("/metrics")).text
    assert page.count("kb_http_requests_total{") <= before + 1  # `other`, if it was not there yet
    assert "Name1" not in page


def _sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        named = line.startswith((name + "{", name + " "))
        if named and all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize("seeded_db", ["sqlite"], indirect=True)
def test_two_workers_metrics_logs_and_a_clean_stop(seeded_db: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    server = LiveServer(seeded_db, tmp_path / "server.log", workers=2, HOME=str(home))
    with server:
        for index in range(40):  # a new connection each time: both workers answer some
            with httpx.Client() as client:
                response = client.post(
                    server.url, json={"query": "query Probe { __typename }"}, headers={"x-request-id": f"probe-{index}"}
                )
                assert response.headers["x-request-id"] == f"probe-{index}"
        query = '{ organization(slug: "escap") { id name } }'
        sha = hashlib.sha256(query.encode()).hexdigest()
        apq = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": sha}})
        miss = httpx.get(server.url, params={"extensions": apq, "operationName": "Escap"})
        assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        time.sleep(1)  # each worker writes its samples at most app.http.metrics.FLUSH_SECONDS after a request
        pages = []
        for _ in range(6):
            with httpx.Client() as client:
                pages.append(client.get(server.base + "/metrics").text)
        for page in pages:  # whichever worker answers, it counts every worker's requests
            assert _sample(page, "kb_http_requests_total", path="/graphql", operation="other", status="200") >= 40
            assert _sample(page, "kb_apq_total", result="miss") == 1
            assert _sample(page, "kb_http_request_duration_seconds_count", operation="other") >= 40
            assert "kb_data_version" in page
        code = server.stop()
    assert code == 0
    lines = server.log().splitlines()
    records = [json.loads(line) for line in lines]  # every line, gunicorn's and uvicorn's too, is JSON
    assert not [r for r in records if r["logger"].startswith("alembic")]
    assert not [r for r in records if "Bad file descriptor" in r["message"]]
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records)
    assert any("Shutting down: Master" in r["message"] for r in records)
    access = [r for r in records if r["logger"] == "app.access" and r["path"] == "/graphql"]
    assert {r["requestId"] for r in access if r["operation"] == "Probe"} == {f"probe-{i}" for i in range(40)}
    missed = [r for r in access if "PERSISTED_QUERY_NOT_FOUND" in r["errorCodes"]]
    assert missed and missed[0]["operation"] == "Escap"
    assert list(home.iterdir()) == []  # nothing written to the home directory (gunicorn's control socket)
