"""uncited sentences: a document's uncited sentences are rows (Document.coverage.uncited reads them
like any list), no longer a JSON column of documents

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:43:23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uncited_sentences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.CheckConstraint('start >= 0 AND "end" > start', name=op.f("ck_uncited_sentences_span")),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_uncited_sentences_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uncited_sentences")),
        sa.UniqueConstraint("document_id", "start", name=op.f("uq_uncited_sentences_document_id_start")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("uncited")


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uncited", sa.JSON(), server_default="[]", nullable=False))

    op.drop_table("uncited_sentences")
