"""The example queries (app/examples/*.graphql) are valid against the schema and return data, on both engines.

Frontend developers copy them and feed them to codegen, and GraphiQL opens on them: a broken example is a
broken first impression.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, build_schema, parse, validate

from app.execution.executable import schema
from tests.conftest import Api

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((PROJECT_ROOT / "app" / "examples").glob("*.graphql"))
COMMITTED_SDL = PROJECT_ROOT / "schema.graphql"


def test_there_are_the_readmes_examples() -> None:
    assert {path.stem for path in EXAMPLES} >= {"organization", "timeline", "chairmanships", "search", "nested"}
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for path in EXAMPLES:
        assert f"app/examples/{path.name}" in readme, f"add {path.name} to the README's table of example queries"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_the_example_is_valid_against_the_schema_and_the_committed_sdl(path: Path) -> None:
    """Every field exists, every argument fits, every variable is declared with a type and used."""
    document = parse(path.read_text(encoding="utf-8"))
    assert validate(schema._schema, document) == []
    assert validate(build_schema(COMMITTED_SDL.read_text(encoding="utf-8")), document) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_the_example_is_one_named_query_that_says_what_it_shows(path: Path) -> None:
    """Codegen names types after the operation, GraphiQL names its tab after it, the landing page shows the comment."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ") and len(text.splitlines()[0]) > 10
    operations = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    assert operations[0].name is not None and operations[0].operation.value == "query"
    for variable in operations[0].variable_definitions or ():
        assert variable.type is not None


def _has_rows(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, dict):
        return any(_has_rows(item) for item in value.values())
    return False


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
async def test_the_example_runs_and_returns_data(api: Api, path: Path) -> None:
    data = await api.data(path.read_text(encoding="utf-8"))
    assert all(value is not None for value in data.values()), data
    assert _has_rows(data), f"{path.name} returned no rows: {data}"
