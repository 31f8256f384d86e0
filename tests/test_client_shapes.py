"""What clients' normalised caches need from the examples: `id` on every object that has one."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    FieldNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    visit,
)

from app.execution.executable import schema

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "app" / "examples").glob("*.graphql"))


def _selects_id(selection_set: SelectionSetNode) -> bool:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value == "id" and selection.alias is None:
            return True
        if isinstance(selection, InlineFragmentNode) and _selects_id(selection.selection_set):
            return True
    return False


def _missing_ids(path: Path) -> list[str]:
    info = TypeInfo(schema._schema)
    missing: list[str] = []

    class Check(Visitor):
        def enter_field(self, node: FieldNode, *_args: object) -> None:
            named = get_named_type(info.get_type())
            if node.selection_set is None or named is None:
                return
            if isinstance(named, GraphQLUnionType):
                members = list(named.types)
            elif isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                members = [named]
            else:
                return
            if any("id" in member.fields for member in members) and not _selects_id(node.selection_set):
                missing.append(
                    f"{node.name.value} ({named.name}) at line {node.loc.start_token.line if node.loc else '?'}"
                )
            if isinstance(named, GraphQLUnionType | GraphQLInterfaceType):
                for selection in node.selection_set.selections:
                    if isinstance(selection, InlineFragmentNode) and selection.type_condition is not None:
                        member = schema._schema.get_type(selection.type_condition.name.value)
                        has_id = isinstance(member, GraphQLObjectType | GraphQLInterfaceType) and "id" in member.fields
                        if has_id and not (_selects_id(selection.selection_set) or _selects_id(node.selection_set)):
                            missing.append(f"... on {member.name} in {node.name.value}")

    visit(parse(path.read_text(encoding="utf-8")), TypeInfoVisitor(info, Check()))
    return missing


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_selects_id_on_every_object_that_has_one(path: Path) -> None:
    """Apollo's InMemoryCache and urql's Graphcache normalise by `id`: without it they cannot store the object."""
    assert _missing_ids(path) == []
