"""One declaration per column: the seed's rows come from the models' columns, orderings from one
declaration each (issue 17, item 5)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, create_engine

from app.data import models
from app.data.migrations import upgrade
from app.dates import single_date
from app.schema.filters import EventOrder, OrganizationOrder
from app.schema.orderings import ORDERINGS, OrderDirection, ordering
from app.seeding import writer
from app.seeding.dataset import load_dataset, record_columns

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"
TABLES: dict[str, Table] = {table.name: table for table in models.Base.metadata.sorted_tables}

# The columns the writer sets apart from the records' rows: keys, and links set after every row exists.
SET_APART = {"organizations": {"parent_id"}, "events": {"occasion_id"}}
NATURAL_KEYS = {"documents": "slug", "countries": "code", "places": "folded"}


def test_record_columns_fill_columns_by_name_and_dates_by_prefix() -> None:
    date = single_date("2019-05")
    row = record_columns(
        TABLES["memberships"],
        {"role": "member", "start": date, "end": None, "member": "MNG", "note": "not a column", "id": 7},
    )
    assert row["role"] == "member"
    assert (row["start_year"], row["start_month"], row["start_day"], row["start_edtf"]) == (2019, 5, None, "2019-05")
    assert row["start_earliest"] == dt.date(2019, 5, 1) and row["start_latest"] == dt.date(2019, 5, 31)
    assert all(row[f"end_{part}"] is None for part in ("year", "month", "day", "precision", "edtf", "earliest"))
    # Names that are no column, the primary key and the foreign keys are the caller's.
    assert not {"member", "note", "id", "country_id", "organization_id", "status"} & set(row)


def test_the_writer_fills_every_column_of_every_record_table(tmp_path: Path) -> None:
    """A column added to a model but to neither the seed format's record nor the writer's computed
    values would be left at its default by every seed: this fails for it."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade(url)
    dataset, errors = load_dataset(SEED_DIR)
    assert dataset is not None, errors
    desired: dict[str, tuple[Table, tuple[str, ...], dict[Any, dict[str, Any]]]] = {}
    rows = writer._Sync.rows

    def capture(self: Any, name: str, table: Table, keys: tuple[str, ...], wanted: dict[Any, Any]) -> Any:
        desired[table.name] = (table, keys, wanted)
        return rows(self, name, table, keys, wanted)

    with pytest.MonkeyPatch.context() as patch, create_engine(url).begin() as conn:
        patch.setattr(writer._Sync, "rows", capture)
        writer.write_dataset(conn, dataset, lambda _line: None)
    for name in (
        "documents",
        "countries",
        "places",
        "organizations",
        "memberships",
        "chairmanships",
        "events",
        "statistics",
    ):
        table, keys, wanted = desired[name]
        assert wanted, name
        written = {column for values in wanted.values() for column in values} | set(keys)
        missing = set(table.c.keys()) - written - {"id"} - SET_APART.get(name, set())
        assert missing == set(), f"{name}: no record value or computed value fills {sorted(missing)}"
        assert NATURAL_KEYS.get(name, "slug") in keys


def test_each_ordering_is_declared_once_and_makes_its_enum_input_and_keys() -> None:
    event = ORDERINGS["Event"]
    assert [member.name for member in event.enum] == ["DATE", "TITLE"]
    assert event.input is EventOrder and ORDERINGS["Organization"].input is OrganizationOrder
    assert ORDERINGS["Mention"].input is None  # keys only: no GraphQL input
    tag, keys = ordering("Event", None)  # the default: the first field, ascending
    assert tag == "Event:DATE:ASC"
    assert [key.expression.name for key in keys] == ["date_earliest", "date_latest", "id"]
    tag, keys = ordering("Statistic", ORDERINGS["Statistic"].input(field=ORDERINGS["Statistic"].enum.VALUE))
    assert tag == "Statistic:VALUE:ASC" and keys[0].python_type is float
    descending = EventOrder(field=event.enum.TITLE, direction=OrderDirection.DESC)
    tag, keys = ordering("Event", descending)
    assert tag == "Event:TITLE:DESC" and [key.expression.name for key in keys] == ["title", "id"]
    assert all(key.descending for key in keys)
