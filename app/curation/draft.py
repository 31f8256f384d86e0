"""`python -m app draft seed/documents/<slug>.txt`: a first facts file for a new document, for review.

Rules only, and the knowledge base's own data: no network, no model. The draft splits the document
into sentences (offsets kept) and proposes, for each sentence, records with their verbatim quote:

- dates as the sentence writes them, at their precision (ranges too); a date without a year
  ("April 27") completed from the document's nearest year only as an inferred proposal, said so;
- known organizations and countries recognised by name, acronym or alias (the knowledge base's
  names, plus ISO 3166 country names from pycountry) and referenced by their existing keys;
- likely new organizations: "Name (ACRONYM)", and capitalised names ending in an organisational
  head word ("... Council", "... Organization of the United Nations");
- figures with their qualifier ("more than 18,139 Mongolian peacekeepers");
- a record type from the sentence's verbs: joined / became a member -> membership; chaired /
  presidency -> chairmanship; hosted / held / adopted / signed ... -> event;
- the existing record a sentence seems to restate (same organization and country, or an event
  whose title's words the sentence says), proposed under that record's slug, so the seed merges it.

Every proposal says `review: pending`; `seed` refuses a file with pending proposals, naming each.
The curator accepts a proposal by checking it and deleting that line (or deletes the proposal).
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.dates import DateParseError, PartialDate, parse_span
from app.seeding.files import SECTIONS, SeedError, read_document_text, read_seed_dir
from app.seeding.hints import nearby_year, yearless
from app.seeding.locate import find_mentions, sentence_spans

PENDING = "pending"


def _basis_sections() -> dict[str, bool]:
    """Which record types take `basis` (issue 11's seed format adds it; the draft uses it when there)."""
    from app.seeding import files

    found = {}
    for name in SECTIONS:
        (model,) = getattr(files.FactsFile.model_fields[name].annotation, "__args__", (None,))
        found[name] = "basis" in getattr(model, "model_fields", {})
    return found


_HAS_BASIS = _basis_sections()

# -- the knowledge base ----------------------------------------------------------------------------


@dataclass
class Organization:
    slug: str
    name: str
    acronym: str | None = None
    aliases: list[str] = field(default_factory=list)
    kind: str = "OTHER"
    new: bool = False

    @property
    def names(self) -> list[str]:
        return [name for name in (self.name, self.acronym, *self.aliases) if name]


@dataclass
class Knowledge:
    """What the draft recognises: organizations, countries (with every name) and existing records."""

    organizations: dict[str, Organization] = field(default_factory=dict)
    countries: dict[str, list[str]] = field(default_factory=dict)  # code -> names
    places: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # casefolded name -> (name, country)
    records: dict[str, dict[str, Any]] = field(default_factory=lambda: {section: {} for section in SECTIONS})


def _iso_names() -> dict[str, list[str]]:
    """ISO 3166-1 countries, each with its names: "Korea, Republic of" also as "Republic of Korea"."""
    import pycountry

    found: dict[str, list[str]] = {}
    for country in pycountry.countries:
        names = [getattr(country, attribute, None) for attribute in ("name", "common_name", "official_name")]
        for name in [name for name in names if name]:
            if ", " in name:
                head, _, tail = name.partition(", ")
                names.append(f"{tail} {head}")
                names.append(f"{tail[4:] if tail.startswith('The ') else tail} {head}")
        found[country.alpha_3] = list(dict.fromkeys(name for name in names if name))
    return found


def knowledge_base(seed_dir: Path, document: str, *, countries_only: bool = False) -> Knowledge:
    """The knowledge base the seed folder holds, without the drafted document's own files."""
    known = Knowledge(countries=_iso_names())
    _documents, facts_files, _errors = read_seed_dir(seed_dir)
    for source in facts_files:
        if source.facts.document == document or source.path.name.endswith(".draft.yaml"):
            continue
        for country in source.facts.countries:
            names = known.countries.setdefault(country.code, [])
            names.extend(name for name in (country.name, *country.aliases) if name not in names)
        if countries_only:
            continue
        for place in source.facts.places:
            known.places.setdefault(place.name.casefold(), (place.name, place.country))
        for raw in source.facts.organizations:
            known.organizations.setdefault(
                raw.slug, Organization(raw.slug, raw.name, raw.acronym, list(raw.aliases), raw.kind)
            )
        for section in ("memberships", "chairmanships", "events", "statistics"):
            for raw in getattr(source.facts, section):
                known.records[section].setdefault(raw.slug, raw)
    return known


# -- words -------------------------------------------------------------------------------------------

_CONNECTORS = {"of", "the", "and", "for", "on", "in", "de", "to"}
HEAD_WORDS = {
    "Organization": "INTERGOVERNMENTAL_ORGANIZATION",
    "Organisation": "INTERGOVERNMENTAL_ORGANIZATION",
    "Union": "INTERGOVERNMENTAL_ORGANIZATION",
    "Community": "INTERGOVERNMENTAL_ORGANIZATION",
    "Commission": "COMMISSION",
    "Council": "UN_SUBSIDIARY_BODY",
    "Assembly": "UN_ORGAN",
    "Conference": "MINISTERIAL_CONFERENCE",
    "Forum": "FORUM",
    "Dialogue": "FORUM",
    "Meeting": "FORUM",
    "Summit": "FORUM",
    "Group": "WORKING_GROUP",
    "Alliance": "INITIATIVE",
    "Initiative": "INITIATIVE",
    "Partnership": "INITIATIVE",
    "Agency": "UN_SPECIALIZED_AGENCY",
    "Programme": "UN_PROGRAMME",
    "Program": "UN_PROGRAMME",
    "Fund": "UN_PROGRAMME",
    "Bank": "INTERGOVERNMENTAL_ORGANIZATION",
    "Institute": "THINK_TANK",
    "Tank": "THINK_TANK",
    "Committee": "GOVERNING_BODY",
    "Board": "GOVERNING_BODY",
    "Office": "OFFICE",
    "Secretariat": "OFFICE",
    "Government": "GOVERNMENT",
    "Movement": "INITIATIVE",
    "Network": "INITIATIVE",
    "Coalition": "INITIATIVE",
    "Association": "INTERGOVERNMENTAL_ORGANIZATION",
    "Countries": "GROUP_OF_STATES",
    "Nations": "INTERGOVERNMENTAL_ORGANIZATION",
    "States": "GROUP_OF_STATES",
}
_CAP = r"(?:[A-Z][\w\u2019'\-]*|\d+(?:st|nd|rd|th))"
_RUN = re.compile(rf"{_CAP}(?:\s+(?:(?:of|the|and|for|on|in|de|to)\s+)*{_CAP})*")
_ACRONYM = re.compile(r"(?<![\w/-])[A-Z][A-Z0-9]{1,7}s?(?![\w/-])")
# Names that open with these are documents, events or descriptions, not bodies.
_NOT_A_BODY_START = {
    "Law", "Memorandum", "Declaration", "Joint", "Statement", "Resolution", "Treaty", "Agreement",
    "Convention", "Country", "Member", "Members", "Korean", "Chair", "Secretary-General", "Minister",
}  # fmt: skip
_NOT_BODIES = {"H", "E", "I", "II", "III", "IV", "VI", "VII", "VIII", "IX", "XI", "XX", "USD", "GDP", "NWFZ", "HE"}
_ORDINAL_WORD = re.compile(r"\b\d+(?:st|nd|rd|th)\b")
_ACRONYM_AFTER = re.compile(r"\s*\((?P<acronym>[A-Z][A-Za-z0-9]*[A-Z0-9]s?)\)")
_ORDINAL = re.compile(
    r"\b(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|inaugural|"
    r"(?=[IVX]+\b)X{0,3}(?:IX|IV|V?I{0,3}))\b",
    re.IGNORECASE,
)
_ROMAN = {"I": 1, "V": 5, "X": 10}
_LEADING = {
    "The", "A", "An", "As", "In", "On", "By", "With", "At", "Since", "During", "Within", "Currently", "Mongolia",
    "Chair", "Chairing", "President", "Such", "Each", "Both", "Furthermore", "These", "This", "Its",
}  # fmt: skip
_WORDS_ORDINAL = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
_MONTH_NAMES = {"January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December"}  # fmt: skip
_STOP = _CONNECTORS | {"a", "an", "its", "with", "by", "as", "at", "from", "was", "is", "has", "been"}


def slugify(text: str, words: int = 7) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    parts = [part for part in re.split(r"[^a-z0-9]+", plain) if part and part not in {"the", "a", "an"}]
    return "-".join(parts[:words]) or "record"


def _roman(text: str) -> int | None:
    if not text or not re.fullmatch(r"[IVX]+", text):
        return None
    total, previous = 0, 0
    for char in reversed(text):
        value = _ROMAN[char]
        total += -value if value < previous else value
        previous = max(previous, value)
    return total


def normal_words(text: str) -> list[str]:
    """Significant words, lower-cased, ordinals as numbers ("VII" and "Seventh" -> "7th")."""
    found = []
    for word in re.findall(r"[\w\u2019']+", text):
        roman = _roman(word) if len(word) > 1 or word in {"V", "X"} else None
        lowered = word.lower()
        if roman:
            found.append(f"{roman}th")
        elif lowered in _WORDS_ORDINAL:
            found.append(f"{_WORDS_ORDINAL[lowered]}th")
        elif re.fullmatch(r"\d+(?:st|nd|rd|th)", lowered):
            found.append(f"{int(lowered[:-2])}th")
        elif lowered not in _STOP:
            found.append(lowered.rstrip("s") if len(lowered) > 3 else lowered)
    return found


# -- dates -------------------------------------------------------------------------------------------

_M = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_D = r"\d{1,2}(?:st|nd|rd|th)?"
_Y = r"(?:1[89]\d\d|20\d\d)"
_DASH = r"\s*[-\u2013\u2014]\s*"
DATE_FORMS = [
    ("range", re.compile(rf"\b{_D}{_DASH}{_D}\s+{_M},?\s+{_Y}\b")),
    ("range", re.compile(rf"\b{_M}\s+{_D}{_DASH}{_D},?\s+{_Y}\b")),
    ("range", re.compile(rf"\bbetween\s+{_Y}\s+and\s+{_Y}\b", re.IGNORECASE)),
    ("range", re.compile(rf"\bfrom\s+{_Y}\s+(?:to|until)\s+{_Y}\b", re.IGNORECASE)),
    ("day", re.compile(rf"\b{_D}\s+{_M},?\s+{_Y}\b")),
    ("day", re.compile(rf"\b{_M}\s+{_D},?\s+{_Y}\b")),
    ("month", re.compile(rf"\b{_M},?\s+{_Y}\b")),
    ("decade", re.compile(r"\bthe\s+\d{3}0[\u2019']?s\b")),
    ("yearless", re.compile(rf"\b{_M}\s+{_D}\b(?!,?\s*\d)")),
    ("yearless", re.compile(rf"\b{_D}\s+{_M}(?!,?\s*\d)")),
    ("year", re.compile(rf"(?<![\w,.\-\u2013/]){_Y}(?![\w\-\u2013/]|,\d|\.\d)")),
]


@dataclass(frozen=True)
class FoundDate:
    start: int
    end: int
    text: str  # as a seed file writes it
    form: str
    inferred: bool = False


def dates_in(text: str, start: int, end: int) -> list[FoundDate]:
    """The dates a sentence (text[start:end]) gives, longest forms first, without overlaps."""
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []
    for form, pattern in DATE_FORMS:
        for match in pattern.finditer(text, start, end):
            if any(match.start() < b and a < match.end() for a, b in taken):
                continue
            written = " ".join(match.group().split())
            inferred = False
            if form == "yearless":
                parts = yearless(written)
                near = _context_year(text, start, end, match.start())
                if parts is None or near is None:
                    continue
                month, day = parts

                written = (
                    f"{day} {calendar.month_name[month]} {near[0]}"
                    if day
                    else f"{calendar.month_name[month]} {near[0]}"
                )
                inferred = True
            try:
                parse_span(written)
            except DateParseError:
                continue
            taken.append((match.start(), match.end()))
            found.append(FoundDate(match.start(), match.end(), written, form, inferred))
    found.sort(key=lambda item: item.start)
    return found


# -- proposals ---------------------------------------------------------------------------------------

MEMBERSHIP = re.compile(
    r"\b(?:joined|join(?:s|ing)?|became\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,2}(?:member|participating State|party)|"
    r"(?:is|was|has been|as)\s+(?:a|an)\s+(?:\w+\s+){0,2}member|admitted|acceded|accession|membership|"
    r"participat(?:es|ed|ing)\s+in)\b",
    re.IGNORECASE,
)
# A title that names its kind proposes that kind ("The 11th ASEM Summit" is a SUMMIT, not the
# MEETING "hosted" would make it): the last such word of the title's head, before "on"/"of"/"for".
TITLE_KINDS = {
    "summit": "SUMMIT",
    "conference": "CONFERENCE",
    "meeting": "MEETING",
    "session": "SESSION",
    "forum": "FORUM",
    "symposium": "FORUM",
    "declaration": "DECLARATION",
    "statement": "STATEMENT",
    "resolution": "RESOLUTION",
    "agreement": "AGREEMENT",
    "memorandum": "AGREEMENT",
    "law": "LEGISLATION",
}
TITLE_KIND = re.compile(r"\b(" + "|".join(TITLE_KINDS) + r")s?\b", re.I)
TITLE_HEAD_END = re.compile(r"\s(?:on|of|for|in)\s", re.I)


def titled_kind(title: str) -> str | None:
    """The kind a title names in its head ("The 11th ASEM Summit": SUMMIT), or None."""
    end = TITLE_HEAD_END.search(title)
    found = TITLE_KIND.findall(title[: end.start()] if end else title)
    return TITLE_KINDS[found[-1].lower()] if found else None


CHAIR = re.compile(r"\b(?:chair(?:ed|s|ing|manship)?|co-chair(?:ed)?|presidency|presided)\b", re.I)
EVENT_VERBS = [
    (
        re.compile(r"\b(?:assumed|took over|takes over)\s+the\s+(?:\w+\s+)?(?:Presidency|Chairmanship)\b", re.I),
        "PRESIDENCY",
    ),
    (re.compile(r"\bhost(?:ed|s|ing)?\b", re.I), "CONFERENCE"),
    (re.compile(r"\b(?:was|were|is|been)\s+held\b|\bheld\b|\bconvened\b|\btook place\b", re.I), "MEETING"),
    (re.compile(r"\badopt(?:ed|s)?\b", re.I), "RESOLUTION"),
    (re.compile(r"\bsign(?:ed|s)?\b", re.I), "AGREEMENT"),
    (re.compile(r"\blaunch(?:ed|es)?\b|\blaunching\b", re.I), "LAUNCH"),
    (re.compile(r"\bestablish(?:ed|es)?\b|\bset up\b|\bfounded\b", re.I), "ESTABLISHMENT"),
    (re.compile(r"\bdeclared?\b|\bdeclaration\b", re.I), "DECLARATION"),
    (re.compile(r"\belected\b|\belection\b", re.I), "ELECTION"),
    (re.compile(r"\bvisit(?:ed)?\b", re.I), "VISIT"),
    (re.compile(r"\bpropos(?:ed|al)\b|\binitiated\b|\binitiative\b", re.I), "INITIATIVE"),
    (re.compile(r"\bissued\b|\bresolution\b", re.I), "RESOLUTION"),
    (re.compile(r"\blaw\b", re.I), "LEGISLATION"),
]
QUALIFIERS = (
    r"more than|over|around|about|approximately|some|nearly|almost|at least|up to|a total of|total of|"
    r"fewer than|less than|a record"
)
FIGURE = re.compile(
    rf"(?:(?P<qualifier>{QUALIFIERS})\s+)?(?P<number>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)(?!\d|st|nd|rd|th|[-\u2013]\d)"
    rf"(?P<unit>(?:\s+(?!(?:of|in|and|to|on|the|have|has|are|is|were|was|had|who|which|that|after|for|since|from|over|with|at|attended|served|serving)\b)"
    rf"[A-Za-z\u2019'-]+){{1,3}})",
    re.IGNORECASE,
)


@dataclass
class Mention:
    kind: str  # "org" or "country"
    key: str
    start: int
    end: int
    text: str


@dataclass
class Sentence:
    index: int
    start: int
    end: int
    text: str
    proposals: list[tuple[str, str]] = field(default_factory=list)


class Drafter:
    def __init__(self, slug: str, text: str, known: Knowledge) -> None:
        self.slug = slug
        self.text = text
        self.known = known
        self.records: dict[str, dict[str, dict[str, Any]]] = {section: {} for section in SECTIONS}
        self.sentences = [Sentence(i, s, e, text[s:e]) for i, (s, e) in enumerate(sentence_spans(text))]
        self.organizations = dict(known.organizations)
        self.new_names: dict[str, str] = {}  # casefolded new name -> slug
        self.folded_text = _fold(text)

    # -- recognition --

    def mentions(self) -> list[Mention]:
        names: dict[str, list[str]] = {}
        folded = self.folded_text
        # Only the names the text contains at all (any case) go to the matcher: most never appear.
        for slug, organization in self.organizations.items():
            names[f"org:{slug}"] = [name for name in organization.names if _fold(name) in folded]
        for code, country_names in self.known.countries.items():
            names[f"country:{code}"] = [
                name for name in country_names if (len(name) > 3 or name.isupper()) and _fold(name) in folded
            ]
        found = []
        for key, start, end, matched, _context in find_mentions(self.text, names):
            kind, _, ident = key.partition(":")
            found.append(Mention(kind, ident, start, end, matched))
        return found

    def new_organizations(self) -> None:
        """Capitalised names with an organisational head word, and "Name (ACRONYM)": new organizations."""
        known_spans = _Spans([(m.start, m.end) for m in self.mentions() if m.kind == "org"])
        for sentence in self.sentences:
            for match in _RUN.finditer(self.text, sentence.start, sentence.end):
                self._candidate(match, known_spans)
        self.new_acronyms()

    def new_acronyms(self) -> None:
        """A capital-letter word ("ASEM", "LLDCs") no organization or country has is a likely new body."""
        country_names = {name for names in self.known.countries.values() for name in names}
        for names in list(self.known.countries.values()):
            for name in list(names):
                capitals = "".join(word[0] for word in name.split() if word[0].isupper())
                every = "".join(word[0].upper() for word in name.split() if word.isalpha())
                for initials in {capitals, every} - {""}:
                    if len(initials) >= 3 and initials not in names:
                        names.append(initials)  # "ROK", "DPRK": a country's initials name it
                        country_names.add(initials)
        counts = Counter(match.group() for match in _ACRONYM.finditer(self.text))
        for word, _count in counts.most_common():
            acronym = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
            if acronym in country_names or word in country_names or acronym in _NOT_BODIES:
                continue
            if self._known(acronym) or self._known(word):
                continue
            if any(org.acronym == acronym for org in self.organizations.values()):
                continue
            spelled = [
                org
                for org in self.organizations.values()
                if org.new and org.acronym is None and _initials_fit(org.name, acronym, exact=True)
            ]
            if spelled:  # "UN" of the "United Nations" the text names in full
                spelled[0].acronym = acronym
                continue
            slug = self._unique_org_slug(slugify(acronym, 2))
            self.organizations[slug] = Organization(
                slug, acronym, acronym, [word] if word != acronym else [], "OTHER", True
            )

    def _candidate(self, match: re.Match[str], known_spans: _Spans) -> None:
        words = match.group().split()
        while words and (words[0] in _LEADING or _ORDINAL.fullmatch(words[0])):
            words = words[1:]
        while words and words[-1].lower() in _CONNECTORS:
            words = words[:-1]
        if len(words) < 2:
            return
        name = " ".join(words).rstrip(".,")
        name = re.split(r"[\u2019']s\b", name)[0]
        name = re.sub(r"\s+in\s+[A-Z][\w\u2019'-]+$", "", name)  # "... in Ulaanbaatar": a place
        name = re.split(r"\s+and\s+(?:the\s+)?(?=[A-Z]{2,}\b)", name)[0]  # "Government of Mongolia and the FAO"
        if name.split()[0] in _NOT_A_BODY_START:
            return
        start = self.text.index(name, match.start())
        end = start + len(name)
        acronym_match = _ACRONYM_AFTER.match(self.text, end)
        acronym = acronym_match["acronym"] if acronym_match else None
        # Head words count outside the known organizations' names the run contains.
        heads = []
        for word in re.finditer(r"[A-Z][\w\u2019'\-]*", name):
            at = start + word.start()
            if word.group() in HEAD_WORDS and not known_spans.holds(at, at + 1):
                heads.append(word.group())
        if not heads and not (acronym and _initials_fit(name, acronym)):
            return
        if known_spans.holds(start, end):
            return  # a known organization's name, or a part of it
        if name.casefold() in self.new_names or self._known(name) or (acronym and self._known(acronym)):
            return
        first_head = heads[0] if heads else None
        preceded = self.text[max(start - 30, 0) : start]
        if first_head in {"Conference", "Summit", "Meeting", "Session"} and _ORDINAL.search(preceded[-14:]):
            return  # "the 7th ... Conference": an event, not a body
        if re.search(r"\b(?:the\s+)?(?:\d{4}|[A-Z][a-z]+)?\s*$", preceded) and re.match(r"[A-Z][a-z]+ \d", name):
            return
        kind = HEAD_WORDS.get(first_head or "", "OTHER")
        clean = acronym.rstrip("s") if acronym and acronym.endswith("s") and acronym[:-1].isupper() else acronym
        slug = self._unique_org_slug(slugify(name, 6))
        self.organizations[slug] = Organization(slug, name, clean, [], kind, new=True)
        self.new_names[name.casefold()] = slug

    def _known(self, name: str) -> bool:
        folded = name.casefold()
        return any(folded in (n.casefold() for n in org.names) for org in self.organizations.values())

    def _unique_org_slug(self, slug: str) -> str:
        candidate, number = slug, 2
        while candidate in self.organizations:
            candidate, number = f"{slug}-{number}", number + 1
        return candidate

    # -- proposing --

    def propose(self, advance: Callable[[int], None] = lambda _done: None) -> None:
        """Propose every record the text seems to state; `advance(1)` after each sentence."""
        self.new_organizations()
        mentions = self.mentions()
        countries_cited: dict[str, tuple[int, int, Sentence]] = {}
        main_country = _most_common([m.key for m in mentions if m.kind == "country"])
        organizations_cited: dict[str, tuple[int, int]] = {}
        mention_starts = [m.start for m in mentions]  # in order: find_mentions gives them by start
        for sentence in self.sentences:
            advance(1)
            inside = mentions[
                bisect.bisect_left(mention_starts, sentence.start) : bisect.bisect_left(mention_starts, sentence.end)
            ]
            orgs = [m for m in inside if m.kind == "org"]
            countries = [m for m in inside if m.kind == "country"]
            for m in countries:
                countries_cited.setdefault(m.key, (m.start, m.end, sentence))
            for m in orgs:
                organizations_cited.setdefault(m.key, (sentence.start, sentence.end))
            dates = dates_in(self.text, sentence.start, sentence.end)
            subject = countries[0].key if countries else main_country
            if sentence.index == 0 and not re.search(r"[.!?]$", sentence.text):
                continue  # the document's title line
            self.propose_records(sentence, orgs, countries, subject, dates)
            self.propose_figures(sentence, orgs, subject, dates)
        for code, (start, end, sentence) in countries_cited.items():
            names = self.known.countries.get(code) or [code]
            self.add(
                "countries",
                code,
                {"code": code, "name": self.text[start:end] if self.text[start:end] in names else names[0]},
                sentence.text,
                sentence,
                note="named in the document",
            )
        for slug, (start, _end) in organizations_cited.items():
            organization = self.organizations[slug]
            if not organization.new:
                continue
            record = {
                "slug": slug,
                "name": organization.name,
                "acronym": organization.acronym,
                "kind": organization.kind,
            }
            if not organization.acronym:
                del record["acronym"]
            sentence = next(s for s in self.sentences if s.start == start)
            self.add("organizations", slug, record, sentence.text, sentence, note="a likely new organization")

    def main_org(self, orgs: list[Mention], after: int | None = None) -> str | None:
        if not orgs:
            return None
        if after is not None:
            following = [m for m in orgs if m.start >= after]
            if following:
                return following[0].key
        return orgs[0].key

    def propose_records(
        self,
        sentence: Sentence,
        orgs: list[Mention],
        countries: list[Mention],
        subject: str | None,
        dates: list[FoundDate],
    ) -> None:
        text = sentence.text
        date = dates[0] if dates else None
        membership = MEMBERSHIP.search(text)
        chair = CHAIR.search(text)
        if membership and orgs and subject:
            organization = self.main_org(orgs, sentence.start + membership.start())
            assert organization is not None
            slug = self.restated("memberships", subject, organization) or f"{subject.lower()}-in-{organization}"
            role = "participant" if re.match(r"participat", membership.group(), re.I) else "member"
            record: dict[str, Any] = {"slug": slug, "member": subject, "organization": organization, "role": role}
            self._date(record, "start", date)
            record["status"] = "ONGOING" if re.search(r"\bjoined|became|has been|is a\b", text) else "UNKNOWN"
            self.add("memberships", slug, record, text, sentence, date=date)
        if chair and orgs and subject:
            organization = self.main_org(orgs, sentence.start + chair.start())
            assert organization is not None
            name = self.organizations[organization].acronym or self.organizations[organization].name
            slug = self.restated("chairmanships", subject, organization) or f"{subject.lower()}-chairs-{organization}"
            office = "Presidency" if re.search(r"presiden", chair.group(), re.I) else "Chair"
            record = {"slug": slug, "organization": organization, "chair": subject, "title": f"{office} of the {name}"}
            self._date(record, "start", date)
            self.add("chairmanships", slug, record, text, sentence, date=date)
        if membership and orgs and subject:
            organization = self.main_org(orgs, sentence.start + membership.start())
            assert organization is not None
            name = self.organizations[organization].acronym or self.organizations[organization].name
            country = (self.known.countries.get(subject) or [subject])[0]
            title = f"{country} joins the {name}"
            existing = self.restated_event(text, date, kind="ACCESSION", organization=organization)
            slug = existing or slugify(f"{country} joins {name} {PartialDate_year(date)}", 8)
            record = {"slug": slug, "title": title, "kind": "ACCESSION", "organization": organization}
            if date is not None:
                record["date"] = date.text
            record["participants"] = [{"country": subject, "role": "new member"}]
            self.add("events", slug, record, text, sentence, date=date)
        verbs: list[tuple[re.Match[str], str]] = []
        for pattern, verb_kind in EVENT_VERBS:
            found = pattern.search(text)
            if found is not None and not any(found.start() < v.end() and v.start() < found.end() for v, _k in verbs):
                verbs.append((found, verb_kind))
        verbs.sort(key=lambda item: item[0].start())
        # One event per verb, up to two a sentence, each dated by the date nearest its verb.
        for verb, kind in verbs[:2] if len({d.text for d in dates}) > 1 else verbs[:1]:
            at = sentence.start + verb.start()
            date = min(dates, key=lambda d: (abs(d.start - at), d.start < at)) if dates else None
            if kind == "CONFERENCE" and not re.search(r"conference|summit|meeting|forum|session|dialogue", text, re.I):
                kind = "MEETING"
            if membership and not chair and kind not in ("CONFERENCE", "MEETING"):
                break  # the accession above says it
            if chair and kind == "CONFERENCE" and "presiden" in text.lower() and not re.search(r"hosted", text):
                kind = "PRESIDENCY"
            organization = self.main_org(orgs, sentence.start + verb.start())
            existing = self.restated_event(text, date) or (
                self.restated_event(text, date, kind=kind, organization=organization) if kind == "PRESIDENCY" else None
            )
            title = self.event_title(text, verb, organization)
            slug = existing or slugify(f"{title} {PartialDate_year(date)}".strip(), 8)
            if re.search(r"\bConference\b", title) and kind == "MEETING":
                kind = "CONFERENCE"
            if re.search(r"\bDeclaration\b", title):
                kind = "DECLARATION"
            kind = titled_kind(title) or kind
            place = re.search(r"\s+in\s+([A-Z][\w\u2019'-]+)$", title)
            if place:
                title = title[: place.start()]
            record = {"slug": slug, "title": title, "kind": kind}
            if date is not None:
                record["date"] = date.text
            where = place.group(1) if place else self.location(text)
            if where:
                record["place"] = self.place(where, sentence)
            if organization:
                record["organization"] = organization
            participants: list[dict[str, str]] = []
            for m in countries[:6]:
                role = (
                    "host"
                    if kind in ("CONFERENCE", "MEETING") and re.search(r"\bhost", text, re.I) and m.key == subject
                    else "participant"
                )
                if m.key not in (p["country"] for p in participants):
                    participants.append({"country": m.key, "role": role})
            if not participants and subject:
                participants.append({"country": subject, "role": "participant"})
            record["participants"] = participants
            note = f"restates the existing record {existing!r}" if existing else None
            self.add("events", slug, record, text, sentence, date=date, note=note)

    def propose_figures(
        self, sentence: Sentence, orgs: list[Mention], subject: str | None, dates: list[FoundDate]
    ) -> None:
        date_spans = [(d.start, d.end) for d in dates]
        for match in FIGURE.finditer(self.text, sentence.start, sentence.end):
            number_start = match.start("number")
            if any(a <= number_start < b for a, b in date_spans):
                continue
            qualifier = match["qualifier"]
            number = match["number"]
            first_unit = match["unit"].split()[0]
            plural = first_unit.endswith("s") or (
                len(match["unit"].split()) > 1 and match["unit"].split()[-1].endswith("s")
            )
            if not qualifier and "," not in number and not (plural and 1 < float(number) < 1000):
                continue  # a bare number is a figure when it counts something ("32 countries")
            value = float(number.replace(",", ""))
            unit_words = match["unit"].split()
            unit = " ".join(unit_words)
            label = f"{unit[0].upper()}{unit[1:]}"
            slug = slugify(f"{label} {number}", 8)
            record: dict[str, Any] = {
                "slug": slug,
                "label": label,
                "value": int(value) if value.is_integer() else value,
            }
            record["unit"] = unit_words[-1]
            if qualifier:
                record["qualifier"] = qualifier.lower()
            as_of = next((d for d in dates if re.search(r"as of|\bin", self.text[max(d.start - 8, 0) : d.start])), None)
            self._date(record, "as_of", as_of if as_of and as_of.form != "range" else None)
            organization = self.main_org(orgs)
            if organization:
                record["organization"] = organization
            if subject:
                record["country"] = subject
            self.add("statistics", slug, record, sentence.text, sentence, date=as_of)

    def _date(self, record: dict[str, Any], name: str, date: FoundDate | None) -> None:
        if date is not None:
            if date.form == "range" and name in ("as_of",):
                return
            record[name] = date.text

    def event_title(self, text: str, verb: re.Match[str], organization: str | None) -> str:
        """A short title: the capitalised name after the verb (before it, for "X was held"), else the clause."""
        if re.match(r"(?:was|were|is|been)\s+held|took place|convened", verb.group(), re.I):
            before = list(_RUN.finditer(text[: verb.start()]))
            if before:
                words = before[-1].group().split()
                while words and words[0] in _LEADING:
                    words = words[1:]
                if words:
                    return _cut_title(" ".join(words))
        after = text[verb.end() :]
        for match in _RUN.finditer(after):
            words = match.group().split()
            if len(words) >= 2 or (words and _ACRONYM.fullmatch(words[0]) and words[0] not in _NOT_BODIES):
                title = " ".join(words).rstrip(".,")
                ordinal = re.search(rf"(?:the\s+)?({_ORDINAL.pattern})\s*$", after[: match.start()], re.I)
                if ordinal:
                    title = f"{ordinal.group(1)} {title}"
                return _cut_title(title)
        clause = re.split(r"[,;.]", text[verb.start() :])[0]
        return clause[:1].upper() + clause[1:80]

    def place(self, name: str, sentence: Sentence) -> str:
        """The place an event names, proposing a `places` record where the knowledge base has none."""
        known = self.known.places.get(name.casefold())
        if known is not None:
            return known[0]
        code = next((code for code, names in self.known.countries.items() if name in names), None)
        record: dict[str, Any] = {"name": name}
        if code:
            record["country"] = code
        self.add("places", name, record, sentence.text, sentence, note="a place the knowledge base does not have")
        return name

    def location(self, text: str) -> str | None:
        """A place the sentence says the event was in: "in Ulaanbaatar", "in Havana in 2006"."""
        for match in re.finditer(r"\bin\s+([A-Z][\w\u2019'-]+)(?![\w\s]*(?:of|for)\b)", text):
            word = match.group(1)
            if self._resolve(word) is None and not re.fullmatch(r"\d+", word) and word not in _MONTH_NAMES:
                return word
        return None

    def restated(self, section: str, subject: str, organization: str) -> str | None:
        """The existing record of this country and organization in the section, if one."""
        for slug, raw in self.known.records[section].items():
            member = getattr(raw, "member", None) or getattr(raw, "chair", None)
            org = self._resolve(getattr(raw, "organization", None))
            if member == subject and org == organization:
                return slug
        return None

    def _resolve(self, name: str | None) -> str | None:
        if name is None:
            return None
        folded = name.casefold()
        for slug, organization in self.organizations.items():
            if folded == slug or folded in (n.casefold() for n in organization.names):
                return slug
        return None

    def restated_event(
        self, text: str, date: FoundDate | None, *, kind: str | None = None, organization: str | None = None
    ) -> str | None:
        """The existing event whose title's significant words the sentence says, dates agreeing."""
        said = set(normal_words(text))
        for slug, raw in self.known.records["events"].items():
            same = kind is not None and raw.kind == kind and self._resolve(raw.organization) == organization
            if same and (date is None or raw.date is None or _dates_agree(str(raw.date), date.text)):
                return str(slug)
            title = _title_words(raw.title)
            if len(title) < 2:
                continue
            shared = sum(1 for word in title if word in said)
            ordinals = [word for word in title if re.fullmatch(r"\d+th", word)]
            if ordinals and not all(word in said for word in ordinals):
                continue
            if shared / len(title) < 0.75:
                continue
            if date is not None and raw.date is not None and not _dates_agree(str(raw.date), date.text):
                continue
            return str(slug)
        return None

    def add(
        self,
        section: str,
        key: str,
        record: dict[str, Any],
        quote: str,
        sentence: Sentence | None,
        *,
        date: FoundDate | None = None,
        note: str | None = None,
    ) -> None:
        records = self.records[section]
        if key in records:
            existing = records[key]
            if quote not in [c if isinstance(c, str) else c["quote"] for c in existing["citations"]]:
                existing["citations"].append(self._citation(quote))
            if sentence is not None and (section, key) not in sentence.proposals:
                sentence.proposals.append((section, key))
            return
        notes = [note] if note else []
        extra: dict[str, Any] = {}
        if date is not None and date.inferred:
            because = f"date {date.text!r} completed with the year the document gives nearby"
            if _HAS_BASIS.get(section):
                extra = {"basis": "inferred", "basis_note": f"{because}; the sentence gives no year"}
            else:
                notes.append(f"{because} (basis: inferred)")
        proposal = {**record, **extra, "citations": [self._citation(quote)], "review": PENDING}
        if notes:
            proposal["note"] = "; ".join(notes)
        records[key] = proposal
        if sentence is not None:
            sentence.proposals.append((section, key))

    def _citation(self, quote: str) -> Any:
        occurrence = _occurrence(self.text, quote)
        return quote if occurrence == 1 else {"quote": quote, "occurrence": occurrence}

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {"document": self.slug}
        for section in SECTIONS:
            if self.records[section]:
                out[section] = list(self.records[section].values())
        out["sentences"] = [
            {
                "n": s.index + 1,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "proposals": [f"{section}/{key}" for section, key in s.proposals],
            }
            for s in self.sentences
        ]
        return out


def PartialDate_year(date: FoundDate | None) -> str:
    if date is None:
        return ""
    try:
        return str(parse_span(date.text)[0].year)
    except DateParseError:
        return ""


@functools.lru_cache(maxsize=1024)
def _title_words(title: str) -> tuple[str, ...]:
    """A known event's title's significant words (worked out once per title, not once per sentence)."""
    return tuple(word for word in normal_words(title) if word not in {"mongolia", "mongolian"})


def _dates_agree(a: str, b: str) -> bool:
    try:
        first, second = parse_span(a)[0], parse_span(b)[0]
    except DateParseError:
        return True
    return first.overlaps(second) or (isinstance(first, PartialDate) and first.covers(second))


def _cut_title(title: str) -> str:
    """A title without a trailing "on April" or "in 2013"."""
    words = title.split()
    for index, word in enumerate(words):
        if index and (word.rstrip(".,") in _MONTH_NAMES or re.fullmatch(r"\d{4}", word)):
            words = words[:index]
            break
    while words and words[-1].lower() in _CONNECTORS:
        words = words[:-1]
    return " ".join(words)


def _context_year(text: str, start: int, end: int, at: int) -> tuple[int, str] | None:
    """The year a date without one most likely has: its sentence's, else the nearest before, else after."""
    inside = nearby_year(text, [(start, end)], reach=0)
    if inside is not None:
        return inside
    before = _last_year_before(text, start)
    if before is not None:
        return before, ""
    return nearby_year(text, [(at, at)])


_YEAR_ALONE = re.compile(r"(?<!\d)(?:1[89]\d\d|20\d\d)(?!\d)")


def _last_year_before(text: str, start: int) -> int | None:
    """The last year written in text[:start], found without reading the whole prefix again for every date.

    A year ending at `start` itself (followed there by a digit, so not a year of the whole text) is found in the
    last few characters; any other year of the prefix is one of the whole text's years, listed once per text.
    """
    tail = list(_YEAR_ALONE.finditer(text, max(0, start - 8), start))
    if tail:
        return int(tail[-1].group())
    starts, years = _years_of(text)
    index = bisect.bisect_right(starts, start - 4) - 1
    return years[index] if index >= 0 else None


@functools.lru_cache(maxsize=2)
def _years_of(text: str) -> tuple[list[int], list[int]]:
    """Where each year of the text starts, and the year, in order."""
    matches = list(_YEAR_ALONE.finditer(text))
    return [match.start() for match in matches], [int(match.group()) for match in matches]


class _Spans:
    """Spans that do not overlap (mentions), sorted by start: which one holds a stretch, found by bisection."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [start for start, _end in self.spans]

    def holds(self, start: int, end: int) -> bool:
        """Whether one span holds all of [start, end)."""
        index = bisect.bisect_right(self.starts, start) - 1
        return index >= 0 and self.spans[index][0] <= start and end <= self.spans[index][1]


def _initials_fit(name: str, acronym: str, *, exact: bool = False) -> bool:
    initials = "".join(word[0] for word in name.split() if word[0].isupper())
    letters = acronym.rstrip("s").upper()
    if exact:
        return initials == letters
    return len(letters) >= 2 and (letters in initials or initials.startswith(letters[:2]))


def _occurrence(text: str, quote: str) -> int:
    count, position = 0, -1
    first = text.find(quote)
    while True:
        position = text.find(quote, position + 1)
        if position < 0 or position > first:
            break
        count += 1
    return max(count, 1)


def _fold(text: str) -> str:
    return text.casefold().replace("\u2019", "'")


def _most_common(items: list[str]) -> str | None:
    return Counter(items).most_common(1)[0][0] if items else None


# -- the command -------------------------------------------------------------------------------------


@dataclass
class DraftResult:
    path: Path
    data: dict[str, Any]
    counts: dict[str, int]
    metadata_written: Path | None


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "'" if any(char in value for char in ":#{}[]&*!|>'\"%@`,") or value != value.strip() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


class DraftRefused(Exception):
    """A document `draft` cannot read, said as `seed` says it (one line: file, problem, code)."""


def draft_document(
    text_path: Path,
    *,
    seed_dir: Path | None = None,
    countries_only: bool = False,
    output: Path | None = None,
    started: Callable[[int], None] = lambda _sentences: None,
    advance: Callable[[int], None] = lambda _done: None,
) -> DraftResult:
    """Draft `<seed>/<slug>.draft.yaml` for `<seed>/documents/<slug>.txt`.

    `started(n)` is told the document's number of sentences, then `advance(1)` after each is read.
    """
    text_path = Path(text_path)
    slug = text_path.stem
    seed_dir = seed_dir or text_path.parent.parent
    problems: list[SeedError] = []
    text = read_document_text(text_path, text_path.parent.parent, problems)
    if text is None:
        raise DraftRefused(str(problems[0]))
    drafter = Drafter(slug, text, knowledge_base(seed_dir, slug, countries_only=countries_only))
    started(len(drafter.sentences))
    drafter.propose(advance)
    data = drafter.document()
    path = output or seed_dir / f"{slug}.draft.yaml"
    header = (
        f"# Draft facts for documents/{slug}.txt, written by `python -m app draft`.\n"
        "# Every proposal says `review: pending`: check it against the text, correct it, and delete that\n"
        "# line to accept it (or delete the proposal). `seed` refuses the file while any is pending.\n"
        "# `sentences` lists the document's sentences with their offsets and the proposals citing each.\n"
        f"# When every proposal is reviewed, rename this file {slug}.yaml (or merge it into that file).\n"
    )
    path.write_text(
        header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8"
    )
    metadata = text_path.with_suffix(".yaml")
    written = None
    if not metadata.exists():
        first_line = next((line.strip() for line in text.splitlines() if line.strip()), slug)
        metadata.write_text(
            yaml.dump(
                {"title": first_line[:120], "language": "en", "origin": None, "added": dt.date.today().isoformat()},
                Dumper=_Dumper,
                sort_keys=False,
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
        written = metadata
    counts = {section: len(drafter.records[section]) for section in SECTIONS}
    counts["sentences"] = len(drafter.sentences)
    return DraftResult(path, data, counts, written)
