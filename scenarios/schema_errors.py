"""Turning jsonschema errors into line-numbered ErrorItems with plain messages."""

from __future__ import annotations

import difflib

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from scenarios.errors import ErrorItem
from scenarios.yamlsource import Path, Source, format_path

_TYPE_NAMES = {"string": "text", "array": "a list", "object": "a mapping", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "nothing"}


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _message(error: ValidationError) -> str:
    v, value, inst = error.validator, error.validator_value, error.instance
    hint = error.schema.get("x-error") if isinstance(error.schema, dict) else None
    if v == "enum":
        return f"{inst!r} is not one of {', '.join(map(str, value))}"
    if v == "const":
        return f"{inst!r} must be {value!r}"
    if v == "type":
        types = [value] if isinstance(value, str) else value
        expected = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
        return f"expected {expected}, got {_kind(inst)}" + (f" ({hint})" if hint else "")
    if v in ("minItems", "minLength", "minProperties") and value == 1:
        return "must not be empty"
    if v == "minItems":
        return f"needs at least {value} items"
    if v == "minLength":
        return f"must be at least {value} characters"
    if v == "pattern":
        return f"{inst!r}: {hint}" if hint else f"{inst!r} does not match {value}"
    if v == "uniqueItems":
        return "contains the same item twice"
    if v == "minimum":
        return f"{inst!r} is below the minimum {value}"
    if v == "maximum":
        return f"{inst!r} is above the maximum {value}"
    return error.message


def schema_errors(data: object, schema: dict, source: Source, filename: str,
                  prefix: Path = ()) -> list[ErrorItem]:
    """Validate ``data`` (found at ``prefix`` in the file) and map each error to its line."""
    items: list[ErrorItem] = []
    for error in Draft202012Validator(schema).iter_errors(data):
        path: Path = (*prefix, *error.absolute_path)

        def add(p: Path, message: str, line: int | None = None) -> None:
            items.append(ErrorItem(filename, line or source.line_of(p), format_path(p), message))

        if error.validator == "required":
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    add((*path, name), "missing required field", source.line_of(path))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    add((*path, key), f"unknown field{_suggest(key, allowed)}")
        elif "propertyNames" in error.relative_schema_path:
            add((*path, error.instance), _message(error))
        else:
            add(path, _message(error))
    return items
