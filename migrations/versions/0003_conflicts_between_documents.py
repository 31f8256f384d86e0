"""conflicts between documents: the values each document states, with their quotes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:14:54.092587
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "entity_type IN ('organization', 'membership', 'chairmanship', 'event', 'statistic')",
            name=op.f("ck_conflicts_entity_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflicts")),
        sa.UniqueConstraint("entity_type", "entity_id", "field", name=op.f("uq_conflicts_entity_type_entity_id_field")),
    )
    op.create_table(
        "conflict_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conflict_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.CheckConstraint("position >= 0", name=op.f("ck_conflict_values_position")),
        sa.CheckConstraint('start >= 0 AND "end" > start', name=op.f("ck_conflict_values_span")),
        sa.ForeignKeyConstraint(
            ["conflict_id"], ["conflicts.id"], name=op.f("fk_conflict_values_conflict_id_conflicts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_conflict_values_document_id_documents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict_values")),
        sa.UniqueConstraint("conflict_id", "position", name=op.f("uq_conflict_values_conflict_id_position")),
    )
    with op.batch_alter_table("conflict_values", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conflict_values_document_id"), ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conflict_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflict_values_document_id"))

    op.drop_table("conflict_values")
    op.drop_table("conflicts")
