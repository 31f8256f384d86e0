"""Hints for curators: what a quote that is not found resembles, which names a reference was near,
which year a date without one probably means. Each hint suggests; nothing is ever filled in."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.dates import MONTHS

_QUOTE_MARKS = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"'}
_DASHES = {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"}
_SPACE = re.compile(r"\s+")


def _fold(text: str) -> tuple[str, list[int]]:
    """The text with quote marks and dashes made plain, runs of white space one space, casefolded;
    and, for each folded character, the offset of the character it came from."""
    folded: list[str] = []
    origin: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            end = index
            while end < len(text) and text[end].isspace():
                end += 1
            folded.append(" ")
            origin.append(index)
            index = end
            continue
        plain = _QUOTE_MARKS.get(char) or _DASHES.get(char) or char
        for piece in plain.casefold():
            folded.append(piece)
            origin.append(index)
        index += 1
    return "".join(folded), origin


@dataclass(frozen=True)
class Near:
    """The document's passage nearest a quote, and how it differs."""

    start: int
    end: int
    text: str
    differences: list[str]
    exact_but_for_typography: bool

    def describe(self) -> str:
        if self.exact_but_for_typography:
            differs = "; ".join(self.differences)
            return f"the document has {self.text!r} at [{self.start}:{self.end}], which differs only in {differs}"
        typography = [item for item in self.differences if item.startswith(("quote marks", "dashes"))]
        also = f"; it differs in {'; '.join(typography)} and in words" if typography else ""
        return f"the nearest passage is {self.text!r} at [{self.start}:{self.end}]{also}"


def _differences(found: str, quote: str) -> list[str]:
    """What tells `found` (the document's) from `quote` (the curator's): quote marks, dashes, spaces, case."""
    differences = []

    def chars(text: str, table: dict[str, str], plain: str) -> list[str]:
        return sorted({char for char in text if char in table or char in plain})

    for label, table, plain in (("quote marks", _QUOTE_MARKS, "'\""), ("dashes", _DASHES, "-")):
        ours, theirs = chars(found, table, plain), chars(quote, table, plain)
        if ours != theirs:
            differences.append(
                f"{label} ({' '.join(ours) or 'none'} in the document, {' '.join(theirs) or 'none'} in the quote)"
            )
    if _SPACE.findall(found) != _SPACE.findall(quote) or quote.strip() != quote:
        where = [
            f"{_space_kinds(side)} in the {label}"
            for label, side in (("document", found), ("quote", quote))
            if _space_kinds(side)
        ]
        differences.append("spaces" + (f" ({', '.join(where)})" if where else ""))
    fold_others = str.maketrans({**_QUOTE_MARKS, **_DASHES})
    plain_found = _SPACE.sub(" ", found.translate(fold_others))
    plain_quote = _SPACE.sub(" ", quote.translate(fold_others))
    if plain_found != plain_quote and plain_found.casefold() == plain_quote.casefold():
        differences.append("case")
    return differences


def _space_kinds(text: str) -> str:
    """The unusual white space in a text, in words: "a double space", "a line break"."""
    kinds = []
    for run in _SPACE.findall(text):
        if "\n" in run:
            kind = "a line break"
        elif "\t" in run:
            kind = "a tab"
        elif "\u00a0" in run:
            kind = "a no-break space"
        elif len(run) > 1:
            kind = "a double space"
        else:
            continue
        if kind not in kinds:
            kinds.append(kind)
    if text != text.strip():
        kinds.append("space at an end")
    return " and ".join(kinds)


def nearest_passage(text: str, quote: str) -> Near | None:
    """Where the document says (nearly) what a quote says, or None when nothing is near."""
    folded_text, origin = _fold(text)
    folded_quote = _fold(quote.strip())[0]
    if not folded_quote:
        return None
    at = folded_text.find(folded_quote)
    if at >= 0:
        start = origin[at]
        last = at + len(folded_quote) - 1
        end = origin[last] + 1
        while end < len(text) and folded_text[last] == " " and text[end].isspace():
            end += 1
        found = text[start:end]
        return Near(start, end, found, _differences(found, quote), True)
    # Not there even so: the window of the quote's length that matches it best.
    matcher = difflib.SequenceMatcher(None, folded_text, folded_quote, autojunk=False)
    best: tuple[float, int, int] | None = None
    for block in matcher.get_matching_blocks():
        if block.size < 4:
            continue
        begin = max(block.a - block.b, 0)
        for shift in (0, -len(folded_quote) // 4, len(folded_quote) // 4):
            lo = max(begin + shift, 0)
            window = folded_text[lo : lo + len(folded_quote)]
            ratio = difflib.SequenceMatcher(None, window, folded_quote, autojunk=False).ratio()
            if best is None or ratio > best[0]:
                best = (ratio, lo, lo + len(window))
    if best is None or best[0] < 0.6:
        return None
    _ratio, lo, hi = best
    start, end = origin[lo], origin[max(hi - 1, lo)] + 1
    while start > 0 and text[start - 1].isalnum():  # whole words
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Near(start, end, text[start:end], _differences(text[start:end], quote), False)


def closest_names(name: str, names: Iterable[str], *, limit: int = 3) -> list[str]:
    """The known names nearest `name` (any case), nearest first."""
    by_fold: dict[str, str] = {}
    for known in names:
        by_fold.setdefault(known.casefold(), known)
    found = difflib.get_close_matches(name.casefold(), list(by_fold), n=limit, cutoff=0.6)
    return [by_fold[item] for item in found]


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """'; did you mean 'x' or 'y'?' or nothing."""
    close = closest_names(name, names)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(item) for item in close) + "?"


_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_YEARLESS = [
    re.compile(rf"^(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?$", re.IGNORECASE),
    re.compile(rf"^(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH})\.?$", re.IGNORECASE),
    re.compile(rf"^(?P<month>{_MONTH})$", re.IGNORECASE),
]
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def yearless(text: str) -> tuple[int, int | None] | None:
    """(month, day) of a date given without its year ("April 27", "27 April", "April"), else None."""
    cleaned = " ".join(str(text).split()).strip(" .,")
    for pattern in _YEARLESS:
        match = pattern.match(cleaned)
        if match:
            day = match.groupdict().get("day")
            return MONTHS[match["month"].lower()], int(day) if day else None
    return None


def nearby_year(text: str, spans: Iterable[tuple[int, int]], reach: int = 400) -> tuple[int, str] | None:
    """The year the document gives closest to the spans (within `reach` characters), with its context."""
    best: tuple[int, int, str] | None = None
    for start, end in spans:
        lo, hi = max(start - reach, 0), min(end + reach, len(text))
        for match in _YEAR.finditer(text, lo, hi):
            distance = 0 if start <= match.start() < end else min(abs(match.start() - start), abs(match.end() - end))
            if best is None or distance < best[0]:
                lo_context, hi_context = max(match.start() - 30, 0), min(match.end() + 10, len(text))
                while lo_context > 0 and text[lo_context - 1].isalnum():
                    lo_context -= 1
                while hi_context < len(text) and text[hi_context].isalnum():
                    hi_context += 1
                context = " ".join(text[lo_context:hi_context].split())
                best = (distance, int(match.group()), context)
    return None if best is None else (best[1], best[2])
