"""The seed format of issue 11: ISO 3166-1 codes, role kinds, recurrence, places, basis, no_fact and coverage.

Each bad input is refused with the file, the record and the field, and writes nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config import SEED_DIR
from app.data import models
from app.data.engine import create_engine
from app.seeding import SeedFailed, validate
from app.seeding.country_codes import closest_codes
from tests.conftest import make_api
from tests.test_seeding import edit, run_cli, seeded

RECORD = "seed-small/small.yaml: events[2] (slug 'conference-hosted')"

BROKEN = {
    "typo in a country code": (
        "  - code: FJI\n",
        "  - code: FJJ\n",
        "seed-small/small.yaml: countries[1] (code 'FJJ'): code: 'FJJ' is not an ISO 3166-1 alpha-3 country code; "
        "the closest code is FJI (Fiji)",
    ),
    "typo in a reference's code": (
        "    member: MNG\n",
        "    member: MGN\n",
        "seed-small/small.yaml: memberships[0] (slug 'mongolia-in-osce'): member: 'MGN' is not an ISO 3166-1 "
        "alpha-3 country code; the closest code is MNG (Mongolia)",
    ),
    "unknown role kind": (
        "participants: [{country: MNG, role: host}]",
        "participants: [{country: MNG, role: host, kind: HOSTESS}]",
        f"{RECORD}: participants.0.kind: unknown ParticipantRole 'HOSTESS'; expected one of HOST, CHAIR, CO_CHAIR, "
        "CO_SPONSOR, SIGNATORY, MEMBER, PARTICIPANT, INVITEE, OTHER",
    ),
    "role without a kind": (
        "participants: [{country: MNG, role: host}]",
        "participants: [{country: MNG, role: organizer}]",
        f"{RECORD}: participants.0: role 'organizer' has no role kind of its own: give kind, one of HOST, CHAIR, "
        "CO_CHAIR, CO_SPONSOR, SIGNATORY, MEMBER, PARTICIPANT, INVITEE, OTHER",
    ),
    "unknown recurrence": (
        "    date: April, 2013\n",
        "    date: April, 2013\n    recurrence: {frequency: MONTHLY, since: 2013}\n",
        f"{RECORD}: recurrence.frequency: unknown RecurrenceFrequency 'MONTHLY'; expected one of ANNUAL, "
        "BIENNIAL, IRREGULAR",
    ),
    "recurrence without a start": (
        "    date: April, 2013\n",
        "    date: April, 2013\n    recurrence: {frequency: ANNUAL}\n",
        f"{RECORD}: recurrence.since: Field required",
    ),
    "recurrence ending before it starts": (
        "    date: April, 2013\n",
        "    date: April, 2013\n    recurrence: {frequency: ANNUAL, since: 2013, until: 2011}\n",
        f"{RECORD}: recurrence.until: ends (2011) before it begins (2013)",
    ),
    "unparseable recurrence date": (
        "    date: April, 2013\n",
        "    date: April, 2013\n    recurrence: {frequency: ANNUAL, since: Aprill 2013}\n",
        f"{RECORD}: recurrence.since: date does not parse: 'Aprill 2013': unknown month 'Aprill'",
    ),
    "inferred without a note": (
        "    date: April, 2013\n",
        "    date: April, 2013\n    basis: inferred\n",
        f"{RECORD}: basis: inferred needs a basis_note saying what was inferred and why",
    ),
    "ongoing with an end": (
        "    date: April, 2013\n",
        "    date: April, 2013\n    end_date: 2014\n    ongoing: true\n",
        f"{RECORD}: ongoing: true needs a `date` (its start) and no `end_date` or `recurrence`",
    ),
    "unknown basis": (
        "    date: April, 2013\n",
        "    date: April, 2013\n    basis: guessed\n",
        f"{RECORD}: basis: unknown basis 'guessed'; expected stated or inferred",
    ),
    "unknown place": (
        "    date: April, 2013\n",
        "    date: April, 2013\n    place: Ulanbaatar\n",
        f"{RECORD}: place: unknown place 'Ulanbaatar' (not in any file's places); did you mean 'Ulaanbaatar'?",
    ),
    "unknown occasion": (
        "    date: April, 2013\n",
        "    date: April, 2013\n    occasion: no-such-event\n",
        f"{RECORD}: occasion: unknown event 'no-such-event'",
    ),
    "unknown statistic place": (
        "    as_of: September 2020\n",
        "    as_of: September 2020\n    places: [Atlantis]\n",
        "seed-small/small.yaml: statistics[0] (slug 'delegates'): places[0]: unknown place 'Atlantis' "
        "(not in any file's places)",
    ),
    "no_fact quote not in the document": (
        'quote: "The OSCE, unlike UNESCO, is not a UN body"',
        'quote: "The OSCE, unlike UNESCO, is a UN body"',
        "seed-small/small.yaml: no_fact[0]: quote: quote not found verbatim in document 'small': "
        "'The OSCE, unlike UNESCO, is a UN body'",
    ),
    "no_fact quote in a cited sentence": (
        'quote: "The OSCE, unlike UNESCO, is not a UN body"',
        'quote: "Mongolia joined the OSCE in 2012"',
        "seed-small/small.yaml: no_fact[0]: quote: the sentence [0:33] is cited by a fact, so it states one: "
        "'Mongolia joined the OSCE in 2012.'",
    ),
}

PLACES = """places:
  - name: Ulaanbaatar
    country: MNG
    basis: inferred
    basis_note: Mongolia's capital.
    citations: ["Mongolia joined the OSCE"]
organizations:
"""


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_bad_seed_input_names_file_record_and_field(small_seed: Path, case: str) -> None:
    old, new, expected = BROKEN[case]
    edit(small_seed / "small.yaml", "organizations:\n", PLACES)
    validate(small_seed)  # the places added above are valid on their own
    edit(small_seed / "small.yaml", old, new)
    with pytest.raises(SeedFailed) as failure:
        validate(small_seed)
    assert expected in failure.value.errors, failure.value.errors


def test_closest_codes_prefer_one_edit() -> None:
    assert closest_codes("MGN") == ["MNG"]
    assert closest_codes("mng") == ["MNG"]
    assert closest_codes("ESH") == ["ESH"]


def test_project_seed_covers_every_sentence() -> None:
    coverage = validate(SEED_DIR).coverage["mongolia-multilateral-cooperation"]
    assert coverage.uncited == ()
    assert coverage.sentences == coverage.cited + coverage.no_fact
    assert coverage.no_fact == 2  # the rating widget and the opening general statement


def test_coverage_command_lists_uncited_sentences(small_seed: Path) -> None:
    edit(
        small_seed / "small.yaml",
        'no_fact:\n  - {quote: "The OSCE, unlike UNESCO, is not a UN body", reason: "a general statement (for the mention tests)"}\n',
        "no_fact: []\n",
    )
    result = run_cli("seed", "--coverage", "--seed-dir", str(small_seed))
    assert result.returncode == 0, result.stderr
    assert "small: 6 sentences: 5 cited, 0 no fact, 1 uncited (83% covered)" in result.stdout
    assert "  uncited [34:103]: The OSCE, unlike UNESCO, is not a UN body, and the LLDCs are a group." in result.stdout

    check = run_cli("seed", "--check", "--seed-dir", str(small_seed))
    assert check.returncode == 4
    assert "1 document(s) with uncited sentences: small" in check.stderr
    allowed = run_cli("seed", "--check", "--allow-uncited", "--seed-dir", str(small_seed))
    assert allowed.returncode == 0, allowed.stderr


def test_seed_stores_places_roles_recurrence_basis_and_coverage(migrated_db: str) -> None:
    seeded(migrated_db, SEED_DIR)

    async def read() -> dict[str, list[tuple[object, ...]]]:
        engine = create_engine(migrated_db, pool=False)
        e, c, p, ep, d = (
            models.Event.__table__,
            models.Country.__table__,
            models.Place.__table__,
            models.EventParticipant.__table__,
            models.Document.__table__,
        )
        try:
            async with engine.connect() as conn:
                return {
                    "recurring": list(
                        await conn.execute(
                            select(e.c.slug, e.c.recurrence, e.c.since_edtf, e.c.until_edtf)
                            .where(e.c.recurrence.is_not(None))
                            .order_by(e.c.slug)
                        )
                    ),
                    "places": list(
                        await conn.execute(
                            select(p.c.name, c.c.code, p.c.basis).join(c, c.c.id == p.c.country_id).order_by(p.c.name)
                        )
                    ),
                    "dprk": list(
                        await conn.execute(
                            select(ep.c.role, ep.c.role_kind)
                            .join(c, c.c.id == ep.c.country_id)
                            .where(c.c.code == "PRK")
                        )
                    ),
                    "coverage": list(
                        await conn.execute(select(d.c.sentence_count, d.c.cited_count, d.c.no_fact_count))
                    ),
                    "uncited": list(await conn.execute(select(models.UncitedSentence.__table__))),
                    "inferred countries": list(
                        await conn.execute(select(c.c.code).where(c.c.basis == "INFERRED").order_by(c.c.code))
                    ),
                }
        finally:
            await engine.dispose()

    found = asyncio.run(read())
    assert found["recurring"] == [
        ("cd-ministerial-conferences-since-2000", "IRREGULAR", "2000", None),
        ("ga-resolution-mongolia-nwfz-status", "BIENNIAL", "1998", None),
        ("ulaanbaatar-dialogue-conferences", "ANNUAL", "2014", None),
        ("un-major-conferences-since-2000", "IRREGULAR", "2000", None),
    ]
    assert ("Darfur", "SDN", "STATED") in found["places"]
    assert ("Western Sahara", "ESH", "STATED") in found["places"]
    assert ("Helsinki", "FIN", "INFERRED") in found["places"]
    assert found["dprk"] == [("invitee", "INVITEE")]
    assert found["coverage"] == [(57, 55, 2)]
    assert found["uncited"] == []
    assert found["inferred countries"] == [("COD",), ("CUB",), ("FIN",)]


async def test_uncited_sentences_are_stored_and_served(migrated_db: str, small_seed: Path) -> None:
    edit(
        small_seed / "small.yaml",
        'no_fact:\n  - {quote: "The OSCE, unlike UNESCO, is not a UN body", reason: "a general statement (for the mention tests)"}\n',
        "no_fact: []\n",
    )
    await asyncio.to_thread(seeded, migrated_db, small_seed)  # seeding writes uncited documents; --check refuses them
    query = "{ documents { nodes { coverage { sentences cited noFact uncited { text start end } } } } }"
    async for api in make_api(migrated_db, result_cache_size=0):
        for _ in range(2):  # Strawberry's path, then the compiler's (checked against it)
            data = await api.data(query)
            assert data["documents"]["nodes"] == [
                {
                    "coverage": {
                        "sentences": 6,
                        "cited": 5,
                        "noFact": 0,
                        "uncited": [
                            {
                                "text": "The OSCE, unlike UNESCO, is not a UN body, and the LLDCs are a group.",
                                "start": 34,
                                "end": 103,
                            }
                        ],
                    }
                }
            ]
