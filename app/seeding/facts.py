"""The records a seed resolves to: facts with their values, links and citations (app.seeding.dataset makes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.dates import PartialDate


@dataclass(frozen=True)
class CitationSpan:
    document: str
    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class EventRecurrence:
    """A recurring event's frequency and the span it recurs over (until None: still recurring)."""

    frequency: str
    since: PartialDate
    until: PartialDate | None
    description: str | None


@dataclass
class Fact:
    """One record, resolved: column values (references as natural keys), links and citations."""

    type: str
    key: str
    values: dict[str, Any]
    links: dict[str, frozenset[Any]] = field(default_factory=dict)
    citations: list[CitationSpan] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
