"""events.ongoing: a one-off event still going on as of its sources ("Since the 1980's Mongolia has
been consistently pursuing the policy"); the date filters span it from its `date` to its newest
source's date (`sources_until`, migration 0012), and no further

Revision ID: 0014_events_ongoing
Revises: 0013_releases
Create Date: 2026-12-07 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_events_ongoing"
down_revision: str | None = "0013_releases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ongoing", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("ongoing")
