"""The texts full-text search indexes: each entity's words and each document passage."""

from __future__ import annotations

import re
from typing import Any

from app.seeding.dataset import Dataset

_WORDS = re.compile(r"\w+")


def _join(*parts: Any, title: str = "") -> str:
    """The parts that say something new, in order: a part whose every word the title or another part
    already says is left out, so a snippet does not repeat words ("the UN" beside "The UN ...")."""
    texts = [str(part) for part in parts if part]
    kept: list[str] = []
    for index, part in enumerate(texts):
        said = _WORDS.findall(" ".join([title, *kept, *texts[index + 1 :]]).casefold())
        if set(_WORDS.findall(part.casefold())) <= set(said):
            continue
        kept.append(part)
    return " ".join(kept)


def _names_and_words(aliases: list[str], description: str | None, title: str) -> str:
    """An organization's description, then the words of its other names it does not say already:
    "The Governing body of the Community of Democracies, ... (also: CD)", found by every name
    without the snippet repeating them."""
    said = set(_WORDS.findall(f"{title} {description or ''}".casefold()))
    extra: list[str] = []
    for alias in aliases:
        for word in _WORDS.findall(alias):
            if word.casefold() not in said:
                said.add(word.casefold())
                extra.append(word)
    also = f"(also: {' '.join(extra)})" if extra else ""
    return " ".join(part for part in (description, also) if part)


def search_entries(dataset: Dataset, ids: dict[str, dict[str, int]]) -> dict[tuple[str, int, int], dict[str, Any]]:
    """(entity type, entity id, start) -> {end, title, body} for every searchable text."""
    facts = dataset.facts
    countries = {code: fact.values["name"] for code, fact in facts["countries"].items()}
    organizations = {slug: fact.values["name"] for slug, fact in facts["organizations"].items()}
    entries: dict[tuple[str, int, int], dict[str, Any]] = {}

    def add(entity: str, key: str, title: str, body: str, start: int = 0, end: int = 0) -> None:
        entries[(entity, ids[entity][key], start)] = {"end": end, "title": title, "body": body}

    for slug, document in dataset.documents.items():
        add("document", slug, document.meta.title, document.meta.origin or "")
        for passage in dataset.passages[slug]:
            entries[("passage", ids["document"][slug], passage.start)] = {
                "end": passage.end,
                "title": "",
                "body": passage.text,
            }
    for code, fact in facts["countries"].items():
        add("country", code, fact.values["name"], _join(code, *fact.values["aliases"], title=fact.values["name"]))
    for slug, fact in facts["organizations"].items():
        v = fact.values
        title = f"{v['name']} ({v['acronym']})" if v["acronym"] else v["name"]
        # The curator's search aliases ("UNESCAP") find it too, beside the text's names.
        names = [*v["aliases"], *v.get("search_aliases", [])]
        add("organization", slug, title, _names_and_words(names, v["description"], title))
    for slug, fact in facts["memberships"].items():
        v = fact.values
        title = f"{countries[v['member']]}: {v['role'] or 'member'} of {organizations[v['organization']]}"
        add("membership", slug, title, _join(*(c.quote for c in fact.citations), title=title))
    for slug, fact in facts["chairmanships"].items():
        v = fact.values
        add(
            "chairmanship",
            slug,
            v["title"],
            _join(
                organizations[v["organization"]],
                v["office_holder"],
                *(c.quote for c in fact.citations),
                title=v["title"],
            ),
        )
    for slug, fact in facts["events"].items():
        v = fact.values
        place = facts["places"].get(v["location"].casefold()) if v["location"] else None
        other_names = place.values.get("search_aliases", []) if place is not None else []  # "Ulan Bator"
        body = _join(v["symbol"], v["description"], v["location"], *other_names, title=v["title"])
        add("event", slug, v["title"], body)
    for slug, fact in facts["statistics"].items():
        v = fact.values
        add(
            "statistic",
            slug,
            v["label"],
            _join(v["qualifier"], v["unit"], *(c.quote for c in fact.citations), title=v["label"]),
        )
    return entries
