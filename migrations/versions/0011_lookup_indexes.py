"""lookup indexes: `organization(slug:)` and the `organization` filters match the acronym in any case
(`lower(acronym) = $1`), so the acronym's index is on lower(acronym); the plain one served no query

Revision ID: 0011_lookup_indexes
Revises: 0007
Create Date: 2026-12-07 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_lookup_indexes"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_organizations_lower_acronym", "organizations", [sa.text("lower(acronym)")])
    op.drop_index("ix_organizations_acronym", table_name="organizations")


def downgrade() -> None:
    op.create_index("ix_organizations_acronym", "organizations", ["acronym"])
    op.drop_index("ix_organizations_lower_acronym", table_name="organizations")
