"""GraphQL enums mirroring the models' enums, each value with its description."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry

from app.data import models
from app.dates import DatePrecision as _DatePrecision


def _mirror(source: type[Enum], description: str) -> type[Enum]:
    members = {member.name: strawberry.enum_value(member.name, description=member.value) for member in source}
    mirrored: Any = Enum(source.__name__, members)  # type: ignore[misc]
    return strawberry.enum(mirrored, description=description)


if TYPE_CHECKING:  # the mirrors have the models' member names
    OrganizationKind = models.OrganizationKind
    EventKind = models.EventKind
    TenureStatus = models.TenureStatus
    ParticipantRole = models.ParticipantRole
    RecurrenceFrequency = models.RecurrenceFrequency
    Basis = models.Basis
else:
    OrganizationKind = _mirror(models.OrganizationKind, "What sort of body an organization is.")
    EventKind = _mirror(models.EventKind, "What sort of event an event is.")
    TenureStatus = _mirror(
        models.TenureStatus,
        "Whether a membership still holds, as far as the sources say; a missing end date alone is UNKNOWN.",
    )
    ParticipantRole = _mirror(
        models.ParticipantRole, "What part a country took in an event, in few words (`role` has the source's words)."
    )
    RecurrenceFrequency = _mirror(models.RecurrenceFrequency, "How often a recurring event recurs.")
    Basis = _mirror(
        models.Basis,
        'Whether the cited text states a fact or the curator inferred it ("Congo" read as the DRC).',
    )


@strawberry.enum(description="How much of a date its source gives.")
class DatePrecision(Enum):
    DAY = strawberry.enum_value("DAY", description="A day: 27 October 1961.")
    MONTH = strawberry.enum_value("MONTH", description="A month: September 2020.")
    YEAR = strawberry.enum_value("YEAR", description="A year: 1973.")
    DECADE = strawberry.enum_value("DECADE", description="A decade: the 1980's.")


assert {member.name for member in DatePrecision} == {member.name for member in _DatePrecision}
