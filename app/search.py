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

from sqlalchemy import Select, and_, bindparam, column, func, literal_column, or_, select, table, text

from app.models import SearchEntry
from app.queries import RequestDatabase

_WORD = re.compile(r"\w+", re.UNICODE)
# Sentinels mark the highlighted words inside the engine's snippet; the rest is escaped.
_OPEN, _CLOSE = "\x02", "\x03"
PG_DOCUMENT = "(setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B'))"


@dataclass(frozen=True)
class Hit:
    entry_id: int
    entity_type: str
    entity_id: int
    start: int
    end: int
    score: float
    snippet: str


def words(query: str) -> list[str]:
    """The words of a search text, lower-cased; punctuation and operators dropped."""
    return [word.lower() for word in _WORD.findall(query)][:32]


def _highlight(raw: str) -> str:
    return html.escape(raw, quote=False).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _ranked(dialect: str, terms: list[str]) -> Select[Any]:
    entries = SearchEntry.__table__
    if dialect == "postgresql":
        query = func.plainto_tsquery("english", bindparam("q", " ".join(terms)))
        document = literal_column(PG_DOCUMENT)
        score = func.ts_rank(document, query).label("score")
        snippet = func.ts_headline(
            "english",
            func.coalesce(func.nullif(entries.c.body, ""), entries.c.title),
            query,
            f"StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords=24, MinWords=10, MaxFragments=1",
        ).label("snippet")
        return select(
            entries.c.id,
            entries.c.entity_type,
            entries.c.entity_id,
            entries.c.start,
            entries.c.end,
            score,
            snippet,
        ).where(document.op("@@")(query))
    fts = table("search_fts", column("rowid"), column("title"), column("body"))
    match = " ".join('"' + term.replace('"', "") + '"' for term in terms)
    score = (-func.bm25(literal_column("search_fts"), 10.0, 1.0)).label("score")
    snippet = func.coalesce(
        func.nullif(func.snippet(literal_column("search_fts"), 1, _OPEN, _CLOSE, "…", 24), ""),
        func.snippet(literal_column("search_fts"), 0, _OPEN, _CLOSE, "…", 24),
    ).label("snippet")
    return (
        select(
            entries.c.id,
            entries.c.entity_type,
            entries.c.entity_id,
            entries.c.start,
            entries.c.end,
            score,
            snippet,
        )
        .select_from(fts.join(entries, entries.c.id == fts.c.rowid))
        .where(text("search_fts MATCH :match").bindparams(match=match))
    )


async def search(db: RequestDatabase, query: str, *, limit: int, after: tuple[float, int] | None = None) -> list[Hit]:
    """Up to `limit` hits, best first (ties by entry), after the (score, entry id) cursor."""
    terms = words(query)
    if not terms:
        return []
    ranked = _ranked(db.engine.dialect.name, terms).subquery()
    statement = select(ranked).order_by(ranked.c.score.desc(), ranked.c.id.asc()).limit(limit)
    if after is not None:
        score, entry_id = after
        statement = statement.where(or_(ranked.c.score < score, and_(ranked.c.score == score, ranked.c.id > entry_id)))
    rows = await db.all(statement)
    return [
        Hit(
            row.id,
            row.entity_type,
            row.entity_id,
            row.start,
            row.end,
            float(row.score),
            _highlight(row.snippet or ""),
        )
        for row in rows
    ]


async def count(db: RequestDatabase, query: str) -> int:
    terms = words(query)
    if not terms:
        return 0
    ranked = _ranked(db.engine.dialect.name, terms).subquery()
    rows = await db.all(select(func.count()).select_from(ranked))
    return int(rows[0][0])
