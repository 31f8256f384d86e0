"""What each list reads: its base statement, the sort keys orderings are built of, and how children join their parents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, func, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from app.data import models
from app.data.paging import SortKey

organizations: Table = models.Organization.__table__  # type: ignore[assignment]
countries: Table = models.Country.__table__  # type: ignore[assignment]
memberships: Table = models.Membership.__table__  # type: ignore[assignment]
chairmanships: Table = models.Chairmanship.__table__  # type: ignore[assignment]
co_chairs: Table = models.ChairmanshipCoChair.__table__  # type: ignore[assignment]
events: Table = models.Event.__table__  # type: ignore[assignment]
participants: Table = models.EventParticipant.__table__  # type: ignore[assignment]
partners: Table = models.EventPartnerOrganization.__table__  # type: ignore[assignment]
statistics: Table = models.Statistic.__table__  # type: ignore[assignment]
places: Table = models.Place.__table__  # type: ignore[assignment]
statistic_places: Table = models.StatisticPlace.__table__  # type: ignore[assignment]
uncited_sentences: Table = models.UncitedSentence.__table__  # type: ignore[assignment]
documents: Table = models.Document.__table__  # type: ignore[assignment]
citations: Table = models.Citation.__table__  # type: ignore[assignment]
mentions: Table = models.Mention.__table__  # type: ignore[assignment]


def date_order(table: Table, prefix: str, descending: bool) -> list[SortKey]:
    """Earliest day, then latest day (the shorter span first), then id; unknown dates last."""
    return [
        SortKey(table.c[f"{prefix}_earliest"], descending, nullable=True, python_type=dt.date),
        SortKey(table.c[f"{prefix}_latest"], descending, nullable=True, python_type=dt.date),
        SortKey(table.c.id, descending),
    ]


def text_order(table: Table, name: str, descending: bool) -> list[SortKey]:
    return [SortKey(table.c[name], descending, python_type=str), SortKey(table.c.id, descending)]


def number_order(table: Table, name: str, descending: bool, python_type: type = int) -> list[SortKey]:
    return [
        SortKey(table.c[name], descending, nullable=True, python_type=python_type),
        SortKey(table.c.id, descending),
    ]


BASE: dict[str, Select[Any]] = {
    "Organization": select(organizations),
    "Country": select(countries),
    "Membership": select(memberships),
    "Chairmanship": select(chairmanships),
    "Event": select(events),
    "Statistic": select(statistics),
    "Document": select(*(c for c in documents.c if c.key != "text")),
    "Mention": select(mentions),
    "Place": select(places),
}

# A participation's own columns, beside the country's: the participants edge reads them.
PARTICIPATION = (
    participants.c.role.label("edge_role"),
    participants.c.role_kind.label("edge_role_kind"),
    participants.c.basis.label("edge_basis"),
    participants.c.basis_note.label("edge_basis_note"),
)


def organization_named(value: Any) -> ColumnElement[bool]:
    """Whether an organization's slug or acronym is `value` (lower-cased), in any case.

    Slugs are lower case (seeding checks them), so each side has its index: the slug's unique one
    and the one on lower(acronym) (models.Organization).
    """
    return or_(organizations.c.slug == value, func.lower(organizations.c.acronym) == value)


def organization_by_slug(value: Any) -> Select[Any]:
    """The organization a slug or acronym names (`value` lower-cased), any case; the slug wins a tie."""
    return (
        BASE["Organization"]
        .where(organization_named(value))
        .order_by(organizations.c.slug != value, organizations.c.id)
        .limit(1)
    )


@dataclass(frozen=True)
class Relation:
    """A nested list: the child listing, the statement reading it, and the parent's key column."""

    name: str
    entity: str
    statement: Select[Any]
    parent: ColumnElement[Any]
    # For a relation through a link table: the link rows alone. With no filter they count the
    # children (each link row has its child, by foreign key) without joining them.
    links: Select[Any] | None = None
    # For a country's events: the participation (participants row) its statement joins, so that
    # a role filter asks for that country's role.
    participation: Table | None = None

    def counted(self, statement: Select[Any], filtered: bool) -> Select[Any]:
        """What `totalCount` counts: `statement` (the children, filters applied), or the links."""
        return statement if filtered or self.links is None else self.links


# Both the chair and its co-chairs hold a chairmanship.
_holders = union_all(
    select(chairmanships.c.id.label("chairmanship_id"), chairmanships.c.chair_id.label("country_id")),
    select(co_chairs.c.chairmanship_id, co_chairs.c.country_id),
).subquery("holders")

RELATIONS = {
    relation.name: relation
    for relation in (
        Relation("organization.children", "Organization", BASE["Organization"], organizations.c.parent_id),
        Relation("organization.memberships", "Membership", BASE["Membership"], memberships.c.organization_id),
        Relation(
            "organization.chairmanships",
            "Chairmanship",
            BASE["Chairmanship"],
            chairmanships.c.organization_id,
        ),
        Relation("organization.events", "Event", BASE["Event"], events.c.organization_id),
        Relation("organization.statistics", "Statistic", BASE["Statistic"], statistics.c.organization_id),
        Relation("organization.mentions", "Mention", BASE["Mention"], mentions.c.organization_id),
        Relation("country.memberships", "Membership", BASE["Membership"], memberships.c.country_id),
        Relation(
            "country.chairmanships",
            "Chairmanship",
            BASE["Chairmanship"].join_from(chairmanships, _holders, _holders.c.chairmanship_id == chairmanships.c.id),
            _holders.c.country_id,
        ),
        Relation(
            "country.events",
            "Event",
            BASE["Event"].join_from(events, participants, participants.c.event_id == events.c.id),
            participants.c.country_id,
            links=select(participants),
            participation=participants,
        ),
        Relation("country.statistics", "Statistic", BASE["Statistic"], statistics.c.country_id),
        Relation("chairmanship.events", "Event", BASE["Event"], events.c.chairmanship_id),
        Relation(
            "event.participants",
            "Country",
            BASE["Country"]
            .add_columns(*PARTICIPATION)
            .join_from(countries, participants, participants.c.country_id == countries.c.id),
            participants.c.event_id,
            links=select(participants),
        ),
        Relation(
            "event.partnerOrganizations",
            "Organization",
            BASE["Organization"].join_from(organizations, partners, partners.c.organization_id == organizations.c.id),
            partners.c.event_id,
            links=select(partners),
        ),
    )
}
