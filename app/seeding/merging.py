"""One fact stated by several documents: how their statements merge into one record, and when they conflict.

Every statement of a fact is collected first, then the record is computed from all of them at once,
so the result depends only on the documents present (removing a document recomputes every kept
value from the documents that remain). Two orders of documents decide (docs/seeding.md's "Adding a
document" tells curators):

- **precedence**, for stated values: the highest `priority` in the document's metadata first
  (default 0), then the most recent `published` date (undated documents after dated ones), then the
  document's name (slug) order;
- **seniority**, for the curators' words: the document that first defined the record, i.e. the
  earliest `added` date in its metadata (documents without one are the original ones, first),
  then name order.

The rules, field by field:

- A value only one document states is taken; a missing value never conflicts. A status of UNKNOWN
  and a participant's default role ("participant") say nothing, so they count as missing.
- Names never conflict: the senior document's name stands, another document's name (or acronym)
  for the same organization or country becomes an alias.
- Titles, labels and descriptions are the curators' words, not the sources': the senior document's
  stand, unless a facts file says `override: true` (then the highest-precedence such file's do).
- Values that agree at different precisions merge to the most precise: the dates "2012" and
  "21 November 2012" give 2012-11-21 (a day inside 2012); the places "Mongolia" and
  "Ulaanbaatar, Mongolia" give Ulaanbaatar (a place in that country). Every document stays cited.
- Lists (co-chairs, partner organizations, participants) are united.
- The curators' `search_aliases` are united. `basis` never conflicts: a fact any document states is STATED (its note dropped); one every
  document's curator inferred keeps the senior document's note.
- Any other difference is a conflict. The record keeps the value of the highest-precedence document
  (refined by agreeing, more precise ones), and the conflict lists every document stating the field,
  the kept value first, then those agreeing with it, then the others, each in precedence order,
  each with the quote that states it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.dates import PartialDate
from app.seeding.facts import CitationSpan, Fact

NAME_FIELDS = {"organizations": ("name", "acronym"), "countries": ("name",)}
EDITORIAL_FIELDS = frozenset({"title", "label", "description"})
UNSTATED = {"status": "UNKNOWN"}
DEFAULT_ROLE = "participant"

# Fact values are keyed by the stored column prefix; these are the names the seed files use.
SEED_FIELDS = {("events", "end"): "end_date"}
# Whether a fact is stated never conflicts: one document stating it makes it stated.
BASIS_FIELDS = ("basis", "basis_note")


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
    """One document's value of a conflicting field and the quote that states it."""

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
        return [value, *re.split(r"[\s,-]+", value)[:1]]
    return []


def _missing(name: str, value: Any) -> bool:
    return value is None or UNSTATED.get(name) == value


# -- places ----------------------------------------------------------------------------------------

Place = tuple[str, str | None]  # (name, ISO 3166-1 alpha-3 country code, when known)


def place_refines(coarse: Place, fine: Place, country_names: Callable[[str], set[str]]) -> bool:
    """True when `fine` names a place inside `coarse`: "Ulaanbaatar" (MNG) inside "Mongolia" (MNG).

    A place is at a country's precision when its name is one of that country's names. Two places
    agree when they are the same place, or when one is the country the other lies in; the more
    precise is kept. Two different places in one country (two cities) do not agree.
    """
    (coarse_name, coarse_country), (fine_name, fine_country) = coarse, fine
    if coarse_name.casefold() == fine_name.casefold() and (
        coarse_country == fine_country or None in (coarse_country, fine_country)
    ):
        return True
    if coarse_country is None or coarse_country != fine_country:
        return False
    return coarse_name.casefold() in country_names(coarse_country)


def location_place(text: str, country_of: Callable[[str], str | None]) -> Place:
    """A free-text location as (name, country): "Ulaanbaatar, Mongolia" -> ("Ulaanbaatar", "MNG");
    "Mongolia" -> ("Mongolia", "MNG"); "Bangkok" -> ("Bangkok", None)."""
    name, _, tail = text.rpartition(",")
    if name and country_of(tail.strip()):
        return name.strip(), country_of(tail.strip())
    return text.strip(), country_of(text.strip())


# -- merging ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One document's statement of a fact, with that document's standing."""

    fact: Fact
    document: str
    precedence: tuple[Any, ...]  # sorts first = wins a conflict
    seniority: tuple[Any, ...]  # sorts first = defined the record first
    override: bool = False


class Merger:
    """Merges every document's statement of a fact into one record, collecting conflicts."""

    def __init__(self, country_of: Callable[[str], str | None] | None = None) -> None:
        self.conflicts: dict[tuple[str, str, str], Conflict] = {}
        self._country_of = country_of or (lambda _name: None)
        self._country_names: Callable[[str], set[str]] = lambda _code: set()

    def use_countries(self, country_of: Callable[[str], str | None], names: Callable[[str], set[str]]) -> None:
        self._country_of, self._country_names = country_of, names

    def merge(self, statements: Sequence[Statement]) -> Fact:
        """The record all `statements` (of one fact) make; it is the senior statement's Fact, updated."""
        by_seniority = sorted(statements, key=lambda s: s.seniority)
        by_precedence = sorted(statements, key=lambda s: s.precedence)
        record = by_seniority[0].fact
        if len(statements) == 1:
            return record
        own_values = [dict(s.fact.values) for s in statements]
        own_links = [dict(s.fact.links) for s in statements]
        own = {id(s): (values, links) for s, values, links in zip(statements, own_values, own_links, strict=True)}

        def values_of(statement: Statement) -> dict[str, Any]:
            return own[id(statement)][0]

        names = NAME_FIELDS.get(record.type, ())
        unmerged = {*names, "aliases", "search_aliases", *BASIS_FIELDS}
        fields = [name for s in by_seniority for name in values_of(s) if name not in unmerged]
        for name in dict.fromkeys(fields):
            stated = [(s, values_of(s).get(name)) for s in by_precedence]
            stated = [(s, value) for s, value in stated if not _missing(name, value)]
            if not stated:
                continue
            if name in EDITORIAL_FIELDS:
                overriding = [value for s, value in stated if s.override]
                senior = [value for s, value in sorted(stated, key=lambda item: item[0].seniority)]
                record.values[name] = (overriding or senior)[0]
                continue
            record.values[name] = self._kept(record, seed_field(record.type, name), stated, self._refines(name))
        if names:
            self._merge_names(record, [values_of(s) for s in by_seniority], names)
        if "search_aliases" in record.values:  # the curators' names users type: united, never conflicting
            united = (alias for s in by_seniority for alias in values_of(s).get("search_aliases") or [])
            record.values["search_aliases"] = list(dict.fromkeys(united))
        if "basis" in record.values:
            # A fact one document states is stated, however another document's curator read it.
            inferred = [values_of(s) for s in by_seniority if values_of(s).get("basis") == "INFERRED"]
            if len(inferred) < len(statements):
                record.values["basis"], record.values["basis_note"] = "STATED", None
            else:
                record.values["basis"], record.values["basis_note"] = "INFERRED", inferred[0].get("basis_note")

        link_names = dict.fromkeys(name for s in by_seniority for name in own[id(s)][1])
        for name in link_names:
            if name == "participants":
                record.links[name] = self._participants(record, by_precedence, own)
            else:
                record.links[name] = frozenset().union(*(own[id(s)][1].get(name, frozenset()) for s in statements))
        citations: list[CitationSpan] = []
        sources: list[str] = []
        for s in by_seniority:
            citations.extend(span for span in s.fact.citations if span not in citations)
            sources.extend(source for source in s.fact.sources if source not in sources)
        record.citations, record.sources = citations, sources
        return record

    def _refines(self, name: str) -> Callable[[Any, Any], bool]:
        """Whether a value `fine` agrees with `coarse` and is at least as precise."""
        if name == "location":
            return lambda coarse, fine: place_refines(
                location_place(coarse, self._country_of), location_place(fine, self._country_of), self._country_names
            )

        def refines(coarse: Any, fine: Any) -> bool:
            if isinstance(coarse, PartialDate) and isinstance(fine, PartialDate):
                return coarse.covers(fine)
            return bool(coarse == fine)

        return refines

    def _kept(
        self, record: Fact, field_name: str, stated: list[tuple[Statement, Any]], refines: Callable[[Any, Any], bool]
    ) -> Any:
        """The kept value of one field (statements in precedence order); a conflict recorded if they disagree."""
        kept = stated[0][1]
        for _statement, value in stated[1:]:
            if refines(kept, value) and not refines(value, kept):
                kept = value
        agreeing = [(s, value) for s, value in stated if refines(value, kept)]
        if len(agreeing) == len(stated):
            return kept
        exact = [(s, value) for s, value in agreeing if refines(kept, value)]
        others = [item for item in agreeing if item not in exact]
        disagreeing = [item for item in stated if item not in agreeing]
        self.conflicts[(record.type, record.key, field_name)] = Conflict(
            record.type,
            record.key,
            field_name,
            [StatedValue(value, evidence(value, s.fact.citations)) for s, value in [*exact, *others, *disagreeing]],
        )
        return kept

    def _merge_names(self, record: Fact, statements: list[dict[str, Any]], names: tuple[str, ...]) -> None:
        """The senior document's names stand; another document's name or acronym becomes an alias."""
        for name in names:
            record.values[name] = next((values[name] for values in statements if values.get(name)), None)
        aliases: list[str] = []
        known = {str(record.values[name]).casefold() for name in names if record.values.get(name)}
        for values in statements:
            for value in [*(values.get(name) for name in names), *(values.get("aliases") or [])]:
                if value and value.casefold() not in known:
                    aliases.append(value)
                    known.add(value.casefold())
        record.values["aliases"] = aliases

    def _participants(
        self, record: Fact, by_precedence: list[Statement], own: dict[int, tuple[dict[str, Any], dict[str, Any]]]
    ) -> frozenset[tuple[str, str]]:
        """One role per country: a specific role beats the default; two specific roles conflict."""
        roles: dict[str, list[tuple[Statement, str]]] = {}
        for s in by_precedence:
            for code, role in sorted(own[id(s)][1].get("participants", frozenset())):
                roles.setdefault(code, []).append((s, role))
        kept = {}
        for code, stated in sorted(roles.items()):
            specific = [(s, role) for s, role in stated if role != DEFAULT_ROLE]
            if not specific:
                kept[code] = DEFAULT_ROLE
                continue
            kept[code] = self._kept(record, f"participants[{code}]", specific, lambda a, b: bool(a == b))
        return frozenset(kept.items())
