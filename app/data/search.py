"""Full-text search over `search_entries`: FTS5 on SQLite, tsvector with a GIN index on PostgreSQL.

Both engines get the same query: every word of the user's text must match (stemmed, English),
titles weigh more than bodies, results come best first with a highlighted snippet. The user's
text is reduced to words, so no query syntax can reach the engine.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, column, func, literal_column, or_, select, table, text

from app.data.models import SearchEntry
from app.data.paging import SortKey, keyset_condition, keyset_parameters, order_clauses
from app.data.session import RequestDatabase

# A word, or a number written with digit groups ("18,139", "1,215"), which is searched whole.
_TERM = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|\w+", re.UNICODE)
# Sentinels mark the highlighted words inside the engine's snippet; the rest is escaped.
_OPEN, _CLOSE = "\x02", "\x03"
# PostgreSQL: the weighted document (titles A, bodies B), stored and GIN-indexed by migration 0005.
PG_VECTOR = "search_entries.search_vector"


@dataclass(frozen=True)
class Hit:
    entry_id: int
    entity_type: str
    entity_id: int
    start: int
    end: int
    score: float
    snippet: str
    key: tuple[Any, ...]


def words(query: str) -> list[str]:
    """The words of a search text, lower-cased; punctuation and operators dropped; "18,139" one word."""
    return [word.lower() for word in _TERM.findall(query)][:32]


def _grouped(term: str) -> str | None:
    """A number of five or more digits as documents write it with digit groups: 18139 -> 18,139."""
    return f"{int(term):,}" if term.isdigit() and len(term) >= 5 and not term.startswith("0") else None


# Both engines split "18,139" into "18" and "139" and mark them apart: the marks are joined again.
_SPLIT_MARK = re.compile(f"(\\d){_CLOSE}([,.]){_OPEN}(\\d)")


def _highlight(raw: str) -> str:
    joined = _SPLIT_MARK.sub(r"\1\2\3", raw)
    return html.escape(joined, quote=False).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _fts_match(terms: list[str], column: str | None = None) -> str:
    """FTS5 query text: every term a quoted phrase ("18,139" is the phrase 18 139); 18139 also as 18,139."""
    parts = []
    for term in terms:
        phrase = '"' + term.replace('"', "") + '"'
        grouped = _grouped(term)
        parts.append(f'({phrase} OR "{grouped}")' if grouped else phrase)
    query = " ".join(parts)
    return f"{column} : ({query})" if column else query


def _pg_query(terms: list[str]) -> Any:
    """The tsquery: plain words as plainto_tsquery does, a grouped number as a phrase of its groups."""
    plain = [term for term in terms if term.isalpha() or not (_grouped(term) or "," in term)]
    query: Any = func.plainto_tsquery("english", " ".join(plain)) if plain else None
    for term in terms:
        if term in plain:
            continue
        grouped = _grouped(term)
        part: Any = func.phraseto_tsquery("english", grouped or term)
        if grouped:
            part = func.plainto_tsquery("english", term).op("||")(part)
        query = part if query is None else query.op("&&")(part)
    return query


def _rank_columns(relevance: Any, title_hit: Any, terms: list[str]) -> list[Any]:
    """The columns hits are ordered by, best first, the same on both engines.

    1. tier: 3, an organization or country whose name or acronym is exactly the query; 2, one
       whose name contains every word; 1, any other entry whose title does; 0, the rest;
    2. within tiers 1-3, the shorter title first (the closer match);
    3. the engine's relevance (bm25 on SQLite, ts_rank on PostgreSQL), normalised to [0, 1);
    4. the entry's id.
    """
    entries = SearchEntry.__table__
    named = entries.c.entity_type.in_(("organization", "country"))
    phrase = " ".join(terms)
    title = func.lower(entries.c.title)
    exact = or_(title == phrase, title.like(f"{phrase} (%"), title.like(f"%({phrase})"))
    tier = case((and_(named, exact), 3), (and_(title_hit, named), 2), (title_hit, 1), else_=0)
    return [
        tier.label("tier"),
        case((title_hit, func.length(entries.c.title)), else_=0).label("title_length"),
        (relevance / (relevance + 1.0)).label("relevance"),
    ]


def _ranked(dialect: str, terms: list[str]) -> Select[Any]:
    """Every matching entry with its rank columns (snippets are made for one page only)."""
    entries = SearchEntry.__table__
    if dialect == "postgresql":
        query = _pg_query(terms)
        document: Any = literal_column(PG_VECTOR)
        title_hit = func.ts_filter(document, literal_column("'{a}'::\"char\"[]")).op("@@")(query)  # weight A: title
        ranks = _rank_columns(func.ts_rank(document, query), title_hit, terms)
        return select(entries.c.id, *ranks).where(document.op("@@")(query))
    title_hits: Any = (
        select(literal_column("rowid"))
        .select_from(text("search_fts"))
        .where(text("search_fts MATCH :title_match").bindparams(title_match=_fts_match(terms, "title")))
    )
    relevance = -func.bm25(literal_column("search_fts"), 10.0, 1.0)
    ranks = _rank_columns(relevance, entries.c.id.in_(title_hits), terms)
    fts = table("search_fts", column("rowid"))
    return (
        select(entries.c.id, *ranks)
        .select_from(fts.join(entries, entries.c.id == fts.c.rowid))
        .where(text("search_fts MATCH :match").bindparams(match=_fts_match(terms)))
    )


def _keys(ranked: Any) -> list[SortKey]:
    return [
        SortKey(ranked.c.tier, descending=True),
        SortKey(ranked.c.title_length),
        SortKey(ranked.c.relevance, descending=True, python_type=float),
        SortKey(ranked.c.id),
    ]


def _with_snippets(dialect: str, terms: list[str], page: Any) -> Select[Any]:
    entries = SearchEntry.__table__
    columns = (
        entries.c.id,
        entries.c.entity_type,
        entries.c.entity_id,
        entries.c.start,
        entries.c.end,
        page.c.tier,
        page.c.title_length,
        page.c.relevance,
    )
    if dialect == "postgresql":
        query = _pg_query(terms)
        options = f"StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords=24, MinWords=10, MaxFragments=1"
        return select(
            *columns,
            func.ts_headline("english", entries.c.title, query, options).label("title_snippet"),
            func.ts_headline("english", entries.c.body, query, options).label("body_snippet"),
        ).join_from(entries, page, page.c.id == entries.c.id)
    fts = table("search_fts", column("rowid"))
    return (
        select(
            *columns,
            func.snippet(literal_column("search_fts"), 0, _OPEN, _CLOSE, "…", 24).label("title_snippet"),
            func.snippet(literal_column("search_fts"), 1, _OPEN, _CLOSE, "…", 24).label("body_snippet"),
        )
        .select_from(fts.join(entries, entries.c.id == fts.c.rowid).join(page, page.c.id == entries.c.id))
        .where(text("search_fts MATCH :match").bindparams(match=_fts_match(terms)))
    )


def _snippet(title: str | None, body: str | None) -> str:
    for candidate in (body, title):
        if candidate and _OPEN in candidate:
            return _highlight(candidate)
    return _highlight(body or title or "")


async def search(db: RequestDatabase, query: str, *, limit: int, after: tuple[Any, ...] | None = None) -> list[Hit]:
    """Up to `limit` hits, best first, after the cursor (the rank key of the last hit seen)."""
    terms = words(query)
    if not terms:
        return []
    dialect = db.engine.dialect.name
    ranked = _ranked(dialect, terms).subquery("ranked")
    keys = _keys(ranked)
    page = select(ranked).order_by(*order_clauses(keys)).limit(limit)
    if after is not None:
        page = page.where(keyset_condition(keys, after))
    page_subquery = page.subquery("page")
    statement = _with_snippets(dialect, terms, page_subquery).order_by(*order_clauses(_keys(page_subquery)))
    rows = await db.all(statement, keyset_parameters(after, "cursor"))
    return [
        Hit(
            entry_id=row.id,
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            start=row.start,
            end=row.end,
            score=row.tier + float(row.relevance),
            snippet=_snippet(row.title_snippet, row.body_snippet),
            key=(row.tier, row.title_length, float(row.relevance), row.id),
        )
        for row in rows
    ]


KEY_TYPES = (int, int, float, int)


async def count(db: RequestDatabase, query: str) -> int:
    """How many entries match: the index alone, no ranking."""
    terms = words(query)
    if not terms:
        return 0
    if db.engine.dialect.name == "postgresql":
        query_vector = _pg_query(terms)
        matches: Any = select(func.count()).where(literal_column(PG_VECTOR).op("@@")(query_vector))
        matches = matches.select_from(SearchEntry.__table__)
    else:
        matches = (
            select(func.count())
            .select_from(text("search_fts"))
            .where(text("search_fts MATCH :match").bindparams(match=_fts_match(terms)))
        )
    rows = await db.all(matches)
    return int(rows[0][0])
