"""Inputs checked once, at the edge, by type, so that no resolver can forget.

- **Text**: every string a client sends (a literal argument anywhere in the document, or any
  string inside `variables`) may not hold NUL or other control characters (tab, newline and
  carriage return excepted). PostgreSQL's `text` refuses NUL and SQLite silently cuts the
  string at it, so without this check one input gave an internal error on one engine and a
  wrong answer on the other; now it is `BAD_USER_INPUT` on both.
- **Shape**: `variables` nested more than `MAX_VARIABLE_DEPTH` objects and lists deep are
  `VARIABLES_TOO_DEEP`, and holding more than `MAX_VARIABLE_VALUES` values (every key's value
  and list item, at any depth) `VARIABLES_TOO_LARGE`: checked without recursion when the
  request is read, before anything else walks them (graphql-core's coercion and the encoders
  recurse; a variable 600 levels deep was a 500). No input of the schema nests more than a
  few levels, and `nodes(ids:)`, the longest list an operation takes, holds 100 IDs.
- **IDs** and **cursors** are parsed strictly where they are decoded (`app.schema.relay`).
- **Repeats**: a selection set naming one field more than `MAX_FIELD_REPEATS` times, and a
  validation error repeated word for word (ten unknown `@aa` directives), are reported once:
  graphql-cop's "field duplication" and "directive overloading" checks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, SelectionSetNode, StringValueNode, ValidationRule

from app.errors import BAD_USER_INPUT_CODE, VALIDATION_FAILED_CODE, BadUserInput, VariablesTooDeep, VariablesTooLarge

FORBIDDEN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_FIELD_REPEATS = 100  # graphql-cop sends 500; a real query names a field once or twice
MAX_REPEATED_ERRORS = 1
MAX_VARIABLE_DEPTH = 32  # objects and lists inside one another, in one variable's value
MAX_VARIABLE_VALUES = 5_000  # values in all of `variables` (a 100 KB body holds ~50,000)


def describe(char: str) -> str:
    return "a NUL character (U+0000)" if char == "\x00" else f"the control character U+{ord(char):04X}"


def text_problem(value: str) -> str | None:
    """What is wrong with a string a client sent, or None."""
    found = FORBIDDEN_TEXT.search(value)
    if found is None:
        return None
    return (
        f"contains {describe(found.group())} at position {found.start()}; text arguments may not hold "
        "control characters (tab, newline and carriage return excepted)"
    )


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, f"{path} (a key)")
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def check_variables_shape(variables: Any) -> VariablesTooDeep | VariablesTooLarge | None:
    """Whether `variables` are too deep or too large, as an error; found without recursion, stopping early."""
    if not isinstance(variables, dict):
        return None
    count = 0
    pending: list[tuple[Any, int, str]] = [(value, 0, f"${name}") for name, value in variables.items()]
    while pending:
        value, depth, name = pending.pop()
        count += 1
        if count > MAX_VARIABLE_VALUES:
            return VariablesTooLarge(
                f"The variables hold more than {MAX_VARIABLE_VALUES:,} values (keys and list items, at any depth); "
                "send only the variables the operation declares, and at most 100 IDs in a list.",
                limit=MAX_VARIABLE_VALUES,
                status=400,
            )
        if isinstance(value, dict | list):
            if depth >= MAX_VARIABLE_DEPTH:
                return VariablesTooDeep(
                    f"The variable `{_shown(name)}` nests objects and lists more than {MAX_VARIABLE_DEPTH} levels "
                    "deep; no input of this schema nests more than a few.",
                    variable=_shown(name),
                    limit=MAX_VARIABLE_DEPTH,
                    status=400,
                )
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1, name) for item in items)
    return None


def _shown(name: str) -> str:
    return name if len(name) <= 40 else name[:40] + "…"


def check_variables(variables: Any) -> BadUserInput | None:
    """The first string in `variables` that no argument may hold, as an error; None if all are fine."""
    if not isinstance(variables, dict):
        return None
    for name, value in variables.items():
        for path, text in _strings(value, f"${name}"):
            problem = text_problem(text)
            if problem is not None:
                return BadUserInput(f"The variable `{path}` {problem}.", variable=path)
    return None


class TextInputRule(ValidationRule):
    """Refuses a string literal holding a control character, wherever it is written."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        problem = text_problem(node.value)
        if problem is not None:
            self.report_error(
                GraphQLError(f"A string argument {problem}.", node, extensions={"code": BAD_USER_INPUT_CODE})
            )


class FieldRepeatRule(ValidationRule):
    """Refuses a selection set that names one field many times (`__typename` 500 times)."""

    def enter_selection_set(self, node: SelectionSetNode, *_args: Any) -> None:
        keys = Counter(
            (selection.alias or selection.name).value
            for selection in node.selections
            if isinstance(selection, FieldNode)
        )
        for key, count in keys.items():
            if count > MAX_FIELD_REPEATS:
                self.report_error(
                    GraphQLError(
                        f"`{key}` is selected {count} times in one selection set; the limit is "
                        f"{MAX_FIELD_REPEATS}. Select each field once.",
                        node,
                        extensions={"code": VALIDATION_FAILED_CODE, "limit": MAX_FIELD_REPEATS},
                    )
                )


def collapse_repeats(errors: list[GraphQLError]) -> None:
    """Report each distinct message once (in place: the list is the response's)."""
    seen: Counter[str] = Counter()
    kept: list[GraphQLError] = []
    for error in errors:
        seen[error.message] += 1
        if seen[error.message] <= MAX_REPEATED_ERRORS:
            kept.append(error)
    for error in kept:
        if seen[error.message] > 1:
            error.extensions = {**(error.extensions or {}), "repeated": seen[error.message]}
    errors[:] = kept
