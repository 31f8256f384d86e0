"""Which organization records of several seed files are one organization.

- The same slug is the same organization.
- So is a record of another file whose full name is one of the organization's names (its name,
  acronym or an alias, any case), or which names the organization's full name among its own:
  a second document's "Community of Democracies" under the slug `community-democracies` is the
  first's `community-of-democracies`. The slug of the file read first (files are read in name
  order) is kept, and references by either slug or any of the names resolve to it.
- Sharing only an acronym or an alias is not enough, and is an error: the "CD" of the Community
  of Democracies and of the Conference on Disarmament are two bodies. Curators say which they
  mean: reuse the slug (or the full name) to merge, or leave the shared name to one of them.
- Within one file, records never merge: two records sharing a name are an error.

After this, every name (slug, name, acronym, alias) names exactly one organization.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NameClash:
    """A record that shares a name with another organization without being it."""

    file: str
    record: str
    field: str
    message: str


@dataclass
class Organizations:
    """The organizations of every file: each name's organization, each record's organization."""

    names: dict[str, str] = field(default_factory=dict)  # casefolded name -> slug
    of_record: dict[tuple[str, str], str] = field(default_factory=dict)  # (file, record slug) -> slug
    clashes: list[NameClash] = field(default_factory=list)
    _slugs: dict[str, str] = field(default_factory=dict)  # every record slug -> the organization's slug
    _full_names: dict[str, str] = field(default_factory=dict)  # casefolded full name -> slug
    _files: dict[str, set[str]] = field(default_factory=dict)  # slug -> files stating it
    _display: dict[str, list[str]] = field(default_factory=dict)  # slug -> its names, as written

    def resolve(self, name: str | None) -> str | None:
        """The slug of the organization `name` names (a slug, name, acronym or alias), or None."""
        return None if name is None else self.names.get(name.casefold())

    def known_names(self) -> list[str]:
        """Every name of every organization as written, slugs included (for suggestions)."""
        return [*self._slugs, *(name for names in self._display.values() for name in names)]

    def add(self, file: str, label: str, raw: Any) -> None:
        """Identify one organization record of `file` (records are added in file order)."""
        named = _names(raw)
        slug = self._slugs.get(raw.slug)
        if slug is not None and file in self._files[slug]:
            return  # the same slug twice in one file: reported as a duplicate key
        if slug is None:
            slug = self._by_full_name(file, label, raw, named) or raw.slug
        self._slugs[raw.slug] = slug
        self.of_record[(file, raw.slug)] = slug
        self._files.setdefault(slug, set()).add(file)
        self._full_names.setdefault(raw.name.casefold(), slug)
        display = self._display.setdefault(slug, [])
        for field_name, name in named:
            folded = name.casefold()
            holder = self.names.setdefault(folded, slug)
            if holder != slug:
                self._clash(file, label, field_name, name, holder)
            elif name not in display:
                display.append(name)

    def _by_full_name(self, file: str, label: str, raw: Any, named: list[tuple[str, str]]) -> str | None:
        """The organization this record is by full name, if any (or None, with a clash recorded)."""
        found = set()
        holder = self.names.get(raw.name.casefold())
        if holder is not None:
            found.add(holder)
        found |= {self._full_names[name.casefold()] for _field, name in named if name.casefold() in self._full_names}
        if not found:
            return None
        if len(found) > 1:
            self.clashes.append(
                NameClash(file, label, "name", f"its names name several organizations: {_quoted(sorted(found))}")
            )
            return None
        slug = found.pop()
        if file in self._files[slug]:
            return None  # within one file records never merge: the shared name clashes below
        return slug

    def _clash(self, file: str, label: str, field_name: str, name: str, holder: str) -> None:
        others = [other for other in sorted(self._files[holder]) if other != file]
        where = f" ({', '.join(others)})" if others else " (in this file)"
        message = (
            f"{name!r} already names organization {holder!r}{where}, whose names are "
            f"{_quoted(self._display[holder])}. If they are one organization, use its slug {holder!r} "
            f"or its full name; if not, leave {name!r} to one of them"
        )
        self.clashes.append(NameClash(file, label, field_name, message))


def _names(raw: Any) -> list[tuple[str, str]]:
    """(field, name) for each name of a record: slug, name, acronym, aliases; each once."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    candidates = [("slug", raw.slug), ("name", raw.name), ("acronym", raw.acronym)]
    candidates += [(f"aliases[{index}]", alias) for index, alias in enumerate(raw.aliases)]
    for field_name, name in candidates:
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            found.append((field_name, name))
    return found


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(name) for name in names)
