"""Fuzzing the edge with hostile inputs: IDs, cursors and strings built from the classes that broke
it (NUL and control characters, huge and negative integers, non-ASCII digits, leading zeros,
nulls and wrong types inside cursor keys, other types' IDs). Every answer must be JSON with a
normal answer or coded, non-internal errors, on both engines. The examples are generated once,
derandomized, so a run is repeatable; each failure names its input."""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, Phase, given, settings

from tests.conftest import Api

EXAMPLES = 200
TYPES = ["Organization", "Country", "Membership", "Chairmanship", "Event", "Statistic", "Document", "Mention", "Query"]
TAGS = ["Organization:NAME:ASC", "Event:DATE:ASC", "Event:DATE:DESC", "Organization:SLUG:DESC", "x"]
CONTROL = st.sampled_from([chr(c) for c in [*range(0, 32), 127]])
DIGITS = st.sampled_from(["0123456789", "٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "०१२३४५६७८९"])

hostile_text = st.one_of(
    st.text(max_size=40),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=10), CONTROL, st.text(max_size=10)),
    st.sampled_from(["", " ", "\x00", "a\x00", "escap", "ESCAP", "MNG", "2019", "\u2028", "\ufeff", "\U0001f600"]),
)
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, -1, -(2**31) - 1, 10**40]),
)
number_text = st.one_of(
    numbers.map(str),
    st.builds(lambda zeros, n: "0" * zeros + str(n), st.integers(1, 3), st.integers(0, 500)),
    st.builds(lambda digits, n: "".join(digits[int(d)] for d in str(n)), DIGITS, st.integers(0, 10**6)),
    hostile_text,
)
ids = st.one_of(
    st.builds(lambda t, n: base64.b64encode(f"{t}:{n}".encode()).decode(), st.sampled_from(TYPES), number_text),
    st.builds(lambda raw: base64.b64encode(raw).decode(), st.binary(max_size=30)),
    hostile_text,
)
key_values = st.one_of(
    st.none(), st.booleans(), numbers, st.floats(allow_nan=False), hostile_text, st.lists(numbers, max_size=2)
)
cursors = st.one_of(
    st.builds(
        lambda tag, values: base64.urlsafe_b64encode(json.dumps([tag, values]).encode()).decode().rstrip("="),
        st.sampled_from(TAGS),
        st.lists(key_values, max_size=4),
    ),
    st.builds(lambda raw: base64.urlsafe_b64encode(raw).decode(), st.binary(max_size=40)),
    hostile_text,
)

QUERIES: dict[str, tuple[str, Any]] = {
    "node": ("query($v: ID!) { node(id: $v) { id __typename } }", ids),
    "nodes": ("query($v: [ID!]!) { nodes(ids: $v) { id } }", st.lists(ids, min_size=1, max_size=4)),
    "organizations after": (
        "query($v: String) { organizations(first: 2, after: $v, orderBy: {field: NAME, direction: ASC}) { nodes { id } } }",
        cursors,
    ),
    "events before": (
        "query($v: String) { events(last: 2, before: $v, orderBy: {field: DATE, direction: DESC}) { nodes { id } } }",
        cursors,
    ),
    "search after": ('query($v: String) { search(query: "peace", first: 2, after: $v) { totalCount } }', cursors),
    "organization": ("query($v: String!) { organization(slug: $v) { id } }", hostile_text),
    "country": ("query($v: String!) { country(code: $v) { id } }", hostile_text),
    "search": ("query($v: String!) { search(query: $v, first: 3) { totalCount } }", hostile_text),
    "event filter": (
        "query($v: String) { events(first: 2, filter: {text: $v, organization: $v}) { totalCount } }",
        hostile_text,
    ),
    "dates": ("query($v: String) { events(first: 2, filter: {from: $v, to: $v}) { totalCount } }", hostile_text),
    "timeline": (
        "query($v: String) { timeline(groupBy: YEAR, filter: {organization: $v, country: $v}) { totalCount } }",
        hostile_text,
    ),
}


@functools.cache
def examples() -> list[tuple[str, Any, bool]]:
    """(query name, value, as a literal?) triples, the same ones on every run."""
    found: list[tuple[str, Any, bool]] = []
    strategy = st.sampled_from(sorted(QUERIES)).flatmap(
        lambda name: st.tuples(st.just(name), QUERIES[name][1], st.booleans())
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: tuple[str, Any, bool]) -> None:
        found.append(example)

    collect()
    return found


def _literal(query: str, value: Any) -> str:
    """The query with `$v` written in as a literal (JSON strings and lists are GraphQL literals)."""
    _head, body = query.split(") {", 1)
    return "{" + body.replace("$v", json.dumps(value))


async def test_hostile_ids_cursors_and_strings_get_coded_errors_or_answers(api: Api) -> None:
    problems = []
    generated = examples()
    for name, value, as_literal in generated:
        query = QUERIES[name][0]
        if as_literal:
            response = await api.post(_literal(query, value))
        else:
            response = await api.post(query, {"v": value})
        try:
            body = response.json()
        except ValueError:
            problems.append(f"{name} {value!r}: HTTP {response.status_code}, not JSON: {response.text[:100]}")
            continue
        if response.status_code >= 500:
            problems.append(f"{name} {value!r}: HTTP {response.status_code}")
        for error in body.get("errors", []):
            code = (error.get("extensions") or {}).get("code")
            if code is None or code == "INTERNAL_SERVER_ERROR":
                problems.append(f"{name} {value!r} (literal: {as_literal}): {code}: {error['message']}")
    assert not problems, "\n".join(problems)
    assert len({repr(example) for example in generated}) > EXAMPLES // 2
