"""Fuzzing the edge with hostile inputs: IDs, cursors and strings built from the classes that broke
it (NUL and control characters, huge and negative integers, non-ASCII digits, leading zeros,
nulls and wrong types inside cursor keys, other types' IDs). Every answer must be JSON with a
normal answer or coded, non-internal errors, on both engines. The examples are generated once,
derandomized, so a run is repeatable; each failure names its input. Since issue 19 also variables (deep, huge,
floats and huge integers for an Int) and GET query strings in every encoding (below)."""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import httpx
import hypothesis.strategies as st
import pytest
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
    strategy = st.sampled_from(sorted(QUERIES)).flatmap(
        lambda name: st.tuples(st.just(name), QUERIES[name][1], st.booleans())
    )
    return _collect(strategy, EXAMPLES)


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


# -- variables and query strings (issue 19) ------------------------------------------------------------------
#
# Variables nested hundreds of levels deep, huge (many keys, long lists), floats and huge integers where an Int
# goes; and GET query strings written every way a client (or an attacker) may: names percent-encoded (`%71uery`),
# `+` for spaces, parameters given twice, invalid UTF-8 once decoded, NUL, empty names. Every answer is JSON, with
# a code on each error, never a 5xx. Kept quick: a hundred requests or so per engine.

VARIABLE_EXAMPLES = 60
QUERY_STRING_EXAMPLES = 80
INT_QUERY = "query($v: Int) { organizations(first: $v) { nodes { id } } }"
IDS_QUERY = "query($v: [ID!]) { nodes(ids: $v) { id } }"
FILTER_QUERY = "query($v: EventFilter) { events(first: 2, filter: $v) { totalCount } }"


def _nested_text(depth: int, kind: str) -> str:
    """JSON text nested `depth` levels (Python's encoders stop at a few hundred)."""
    if kind == "lists":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


scalar_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([100.0, 2.5, -0.0, 1e308, -1e308, 5e-324, 2.0**31, 2.0**53 + 1]),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**31, -(2**31) - 1, 2**63, 2**64 - 1, 10**40, "100", "1e3", True, None]),
)
variable_texts = st.one_of(
    st.builds(_nested_text, st.integers(1, 1000), st.sampled_from(["lists", "objects"])),
    st.builds(lambda n: "[" + ",".join(["1"] * n) + "]", st.integers(0, 12_000)),
    st.builds(lambda n: "{" + ",".join(f'"k{i}":{i}' for i in range(n)) + "}", st.integers(0, 8_000)),
    scalar_values.map(json.dumps),
    st.builds(lambda value: json.dumps({"text": value}), hostile_text),
)
variable_examples = st.tuples(st.sampled_from([INT_QUERY, IDS_QUERY, FILTER_QUERY]), variable_texts)

NAMES = ["query", "variables", "operationName", "extensions", "documentId"]


def _percent_encoded(name: str, mask: int) -> str:
    """The name with the letters `mask` picks percent-encoded (`%71uery`), upper or lower hex alike."""
    return "".join(
        (f"%{ord(char):02X}" if mask & 4 else f"%{ord(char):02x}") if mask & (1 << (i % 3)) else char
        for i, char in enumerate(name)
    )


query_string_parts = st.one_of(
    st.builds(
        lambda name, mask, value: f"{_percent_encoded(name, mask)}={value}",
        st.sampled_from(NAMES),
        st.integers(0, 7),
        st.sampled_from(
            [
                "%7B__typename%7D",
                "{+__typename+}",
                "query+Q+{+apiVersion+}",
                "%7B%20organizations(first:%20100.0)%20%7B%20totalCount%20%7D%20%7D",
                "%ff%fe",
                "%c3%28",
                "%e2%82",
                "%00",
                "%",
                "%zz",
                "{%22v%22:" + "%5B" * 300 + "1" + "%5D" * 300 + "}",
                '{"persistedQuery":{"version":1,"sha256Hash":"' + "0" * 64 + '"}}',
                "null",
                "",
                "Q",
            ]
        ),
    ),
    st.sampled_from(["", "&", "=", "=x", "&&", ";", "query", "%71uery", "a=1", "%ff=1", "+=+", "query=&query="]),
)
query_strings = st.lists(query_string_parts, min_size=1, max_size=5).map("&".join)


def _collect(strategy: Any, count: int) -> list[Any]:
    found: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    collect()
    return found


@functools.cache
def variable_cases() -> list[tuple[str, str]]:
    return _collect(variable_examples, VARIABLE_EXAMPLES)


@functools.cache
def query_string_cases() -> list[str]:
    return _collect(query_strings, QUERY_STRING_EXAMPLES)


def _answer_problems(label: str, response: Any) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return [f"{label}: HTTP {response.status_code}, not JSON: {response.text[:100]!r}"]
    problems = []
    if response.status_code >= 500:
        problems.append(f"{label}: HTTP {response.status_code}: {response.text[:200]}")
    for error in (body.get("errors") or []) if isinstance(body, dict) else []:
        code = (error.get("extensions") or {}).get("code")
        if code is None or code == "INTERNAL_SERVER_ERROR":
            problems.append(f"{label}: {code}: {error.get('message', '')[:200]}")
    return problems


async def test_hostile_variables_get_coded_errors_or_answers(api: Api) -> None:
    problems: list[str] = []
    for query, variables in variable_cases():
        label = f"{query[:20]} variables {variables[:60]!r}"
        text = f'{{"v": {variables}}}'
        body = f'{{"query": {json.dumps(query)}, "variables": {text}}}'
        response = await api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
        problems += _answer_problems("POST " + label, response)
        if len(text) < 8_000:  # a longer URL is refused (414) by the request-line limit before it is read
            response = await api.client.get(
                "/graphql", params={"query": query, "variables": text}, headers={"accept": "application/json"}
            )
            problems += _answer_problems("GET " + label, response)
    assert not problems, "\n".join(problems)
    assert len(set(variable_cases())) > VARIABLE_EXAMPLES // 2


async def test_hostile_query_strings_get_coded_errors_or_answers(api: Api) -> None:
    problems: list[str] = []
    for raw in query_string_cases():
        url = httpx.URL("http://testserver/graphql", query=raw.encode("ascii"))
        for method in ("GET", "HEAD"):
            response = await api.client.request(method, url, headers={"accept": "application/json"})
            if method == "HEAD":
                if response.status_code >= 500:
                    problems.append(f"HEAD ?{raw[:120]}: HTTP {response.status_code}")
                continue
            problems += _answer_problems(f"GET ?{raw[:120]}", response)
    assert not problems, "\n".join(problems)
    assert len(set(query_string_cases())) > QUERY_STRING_EXAMPLES // 2


@pytest.mark.parametrize(
    "raw", ["query=", "%71uery=", "query=%00", "query=%7B", "query=mutation+%7B+x+%7D", "query=%7B+nope+%7D"]
)
async def test_head_is_answered_as_get_is_without_a_body(api: Api, raw: str) -> None:
    """A HEAD whose query Strawberry answers (a parse or validation error) was a 500: Strawberry knows no HEAD."""
    url = httpx.URL("http://testserver/graphql", query=raw.encode("ascii"))
    got = await api.client.get(url, headers={"accept": "application/json"})
    head = await api.client.head(url, headers={"accept": "application/json"})
    assert got.status_code < 500 and (got.json().get("errors") or [{}])[0].get("extensions", {}).get("code") not in (
        None,
        "INTERNAL_SERVER_ERROR",
    ), got.text
    assert head.status_code == got.status_code and head.content == b""
