"""PostgreSQL: a stored tsvector column for search, so ranking reads it instead of re-parsing text

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same weighted document as 0002's expression index (titles A, bodies B).
PG_DOCUMENT = "(setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B'))"


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE search_entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS {PG_DOCUMENT} STORED")
    op.execute("CREATE INDEX ix_search_entries_fts_vector ON search_entries USING gin (search_vector)")
    op.execute("DROP INDEX ix_search_entries_fts")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_search_entries_fts ON search_entries USING gin ({PG_DOCUMENT})")
    op.execute("DROP INDEX ix_search_entries_fts_vector")
    op.execute("ALTER TABLE search_entries DROP COLUMN search_vector")
