"""data releases: every seed that changes something is a release (version, when, documents, counts per
type), and every record it added, updated or removed is a change with its fields' values before and after

Revision ID: 0013_releases
Revises: 0012_the_texts_own_time
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_releases"
down_revision: str | None = "0012_the_texts_own_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_releases")),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("slug", sa.String(length=160), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.CheckConstraint("action IN ('ADDED', 'UPDATED', 'REMOVED')", name=op.f("ck_changes_action")),
        sa.ForeignKeyConstraint(
            ["release"], ["releases.version"], name=op.f("fk_changes_release_releases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    op.create_index(op.f("ix_changes_entity_type_slug_id"), "changes", ["entity_type", "slug", "id"])
    op.create_index(op.f("ix_changes_release_id"), "changes", ["release", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_changes_release_id"), table_name="changes")
    op.drop_index(op.f("ix_changes_entity_type_slug_id"), table_name="changes")
    op.drop_table("changes")
    op.drop_table("releases")
