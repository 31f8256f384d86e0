"""One fact stated by several documents: how their statements merge into one record, and when they conflict.

The rules, in the order they apply to each field (the README's "Adding a document" tells curators):

- A value only one document states is taken; a missing value never conflicts. A status of UNKNOWN
  and a participant's default role ("participant") say nothing, so they count as missing.
- Names never conflict: another name (or acronym) for an organization or country becomes an alias.
- Titles, labels and descriptions are the curators' words, not the sources': the first file's stand.
- Dates that agree at different precisions merge to the most precise: "2012" and "21 November 2012"
  give 2012-11-21 (a day inside 2012). Both documents stay cited.
- Lists (co-chairs, partner organizations, participants) are united.
- Any other difference is a conflict. The record keeps the first-stated value (files are read in
  name order), and the conflict keeps every value with the quote that states it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.dates import PartialDate

if TYPE_CHECKING:
    from app.seeding.dataset import CitationSpan, Fact

NAME_FIELDS = {"organizations": ("name", "acronym"), "countries": ("name",)}
EDITORIAL_FIELDS = frozenset({"title", "label", "description"})
UNSTATED = {"status": "UNKNOWN"}
DEFAULT_ROLE = "participant"

# Fact values are keyed by the stored column prefix; these are the names the seed files use.
SEED_FIELDS = {("events", "end"): "end_date"}


def seed_field(section: str, name: str) -> str:
    """The field as a seed file names it (`end_date` of an event is stored as `end`)."""
    return SEED_FIELDS.get((section, name), name)


def display(value: Any) -> str:
    """A stated value as people read it: EDTF for dates, 18139 for 18139.0."""
    if isinstance(value, PartialDate):
        return value.edtf
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


@dataclass(frozen=True)
class StatedValue:
    """One value of a conflicting field and the quote that states it."""

    value: Any
    citation: CitationSpan

    @property
    def text(self) -> str:
        return display(self.value)


@dataclass
class Conflict:
    """Documents disagreeing on one field of one fact; `values[0]` is the value the record keeps."""

    type: str  # the seed section: "events"
    key: str  # the fact's natural key
    field: str  # as the seed files name it: "date", "start", "participants[MNG]" (that country's role)
    values: list[StatedValue]

    def __str__(self) -> str:
        lines = [
            f"{self.type} {self.key!r}: {self.field}: the documents disagree; the record keeps {self.values[0].text}"
        ]
        for stated in self.values:
            span = stated.citation
            lines.append(f"    {stated.text} in {span.document} [{span.start}:{span.end}]: \u201c{span.quote}\u201d")
        return "\n".join(lines)


def evidence(value: Any, citations: list[CitationSpan]) -> CitationSpan:
    """The citation that best shows `value`: the first whose quote contains it as written, else the first."""
    for candidate in _written_forms(value):
        for span in citations:
            if candidate.casefold() in span.quote.casefold():
                return span
    return citations[0]


def _written_forms(value: Any) -> list[str]:
    if isinstance(value, PartialDate):
        return [str(value.year)]
    if isinstance(value, float) and value.is_integer():
        return [f"{int(value):,}", str(int(value))]
    if isinstance(value, str) and value:
        return [value, *re.split(r"[\s-]+", value)[:1]]
    return []


def _missing(name: str, value: Any) -> bool:
    return value is None or UNSTATED.get(name) == value


@dataclass
class Merger:
    """Merges each further statement of a fact into the first, collecting conflicts."""

    conflicts: dict[tuple[str, str, str], Conflict] = field(default_factory=dict)
    # Which citations stated each field's current value, where a later document supplied it.
    _stated_by: dict[tuple[str, str, str], list[CitationSpan]] = field(default_factory=dict)
    # A fact's first statement's citations, kept before later ones join them.
    _first: dict[tuple[str, str], list[CitationSpan]] = field(default_factory=dict)

    def merge(self, existing: Fact, incoming: Fact) -> None:
        """Merge `incoming` (a later document's statement of the same fact) into `existing`."""
        self._first.setdefault((existing.type, existing.key), list(existing.citations))
        names = NAME_FIELDS.get(existing.type, ())
        for name, value in incoming.values.items():
            if name in names or name == "aliases":
                continue
            self._merge_value(existing, incoming, name, value)
        if names:
            self._merge_names(existing, incoming, names)
        for name, linked in incoming.links.items():
            if name == "participants":
                existing.links[name] = self._merge_participants(existing, incoming)
            else:
                existing.links[name] = existing.links.get(name, frozenset()) | linked
        existing.citations.extend(span for span in incoming.citations if span not in existing.citations)
        existing.sources.extend(incoming.sources)

    def _merge_value(self, existing: Fact, incoming: Fact, name: str, value: Any) -> None:
        current = existing.values.get(name)
        if _missing(name, value) or value == current:
            return
        if _missing(name, current):
            self._take(existing, incoming, name, value)
            return
        if name in EDITORIAL_FIELDS:
            return
        if isinstance(current, PartialDate) and isinstance(value, PartialDate):
            if current.covers(value):
                self._take(existing, incoming, name, value)
                return
            if value.covers(current):
                return
        self._conflict(existing, incoming, name, current, value)

    def _take(self, existing: Fact, incoming: Fact, name: str, value: Any) -> None:
        """`incoming` states the field first, or more precisely: the record takes its value."""
        existing.values[name] = value
        key = (existing.type, existing.key, name)
        self._stated_by[key] = incoming.citations
        conflict = self.conflicts.get((existing.type, existing.key, seed_field(existing.type, name)))
        if conflict is not None:  # a conflict's first value is the one the record holds
            conflict.values[0] = StatedValue(value, evidence(value, incoming.citations))

    def _conflict(self, existing: Fact, incoming: Fact, name: str, current: Any, value: Any) -> None:
        key = (existing.type, existing.key, seed_field(existing.type, name))
        conflict = self.conflicts.get(key)
        if conflict is None:
            kept_by = self._stated_by.get((existing.type, existing.key, name), self._first[existing.type, existing.key])
            conflict = self.conflicts[key] = Conflict(*key, [StatedValue(current, evidence(current, kept_by))])
        if all(stated.value != value for stated in conflict.values):
            conflict.values.append(StatedValue(value, evidence(value, incoming.citations)))

    def _merge_names(self, existing: Fact, incoming: Fact, names: tuple[str, ...]) -> None:
        """Another document's name or acronym for the same organization or country becomes an alias."""
        aliases = list(existing.values.get("aliases") or [])
        for name in names:
            value = incoming.values.get(name)
            if value and existing.values.get(name) is None:
                existing.values[name] = value
        known = {str(existing.values[name]).casefold() for name in names if existing.values.get(name)}
        known |= {alias.casefold() for alias in aliases}
        for value in [*(incoming.values.get(name) for name in names), *(incoming.values.get("aliases") or [])]:
            if value and value.casefold() not in known:
                aliases.append(value)
                known.add(value.casefold())
        existing.values["aliases"] = aliases

    def _merge_participants(self, existing: Fact, incoming: Fact) -> frozenset[tuple[str, str]]:
        """One role per country: a specific role beats the default; two specific roles conflict."""
        roles = dict(sorted(existing.links.get("participants", frozenset())))
        for code, role in sorted(incoming.links.get("participants", frozenset())):
            current = roles.get(code)
            if current is None or current == DEFAULT_ROLE:
                roles[code] = role
                self._stated_by[(existing.type, existing.key, f"participants[{code}]")] = incoming.citations
            elif role not in (current, DEFAULT_ROLE):
                self._conflict(existing, incoming, f"participants[{code}]", current, role)
        return frozenset(roles.items())
