"""the text's own time: when a document was written, what the curator supplied, how far a recurrence goes

- documents: `published` (a partial date) with `basis` / `basis_note` ("As of September 2020" read
  as written in 2020);
- organizations: `basis` / `basis_note` (names, aliases, parents the curator supplied);
- places and organizations: `search_aliases`, the curator's other names users type ("Ulan Bator"),
  and `search_names`, the same casefolded between bars, which the filters match;
- events: `sources_until` / `sources_until_year`, the last day of the newest source's date: a
  recurrence with no end is projected no further.

Revision ID: 0012_the_texts_own_time
Revises: 0011_lookup_indexes
Create Date: 2026-12-07 04:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_the_texts_own_time"
down_revision: str | None = "0011_lookup_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BASIS = "basis IN ('STATED', 'INFERRED') AND (basis = 'STATED' OR basis_note IS NOT NULL)"
DATE_PARTS = ("year", "month", "day", "precision", "edtf", "earliest", "latest")


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


def _date_columns(prefix: str) -> list[sa.Column]:  # type: ignore[type-arg]
    types = {"year": sa.Integer(), "month": sa.Integer(), "day": sa.Integer(), "precision": sa.String(length=8)}
    types |= {"edtf": sa.String(length=16), "earliest": sa.Date(), "latest": sa.Date()}
    return [sa.Column(f"{prefix}_{part}", types[part], nullable=True) for part in DATE_PARTS]


def _basis_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("basis", sa.String(length=8), server_default="STATED", nullable=False),
        sa.Column("basis_note", sa.Text(), nullable=True),
    ]


def _alias_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("search_aliases", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("search_names", sa.Text(), server_default="", nullable=False),
    ]


def _restore_acronym_index() -> None:
    """SQLite's batch mode copies the table without the index on lower(acronym) (an expression it
    cannot reflect): make it again (PostgreSQL kept it)."""
    op.execute("DROP INDEX IF EXISTS ix_organizations_lower_acronym")
    op.create_index("ix_organizations_lower_acronym", "organizations", [sa.text("lower(acronym)")])


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        for column in (*_date_columns("published"), *_basis_columns()):
            batch_op.add_column(column)
        batch_op.create_check_constraint(batch_op.f("ck_documents_basis"), BASIS)
        for name, condition in date_checks("published"):
            batch_op.create_check_constraint(batch_op.f(f"ck_documents_{name}"), condition)

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        for column in (*_basis_columns(), *_alias_columns()):
            batch_op.add_column(column)
        batch_op.create_check_constraint(batch_op.f("ck_organizations_basis"), BASIS)
    _restore_acronym_index()

    with op.batch_alter_table("places", schema=None) as batch_op:
        for column in _alias_columns():
            batch_op.add_column(column)

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sources_until_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sources_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("sources_until")
        batch_op.drop_column("sources_until_year")

    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.drop_column("search_names")
        batch_op.drop_column("search_aliases")

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_organizations_basis"), type_="check")
        batch_op.drop_column("search_names")
        batch_op.drop_column("search_aliases")
        batch_op.drop_column("basis_note")
        batch_op.drop_column("basis")
    _restore_acronym_index()

    with op.batch_alter_table("documents", schema=None) as batch_op:
        for name, _condition in reversed(date_checks("published")):
            batch_op.drop_constraint(batch_op.f(f"ck_documents_{name}"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_documents_basis"), type_="check")
        for column in ("basis_note", "basis", *(f"published_{part}" for part in reversed(DATE_PARTS))):
            batch_op.drop_column(column)
