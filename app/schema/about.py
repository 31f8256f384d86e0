"""`Query.apiVersion`: the server's version, for clients that log or check it."""

from __future__ import annotations

import strawberry

from app.schema.fields import strawberry_only_as
from app.version import version


@strawberry.type
class AboutQueries:
    @strawberry_only_as("a constant of the process, not a row")
    @strawberry.field(
        description="This server's version (semantic versioning; CHANGELOG.md says what each changed). "
        "Fields are deprecated with @deprecated(reason:) for at least one minor version before removal."
    )
    def api_version(self) -> str:
        return version()
