"""How much of each document the facts cover: every sentence is cited by a fact, listed as stating
no fact (`no_fact:` in the facts file), or uncited.

A sentence counts as cited when a citation's quote overlaps it, and as stating no fact when a
`no_fact` quote does; a sentence that is both is an error (the curator says one or the other).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.seeding.locate import sentence_spans


@dataclass(frozen=True)
class Coverage:
    """One document's coverage: sentence counts and the spans of the uncited sentences."""

    sentences: int
    cited: int
    no_fact: int
    uncited: tuple[tuple[int, int], ...]

    @property
    def complete(self) -> bool:
        return not self.uncited


@dataclass
class NoFactSpan:
    """A located `no_fact` quote: where the curator said it is (file and index), and its span."""

    file: str
    index: int
    start: int
    end: int


@dataclass
class DocumentCoverage:
    """Collects one document's citation and no-fact spans, then classifies its sentences."""

    text: str
    cited_spans: list[tuple[int, int]] = field(default_factory=list)
    no_fact_spans: list[NoFactSpan] = field(default_factory=list)

    def classify(self) -> tuple[Coverage, list[tuple[NoFactSpan, tuple[int, int]]]]:
        """The coverage, and each no-fact quote that falls in a cited sentence (an error to report)."""
        cited = no_fact = 0
        uncited: list[tuple[int, int]] = []
        clashes: list[tuple[NoFactSpan, tuple[int, int]]] = []
        for span in sentence_spans(self.text):
            is_cited = _overlaps(span, self.cited_spans)
            no_facts = [item for item in self.no_fact_spans if _overlaps(span, [(item.start, item.end)])]
            if is_cited:
                cited += 1
                clashes.extend((item, span) for item in no_facts)
            elif no_facts:
                no_fact += 1
            else:
                uncited.append(span)
        total = cited + no_fact + len(uncited)
        return Coverage(total, cited, no_fact, tuple(uncited)), clashes


def _overlaps(span: tuple[int, int], others: Iterable[tuple[int, int]]) -> bool:
    start, end = span
    return any(other_start < end and start < other_end for other_start, other_end in others)
