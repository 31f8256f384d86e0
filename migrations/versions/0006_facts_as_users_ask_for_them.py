"""facts as users ask for them: participant role kinds, recurrence, places, basis, coverage

- event_participants.role_kind (HOST, CO_SPONSOR, ...) with an index on (country, kind, event)
  for "the events Mongolia hosted";
- events: place_id (-> places), occasion_id (the event it happened at), recurrence with its
  since/until partial dates, indexed for the date filters;
- places (a name as the text gives it, resolved to a country) and statistic_places;
- basis / basis_note on countries, places, memberships, chairmanships, events, participations
  and statistics;
- documents: the coverage counts the seeder computes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:43:42
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BASIS = "basis IN ('STATED', 'INFERRED') AND (basis = 'STATED' OR basis_note IS NOT NULL)"
ROLE_KINDS = "'HOST', 'CHAIR', 'CO_CHAIR', 'CO_SPONSOR', 'SIGNATORY', 'MEMBER', 'PARTICIPANT', 'INVITEE', 'OTHER'"


def date_checks(p: str) -> list[tuple[str, str]]:
    """The checks app.data.models._date_checks declares for one partial date, as of this revision."""
    return [
        (f"{p}_precision", f"{p}_precision IS NULL OR {p}_precision IN ('DAY', 'MONTH', 'YEAR', 'DECADE')"),
        (f"{p}_month", f"{p}_month IS NULL OR {p}_month BETWEEN 1 AND 12"),
        (f"{p}_day", f"{p}_day IS NULL OR {p}_day BETWEEN 1 AND 31"),
        (f"{p}_year", f"{p}_year IS NULL OR {p}_year BETWEEN 1 AND 9999"),
        (
            f"{p}_parts",
            f"({p}_year IS NULL AND {p}_precision IS NULL AND {p}_edtf IS NULL AND {p}_earliest IS NULL"
            f" AND {p}_latest IS NULL AND {p}_month IS NULL AND {p}_day IS NULL)"
            f" OR ({p}_year IS NOT NULL AND {p}_precision IS NOT NULL AND {p}_edtf IS NOT NULL"
            f" AND {p}_earliest IS NOT NULL AND {p}_latest IS NOT NULL AND {p}_earliest <= {p}_latest"
            f" AND ({p}_precision = 'DAY') = ({p}_day IS NOT NULL)"
            f" AND ({p}_precision IN ('DAY', 'MONTH')) = ({p}_month IS NOT NULL))",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("folded", sa.String(length=200), nullable=False),
        sa.Column("country_id", sa.Integer(), nullable=True),
        sa.Column("basis", sa.String(length=8), server_default="STATED", nullable=False),
        sa.Column("basis_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "basis IN ('STATED', 'INFERRED') AND (basis = 'STATED' OR basis_note IS NOT NULL)",
            name=op.f("ck_places_basis"),
        ),
        sa.ForeignKeyConstraint(["country_id"], ["countries.id"], name=op.f("fk_places_country_id_countries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("folded", name=op.f("uq_places_folded")),
    )
    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_places_country_id"), ["country_id"], unique=False)

    op.create_table(
        "statistic_places",
        sa.Column("statistic_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("position >= 0", name=op.f("ck_statistic_places_position")),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name=op.f("fk_statistic_places_place_id_places")),
        sa.ForeignKeyConstraint(
            ["statistic_id"],
            ["statistics.id"],
            name=op.f("fk_statistic_places_statistic_id_statistics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("statistic_id", "place_id", name=op.f("pk_statistic_places")),
    )
    with op.batch_alter_table("statistic_places", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statistic_places_place_id"), ["place_id"], unique=False)

    with op.batch_alter_table("chairmanships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("basis", sa.String(length=8), server_default="STATED", nullable=False))
        batch_op.add_column(sa.Column("basis_note", sa.Text(), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_chairmanships_basis"), BASIS)

    with op.batch_alter_table("countries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("basis", sa.String(length=8), server_default="STATED", nullable=False))
        batch_op.add_column(sa.Column("basis_note", sa.Text(), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_countries_basis"), BASIS)

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sentence_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("cited_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("no_fact_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("uncited", sa.JSON(), server_default="[]", nullable=False))

    with op.batch_alter_table("event_participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role_kind", sa.String(length=12), server_default="PARTICIPANT", nullable=False))
        batch_op.add_column(sa.Column("basis", sa.String(length=8), server_default="STATED", nullable=False))
        batch_op.add_column(sa.Column("basis_note", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_event_participants_country_id_role_kind_event_id"),
            ["country_id", "role_kind", "event_id"],
            unique=False,
        )
        batch_op.create_check_constraint(batch_op.f("ck_event_participants_basis"), BASIS)
        batch_op.create_check_constraint(batch_op.f("ck_event_participants_role_kind"), f"role_kind IN ({ROLE_KINDS})")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("place_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("occasion_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recurrence", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("recurrence_description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("since_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("since_month", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("since_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("since_precision", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("since_edtf", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("since_earliest", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("since_latest", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("until_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("until_month", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("until_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("until_precision", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("until_edtf", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("until_earliest", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("until_latest", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("basis", sa.String(length=8), server_default="STATED", nullable=False))
        batch_op.add_column(sa.Column("basis_note", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_events_occasion_id"), ["occasion_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_place_id"), ["place_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_events_since_earliest_until_latest_id"),
            ["since_earliest", "until_latest", "id"],
            unique=False,
        )
        batch_op.create_foreign_key(batch_op.f("fk_events_place_id_places"), "places", ["place_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_events_occasion_id_events"), "events", ["occasion_id"], ["id"])
        batch_op.create_check_constraint(batch_op.f("ck_events_basis"), BASIS)
        batch_op.create_check_constraint(batch_op.f("ck_events_occasion"), "occasion_id IS NULL OR occasion_id <> id")
        batch_op.create_check_constraint(
            batch_op.f("ck_events_recurrence"),
            "(recurrence IS NULL AND since_year IS NULL AND until_year IS NULL)"
            " OR (recurrence IN ('ANNUAL', 'BIENNIAL', 'IRREGULAR') AND since_year IS NOT NULL)",
        )
        for prefix in ("since", "until"):
            for name, condition in date_checks(prefix):
                batch_op.create_check_constraint(batch_op.f(f"ck_events_{name}"), condition)

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("basis", sa.String(length=8), server_default="STATED", nullable=False))
        batch_op.add_column(sa.Column("basis_note", sa.Text(), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_memberships_basis"), BASIS)

    with op.batch_alter_table("statistics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("basis", sa.String(length=8), server_default="STATED", nullable=False))
        batch_op.add_column(sa.Column("basis_note", sa.Text(), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_statistics_basis"), BASIS)


def downgrade() -> None:
    with op.batch_alter_table("statistics", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_statistics_basis"), type_="check")
        batch_op.drop_column("basis_note")
        batch_op.drop_column("basis")

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_memberships_basis"), type_="check")
        batch_op.drop_column("basis_note")
        batch_op.drop_column("basis")

    with op.batch_alter_table("events", schema=None) as batch_op:
        for prefix in ("until", "since"):
            for name, _condition in date_checks(prefix):
                batch_op.drop_constraint(batch_op.f(f"ck_events_{name}"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_events_recurrence"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_events_occasion"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_events_basis"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_events_occasion_id_events"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_events_place_id_places"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_events_since_earliest_until_latest_id"))
        batch_op.drop_index(batch_op.f("ix_events_place_id"))
        batch_op.drop_index(batch_op.f("ix_events_occasion_id"))
        batch_op.drop_column("basis_note")
        batch_op.drop_column("basis")
        batch_op.drop_column("until_latest")
        batch_op.drop_column("until_earliest")
        batch_op.drop_column("until_edtf")
        batch_op.drop_column("until_precision")
        batch_op.drop_column("until_day")
        batch_op.drop_column("until_month")
        batch_op.drop_column("until_year")
        batch_op.drop_column("since_latest")
        batch_op.drop_column("since_earliest")
        batch_op.drop_column("since_edtf")
        batch_op.drop_column("since_precision")
        batch_op.drop_column("since_day")
        batch_op.drop_column("since_month")
        batch_op.drop_column("since_year")
        batch_op.drop_column("recurrence_description")
        batch_op.drop_column("recurrence")
        batch_op.drop_column("occasion_id")
        batch_op.drop_column("place_id")

    with op.batch_alter_table("event_participants", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_event_participants_role_kind"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_event_participants_basis"), type_="check")
        batch_op.drop_index(batch_op.f("ix_event_participants_country_id_role_kind_event_id"))
        batch_op.drop_column("basis_note")
        batch_op.drop_column("basis")
        batch_op.drop_column("role_kind")

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("uncited")
        batch_op.drop_column("no_fact_count")
        batch_op.drop_column("cited_count")
        batch_op.drop_column("sentence_count")

    with op.batch_alter_table("countries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_countries_basis"), type_="check")
        batch_op.drop_column("basis_note")
        batch_op.drop_column("basis")

    with op.batch_alter_table("chairmanships", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_chairmanships_basis"), type_="check")
        batch_op.drop_column("basis_note")
        batch_op.drop_column("basis")

    with op.batch_alter_table("statistic_places", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statistic_places_place_id"))

    op.drop_table("statistic_places")
    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_places_country_id"))

    op.drop_table("places")
