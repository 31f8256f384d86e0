"""Partial dates: parse the documents' date forms and compare them across precisions.

A partial date keeps only what its source says ("1973", "September 2020", "the 1980's") and
the span of days it covers, so that ordering and range filters work across precisions.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from dataclasses import dataclass


class DatePrecision(enum.Enum):
    """How much of a date its source gives."""

    DAY = "DAY"
    MONTH = "MONTH"
    YEAR = "YEAR"
    DECADE = "DECADE"


class DateParseError(ValueError):
    """A date text that matches none of the known forms."""


MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date known to a day, a month, a year or a decade."""

    year: int
    month: int | None = None
    day: int | None = None
    precision: DatePrecision = DatePrecision.YEAR

    def __post_init__(self) -> None:
        expected = {
            DatePrecision.DAY: (True, True),
            DatePrecision.MONTH: (True, False),
            DatePrecision.YEAR: (False, False),
            DatePrecision.DECADE: (False, False),
        }[self.precision]
        if (self.month is not None, self.day is not None) != expected:
            raise DateParseError(f"{self.precision.value} precision does not fit {self!r}")
        if not 1 <= self.year <= 9999:
            raise DateParseError(f"year {self.year} is out of range")
        if self.precision is DatePrecision.DECADE and self.year % 10:
            raise DateParseError(f"a decade starts at a year ending in 0, not {self.year}")
        if self.month is not None and not 1 <= self.month <= 12:
            raise DateParseError(f"month {self.month} is out of range")
        if self.day is not None:
            assert self.month is not None
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise DateParseError(f"day {self.day} does not exist in {self.year}-{self.month:02d}")

    @classmethod
    def of_day(cls, year: int, month: int, day: int) -> PartialDate:
        return cls(year, month, day, DatePrecision.DAY)

    @classmethod
    def of_month(cls, year: int, month: int) -> PartialDate:
        return cls(year, month, None, DatePrecision.MONTH)

    @classmethod
    def of_year(cls, year: int) -> PartialDate:
        return cls(year, None, None, DatePrecision.YEAR)

    @classmethod
    def of_decade(cls, year: int) -> PartialDate:
        return cls(year - year % 10, None, None, DatePrecision.DECADE)

    @property
    def edtf(self) -> str:
        """The Extended Date/Time Format (ISO 8601-2) form: 1961-10-27, 2020-09, 1973, 198X."""
        if self.precision is DatePrecision.DECADE:
            return f"{self.year // 10:03d}X"
        if self.precision is DatePrecision.YEAR:
            return f"{self.year:04d}"
        if self.precision is DatePrecision.MONTH:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    @property
    def earliest(self) -> dt.date:
        """The first day of the span the date covers."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> dt.date:
        """The last day of the span the date covers."""
        if self.precision is DatePrecision.DECADE:
            return dt.date(self.year + 9, 12, 31)
        if self.precision is DatePrecision.YEAR:
            return dt.date(self.year, 12, 31)
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    def covers(self, other: PartialDate) -> bool:
        """True when this date's span contains the other's (2019 covers 2019-05-27)."""
        return self.earliest <= other.earliest and other.latest <= self.latest

    def overlaps(self, other: PartialDate) -> bool:
        """True when the two spans share at least one day."""
        return self.earliest <= other.latest and other.earliest <= self.latest

    def sort_key(self) -> tuple[dt.date, dt.date]:
        """Earliest day first, then the shorter span: 2019-01 < 2019 < 2019-05."""
        return (self.earliest, self.latest)

    def __str__(self) -> str:
        return self.edtf


_DAY = r"(?P<day>\d{1,2})"
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_YEAR = r"(?P<year>\d{4})"
_LEAD = re.compile(r"^(?:(?:in|on|since|from|by|during|as of|of|the)\s+)+", re.IGNORECASE)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2013": "-", "\u2014": "-"})

_SINGLE_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})$"), "iso-day"),
    (re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$"), "iso-month"),
    (re.compile(r"^(?P<year>\d{4})$"), "year"),
    (re.compile(r"^(?P<decade>\d{3})X$"), "edtf-decade"),
    (re.compile(r"^(?P<year>\d{3}0)'?s$"), "decade"),
    (re.compile(rf"^{_DAY}\s+{_MONTH},?\s+{_YEAR}$"), "day-month-year"),
    (re.compile(rf"^{_MONTH}\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}$"), "month-day-year"),
    (re.compile(rf"^{_MONTH},?\s+{_YEAR}$"), "month-year"),
]

_RANGE_FORMS: list[re.Pattern[str]] = [
    # 27-28 May 2019
    re.compile(r"^(?P<d1>\d{1,2})\s*-\s*(?P<d2>\d{1,2})\s+(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>\d{4})$"),
    # May 27-28, 2019
    re.compile(r"^(?P<month>[A-Za-z]{3,9})\.?\s+(?P<d1>\d{1,2})\s*-\s*(?P<d2>\d{1,2}),?\s+(?P<year>\d{4})$"),
]
_BETWEEN = re.compile(r"^(?:between\s+)(?P<a>.+?)\s+and\s+(?P<b>.+)$", re.IGNORECASE)
_FROM_TO = re.compile(r"^(?P<a>.+?)\s*(?:\s-\s|-|\s+to\s+|\s+until\s+|/)\s*(?P<b>.+)$", re.IGNORECASE)


def _month_number(name: str) -> int:
    number = MONTHS.get(name.lower())
    if number is None:
        raise DateParseError(f"unknown month {name!r}")
    return number


def _normalise(text: str) -> str:
    cleaned = " ".join(text.translate(_APOSTROPHES).split()).strip(" .,")
    return _LEAD.sub("", cleaned)


def parse_date(text: str) -> PartialDate:
    """Parse one date in any of the documents' forms, keeping its precision.

    Accepts "27 October 1961", "June 10 2020", "April, 2013", "September 2020", "in 2006",
    "the 1980's", and the EDTF forms "1961-10-27", "2020-09", "1973", "198X".
    """
    cleaned = _normalise(str(text))
    for pattern, form in _SINGLE_FORMS:
        match = pattern.match(cleaned)
        if match is None:
            continue
        parts = match.groupdict()
        try:
            if form == "edtf-decade":
                return PartialDate.of_decade(int(parts["decade"]) * 10)
            if form == "decade":
                return PartialDate.of_decade(int(parts["year"]))
            if form == "year":
                return PartialDate.of_year(int(parts["year"]))
            year = int(parts["year"])
            month = int(parts["month"]) if form.startswith("iso") else _month_number(parts["month"])
            if parts.get("day") is None:
                return PartialDate.of_month(year, month)
            return PartialDate.of_day(year, month, int(parts["day"]))
        except DateParseError as error:
            raise DateParseError(f"{text!r}: {error}") from None
    raise DateParseError(
        f"{text!r} is not a date form we read (e.g. '27 October 1961', 'June 10 2020', "
        "'April, 2013', '2006', 'the 1980s', '1961-10-27', '198X')"
    )


def parse_span(text: str) -> tuple[PartialDate, PartialDate | None]:
    """Parse a date or a range ("27-28 May 2019", "between 2016 and 2018") into (start, end)."""
    cleaned = _normalise(str(text))
    for pattern in _RANGE_FORMS:
        match = pattern.match(cleaned)
        if match:
            year, month = int(match["year"]), _month_number(match["month"])
            try:
                start = PartialDate.of_day(year, month, int(match["d1"]))
                end = PartialDate.of_day(year, month, int(match["d2"]))
            except DateParseError as error:
                raise DateParseError(f"{text!r}: {error}") from None
            return _ordered(text, start, end)
    for pattern in (_BETWEEN, _FROM_TO):
        match = pattern.match(cleaned)
        if match and not _SINGLE_FORMS[0][0].match(cleaned) and not _SINGLE_FORMS[1][0].match(cleaned):
            return _ordered(text, parse_date(match["a"]), parse_date(match["b"]))
    return parse_date(cleaned), None


def single_date(text: str) -> PartialDate:
    """Parse one date where a range is not allowed, saying so when given one."""
    start, end = parse_span(text)
    if end is not None:
        raise DateParseError(
            f"{text!r} is a range ({start.edtf} to {end.edtf}); this field takes a single date "
            f"(e.g. {start.edtf!r}), and a record with a span has start and end fields for it"
        )
    return start


def _ordered(text: str, start: PartialDate, end: PartialDate) -> tuple[PartialDate, PartialDate]:
    if end.latest < start.earliest:
        raise DateParseError(f"{text!r}: the range ends before it starts")
    return start, end


def from_parts(year: int, month: int | None, day: int | None, precision: str) -> PartialDate:
    """Rebuild a partial date from its stored columns."""
    return PartialDate(year, month, day, DatePrecision(precision))
