"""Inputs validated at the edge, the same on both engines (findings 2 to 5).

- NUL and other control characters in any string (argument, filter, variable): BAD_USER_INPUT,
  never an internal error on PostgreSQL ("invalid byte sequence ... 0x00") nor a silent cut on
  SQLite (where `"a\\0"` matched `"a"`).
- Global IDs parsed strictly (one object, one ID); a number past the key column's range is not
  found: `null` for `node`, per item for `nodes`.
- Forged cursors (null inside the key, big integers, NUL, booleans): INVALID_CURSOR.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest

from tests.conftest import Api

# Each query takes its hostile text as `$t` (a variable) and as `TEXT` (written as a literal).
TEXT_ARGUMENTS = [
    "organization(slug: TEXT) { name }",
    "country(code: TEXT) { name }",
    "search(query: TEXT) { totalCount }",
    "organizations(filter: {name: TEXT}) { totalCount }",
    "organizations(filter: {parent: TEXT}) { totalCount }",
    "countries(filter: {name: TEXT}) { totalCount }",
    "events(filter: {text: TEXT}) { totalCount }",
    "events(filter: {organization: TEXT}) { totalCount }",
    "events(filter: {from: TEXT}) { totalCount }",
    "memberships(filter: {member: TEXT}) { totalCount }",
    "chairmanships(filter: {chair: TEXT}) { totalCount }",
    "statistics(filter: {country: TEXT}) { totalCount }",
    "timeline(groupBy: YEAR, filter: {organization: TEXT}) { totalCount }",
    "conflicts(filter: {document: TEXT}) { totalCount }",
    "organizations(after: TEXT) { totalCount }",
]
HOSTILE_TEXT = ["esc\x00ap", "\x00", "a\x00", "escap\x01", "e\x1bscap", "\x7f"]


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def _post(api: Api, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await api.post(query, variables)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("field", TEXT_ARGUMENTS)
@pytest.mark.parametrize("text", HOSTILE_TEXT)
async def test_control_characters_in_a_literal_are_bad_user_input(api: Api, field: str, text: str) -> None:
    literal = json.dumps(text)  # a JSON string is a GraphQL string: "esc\u0000ap"
    body = await _post(api, "{ " + field.replace("TEXT", literal) + " }")
    assert _codes(body) == ["BAD_USER_INPUT"], body
    assert "control character" in body["errors"][0]["message"] or "NUL" in body["errors"][0]["message"]


@pytest.mark.parametrize("field", TEXT_ARGUMENTS)
async def test_a_nul_in_a_variable_is_bad_user_input(api: Api, field: str) -> None:
    body = await _post(api, "query($t: String!) { " + field.replace("TEXT", "$t") + " }", {"t": "esc\x00ap"})
    assert _codes(body) == ["BAD_USER_INPUT"], body
    assert "$t" in body["errors"][0]["message"]


async def test_a_nul_inside_an_input_object_variable_is_bad_user_input(api: Api) -> None:
    query = "query($f: EventFilter) { events(filter: $f) { totalCount } }"
    body = await _post(api, query, {"f": {"kinds": ["SUMMIT"], "organization": "a\x00"}})
    assert _codes(body) == ["BAD_USER_INPUT"] and "$f.organization" in body["errors"][0]["message"]


async def test_tab_and_newline_are_still_text(api: Api) -> None:
    body = await _post(api, "query($t: String!) { search(query: $t) { totalCount } }", {"t": "peace\tkeeping\n"})
    assert "errors" not in body, body


def _id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def _an_organization(api: Api) -> tuple[str, int]:
    data = await api.data("{ organizations(first: 1) { nodes { id slug } } }")
    global_id = data["organizations"]["nodes"][0]["id"]
    return global_id, int(base64.b64decode(global_id).decode().split(":")[1])


@pytest.mark.parametrize("number", [2**31, 2**31 + 7, 2**63, 2**63 + 1, 10**30, 10**200])
async def test_an_id_past_the_key_range_is_not_found(api: Api, number: int) -> None:
    known, _pk = await _an_organization(api)
    far = _id(f"Organization:{number}")
    if len(far) > 200:
        body = await _post(api, "query($id: ID!) { node(id: $id) { id } }", {"id": far})
        assert _codes(body) == ["INVALID_ID"], body
        return
    body = await _post(api, "query($id: ID!) { node(id: $id) { id } }", {"id": far})
    assert body["data"] == {"node": None}, body
    body = await _post(api, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [known, far, known]})
    assert body["data"] == {"nodes": [{"id": known}, None, {"id": known}]}, body


@pytest.mark.parametrize(
    "text",
    [
        "Organization:0{pk}",  # a leading zero
        "Organization:{arabic}",  # Arabic-Indic digits
        "Organization:{fullwidth}",  # full-width digits
        "Organization:+{pk}",
        "Organization: {pk}",
        "Organization:{pk} ",
        "Organization:{pk}\n",
        "Organization:-{pk}",
        "Organization:{pk}.0",
        "organization:{pk}",
        "Organization:",
        "Organization:{pk}:{pk}",
        "Nothing:{pk}",
    ],
)
async def test_ids_are_parsed_strictly(api: Api, text: str) -> None:
    known, pk = await _an_organization(api)
    arabic = "".join(chr(0x0660 + int(d)) for d in str(pk))
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(pk))
    forged = _id(text.format(pk=pk, arabic=arabic, fullwidth=fullwidth))
    assert forged != known
    body = await _post(api, "query($id: ID!) { node(id: $id) { id } }", {"id": forged})
    assert _codes(body) == ["INVALID_ID"], body


async def test_an_id_in_non_canonical_base64_is_refused(api: Api) -> None:
    known, _pk = await _an_organization(api)
    unpadded = known.rstrip("=")
    for forged in {unpadded, known + "==", " " + known, known.replace("=", "") + "\n"} - {known}:
        body = await _post(api, "query($id: ID!) { node(id: $id) { id } }", {"id": forged})
        assert _codes(body) in (["INVALID_ID"], ["BAD_USER_INPUT"]), (forged, body)


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


async def test_forged_cursors_are_invalid_cursors(api: Api) -> None:
    data = await api.data("{ organizations(first: 1, orderBy: {field: NAME, direction: ASC}) { edges { cursor } } }")
    real = data["organizations"]["edges"][0]["cursor"]
    tag, values = orjson.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
    name, pk = values
    forged_values = [
        [None, pk],
        [name, None],
        [None, None],
        [name, 2**31],
        [name, 2**63 + 1],
        [name, -(2**63) - 1],
        [name, 10**40],
        [name + "\x00", pk],
        ["\x00", pk],
        [name, True],
        [True, pk],
        [name, 1.5],
        [name, str(pk)],
        [[name], pk],
        [{"a": 1}, pk],
        [name],
        [name, pk, pk],
    ]
    for forged in forged_values:
        query = "query($c: String) { organizations(first: 2, after: $c, orderBy: {field: NAME, direction: ASC}) { nodes { id } } }"
        body = await _post(api, query, {"c": _cursor([tag, forged])})
        assert _codes(body) == ["INVALID_CURSOR"], (forged, body)
    # and a date ordering: nulls are legitimate there (unknown dates), a NUL or a number is not
    data = await api.data("{ events(first: 1, orderBy: {field: DATE, direction: ASC}) { edges { cursor } } }")
    real = data["events"]["edges"][0]["cursor"]
    tag, values = orjson.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
    query = "query($c: String) { events(first: 2, after: $c, orderBy: {field: DATE, direction: ASC}) { nodes { id } } }"
    body = await _post(api, query, {"c": _cursor([tag, [None, None, values[-1]]])})
    assert "errors" not in body, body
    for forged in ([values[0] + "\x00", values[1], values[-1]], [20190101, values[1], values[-1]], [None, None, None]):
        body = await _post(api, query, {"c": _cursor([tag, forged])})
        assert _codes(body) == ["INVALID_CURSOR"], (forged, body)
