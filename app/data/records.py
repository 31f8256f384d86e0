"""Every record of the knowledge base as plain values: what the export writes and what a seed's changes compare.

A record is a dict: `type` (the API's type name), `id` (its global ID), `slug` (a country's is its
code), then every field the API serves for that type under the API's name, as plain JSON values:
a partial date as its EDTF text, a reference as the slug of what it names (a place as its name),
a list of references as a list of slugs, an event's participants as objects; and `citations`,
each `{document, quote, start, end}` (a document's list is empty). Records are read type by type,
in chunks of rows by primary key, so memory stays bounded however big the database is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.engine import Connection

from app.data import models
from app.data.ids import encode_id

TYPES = ("Document", "Country", "Organization", "Membership", "Chairmanship", "Event", "Statistic")
"""The exported types, in export order (what a record refers to comes before it where it can)."""

CHUNK = 1000

_TABLES: dict[str, Table] = {
    "Document": models.Document.__table__,  # type: ignore[dict-item]
    "Country": models.Country.__table__,  # type: ignore[dict-item]
    "Organization": models.Organization.__table__,  # type: ignore[dict-item]
    "Membership": models.Membership.__table__,  # type: ignore[dict-item]
    "Chairmanship": models.Chairmanship.__table__,  # type: ignore[dict-item]
    "Event": models.Event.__table__,  # type: ignore[dict-item]
    "Statistic": models.Statistic.__table__,  # type: ignore[dict-item]
}
_SUBJECT = {
    "Country": "country_id",
    "Organization": "organization_id",
    "Membership": "membership_id",
    "Chairmanship": "chairmanship_id",
    "Event": "event_id",
    "Statistic": "statistic_id",
}
_T = {table.name: table for table in models.Base.metadata.sorted_tables}

LICENCE = (
    "The knowledge base's records are under the project's MIT licence (LICENSE); each quote and document text "
    "is from its source (Document.origin), whose own terms apply to it."
)
CITATION = (
    "Mongolia multilateral cooperation knowledge base, data release {version} ({seeded_at}), "
    "built from the documents it lists; cite the source document of any fact you use."
)


def slug_column(type_name: str) -> Any:
    table = _TABLES[type_name]
    return table.c.code if type_name == "Country" else table.c.slug


def table_of(type_name: str) -> Table:
    return _TABLES[type_name]


def count_by_type(conn: Connection) -> dict[str, int]:
    """How many records of each type there are (in the caller's transaction)."""
    return {name: int(conn.execute(select(func.count()).select_from(_TABLES[name])).scalar() or 0) for name in TYPES}


class _Names:
    """Primary key -> slug of what a reference can name, read once: the types that stay few (a few thousand
    rows at most, tens of thousands with synthetic data). An event's occasion is joined instead (events are
    the many: a million with synthetic data)."""

    def __init__(self, conn: Connection) -> None:
        def pairs(table: Table, column: str) -> dict[int, str]:
            return {row[0]: row[1] for row in conn.execute(select(table.c.id, table.c[column]))}

        self.documents = pairs(_T["documents"], "slug")
        self.countries = pairs(_T["countries"], "code")
        self.organizations = pairs(_T["organizations"], "slug")
        self.chairmanships = pairs(_T["chairmanships"], "slug")
        self.places = pairs(_T["places"], "name")


def _grouped(conn: Connection, statement: Any, ids: list[int]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in conn.execute(statement, {"ids": ids}):
        grouped.setdefault(row[0], []).append(row[1:])
    return grouped


def records(conn: Connection, types: tuple[str, ...] = TYPES, *, text: bool = True) -> Iterator[dict[str, Any]]:
    """Every record of `types`, type by type, each type by primary key. `text`: a document's full text too."""
    names = _Names(conn)
    ids_param: Any = bindparam("ids", expanding=True)
    cit = _T["citations"]
    for type_name in types:
        table = _TABLES[type_name]
        columns = [c for c in table.c if text or not (type_name == "Document" and c.name == "text")]
        last = 0
        while True:
            statement = select(*columns)
            if type_name == "Event":
                occasion = table.alias("occasion")
                statement = statement.add_columns(occasion.c.slug.label("occasion_slug")).select_from(
                    table.outerjoin(occasion, occasion.c.id == table.c.occasion_id)
                )
            rows = conn.execute(statement.where(table.c.id > last).order_by(table.c.id).limit(CHUNK)).all()
            if not rows:
                break
            last = rows[-1].id
            ids = [row.id for row in rows]
            citations: dict[int, list[Any]] = {}
            if type_name in _SUBJECT:
                subject = cit.c[_SUBJECT[type_name]]
                citations = _grouped(
                    conn,
                    select(subject, cit.c.document_id, cit.c.quote, cit.c.start, cit.c.end)
                    .where(subject.in_(ids_param))
                    .order_by(subject, cit.c.document_id, cit.c.start, cit.c.id),
                    ids,
                )
            links = _links(conn, type_name, ids_param, ids, names)
            for row in rows:
                record = _record(type_name, row._mapping, names, links)
                record["citations"] = [
                    {"document": names.documents.get(document_id), "quote": quote, "start": start, "end": end}
                    for document_id, quote, start, end in citations.get(row.id, [])
                ]
                yield record


def _links(conn: Connection, type_name: str, ids_param: Any, ids: list[int], names: _Names) -> dict[str, Any]:
    """The lists a chunk's records hold beside their columns (co-chairs, participants, partners, places)."""
    if type_name == "Chairmanship":
        co = _T["chairmanship_co_chairs"]
        return {
            "coChairs": _grouped(
                conn, select(co.c.chairmanship_id, co.c.country_id).where(co.c.chairmanship_id.in_(ids_param)), ids
            )
        }
    if type_name == "Event":
        part = _T["event_participants"]
        partners = _T["event_partner_organizations"]
        return {
            "participants": _grouped(
                conn,
                select(
                    part.c.event_id, part.c.country_id, part.c.role, part.c.role_kind, part.c.basis, part.c.basis_note
                )
                .where(part.c.event_id.in_(ids_param))
                .order_by(part.c.event_id, part.c.country_id),
                ids,
            ),
            "partnerOrganizations": _grouped(
                conn,
                select(partners.c.event_id, partners.c.organization_id).where(partners.c.event_id.in_(ids_param)),
                ids,
            ),
        }
    if type_name == "Statistic":
        sp = _T["statistic_places"]
        return {
            "places": _grouped(
                conn,
                select(sp.c.statistic_id, sp.c.place_id)
                .where(sp.c.statistic_id.in_(ids_param))
                .order_by(sp.c.statistic_id, sp.c.position),
                ids,
            )
        }
    return {}


def _date(m: Any, prefix: str) -> str | None:
    value = m[f"{prefix}_edtf"]
    return None if value is None else str(value)


def _ref(names: dict[int, str], key: int | None) -> str | None:
    return None if key is None else names.get(key)


def _record(type_name: str, m: Any, names: _Names, links: dict[str, Any]) -> dict[str, Any]:
    pk = m["id"]
    record: dict[str, Any] = {"type": type_name, "id": encode_id(type_name, pk)}
    if type_name == "Document":
        record.update(
            slug=m["slug"],
            title=m["title"],
            language=m["language"],
            origin=m["origin"],
            sha256=m["sha256"],
            coverage={"sentences": m["sentence_count"], "cited": m["cited_count"], "noFact": m["no_fact_count"]},
        )
        record.update(published=m["published_edtf"], basis=m["basis"], basisNote=m["basis_note"])
        if "text" in m:
            record["text"] = m["text"]
    elif type_name == "Country":
        record.update(
            slug=m["code"],
            code=m["code"],
            name=m["name"],
            aliases=list(m["aliases"] or []),
            basis=m["basis"],
            basisNote=m["basis_note"],
        )
    elif type_name == "Organization":
        record.update(
            slug=m["slug"],
            name=m["name"],
            acronym=m["acronym"],
            aliases=list(m["aliases"] or []),
            kind=m["kind"],
            description=m["description"],
            parent=_ref(names.organizations, m["parent_id"]),
        )
        # who supplied its names (the curator, where no text gives them); the other names users type
        record.update(basis=m["basis"], basisNote=m["basis_note"], searchAliases=list(m["search_aliases"] or []))
    elif type_name == "Membership":
        record.update(
            slug=m["slug"],
            role=m["role"],
            startDate=_date(m, "start"),
            endDate=_date(m, "end"),
            status=m["status"],
            basis=m["basis"],
            basisNote=m["basis_note"],
            member=_ref(names.countries, m["country_id"]),
            organization=_ref(names.organizations, m["organization_id"]),
        )
    elif type_name == "Chairmanship":
        record.update(
            slug=m["slug"],
            title=m["title"],
            session=m["session"],
            officeHolder=m["office_holder"],
            startDate=_date(m, "start"),
            endDate=_date(m, "end"),
            basis=m["basis"],
            basisNote=m["basis_note"],
            organization=_ref(names.organizations, m["organization_id"]),
            chair=_ref(names.countries, m["chair_id"]),
            coChairs=sorted(names.countries[c] for (c,) in links["coChairs"].get(pk, [])),
            predecessor=_ref(names.countries, m["predecessor_id"]),
        )
    elif type_name == "Event":
        recurrence = None
        if m["recurrence"] is not None:
            recurrence = {
                "frequency": m["recurrence"],
                "since": _date(m, "since"),
                "until": _date(m, "until"),
                "description": m["recurrence_description"],
            }
        participants = [
            {"country": names.countries[c], "role": role, "roleKind": kind, "basis": basis, "basisNote": note}
            for c, role, kind, basis, note in links["participants"].get(pk, [])
        ]
        record.update(
            slug=m["slug"],
            title=m["title"],
            kind=m["kind"],
            description=m["description"],
            symbol=m["symbol"],
            date=_date(m, "date"),
            endDate=_date(m, "end"),
            location=m["location"],
            place=_ref(names.places, m["place_id"]),
            recurrence=recurrence,
            ongoing=bool(m["ongoing"]),
            occasion=m["occasion_slug"],
            basis=m["basis"],
            basisNote=m["basis_note"],
            organization=_ref(names.organizations, m["organization_id"]),
            chairmanship=_ref(names.chairmanships, m["chairmanship_id"]),
            participants=sorted(participants, key=lambda p: p["country"]),
            partnerOrganizations=sorted(names.organizations[o] for (o,) in links["partnerOrganizations"].get(pk, [])),
        )
    elif type_name == "Statistic":
        record.update(
            slug=m["slug"],
            label=m["label"],
            value=float(m["value"]),
            unit=m["unit"],
            qualifier=m["qualifier"],
            asOf=_date(m, "as_of"),
            organization=_ref(names.organizations, m["organization_id"]),
            country=_ref(names.countries, m["country_id"]),
            places=[names.places[p] for (p,) in links["places"].get(pk, [])],
            basis=m["basis"],
            basisNote=m["basis_note"],
        )
    return record
