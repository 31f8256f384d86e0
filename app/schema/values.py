"""Value types made from rows: partial dates, citations, mentions (declared with app.schema.fields)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy.engine import Row

from app.schema.enums import DatePrecision
from app.schema.fields import column, date_part, reference, row_type


@strawberry.type(description="A date known to a day, a month, a year or a decade, never made more precise.")
class PartialDate:
    edtf: str = date_part(
        description='Extended Date/Time Format (ISO 8601-2): "1961-10-27", "2020-09", "1973", "198X".'
    )
    precision: DatePrecision = date_part(description="How much of the date the source gives.")
    year: int = date_part(description="The year (the decade's first year for a decade).")
    month: int | None = date_part(description="The month, 1 to 12, where the source gives it.")
    day: int | None = date_part(description="The day of the month, where the source gives it.")
    earliest: dt.date = date_part(description='The first day the date covers: "2019" -> 2019-01-01.')
    latest: dt.date = date_part(description='The last day the date covers: "2019" -> 2019-12-31.')

    @staticmethod
    def of(row: Row[Any], prefix: str) -> PartialDate | None:
        m = row._mapping
        if m[f"{prefix}_edtf"] is None:
            return None
        return PartialDate(
            edtf=m[f"{prefix}_edtf"],
            precision=DatePrecision[m[f"{prefix}_precision"]],
            year=m[f"{prefix}_year"],
            month=m[f"{prefix}_month"],
            day=m[f"{prefix}_day"],
            earliest=m[f"{prefix}_earliest"],
            latest=m[f"{prefix}_latest"],
        )


@row_type
@strawberry.type(description="A verbatim quote from a document that states a fact: its provenance.")
class Citation:
    row: strawberry.Private[Any]
    quote: str = column(description="The quote, exactly as the document has it.")
    start: int = column(description="Offset of the quote's first character in `document.text`.")
    end: int = column(description="Offset just past the quote's last character (`text[start:end]`).")
    document = reference("document_id", "Document", description="The document quoted.")


@row_type
@strawberry.type(description="A passage where a document names an organization (found automatically).")
class Mention:
    row: strawberry.Private[Any]
    text: str = column(description="The name as written: the name, acronym or an alias.")
    start: int = column(description="Offset of the name in `document.text`.")
    end: int = column(description="Offset just past the name.")
    context: str = column(description="The sentence the name occurs in.")
    document = reference("document_id", "Document", description="The document that names the organization.")
