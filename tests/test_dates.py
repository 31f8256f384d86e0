"""Partial dates: every form the documents use, parsed to the right precision, never more precise."""

from __future__ import annotations

import datetime as dt

import pytest

from app.dates import DateParseError, DatePrecision, PartialDate, parse_date, parse_span

D = dt.date


@pytest.mark.parametrize(
    ("text", "edtf", "precision", "earliest", "latest"),
    [
        ("27 October 1961", "1961-10-27", DatePrecision.DAY, D(1961, 10, 27), D(1961, 10, 27)),
        ("June 10 2020", "2020-06-10", DatePrecision.DAY, D(2020, 6, 10), D(2020, 6, 10)),
        ("1 July 2009", "2009-07-01", DatePrecision.DAY, D(2009, 7, 1), D(2009, 7, 1)),
        ("April, 2013", "2013-04", DatePrecision.MONTH, D(2013, 4, 1), D(2013, 4, 30)),
        ("September 2020", "2020-09", DatePrecision.MONTH, D(2020, 9, 1), D(2020, 9, 30)),
        ("in June 2018", "2018-06", DatePrecision.MONTH, D(2018, 6, 1), D(2018, 6, 30)),
        ("in 2006", "2006", DatePrecision.YEAR, D(2006, 1, 1), D(2006, 12, 31)),
        ("1973", "1973", DatePrecision.YEAR, D(1973, 1, 1), D(1973, 12, 31)),
        ("since the 1980\u2019s", "198X", DatePrecision.DECADE, D(1980, 1, 1), D(1989, 12, 31)),
        ("the 1980's", "198X", DatePrecision.DECADE, D(1980, 1, 1), D(1989, 12, 31)),
        ("1980s", "198X", DatePrecision.DECADE, D(1980, 1, 1), D(1989, 12, 31)),
        ("198X", "198X", DatePrecision.DECADE, D(1980, 1, 1), D(1989, 12, 31)),
        ("1961-10-27", "1961-10-27", DatePrecision.DAY, D(1961, 10, 27), D(1961, 10, 27)),
        ("2020-02", "2020-02", DatePrecision.MONTH, D(2020, 2, 1), D(2020, 2, 29)),
    ],
)
def test_single_date_forms(text: str, edtf: str, precision: DatePrecision, earliest: dt.date, latest: dt.date) -> None:
    date = parse_date(text)
    assert (date.edtf, date.precision, date.earliest, date.latest) == (edtf, precision, earliest, latest)
    assert parse_date(date.edtf) == date  # the EDTF form reads back to the same date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("27-28 May 2019", "2019-05-27", "2019-05-28"),
        ("May 27-28, 2019", "2019-05-27", "2019-05-28"),
        ("between 2016 and 2018", "2016", "2018"),
        ("2020-2021", "2020", "2021"),
        ("from 2011 to 2013", "2011", "2013"),
    ],
)
def test_ranges(text: str, start: str, end: str) -> None:
    first, last = parse_span(text)
    assert last is not None
    assert (first.edtf, last.edtf) == (start, end)


def test_a_single_date_is_a_span_without_end() -> None:
    assert parse_span("in 2012") == (PartialDate.of_year(2012), None)


@pytest.mark.parametrize(
    "text",
    ["31 February 2019", "Aprill 2013", "2019-13", "1985X", "the 1985's", "28-27 May 2019", "soon", ""],
)
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(DateParseError):
        parse_span(text)


def test_ordering_across_precisions() -> None:
    dates = [parse_date(t) for t in ("2019-05-27", "2019", "2019-05", "2019-01", "198X", "2020")]
    ordered = [d.edtf for d in sorted(dates, key=PartialDate.sort_key)]
    assert ordered == ["198X", "2019-01", "2019", "2019-05", "2019-05-27", "2020"]


def test_spans_overlap_and_cover() -> None:
    year, day = parse_date("2019"), parse_date("2019-05-27")
    assert year.covers(day) and not day.covers(year)
    assert year.overlaps(day) and day.overlaps(year)
    assert not parse_date("2018").overlaps(day)
