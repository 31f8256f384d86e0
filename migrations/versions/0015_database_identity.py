"""database identity: a random ID of this database beside its data version, written once, so ETags and
result caches of two databases (every one starts at data version 1) never coincide

Revision ID: 0015_database_identity
Revises: 0014_events_ongoing
Create Date: 2026-12-07 03:50:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_database_identity"
down_revision: str | None = "0014_events_ongoing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dataset_state", sa.Column("database_id", sa.String(length=32), nullable=True))
    # A database seeded before has its row: it gets its identity now (a new one's first seed writes it).
    op.execute(
        sa.text("UPDATE dataset_state SET database_id = :identity WHERE database_id IS NULL").bindparams(
            identity=secrets.token_hex(6)
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("dataset_state") as batch:
        batch.drop_column("database_id")
