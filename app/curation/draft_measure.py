"""How good a draft is, against a document's curated facts file (the README reports the figures).

The document is drafted as if it were new: from a knowledge base holding only the countries (the
seed's and ISO 3166's). Countries are left out of both shares (the knowledge base knows them).

- recall: the share of the curated records (organizations, memberships, chairmanships, events,
  statistics) for which one proposal of the same type has a quote overlapping the record's quote,
  the record's date (start, date or as_of; any when the record has none) and its main organization
  (the record itself for an organization; compared by name, acronym or alias; any when none);
- precision: the share of the proposals (of those types) that match a curated record so.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.curation.draft import draft_document
from app.dates import DateParseError, parse_span
from app.seeding.files import FactsFile
from app.seeding.locate import find_quote

MEASURED = ("organizations", "memberships", "chairmanships", "events", "statistics")
DATE_FIELD = {"memberships": "start", "chairmanships": "start", "events": "date", "statistics": "as_of"}


@dataclass
class Measure:
    curated: int
    proposals: int
    recalled: int
    recalled_quote: int
    precise: int
    seconds: float
    by_section: dict[str, tuple[int, int, int, int]]  # section -> (curated, recalled, proposals, precise)

    @property
    def recall(self) -> float:
        return self.recalled / self.curated if self.curated else 0.0

    @property
    def precision(self) -> float:
        return self.precise / self.proposals if self.proposals else 0.0


def _spans(text: str, quotes: list[Any]) -> list[tuple[int, int]]:
    spans = []
    for item in quotes:
        quote, occurrence = (item, 1) if isinstance(item, str) else (item["quote"], item.get("occurrence", 1))
        found = find_quote(text, quote, occurrence)
        if found is not None:
            spans.append((found, found + len(quote)))
    return spans


def _edtf(value: Any) -> str | None:
    if value is None:
        return None
    try:
        start, end = parse_span(str(value))
    except DateParseError:
        return str(value)
    return start.edtf + (f"/{end.edtf}" if end else "")


def _names(records: list[dict[str, Any]]) -> dict[str, set[str]]:
    return {
        record["slug"]: {
            str(name).casefold()
            for name in (record["slug"], record.get("name"), record.get("acronym"), *(record.get("aliases") or []))
            if name
        }
        for record in records
    }


def _matches(
    section: str, curated: dict[str, Any], proposal: dict[str, Any], context: dict[str, Any]
) -> tuple[bool, bool]:
    """(quote overlaps, and date and organization agree too)."""
    text, curated_names, draft_names = context["text"], context["curated_names"], context["draft_names"]
    ours, theirs = _spans(text, curated["citations"]), _spans(text, proposal["citations"])
    if not any(a < d and c < b for a, b in ours for c, d in theirs):
        return False, False
    field = DATE_FIELD.get(section)
    if field and curated.get(field) is not None and _edtf(curated.get(field)) != _edtf(proposal.get(field)):
        return True, False
    if section == "organizations":
        wanted, given = curated_names.get(curated["slug"], set()), draft_names.get(proposal["slug"], set())
    elif curated.get("organization"):
        key = curated["organization"]
        wanted = curated_names.get(key) or next(
            (names for names in curated_names.values() if str(key).casefold() in names), {str(key).casefold()}
        )
        given = draft_names.get(proposal.get("organization") or "", set())
    else:
        return True, True
    return True, bool(wanted & given)


def measure(seed_dir: Path, slug: str) -> tuple[Measure, dict[str, Any]]:
    """Draft seed_dir/documents/<slug>.txt from the countries alone, and compare with <slug>.yaml."""
    curated_raw = yaml.safe_load((seed_dir / f"{slug}.yaml").read_text(encoding="utf-8"))
    FactsFile.model_validate(curated_raw)
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / f"{slug}.draft.yaml"
        started = time.perf_counter()
        result = draft_document(
            seed_dir / "documents" / f"{slug}.txt", seed_dir=seed_dir, countries_only=True, output=output
        )
        seconds = time.perf_counter() - started
        shutil.rmtree(scratch, ignore_errors=True)
    draft = result.data
    text = (seed_dir / "documents" / f"{slug}.txt").read_text(encoding="utf-8")
    context = {
        "text": text,
        "curated_names": _names(curated_raw.get("organizations") or []),
        "draft_names": _names(draft.get("organizations") or []),
    }
    totals = {"curated": 0, "proposals": 0, "recalled": 0, "quote": 0, "precise": 0}
    by_section = {}
    for section in MEASURED:
        curated = curated_raw.get(section) or []
        proposals = draft.get(section) or []
        recalled = quote_only = 0
        matched_proposals: set[int] = set()
        for record in curated:
            results = [(index, _matches(section, record, p, context)) for index, p in enumerate(proposals)]
            if any(quote for _index, (quote, _full) in results):
                quote_only += 1
            full = [index for index, (_quote, whole) in results if whole]
            if full:
                recalled += 1
                matched_proposals.update(full)
        totals["curated"] += len(curated)
        totals["proposals"] += len(proposals)
        totals["recalled"] += recalled
        totals["quote"] += quote_only
        totals["precise"] += len(matched_proposals)
        by_section[section] = (len(curated), recalled, len(proposals), len(matched_proposals))
    found = Measure(
        totals["curated"],
        totals["proposals"],
        totals["recalled"],
        totals["quote"],
        totals["precise"],
        seconds,
        by_section,
    )
    return found, draft


def report(found: Measure) -> str:
    lines = [
        f"curated records proposed (quote, date and main organization): {found.recalled}/{found.curated} "
        f"= {found.recall:.0%} (quote alone: {found.recalled_quote}/{found.curated})",
        f"proposals the curated file has: {found.precise}/{found.proposals} = {found.precision:.0%}",
        f"draft took {found.seconds:.2f} s",
    ]
    for section, (curated, recalled, proposals, precise) in found.by_section.items():
        lines.append(f"  {section:<14} recalled {recalled:>3}/{curated:<3} precise {precise:>3}/{proposals}")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m app.curation.draft_measure [seed-dir] [slug]
    import sys

    from app.config import SEED_DIR

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else SEED_DIR
    document = sys.argv[2] if len(sys.argv) > 2 else "mongolia-multilateral-cooperation"
    print(report(measure(folder, document)[0]))
