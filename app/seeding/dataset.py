"""Validate and resolve the seed files into one dataset: references, dates, quotes, merges.

Nothing here touches the database: the writer gets a dataset that is already known to be whole.
"""

from __future__ import annotations

import calendar
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.dates import DateParseError, PartialDate, parse_span, single_date
from app.seeding.coverage import Coverage, DocumentCoverage, NoFactSpan
from app.seeding.facts import CitationSpan, EventRecurrence, Fact
from app.seeding.files import (
    KEY_FIELDS,
    SECTIONS,
    Quote,
    SeedError,
    SourceDocument,
    SourceFacts,
    display_path,
    read_seed_dir,
)
from app.seeding.hints import closest_names, did_you_mean, nearby_year, nearest_passage, yearless
from app.seeding.identity import Organizations
from app.seeding.locate import Passage, find_mentions, find_quote, passages
from app.seeding.merging import Conflict, Merger, Statement


@dataclass
class Dataset:
    documents: dict[str, SourceDocument]
    facts: dict[str, dict[str, Fact]]
    mentions: list[tuple[str, str, int, int, str, str]]
    passages: dict[str, list[Passage]]
    conflicts: list[Conflict]
    coverage: dict[str, Coverage] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        found = {"documents": len(self.documents)}
        found.update({section: len(self.facts[section]) for section in SECTIONS})
        # A place's quotes justify it in the files (and count for coverage); the database keeps
        # the citations of the facts that name it instead.
        found["citations"] = sum(
            len(fact.citations)
            for section, records in self.facts.items()
            if section != "places"
            for fact in records.values()
        )
        found["mentions"] = len(self.mentions)
        return found


DATE_FIELDS = {
    "memberships": (("start", "start", "end"), ("end", "end", None)),
    "chairmanships": (("start", "start", "end"), ("end", "end", None)),
    "events": (("date", "date", "end"), ("end_date", "end", None)),
    "statistics": (("as_of", "as_of", None),),
}


def date_columns(prefix: str, date: PartialDate | None) -> dict[str, Any]:
    """The stored columns of one partial date (all None when there is no date)."""
    if date is None:
        return dict.fromkeys(
            (f"{prefix}_{part}" for part in ("year", "month", "day", "precision", "edtf", "earliest", "latest")),
            None,
        )
    return {
        f"{prefix}_year": date.year,
        f"{prefix}_month": date.month,
        f"{prefix}_day": date.day,
        f"{prefix}_precision": date.precision.value,
        f"{prefix}_edtf": date.edtf,
        f"{prefix}_earliest": date.earliest,
        f"{prefix}_latest": date.latest,
    }


class _Builder:
    def __init__(self, root: Path, documents: list[SourceDocument]) -> None:
        self.root = root
        self.documents = {document.slug: document for document in documents}
        self.errors: list[SeedError] = []
        self.merger = Merger()
        self.facts: dict[str, dict[str, Fact]] = {section: {} for section in SECTIONS}
        self.organizations = Organizations()

    @property
    def conflicts(self) -> list[Conflict]:
        return list(self.merger.conflicts.values())

    def error(self, file: str, record: str, field_name: str, message: str) -> None:
        self.errors.append(SeedError(file, record, field_name, message))

    # -- citations -----------------------------------------------------------------------------

    def cite(self, file: str, record: str, document: str, quotes: list[Quote]) -> list[CitationSpan]:
        text = self.documents[document].text
        spans = []
        for index, item in enumerate(quotes):
            found = find_quote(text, item.quote, item.occurrence)
            if found is None:
                where = "" if item.occurrence == 1 else f" (occurrence {item.occurrence})"
                near = nearest_passage(text, item.quote) if item.occurrence == 1 else None
                hint = f"; {near.describe()}" if near else ""
                self.error(
                    file,
                    record,
                    f"citations[{index}]",
                    f"quote not found verbatim in document {document!r}{where}: {item.quote!r}{hint}",
                )
                continue
            spans.append(CitationSpan(document, found, found + len(item.quote), item.quote))
        return spans

    # -- dates ---------------------------------------------------------------------------------

    def dates(
        self, section: str, raw: Any, file: str, record: str, spans: list[CitationSpan] | None = None
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for attribute, prefix, range_end in DATE_FIELDS.get(section, ()):
            text = getattr(raw, attribute)
            if text is None:
                values.setdefault(prefix, None)
                continue
            try:
                if range_end is None:
                    values[prefix] = single_date(str(text))
                    continue
                start, end = parse_span(str(text))
            except DateParseError as error:
                self.error(file, record, attribute, f"date does not parse: {error}{self.year_hint(text, spans)}")
                continue
            values[prefix] = start
            if end is not None:
                if values.get(range_end) is not None or getattr(raw, _attribute_of(section, range_end)):
                    self.error(file, record, attribute, "a date range and a separate end date are both given")
                values[range_end] = end
        return values

    def year_hint(self, text: Any, spans: list[CitationSpan] | None) -> str:
        """For a date without a year, the year the document gives near the record's quotes (a hint only)."""
        parts = yearless(str(text))
        if parts is None or not spans:
            return ""
        found = nearby_year(self.documents[spans[0].document].text, [(span.start, span.end) for span in spans])
        if found is None:
            return "; it has no year, and the document gives none near the quotes"
        year, context = found
        month, day = parts
        name = calendar.month_name[month]
        proposal = f"{day} {name} {year}" if day else f"{name} {year}"
        return (
            f"; it has no year: the document gives {year} nearby (\u201c\u2026{context}\u201d), so write "
            f"{proposal!r} if that is the year meant (a date is never completed silently)"
        )

    # -- records -------------------------------------------------------------------------------

    def standing(self, document: SourceDocument) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """(precedence, seniority) of a document: see app.seeding.merging."""
        meta = document.meta
        file = display_path(document.path.with_suffix(".yaml"), self.root)
        dates: dict[str, PartialDate | None] = {}
        for name in ("published", "added"):
            raw = getattr(meta, name)
            try:
                dates[name] = None if raw is None else single_date(str(raw))
            except DateParseError as error:
                self.error(file, "", name, f"date does not parse: {error}")
                dates[name] = None
        published, added = dates["published"], dates["added"]
        precedence = (
            -meta.priority,
            published is None,
            -published.earliest.toordinal() if published else 0,
            -published.latest.toordinal() if published else 0,
            document.slug,
        )
        seniority = (added is not None, added.sort_key() if added else (), document.slug)
        return precedence, seniority

    def recurrence(self, raw: Any, file: str, record: str) -> EventRecurrence | None:
        if raw.recurrence is None:
            return None
        dates: dict[str, PartialDate | None] = {}
        for name in ("since", "until"):
            text = getattr(raw.recurrence, name)
            try:
                dates[name] = None if text is None else single_date(str(text))
            except DateParseError as error:
                self.error(file, record, f"recurrence.{name}", f"date does not parse: {error}")
                return None
        since, until = dates["since"], dates["until"]
        assert since is not None
        if until is not None and until.latest < since.earliest:
            self.error(file, record, "recurrence.until", f"ends ({until.edtf}) before it begins ({since.edtf})")
            return None
        return EventRecurrence(raw.recurrence.frequency, since, until, raw.recurrence.description)

    def no_facts(self, facts_files: list[SourceFacts]) -> dict[str, list[NoFactSpan]]:
        """Each document's located `no_fact` quotes (a quote not found is an error, like a citation's)."""
        found: dict[str, list[NoFactSpan]] = {}
        for source in facts_files:
            file = display_path(source.path, self.root)
            document = source.facts.document
            if document not in self.documents:
                continue
            text = self.documents[document].text
            for index, item in enumerate(source.facts.no_fact):
                start = find_quote(text, item.quote, item.occurrence)
                if start is None:
                    where = "" if item.occurrence == 1 else f" (occurrence {item.occurrence})"
                    self.error(
                        file,
                        f"no_fact[{index}]",
                        "quote",
                        f"quote not found verbatim in document {document!r}{where}: {item.quote!r}",
                    )
                    continue
                found.setdefault(document, []).append(NoFactSpan(file, index, start, start + len(item.quote)))
        return found

    def coverage(self, facts_files: list[SourceFacts]) -> dict[str, Coverage]:
        """Every document's coverage by the facts' citations and the curators' `no_fact` quotes."""
        collectors = {slug: DocumentCoverage(document.text) for slug, document in self.documents.items()}
        for records in self.facts.values():
            for fact in records.values():
                for span in fact.citations:
                    collectors[span.document].cited_spans.append((span.start, span.end))
        for slug, spans in self.no_facts(facts_files).items():
            collectors[slug].no_fact_spans.extend(spans)
        result = {}
        for slug, collector in collectors.items():
            coverage, clashes = collector.classify()
            for item, (start, end) in clashes:
                sentence = collector.text[start:end]
                self.error(
                    item.file,
                    f"no_fact[{item.index}]",
                    "quote",
                    f"the sentence [{start}:{end}] is cited by a fact, so it states one: {sentence!r}",
                )
            result[slug] = coverage
        return result

    def build(self, facts_files: list[SourceFacts]) -> None:
        standings = {slug: self.standing(document) for slug, document in self.documents.items()}
        seen_per_file: dict[str, set[tuple[str, str]]] = {}
        records: list[tuple[str, Any, str, str, str]] = []
        overrides: dict[str, bool] = {}
        for source in facts_files:
            file = display_path(source.path, self.root)
            document = source.facts.document
            if document not in self.documents:
                if not (self.root / "documents" / f"{document}.txt").is_file():  # else its text's error is reported
                    self.error(file, "", "document", f"unknown document {document!r}: no documents/{document}.txt")
                continue
            overrides[file] = source.facts.override
            for section in SECTIONS:
                key_field = KEY_FIELDS[section]
                for index, raw in enumerate(getattr(source.facts, section)):
                    label = f"{section}[{index}] ({key_field} {getattr(raw, key_field)!r})"
                    records.append((section, raw, file, label, document))
            seen_per_file[file] = set()
        # The senior documents first: their slugs are kept where records of several files are one.
        records.sort(key=lambda record: standings[record[4]][1])

        for section, raw, file, label, _document in records:
            if section == "organizations":
                self.organizations.add(file, label, raw)
        for clash in self.organizations.clashes:
            self.error(clash.file, clash.record, clash.field, clash.message)

        statements: dict[str, dict[str, list[Statement]]] = {section: {} for section in SECTIONS}
        for section, raw, file, label, document in records:
            if raw.review == "pending":
                self.error(
                    file,
                    label,
                    "review",
                    "a draft's proposal still pending review: check it against the document, then delete "
                    "`review: pending` to accept it, or delete the proposal",
                )
                continue
            spans = self.cite(file, label, document, raw.citations)
            values = self.values(section, raw, file, label, spans)
            key = record_key(section, raw)
            if section == "organizations":
                key = self.organizations.of_record.get((file, raw.slug), key)
            fact = Fact(section, key, values, self.links(section, raw), spans, [file])
            self.resolve(fact)
            if (section, fact.key) in seen_per_file[file]:
                self.error(file, label, KEY_FIELDS[section], f"duplicate key {fact.key!r}")
                continue
            seen_per_file[file].add((section, fact.key))
            precedence, seniority = standings[document]
            statements[section].setdefault(fact.key, []).append(
                Statement(fact, document, precedence, seniority, overrides[file])
            )

        for section in SECTIONS:
            if section == "organizations":  # after the countries: places compare by their names
                self.merger.use_countries(self.country_of, self.country_names)
            for key, stated in statements[section].items():
                self.facts[section][key] = (
                    self.merger.merge(stated) if all(s.fact.citations for s in stated) else stated[0].fact
                )

        self.check_references(records)

    def country_of(self, name: str) -> str | None:
        """The code of the country a name names (its code, name or an alias, any case), or None.

        A place's name names its country too ("Ulaanbaatar" -> MNG), so that a city and its country agree.
        """
        folded = name.casefold()
        place = self.facts["places"].get(folded)
        if place is not None and place.values["country"]:
            return str(place.values["country"])
        for code in self.facts["countries"]:
            if folded in self.country_names(code):
                return code
        return None

    def country_names(self, code: str) -> set[str]:
        fact = self.facts["countries"].get(code)
        if fact is None:
            return set()
        return {
            code.casefold(),
            fact.values["name"].casefold(),
            *(alias.casefold() for alias in fact.values["aliases"]),
        }

    def values(
        self, section: str, raw: Any, file: str, label: str, spans: list[CitationSpan] | None = None
    ) -> dict[str, Any]:
        exclude = {"citations", "slug", "code", "co_chairs", "participants", "partner_organizations", "places"}
        exclude |= {attribute for attribute, _prefix, _end in DATE_FIELDS.get(section, ())}
        values = {name: getattr(raw, name) for name in type(raw).model_fields if name not in exclude}
        values.update(self.dates(section, raw, file, label, spans))
        if section == "events":
            values["recurrence"] = self.recurrence(raw, file, label)
            # The place's name as written: merging compares it as a location (app.seeding.merging),
            # and the writer links the place it names.
            values["location"] = raw.place
            del values["place"]
        if section in ("countries", "organizations"):
            values["aliases"] = list(raw.aliases)
        return values

    def links(self, section: str, raw: Any) -> dict[str, frozenset[Any]]:
        if section == "chairmanships":
            return {"co_chairs": frozenset(raw.co_chairs)}
        if section == "events":
            return {
                "participants": frozenset((item.country, item.role) for item in raw.participants),
                # Kept apart from `participants` (country, role), which merging compares.
                "participant_kinds": frozenset(
                    (item.country, item.kind, item.basis, item.basis_note) for item in raw.participants
                ),
                "partner_organizations": frozenset(raw.partner_organizations),
            }
        if section == "statistics":
            return {"places": frozenset((position, name.casefold()) for position, name in enumerate(raw.places))}
        return {}

    def org(self, name: str | None) -> str | None:
        return self.organizations.resolve(name)

    def check_references(self, records: list[tuple[str, Any, str, str, str]]) -> None:
        countries = self.facts["countries"]
        chairmanships = self.facts["chairmanships"]
        places = self.facts["places"]
        events = self.facts["events"]

        def need_place(file: str, label: str, field_name: str, name: str | None) -> None:
            if name is not None and name.casefold() not in places:
                known = [fact.values["name"] for fact in places.values()]
                near = difflib.get_close_matches(name, known, n=3)
                hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
                self.error(file, label, field_name, f"unknown place {name!r} (not in any file's places){hint}")

        organization_names = self.organizations.known_names()
        country_names = {code: code for code in countries}
        for code, fact in countries.items():
            for name in (fact.values["name"], *fact.values["aliases"]):
                country_names.setdefault(name, code)

        def need_org(file: str, label: str, field_name: str, name: str | None) -> None:
            if name is not None and self.org(name) is None:
                close = dict.fromkeys((self.org(near), near) for near in closest_names(name, organization_names))
                by_slug = {slug: near for slug, near in reversed(close)}  # each organization once, nearest name
                shown = [
                    f"{near!r}" + (f" ({slug})" if near != slug else "") for slug, near in reversed(by_slug.items())
                ]
                hint = f"; did you mean {' or '.join(shown)}?" if shown else ""
                self.error(file, label, field_name, f"unknown organization {name!r}{hint}")

        def need_country(file: str, label: str, field_name: str, code: str | None) -> None:
            if code is not None and code not in countries:
                close = dict.fromkeys(country_names[name] for name in closest_names(code, country_names))
                hint = "; did you mean " + " or ".join(close) + "?" if close else ""
                self.error(file, label, field_name, f"unknown country {code!r} (not in any file's countries){hint}")

        for section, raw, file, label, _document in records:
            if section == "organizations":
                need_org(file, label, "parent", raw.parent)
                if raw.parent is not None and self.org(raw.parent) == self.org(raw.slug):
                    self.error(file, label, "parent", "an organization cannot be its own parent")
            elif section == "memberships":
                need_country(file, label, "member", raw.member)
                need_org(file, label, "organization", raw.organization)
            elif section == "chairmanships":
                need_org(file, label, "organization", raw.organization)
                need_country(file, label, "chair", raw.chair)
                need_country(file, label, "predecessor", raw.predecessor)
                for index, code in enumerate(raw.co_chairs):
                    need_country(file, label, f"co_chairs[{index}]", code)
            elif section == "places":
                need_country(file, label, "country", raw.country)
            elif section == "events":
                need_org(file, label, "organization", raw.organization)
                need_place(file, label, "place", raw.place)
                if raw.occasion is not None and raw.occasion not in events:
                    self.error(file, label, "occasion", f"unknown event {raw.occasion!r}")
                if raw.occasion == raw.slug:
                    self.error(file, label, "occasion", "an event cannot happen at itself")
                if raw.chairmanship is not None and raw.chairmanship not in chairmanships:
                    hint = did_you_mean(raw.chairmanship, chairmanships)
                    self.error(file, label, "chairmanship", f"unknown chairmanship {raw.chairmanship!r}{hint}")
                for index, item in enumerate(raw.participants):
                    need_country(file, label, f"participants[{index}]", item.country)
                    if any(other.country == item.country for other in raw.participants[:index]):
                        self.error(file, label, f"participants[{index}]", f"{item.country} is listed twice")
                for index, name in enumerate(raw.partner_organizations):
                    need_org(file, label, f"partner_organizations[{index}]", name)
            elif section == "statistics":
                need_org(file, label, "organization", raw.organization)
                need_country(file, label, "country", raw.country)
                for index, name in enumerate(raw.places):
                    need_place(file, label, f"places[{index}]", name)
                    if any(other.casefold() == name.casefold() for other in raw.places[:index]):
                        self.error(file, label, f"places[{index}]", f"{name!r} is listed twice")
        self.check_parent_cycles()

    def check_parent_cycles(self) -> None:
        organizations = self.facts["organizations"]
        for key in organizations:
            seen = {key}
            current = self.org(organizations[key].values.get("parent"))
            while current is not None and current in organizations:
                if current in seen:
                    file = organizations[key].sources[0]
                    self.error(file, f"organizations ({key!r})", "parent", "parents form a cycle")
                    break
                seen.add(current)
                current = self.org(organizations[current].values.get("parent"))

    def resolve(self, fact: Fact) -> None:
        """Name organizations by slug (not by acronym or alias), so that documents' statements compare.

        An unknown name stays as written; `check_references` reports it.
        """
        for name in ("parent", "organization"):
            if fact.values.get(name) is not None:
                fact.values[name] = self.org(fact.values[name]) or fact.values[name]
        if "partner_organizations" in fact.links:
            fact.links["partner_organizations"] = frozenset(
                self.org(name) or name for name in fact.links["partner_organizations"]
            )


def record_key(section: str, raw: Any) -> str:
    """A record's natural key: a country's code, a place's name (any case), any other's slug."""
    if section == "countries":
        return str(raw.code)
    if section == "places":
        return str(raw.name).casefold()
    return str(raw.slug)


def _attribute_of(section: str, prefix: str) -> str:
    for attribute, stored, _end in DATE_FIELDS[section]:
        if stored == prefix:
            return attribute
    raise KeyError(prefix)


def load_dataset(root: Path) -> tuple[Dataset | None, list[SeedError]]:
    """Read and validate every seed file; the dataset, or every error found."""
    documents, facts_files, errors = read_seed_dir(root)
    builder = _Builder(root, documents)
    builder.errors.extend(errors)
    builder.build(facts_files)
    coverage = builder.coverage(facts_files)
    if builder.errors:
        return None, builder.errors
    mentions = []
    names: dict[str, list[str]] = {}
    for fact in builder.facts["organizations"].values():
        names[fact.key] = [
            name for name in (fact.values["name"], fact.values["acronym"], *fact.values["aliases"]) if name
        ]
    for slug, document in builder.documents.items():
        for org, start, end, found, context in find_mentions(document.text, names):
            mentions.append((org, slug, start, end, found, context))
    dataset = Dataset(
        documents=builder.documents,
        facts=builder.facts,
        mentions=mentions,
        passages={slug: passages(document.text) for slug, document in builder.documents.items()},
        conflicts=builder.conflicts,
        coverage=coverage,
    )
    return dataset, []


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
