"""Fuzzing: queries generated from the committed schema.graphql find no unexpected error and no slow query.

hypothesis-graphql builds valid queries (any field, any argument value) from the SDL; each
runs in-process through the real app, on both engines. The seed is fixed and the number of
examples bounded, so a run is repeatable and takes seconds. Each failure names the query.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import hypothesis.strategies as st
from graphql import build_schema
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis_graphql import queries

from tests.conftest import Api

SCHEMA = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()
EXAMPLES = 150
ABSURD_SECONDS = 2.0  # a generous bound: the point is to catch a runaway query, not to benchmark


@functools.cache
def generated_queries(count: int) -> list[str]:
    """`count` queries, the same ones on every run, spread evenly over the root fields."""
    found: list[str] = []
    roots = sorted(build_schema(SCHEMA).query_type.fields)  # type: ignore[union-attr]

    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.sampled_from(roots).flatmap(lambda root: queries(SCHEMA, fields=[root])))
    def collect(query: str) -> None:
        found.append(query)

    collect()
    return found


async def test_generated_queries_find_no_unexpected_error_and_no_slow_query(api: Api) -> None:
    problems = []
    slowest = (0.0, "")
    generated = generated_queries(EXAMPLES)
    for query in generated:
        started = time.perf_counter()
        response = await api.post(query)
        elapsed = time.perf_counter() - started
        slowest = max(slowest, (elapsed, query))
        if response.status_code != 200:
            problems.append(f"HTTP {response.status_code}: {query}")
            continue
        for error in response.json().get("errors", []):
            code = (error.get("extensions") or {}).get("code")
            if code is None or code == "INTERNAL_SERVER_ERROR":
                problems.append(f"{code}: {error['message']}\n    in {query}")
    assert not problems, "\n".join(problems)
    assert slowest[0] < ABSURD_SECONDS, f"{slowest[0]:.2f} s for {slowest[1]}"
    assert len(set(generated)) > EXAMPLES // 2  # the generator did explore
