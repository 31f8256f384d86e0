"""Request coalescing: identical requests in flight share one execution, and every follower gets
the owner's answer, errors included (finding 1: a follower re-registering the key orphaned a
future and 13 of 1,316 answers were a bare `500 Internal Server Error`)."""

from __future__ import annotations

import asyncio

from app.config import PROJECT_ROOT
from tests.conftest import Api

TIMELINE = (PROJECT_ROOT / "app" / "examples" / "timeline.graphql").read_text()


async def _burst(api: Api, variables: dict[str, object], count: int = 16) -> list[tuple[int, str, object]]:
    async def one() -> tuple[int, str, object]:
        response = await api.client.post("/graphql", json={"query": TIMELINE, "variables": variables})
        kind = response.headers.get("content-type", "")
        return response.status_code, kind, response.json() if kind.startswith("application/json") else response.text

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_sixteen_identical_requests_whose_answer_has_errors_all_get_it(api: Api) -> None:
    for _round in range(5):
        answers = await _burst(api, {"first": 200})
        for status, kind, body in answers:
            assert status == 200 and kind.startswith("application/json"), (status, body)
            assert isinstance(body, dict)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["PAGE_SIZE_EXCEEDED"], body


async def test_sixteen_identical_good_requests_share_one_answer(api: Api) -> None:
    answers = await _burst(api, {"first": 3})
    bodies = [body for _status, _kind, body in answers]
    assert all(status == 200 for status, _kind, _body in answers)
    assert all(body == bodies[0] for body in bodies) and "errors" not in bodies[0]  # type: ignore[operator]
