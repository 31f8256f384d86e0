"""Sentence splitting, mention finding, `seed --check` and `draft` are linear in a document's length (issue 19,
finding 11: `sentence_spans` searched the whole prefix for every sentence, so `draft` of a 300 KB document took a
minute and `seed --check` of 500 KB over 100 s; the file limit is 10 MB).

The spans and mentions are the very ones the old code found (its quadratic version is kept here as the reference)
on the curated seed, the fixtures and generated texts. "Linear" is asserted as a statement about growth, never an
absolute time: four times the text may take at most eight times as long (the old code took sixteen times).
"""

from __future__ import annotations

import bisect
import random
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.config import SEED_DIR
from app.curation.draft import draft_document
from app.seeding import validate
from app.seeding.locate import find_mentions, sentence_spans
from tests.conftest import FIXTURES

# -- the reference: the quadratic code as it was ---------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"(])|\n+")
_ABBREVIATION = re.compile(r"(?:(?<![\w])[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|St|No|Nos|e\.g|i\.e|etc|vs)\.)$")


def reference_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _ABBREVIATION.search(text, 0, match.start()):
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


def _reference_pattern(name: str) -> re.Pattern[str]:
    flags = 0 if name.isupper() or len(name) <= 4 else re.IGNORECASE
    escaped = re.escape(name).replace("\\'", "['\u2019]").replace("\u2019", "['\u2019]")
    return re.compile(rf"(?<!\w){escaped}(?!\w)", flags)


def reference_mentions(text: str, names: dict[str, list[str]]) -> Iterator[tuple[str, int, int, str, str]]:
    candidates = []
    for slug, organization_names in names.items():
        for name in set(organization_names):
            for match in _reference_pattern(name).finditer(text):
                candidates.append((match.start(), match.end(), slug))
    candidates.sort(key=lambda item: (-(item[1] - item[0]), item[0], item[2]))
    taken: list[tuple[int, int]] = []
    chosen = []
    for start, end, slug in candidates:
        if any(start < other_end and other_start < end for other_start, other_end in taken):
            continue
        taken.append((start, end))
        chosen.append((start, end, slug))
    sentences = reference_spans(text)
    starts = [span[0] for span in sentences]
    for start, end, slug in sorted(chosen):
        index = max(bisect.bisect_right(starts, start) - 1, 0)
        s_start, s_end = sentences[index]
        yield slug, start, end, text[start:end], text[s_start : max(s_end, end)]


# -- texts -----------------------------------------------------------------------------------------------------

NAMES = {
    "un": ["UN", "United Nations", "the UN\u2019s"],
    "unesco": ["UNESCO"],
    "fao": ["FAO", "Food and Agriculture Organization of the United Nations"],
    "cd": ["Community of Democracies"],
    "asem": ["ASEM", "Asia-Europe Meeting"],
    "spaced": ["A A"],
}
PIECES = [
    "A.",
    " ",
    "\n",
    "\n\n",
    "Mr.",
    "No.",
    "Nos.",
    "e.g.",
    "i.e.",
    "etc.",
    "UN",
    "UNESCO",
    "United Nations",
    "united nations",
    "FAO",
    "xFAO",
    "FAO_",
    "?",
    "!",
    "B",
    "(",
    "\u201c",
    "a",
    "H.E.",
    "A A",
    "the UN\u2019s",
    "Food and Agriculture Organization of the United Nations",
    "Community of Democracies",
    "1995",
    "Ulaanbaatar",
]


def curated_texts() -> list[str]:
    paths = sorted(SEED_DIR.glob("documents/*.txt")) + sorted(FIXTURES.rglob("*.txt"))
    assert len(paths) >= 3
    return [path.read_text(encoding="utf-8") for path in paths]


def generated(size: int, seed: int = 19) -> str:
    """A document of about `size` characters: the curated sentences in a shuffled order, as paragraphs."""
    sentences = [text[s:e] for text in curated_texts() for s, e in reference_spans(text)]
    chosen = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        sentence = chosen.choice(sentences)
        parts += [sentence, chosen.choice([" ", " ", "\n", "\n\n"])]
        length += len(sentence) + 1
    return "".join(parts)[:size]


def test_the_spans_and_mentions_are_those_of_the_reference() -> None:
    chosen = random.Random(11)
    texts = [*curated_texts(), generated(50_000)]
    texts += ["".join(chosen.choice(PIECES) for _ in range(chosen.randint(0, 60))) for _ in range(2000)]
    for text in texts:
        assert sentence_spans(text) == reference_spans(text), text[:200]
        assert list(find_mentions(text, NAMES)) == list(reference_mentions(text, NAMES)), text[:200]
    seed_text = curated_texts()[0]
    assert len(sentence_spans(seed_text)) > 50


def _growth(work: Callable[[int], object], small: int) -> float:
    """How many times longer `work` takes on four times the text: this process's CPU time (what other processes
    on the machine do does not count), the best of two runs each."""

    def best(size: int) -> float:
        times = []
        for _ in range(2):
            started = time.process_time()
            work(size)
            times.append(time.process_time() - started)
        return min(times)

    return best(4 * small) / best(small)


def test_splitting_and_finding_mentions_scale_linearly() -> None:
    texts = {size: generated(size) for size in (1_000_000, 4_000_000)}
    assert _growth(lambda size: sentence_spans(texts[size]), 1_000_000) < 8
    assert _growth(lambda size: list(find_mentions(texts[size], NAMES)), 1_000_000) < 8


@pytest.fixture
def big_seed(tmp_path: Path) -> Callable[[int], Path]:
    """A copy of the seed folder with one more document (no facts) of the given size."""

    def make(size: int) -> Path:
        target = tmp_path / f"seed-{size}"
        if not target.exists():
            shutil.copytree(SEED_DIR, target)
            (target / "documents" / "big.txt").write_text(generated(size), encoding="utf-8")
            (target / "documents" / "big.yaml").write_text(
                "title: A generated document\nlanguage: en\norigin: generated by tests/test_linear_text.py\n",
                encoding="utf-8",
            )
        return target

    return make


def test_seed_check_scales_linearly(big_seed: Callable[[int], Path]) -> None:
    """`seed --check`'s work (every document's sentences, mentions and coverage)."""
    for size in (250_000, 1_000_000):
        big_seed(size)
    assert _growth(lambda size: validate(big_seed(size)), 250_000) < 8
    coverage = validate(big_seed(1_000_000)).coverage["big"]
    assert coverage.sentences > 5_000 and len(coverage.uncited) == coverage.sentences


def test_draft_scales_linearly(big_seed: Callable[[int], Path]) -> None:
    for size in (50_000, 200_000):
        big_seed(size)
    growth = _growth(lambda size: draft_document(big_seed(size) / "documents" / "big.txt"), 50_000)
    assert growth < 8
