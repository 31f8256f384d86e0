"""The questions of issue 11, each answered right by one query over HTTP, on both engines.

Every query runs with EXECUTION=verify (tests/conftest.py): where the fast path answers, Strawberry
answers too and they must agree.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api


def slugs(connection: dict[str, Any]) -> list[str]:
    return [node["slug"] for node in connection["nodes"]]


async def test_when_mongolia_started_in_the_community_of_democracies(api: Api) -> None:
    data = await api.data(
        """{ memberships(filter: {member: "MNG", within: "CD"}, orderBy: {field: START_DATE}, first: 1) {
               nodes { slug role startDate { edtf } status basis basisNote organization { slug } } } }"""
    )
    [first] = data["memberships"]["nodes"]
    assert first["startDate"] == {"edtf": "2000"}
    assert first["status"] == "ONGOING"
    # Both the Community's own record and its Ministerial Conference's say 2000.
    both = await api.data(
        """{ memberships(filter: {member: "MNG", within: "CD", to: "2000"}) { nodes { slug startDate { edtf } } } }"""
    )
    assert sorted(slugs(both["memberships"])) == [
        "mongolia-in-cd-ministerial-conference",
        "mongolia-in-community-of-democracies",
    ]
    assert first["basis"] == "INFERRED" or first["organization"]["slug"] == "cd-ministerial-conference"


async def test_which_events_mongolia_hosted(api: Api) -> None:
    data = await api.data(
        """{ country(code: "MNG") { events(filter: {participantRole: HOST}, first: 100) { totalCount nodes { slug } } }
             events(filter: {participant: "MNG", participantRole: HOST}, first: 100) { totalCount nodes { slug } }
             invited: events(filter: {participant: "PRK", participantRole: INVITEE}) { nodes { slug
               participants(filter: {roleKind: INVITEE}) { totalCount edges { role roleKind basis node { code } } } } }
             hostedByPrk: events(filter: {participant: "PRK", participantRole: HOST}) { totalCount } }"""
    )
    hosted = slugs(data["country"]["events"])
    assert hosted == slugs(data["events"])
    assert "asem-summit-11-2016" in hosted
    assert "ulaanbaatar-dialogue-conferences" in hosted
    assert "cd-7th-ministerial-conference-2013" in hosted
    assert "fao-mongolia-office-established-2009" in hosted
    assert "lldc-first-summit-havana-2006" not in hosted  # Mongolia took part; Cuba is only where
    assert data["hostedByPrk"]["totalCount"] == 0
    [conference] = data["invited"]["nodes"]
    assert conference["slug"] == "ulaanbaatar-dialogue-conferences"
    edges = conference["participants"]["edges"]
    assert conference["participants"]["totalCount"] == 11
    assert {edge["node"]["code"] for edge in edges} >= {"PRK", "CHN", "USA"}
    assert all(edge["roleKind"] == "INVITEE" and edge["role"] == "invitee" for edge in edges)


async def test_what_happened_in_2016(api: Api) -> None:
    data = await api.data(
        """{ events(filter: {from: "2016", to: "2016"}, first: 100) {
               nodes { slug date { edtf } recurrence { frequency since { edtf } until { edtf } } } } }"""
    )
    found = {node["slug"]: node for node in data["events"]["nodes"]}
    assert set(found) == {
        "asem-summit-11-2016",
        "ulaanbaatar-dialogue-conferences",  # annually held since 2014
        "ga-resolution-mongolia-nwfz-status",  # every two years since 1998: 2016 is one of them
        "un-major-conferences-since-2000",  # "took place since 2000"
        "cd-ministerial-conferences-since-2000",  # Mongolia "has participated" since 2000
    }
    assert found["ulaanbaatar-dialogue-conferences"]["recurrence"] == {
        "frequency": "ANNUAL",
        "since": {"edtf": "2014"},
        "until": None,
    }
    odd = await api.data("""{ events(filter: {from: "2015", to: "2015"}) { nodes { slug } } }""")
    assert "ga-resolution-mongolia-nwfz-status" not in slugs(odd["events"])  # not a year it is adopted in
    assert "ulaanbaatar-dialogue-conferences" in slugs(odd["events"])


async def test_events_since_2015_include_the_recurring_ones(api: Api) -> None:
    data = await api.data("""{ events(filter: {from: "2015"}, first: 100) { nodes { slug } } }""")
    found = slugs(data["events"])
    for recurring in ("ulaanbaatar-dialogue-conferences", "ga-resolution-mongolia-nwfz-status"):
        assert recurring in found
    assert "mongolia-joins-osce-2012" not in found


async def test_which_events_took_place_in_ulaanbaatar(api: Api) -> None:
    data = await api.data(
        """{ events(filter: {place: "ulaanbaatar"}, first: 100) {
               nodes { slug location place { name basis country { code } } } } }"""
    )
    nodes = data["events"]["nodes"]
    assert {node["slug"] for node in nodes} == {
        "think-tank-lldcs-establishment-2009",
        "think-tank-lldcs-inaugural-meeting-2018",
        "ulaanbaatar-declaration-2018",
        "ulaanbaatar-dialogue-conferences",
        "northeast-asian-women-parliamentarians-meeting",
        "northeast-asian-city-mayors-forum",
        "northeast-asian-energy-connectivity-conference",
        "northeast-youth-symposium-regional-cooperation",
    }
    assert all(
        node["place"] == {"name": "Ulaanbaatar", "basis": "INFERRED", "country": {"code": "MNG"}} for node in nodes
    )
    in_mongolia = await api.data("""{ events(filter: {place: "MNG"}, first: 100) { totalCount } }""")
    assert in_mongolia["events"]["totalCount"] > len(nodes)  # the places "Mongolia" and "Ulaanbaatar"


async def test_everything_under_the_un(api: Api) -> None:
    data = await api.data(
        """{ memberships(filter: {within: "UN"}, first: 100) { nodes { organization { slug } } }
             events(filter: {within: "UN"}, first: 100) { totalCount nodes { organization { slug } } }
             chairmanships(filter: {within: "UN"}) { nodes { slug } }
             statistics(filter: {within: "UN"}) { nodes { slug } } }"""
    )
    member_of = {node["organization"]["slug"] for node in data["memberships"]["nodes"]}
    assert member_of == {"united-nations", "fao", "escap", "human-rights-council"}
    event_orgs = {node["organization"]["slug"] for node in data["events"]["nodes"]}
    assert {
        "united-nations",
        "general-assembly",
        "escap",
        "fao",
        "fao-mongolia",
        "un-standby-arrangements",
    } <= event_orgs
    assert slugs(data["chairmanships"]) and all("escap" in slug for slug in slugs(data["chairmanships"]))
    assert "mongolian-peacekeepers-serving-september-2020" in slugs(data["statistics"])


async def test_where_the_peacekeepers_serve(api: Api) -> None:
    data = await api.data(
        """{ statistics(filter: {country: "MNG"}, orderBy: {field: VALUE}, first: 100) {
               nodes { slug value country { code } places { name basis basisNote country { code name } } } } }"""
    )
    [figure] = [n for n in data["statistics"]["nodes"] if n["slug"] == "mongolian-peacekeepers-serving-september-2020"]
    assert figure["value"] == 1108
    assert figure["country"] == {"code": "MNG"}
    assert [(p["name"], p["country"]["code"]) for p in figure["places"]] == [
        ("South Sudan", "SSD"),
        ("Western Sahara", "ESH"),
        ("Darfur", "SDN"),
        ("Abyei", "SDN"),
        ("Congo", "COD"),
        ("Afghanistan", "AFG"),
        ("Yemen", "YEM"),
    ]
    congo = figure["places"][4]
    assert congo["basis"] == "INFERRED" and "Democratic Republic of the Congo" in congo["basisNote"]


async def test_which_facts_are_the_texts_and_which_are_ours(api: Api) -> None:
    data = await api.data(
        """{ countries(first: 100) { nodes { code aliases basis basisNote } }
             events(filter: {symbol: "A/RES/64/214"}) { nodes {
               participants { edges { role roleKind basis basisNote node { code } } } } }
             helsinki: events(filter: {place: "Helsinki"}) { nodes { slug place { name basis country { code } }
               participants { nodes { code } } } } }"""
    )
    countries = {node["code"]: node for node in data["countries"]["nodes"]}
    assert {code for code, node in countries.items() if node["basis"] == "INFERRED"} == {"COD", "FIN", "CUB"}
    assert all(node["basisNote"] for node in countries.values() if node["basis"] == "INFERRED")
    assert countries["RUS"]["aliases"] == []  # "Russian Federation" is not the text's
    [resolution] = data["events"]["nodes"]
    [edge] = resolution["participants"]["edges"]
    assert edge["role"] != "initiator" and edge["basis"] == "INFERRED" and edge["basisNote"]
    for event in data["helsinki"]["nodes"]:
        assert event["place"] == {"name": "Helsinki", "basis": "INFERRED", "country": {"code": "FIN"}}
        assert "FIN" not in [node["code"] for node in event["participants"]["nodes"]]  # not a "venue"


async def test_the_year_of_escaps_75th_session_is_cited(api: Api) -> None:
    data = await api.data(
        """{ chairmanships(filter: {organization: "ESCAP"}, orderBy: {field: SESSION, direction: DESC}, first: 1) {
               nodes { session startDate { edtf } citations { quote } } }
             events(filter: {organization: "ESCAP", from: "2019", to: "2019"}) { nodes { slug basis
               occasion { slug } date { edtf } citations { quote } } } }"""
    )
    [chair] = data["chairmanships"]["nodes"]
    assert chair["session"] == 75 and chair["startDate"] == {"edtf": "2019"}
    assert any("2019" in citation["quote"] for citation in chair["citations"])
    for event in data["events"]["nodes"]:
        assert any("2019" in citation["quote"] for citation in event["citations"]), event["slug"]
    by_slug = {event["slug"]: event for event in data["events"]["nodes"]}
    assert by_slug["escap-75-chair-election"]["basis"] == "INFERRED"
    assert by_slug["escap-75-ministerial-segment"]["occasion"] == {"slug": "escap-75th-session"}


async def test_mongolias_events_include_the_fao_office_and_the_law_is_mongolias(api: Api) -> None:
    data = await api.data(
        """{ country(code: "MNG") { events(first: 100) { nodes { slug organization { slug }
               partnerOrganizations { nodes { slug } } } } } }"""
    )
    events = {node["slug"]: node for node in data["country"]["events"]["nodes"]}
    assert "fao-mongolia-office-established-2009" in events
    law = events["peacekeeping-participation-law-2002"]
    assert law["organization"] is None
    assert [node["slug"] for node in law["partnerOrganizations"]["nodes"]] == ["un-peacekeeping"]


async def test_counts_by_year_count_each_happening_once(api: Api) -> None:
    data = await api.data(
        """{ timeline(groupBy: YEAR, of: [EVENT], filter: {from: "2006", to: "2006"}) { buckets { key count
               items(first: 10) { ... on Event { slug } } } }
             events(filter: {from: "2006", to: "2006", hasOccasion: true}) { nodes { slug occasion { slug } } } }"""
    )
    [bucket] = data["timeline"]["buckets"]
    assert bucket["key"] == "2006"
    counted = {item["slug"] for item in bucket["items"]}
    # The Helsinki summit with Mongolia's accession at it; the Havana summit with the Think Tank proposal.
    assert {"asem-summit-helsinki-2006", "lldc-first-summit-havana-2006"} <= counted
    assert not counted & {"mongolia-joins-asem-2006", "think-tank-lldcs-proposal-2006"}
    occasions = {node["slug"]: node["occasion"]["slug"] for node in data["events"]["nodes"]}
    assert occasions == {
        "mongolia-joins-asem-2006": "asem-summit-helsinki-2006",
        "think-tank-lldcs-proposal-2006": "lldc-first-summit-havana-2006",
    }


async def test_timeline_sees_a_recurring_event_in_every_year(api: Api) -> None:
    data = await api.data(
        """{ timeline(groupBy: YEAR, of: [EVENT], filter: {from: "2014", to: "2019"}) { buckets { key
               items(first: 20) { ... on Event { slug } } } } }"""
    )
    by_year = {b["key"]: {item["slug"] for item in b["items"]} for b in data["timeline"]["buckets"]}
    assert sorted(by_year) == ["2014", "2015", "2016", "2017", "2018", "2019"]
    assert all("ulaanbaatar-dialogue-conferences" in found for found in by_year.values())
    biennial = [year for year, found in by_year.items() if "ga-resolution-mongolia-nwfz-status" in found]
    assert biennial == ["2014", "2016", "2018"]


async def test_document_coverage(api: Api) -> None:
    data = await api.data(
        """{ documents { nodes { slug coverage { sentences cited noFact uncited { text start end } } } } }"""
    )
    [document] = data["documents"]["nodes"]
    assert document["coverage"] == {"sentences": 57, "cited": 55, "noFact": 2, "uncited": []}


@pytest.mark.parametrize(
    "query",
    [
        '{ memberships(filter: {within: "NOPE"}) { totalCount } }',
        '{ events(filter: {within: "NOPE"}) { totalCount } }',
        '{ chairmanships(filter: {within: "NOPE"}) { totalCount } }',
        '{ statistics(filter: {within: "NOPE"}) { totalCount } }',
        '{ country(code: "MNG") { events(filter: {within: "NOPE"}) { totalCount } } }',
    ],
)
async def test_an_unknown_within_is_a_clear_error(api: Api, query: str) -> None:
    [error] = await api.errors(query)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "`filter.within`: no organization has the slug or acronym 'NOPE'" in error["message"]


async def test_a_bad_role_kind_is_a_clear_error(api: Api) -> None:
    [error] = await api.errors("{ events(filter: {participantRole: HOSTESS}) { totalCount } }")
    assert "HOSTESS" in error["message"] and "ParticipantRole" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" or error["extensions"]["code"]
