"""Read seed files into typed records, collecting every structural error with file, record and field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from app.data.models import EventKind, OrganizationKind, ParticipantRole, RecurrenceFrequency, TenureStatus
from app.seeding.country_codes import iso_name, unknown_code_message
from app.seeding.safety import CONTROL_CHARACTER, NOT_UTF8, control_character, nesting_problem, unsafe_file


def _assigned(code: str) -> str:
    if iso_name(code) is None:
        raise ValueError(unknown_code_message(code))
    return code


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=160)]
# An assigned ISO 3166-1 alpha-3 code: a typo ("MGN") is refused with the closest codes.
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$"), AfterValidator(_assigned)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
# YAML reads an unquoted 2026-12-01 as a date: take it as the EDTF text it is.
DateText = Annotated[
    str | int, BeforeValidator(lambda value: value.isoformat() if isinstance(value, dt.date) else value)
]


@dataclass(frozen=True)
class SeedError:
    """One problem in the seed files, located precisely enough to fix."""

    file: str
    record: str
    field: str
    message: str
    code: str = ""  # a stable name for the kind of problem, where it has one (CONTROL_CHARACTER, NOT_UTF8)

    def __str__(self) -> str:
        where = f"{self.file}: {self.record}" if self.record else self.file
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}" + (f" [{self.code}]" if self.code else "")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Quote(Strict):
    """A quote and which of its occurrences in the document it means (1-based)."""

    quote: Text
    occurrence: int = Field(1, ge=1)


def _quotes(value: Any) -> Any:
    if isinstance(value, str):
        return [{"quote": value}]
    if isinstance(value, list):
        return [{"quote": item} if isinstance(item, str) else item for item in value]
    return value


class Cited(Strict):
    citations: list[Quote] = Field(min_length=1)
    # Written by `python -m app draft`: `seed` refuses a record whose review is pending; the
    # curator accepts it by deleting the line (or writing `accepted`). A note is the draft's reason.
    review: Literal["pending", "accepted"] | None = None
    note: str | None = None

    _normalise_citations = field_validator("citations", mode="before")(_quotes)


class Based(Strict):
    """`basis: inferred` marks what the curator read into the text; `basis_note` says how."""

    basis: str = "STATED"
    basis_note: Text | None = None

    @field_validator("basis", mode="before")
    @classmethod
    def _known_basis(cls, value: Any) -> Any:
        if isinstance(value, str) and value.upper() in ("STATED", "INFERRED"):
            return value.upper()
        raise ValueError(f"unknown basis {value!r}; expected stated or inferred")

    @model_validator(mode="after")
    def _note_with_inference(self) -> Based:
        if self.basis == "INFERRED" and self.basis_note is None:
            raise ValueError("basis: inferred needs a basis_note saying what was inferred and why")
        if self.basis == "STATED" and self.basis_note is not None:
            raise ValueError("basis_note is only for basis: inferred (a stated fact is its citations)")
        return self


class DocumentMeta(Based):
    """A document's metadata; `basis: inferred` with a note when the curator read `published` from
    the text ("As of September 2020" read as written in 2020)."""

    title: Text
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]+)*$")]
    origin: str | None = None
    # Precedence between documents (app/seeding/merging.py): the higher priority wins a conflict,
    # then the more recent publication; `added` (when the document joined the knowledge base)
    # decides which document defined a record first, whose titles and descriptions stand.
    published: DateText | None = None
    priority: int = 0
    added: DateText | None = None


class CountryRecord(Cited, Based):
    code: Code
    name: Text
    aliases: list[Text] = []


class PlaceRecord(Cited, Based):
    """A place as the text names it; `country` where the text allows (basis says whether it states it)."""

    name: Text
    country: Code | None = None
    # Other names users type that the text does not use ("Ulan Bator"): the curator's, kept apart.
    search_aliases: list[Text] = []


class OrganizationRecord(Cited, Based):
    """`basis: inferred` when the curator supplied the name, an alias or the parent (the note says which)."""

    slug: Slug
    name: Text
    acronym: str | None = None
    aliases: list[Text] = []
    search_aliases: list[Text] = []  # the curator's other names users type, apart from the text's
    kind: str
    description: str | None = None
    parent: str | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        return _enum_name(OrganizationKind, value)


class MembershipRecord(Cited, Based):
    slug: Slug
    member: Code
    organization: Text
    role: str | None = None
    start: DateText | None = None
    end: DateText | None = None
    status: str = "UNKNOWN"

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        return _enum_name(TenureStatus, value)


class ChairmanshipRecord(Cited, Based):
    slug: Slug
    organization: Text
    chair: Code
    title: Text
    session: int | None = Field(None, ge=1)
    office_holder: str | None = None
    co_chairs: list[Code] = []
    predecessor: Code | None = None
    start: DateText | None = None
    end: DateText | None = None


# The role kind a participant's words give, when `kind` is not written.
ROLE_KINDS = {
    "host": "HOST",
    "chair": "CHAIR",
    "co-chair": "CO_CHAIR",
    "co-sponsor": "CO_SPONSOR",
    "main co-sponsor": "CO_SPONSOR",
    "signatory": "SIGNATORY",
    "member": "MEMBER",
    "new member": "MEMBER",
    "participant": "PARTICIPANT",
    "invitee": "INVITEE",
}


class Participant(Based):
    country: Code
    role: Text = "participant"
    kind: str | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str | None) -> str | None:
        return None if value is None else _enum_name(ParticipantRole, value)

    @model_validator(mode="after")
    def _kind_of_role(self) -> Participant:
        if self.kind is None:
            kind = ROLE_KINDS.get(self.role.casefold())
            if kind is None:
                raise ValueError(
                    f"role {self.role!r} has no role kind of its own: give kind, one of "
                    f"{', '.join(ParticipantRole.__members__)}"
                )
            object.__setattr__(self, "kind", kind)
        return self


class Recurrence(Strict):
    """An event that recurs: "annually held since 2014", "adopts every two years since 1998"."""

    frequency: str
    since: DateText
    until: DateText | None = None
    description: Text | None = None

    @field_validator("frequency")
    @classmethod
    def _known_frequency(cls, value: str) -> str:
        return _enum_name(RecurrenceFrequency, value)


class EventRecord(Cited, Based):
    slug: Slug
    title: Text
    kind: str
    description: str | None = None
    symbol: str | None = None
    date: DateText | None = None
    end_date: DateText | None = None
    place: Text | None = None
    occasion: Slug | None = None
    recurrence: Recurrence | None = None
    # Still going on, as of the sources ("Since the 1980's Mongolia has been consistently pursuing
    # the policy"): the event spans from its `date` to its newest source's `published` date.
    ongoing: bool = False
    organization: str | None = None
    chairmanship: Slug | None = None
    participants: list[Participant] = []
    partner_organizations: list[Text] = []

    @model_validator(mode="after")
    def _ongoing_has_a_start_and_no_end(self) -> EventRecord:
        if self.ongoing and (self.date is None or self.end_date is not None or self.recurrence is not None):
            raise ValueError("ongoing: true needs a `date` (its start) and no `end_date` or `recurrence`")
        return self

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        return _enum_name(EventKind, value)

    @field_validator("participants", mode="before")
    @classmethod
    def _participant_codes(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"country": item} if isinstance(item, str) else item for item in value]
        return value


class StatisticRecord(Cited, Based):
    slug: Slug
    label: Text
    value: float
    unit: str | None = None
    qualifier: str | None = None
    as_of: DateText | None = None
    organization: str | None = None
    country: Code | None = None
    places: list[Text] = []


class NoFact(Quote):
    """A sentence of the document that states no fact (page chrome, a general statement), and why."""

    reason: Text


class FactsFile(Strict):
    document: Slug
    # True: this file's titles, labels and descriptions replace those of the document that
    # defined the records first.
    override: bool = False
    # A draft's reading aid (its sentences, offsets and proposals); the seed ignores it.
    sentences: list[dict[str, Any]] = []
    countries: list[CountryRecord] = []
    places: list[PlaceRecord] = []
    organizations: list[OrganizationRecord] = []
    memberships: list[MembershipRecord] = []
    chairmanships: list[ChairmanshipRecord] = []
    events: list[EventRecord] = []
    statistics: list[StatisticRecord] = []
    no_fact: list[NoFact] = []

    @field_validator("no_fact", mode="before")
    @classmethod
    def _no_fact_quotes(cls, value: Any) -> Any:
        return _quotes(value)


SECTIONS = ("countries", "places", "organizations", "memberships", "chairmanships", "events", "statistics")
# Each section's natural key, as records name it.
KEY_FIELDS = {section: "slug" for section in SECTIONS} | {"countries": "code", "places": "name"}


def _enum_name(kind: type[Any], value: str) -> str:
    if value not in kind.__members__:
        raise ValueError(f"unknown {kind.__name__} {value!r}; expected one of {', '.join(kind.__members__)}")
    return value


@dataclass(frozen=True)
class SourceDocument:
    slug: str
    path: Path
    meta: DocumentMeta
    text: str


@dataclass(frozen=True)
class SourceFacts:
    path: Path
    facts: FactsFile


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


INVALID = object()


def _read_text(path: Path, root: Path, errors: list[SeedError]) -> str | None:
    """The file's text, or None (with the error recorded): inside the seed folder, within the size limit."""
    problem = unsafe_file(path, root)
    code = ""
    if problem is None:
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            problem, code = f"not UTF-8 text: {error}; save it as UTF-8", NOT_UTF8
    errors.append(SeedError(_display(path, root), "", "", problem, code))
    return None


def read_document_text(path: Path, root: Path, errors: list[SeedError]) -> str | None:
    """A document's text, or None (with the error recorded): as any seed file, and free of control characters."""
    text = _read_text(path, root, errors)
    if text is None:
        return None
    problem = control_character(text)
    if problem is not None:
        errors.append(SeedError(_display(path, root), "", "", problem, CONTROL_CHARACTER))
        return None
    return text


def _control_in_data(data: Any) -> tuple[str, str] | None:
    """The first string of loaded YAML (a key or a value) holding a control character: (where, problem)."""
    pending: list[tuple[Any, str]] = [(data, "")]
    while pending:
        value, where = pending.pop()
        if isinstance(value, str):
            problem = control_character(value, unit="character")
            if problem is not None:
                return where, problem
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                pending.append((item, f"{where}.{key}" if where else str(key)))
                pending.append((key, f"{where} (a key)" if where else "(a key)"))
        elif isinstance(value, list):
            pending.extend((item, f"{where}[{index}]") for index, item in reversed(list(enumerate(value))))
    return None


# libyaml's safe loader where PyYAML was built with it (ten times faster on the seed files), else Python's.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(path: Path, root: Path, errors: list[SeedError]) -> Any:
    """The file's YAML data, or INVALID (with the error recorded)."""
    text = _read_text(path, root, errors)
    if text is None:
        return INVALID
    try:
        deep = nesting_problem(text)
        data = None if deep else yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as error:
        errors.append(SeedError(_display(path, root), "", "", f"not valid YAML: {error}"))
        return INVALID
    if deep:
        errors.append(SeedError(_display(path, root), "", "", deep))
        return INVALID
    if data is None:
        errors.append(SeedError(_display(path, root), "", "", "the file is empty"))
        return INVALID
    if not isinstance(data, dict):
        errors.append(SeedError(_display(path, root), "", "", "expected a mapping of fields at the top level"))
        return INVALID
    control = _control_in_data(data)
    if control is not None:
        where, problem = control
        errors.append(SeedError(_display(path, root), "", where, problem, CONTROL_CHARACTER))
        return INVALID
    return data


def _record_label(data: Any, loc: tuple[Any, ...]) -> tuple[str, str]:
    """Turn a pydantic error location into ("events[3] (slug 'x')", "date")."""
    if len(loc) >= 2 and loc[0] in SECTIONS and isinstance(loc[1], int):
        section, index = loc[0], loc[1]
        label = f"{section}[{index}]"
        try:
            item = data[section][index]
            key_field = KEY_FIELDS[section]
            key = item.get(key_field)
            if key:
                label += f" ({key_field} {key!r})"
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
        return label, ".".join(str(part) for part in loc[2:])
    return "", ".".join(str(part) for part in loc)


def _structure_errors(path: Path, root: Path, data: Any, error: ValidationError) -> list[SeedError]:
    found = []
    for item in error.errors():
        record, field = _record_label(data, tuple(item["loc"]))
        message = item["msg"].removeprefix("Value error, ")
        found.append(SeedError(_display(path, root), record, field, message))
    return found


def read_seed_dir(root: Path) -> tuple[list[SourceDocument], list[SourceFacts], list[SeedError]]:
    """Read every document and facts file under `root`, with every structural error found."""
    errors: list[SeedError] = []
    documents: list[SourceDocument] = []
    facts: list[SourceFacts] = []
    doc_dir = root / "documents"
    if not root.exists():
        return [], [], [SeedError(str(root), "", "", "the seed folder does not exist (--seed-dir or SEED_DIR)")]
    if not root.is_dir():
        return [], [], [SeedError(str(root), "", "", "is a file, not a seed folder (--seed-dir or SEED_DIR)")]
    if not doc_dir.is_dir():
        return (
            [],
            [],
            [
                SeedError(
                    str(root), "", "", "the seed folder has no documents/ folder: see seed/README.md for its layout"
                )
            ],
        )

    for text_path in sorted(doc_dir.glob("*.txt")):
        slug = text_path.stem
        meta_path = text_path.with_suffix(".yaml")
        if not meta_path.exists():
            errors.append(SeedError(_display(text_path, root), "", "", f"no metadata file {meta_path.name}"))
            continue
        raw = _load_yaml(meta_path, root, errors)
        if raw is INVALID:
            continue
        try:
            meta = DocumentMeta.model_validate(raw)
        except ValidationError as error:
            errors.extend(_structure_errors(meta_path, root, raw, error))
            continue
        text = read_document_text(text_path, root, errors)
        if text is None:
            continue
        documents.append(SourceDocument(slug, text_path, meta, text))

    for meta_path in sorted(doc_dir.glob("*.yaml")):
        if not meta_path.with_suffix(".txt").exists():
            errors.append(SeedError(_display(meta_path, root), "", "", f"no document text {meta_path.stem}.txt"))

    for path in sorted([*root.glob("*.yaml"), *root.glob("*.yml")]):
        raw = _load_yaml(path, root, errors)
        if raw is INVALID:
            continue
        try:
            parsed = FactsFile.model_validate(raw)
        except ValidationError as error:
            errors.extend(_structure_errors(path, root, raw, error))
            continue
        facts.append(SourceFacts(path, parsed))
    return documents, facts, errors


def display_path(path: Path, root: Path) -> str:
    """How error messages name a seed file: relative to the project."""
    return _display(path, root)
