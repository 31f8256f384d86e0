"""ISO 3166-1 alpha-3 codes, from pycountry: is a code assigned, and which codes is a typo closest to."""

from __future__ import annotations

from functools import lru_cache

import pycountry


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every assigned alpha-3 code -> the country's ISO short name."""
    return {country.alpha_3: country.name for country in pycountry.countries}


def iso_name(code: str) -> str | None:
    """The ISO 3166-1 short name of an assigned alpha-3 code ("MNG" -> "Mongolia"), or None."""
    return _names().get(code)


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbouring letters as one edit ("MGN" -> "MNG" is 1)."""
    rows = [list(range(len(b) + 1))]
    for i, left in enumerate(a, 1):
        row = [i]
        for j, right in enumerate(b, 1):
            cost = 0 if left == right else 1
            best = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and left == b[j - 2] and a[i - 2] == right:
                best = min(best, rows[-2][j - 2] + 1)
            row.append(best)
        rows.append(row)
    return rows[-1][-1]


def closest_codes(code: str, limit: int = 3) -> list[str]:
    """The assigned codes nearest to `code` (all at the least distance, at most two edits), alphabetical."""
    code = code.upper()
    ranked = sorted((_distance(code, known), known) for known in _names())
    least = ranked[0][0]
    return [known for distance, known in ranked if distance == least <= 2][:limit]


def unknown_code_message(code: str) -> str:
    """Why `code` is refused, naming the closest assigned codes and their countries."""
    near = closest_codes(code)
    message = f"{code!r} is not an ISO 3166-1 alpha-3 country code"
    if near:
        message += (
            "; the closest "
            + ("code is " if len(near) == 1 else "codes are ")
            + ", ".join(f"{known} ({_names()[known]})" for known in near)
        )
    return message
