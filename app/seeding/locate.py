"""Text work on documents: locating quotes, sentences, passages and organization mentions."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"(])|\n+")
# A full stop after a lone capital ("H.E.") or a title abbreviation does not end a sentence.
_ABBREVIATION = re.compile(r"(?:(?<![\w])[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|St|No|Nos|e\.g|i\.e|etc|vs)\.)$")
# The longest text _ABBREVIATION matches ("Nos.") and more: it is looked for in this much text before a sentence end
# (its lookbehinds still see what comes before), never in the whole prefix, so splitting is linear in the length.
_ABBREVIATION_WINDOW = 16


@dataclass(frozen=True)
class Passage:
    """A sentence of a document (or a line with no full stop), with its offsets."""

    start: int
    end: int
    text: str


def find_quote(text: str, quote: str, occurrence: int = 1) -> int | None:
    """The offset of the quote's n-th verbatim occurrence in the text, or None."""
    position = -1
    for _ in range(occurrence):
        position = text.find(quote, position + 1)
        if position < 0:
            return None
    return position


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trimmed of surrounding whitespace."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _ABBREVIATION.search(text, max(0, match.start() - _ABBREVIATION_WINDOW), match.start()):
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        chunk = text[s:e]
        if chunk.strip():
            trimmed.append((s + len(chunk) - len(chunk.lstrip()), e - len(chunk) + len(chunk.rstrip())))
    return trimmed


def passages(text: str) -> list[Passage]:
    """The document's sentences, the units full-text search returns: a hit points at its sentence,
    whether the document separates paragraphs by blank lines, single line breaks or nothing."""
    return [Passage(start, end, text[start:end]) for start, end in sentence_spans(text)]


_WORD_CHARACTER = re.compile(r"\w")


def _pattern(name: str) -> re.Pattern[str]:
    # Whole words only: "UN" must not match inside "UNESCO" or "LLDCs" (the word before is checked by
    # `_whole_words`). Acronyms match their case exactly; longer names match in any case ("The United Nations"
    # opens a sentence).
    flags = 0 if name.isupper() or len(name) <= 4 else re.IGNORECASE
    escaped = re.escape(name).replace("\\'", "['\u2019]").replace("\u2019", "['\u2019]")
    return re.compile(rf"{escaped}(?!\w)", flags)


def _whole_words(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    r"""The pattern's matches not preceded by a word character: what `(?<!\w)` in front of it would find, found
    ten times faster (a pattern opening with a lookbehind cannot skip ahead to its first letters; 10 MB of text
    took 0.13 s per name)."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        start = match.start()
        if start > 0 and _WORD_CHARACTER.match(text, start - 1):
            position = start + 1  # as the lookbehind would: try again from the next character
            continue
        yield match
        position = max(match.end(), start + 1)


def find_mentions(text: str, names: dict[str, list[str]]) -> Iterator[tuple[str, int, int, str, str]]:
    """Every passage naming an organization: (slug, start, end, matched text, its sentence).

    Where names overlap ("United Nations" inside "Food and Agriculture Organization of the
    United Nations"), the longest match wins, so each stretch of text names one organization.
    """
    candidates = []
    for slug, organization_names in names.items():
        for name in set(organization_names):
            for match in _whole_words(_pattern(name), text):
                candidates.append((match.start(), match.end(), slug))
    candidates.sort(key=lambda item: (-(item[1] - item[0]), item[0], item[2]))
    # The matches taken so far never overlap, so sorted by start they are sorted by end too: a candidate can only
    # overlap its neighbours in that order (found by bisection, not by looking at every match taken).
    taken_starts: list[int] = []
    taken_ends: list[int] = []
    chosen = []
    for start, end, slug in candidates:
        index = bisect.bisect_left(taken_starts, start)
        if index > 0 and taken_ends[index - 1] > start:
            continue
        if index < len(taken_starts) and taken_starts[index] < end:
            continue
        taken_starts.insert(index, start)
        taken_ends.insert(index, end)
        chosen.append((start, end, slug))
    sentences = sentence_spans(text)
    starts = [span[0] for span in sentences]
    for start, end, slug in sorted(chosen):
        index = max(bisect.bisect_right(starts, start) - 1, 0)
        s_start, s_end = sentences[index]
        yield slug, start, end, text[start:end], text[s_start : max(s_end, end)]
