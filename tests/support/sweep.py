"""Request bodies from the app's OpenAPI document, for sweeping string fields.

``bodies(openapi)`` finds every operation with a JSON request body and, for
each string in its schema (properties, list items, dict keys and values,
nested models), builds a minimal valid body with ``bad`` placed at that
one string. New request models and fields are swept without a test edit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

KEY = object()  # a path step naming a dict's key rather than a value
SAMPLE_KEY = "en"  # the key under which a dict's value is swept


@dataclass(frozen=True)
class Case:
    """One request: ``bad`` at one string of one operation's body."""

    method: str
    path: str
    body: Any
    field: str  # the field the answer must name (a prefix, for dict keys)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.field}"


class Sweep:
    def __init__(self, openapi: dict[str, Any], bad: str) -> None:
        self.schemas: dict[str, Any] = openapi.get("components", {}).get("schemas", {})
        self.openapi = openapi
        self.bad = bad

    def cases(self) -> Iterator[Case]:
        """Every (operation, string field) pair of the document."""
        for path, operations in self.openapi["paths"].items():
            for method, operation in operations.items():
                content = operation.get("requestBody", {}).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if schema is None:
                    continue
                for steps in self.strings(schema):
                    body = self.place(self.example(schema), schema, steps)
                    yield Case(method, path, body, _field(steps))

    def parameters(self) -> Iterator[tuple[str, str, dict[str, str], str]]:
        """(method, url, query, name): ``bad`` in each path or query parameter
        whose schema admits a string (the other path parameters are "x")."""
        for path, operations in self.openapi["paths"].items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", ()):
                    where, name = parameter["in"], parameter["name"]
                    if where not in ("path", "query") or not self._admits_text(parameter):
                        continue
                    url = (
                        path.replace("{" + name + "}", quote(self.bad)) if where == "path" else path
                    )
                    url = re.sub(r"\{[^}]+\}", "x", url)
                    query = {name: self.bad} if where == "query" else {}
                    yield method, url, query, name

    def _admits_text(self, parameter: dict[str, Any]) -> bool:
        schema = self.resolve(parameter.get("schema", {}))
        options = [self.resolve(o) for o in schema.get("anyOf", [schema])]
        return any(o.get("type") == "string" and "enum" not in o for o in options)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if ref is None:
            return schema
        return self.resolve(self.schemas[ref.rsplit("/", 1)[-1]])

    def _branch(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The first non-null branch of an ``anyOf`` (an optional field)."""
        schema = self.resolve(schema)
        for option in schema.get("anyOf", ()):
            if self.resolve(option).get("type") != "null":
                return self._branch(option)
        return schema

    def strings(self, schema: dict[str, Any]) -> Iterator[tuple[object, ...]]:
        """Paths (property names, list index 0, KEY / SAMPLE_KEY) of every string."""
        schema = self._branch(schema)
        kind = schema.get("type")
        if kind == "string":
            yield ()
        elif kind == "array" and "items" in schema:
            for rest in self.strings(schema["items"]):
                yield (0, *rest)
        elif kind == "object":
            for name, sub in schema.get("properties", {}).items():
                for rest in self.strings(sub):
                    yield (name, *rest)
            values = _values(schema)
            if values is not None:
                yield (KEY,)
                for rest in self.strings(values):
                    yield (SAMPLE_KEY, *rest)

    def example(self, schema: dict[str, Any]) -> Any:
        """A minimal value the schema accepts (required properties only)."""
        schema = self._branch(schema)
        if "enum" in schema:
            return schema["enum"][0]
        if "const" in schema:
            return schema["const"]
        kind = schema.get("type")
        if kind == "object":
            required = schema.get("required", ())
            props = schema.get("properties", {})
            return {name: self.example(props[name]) for name in required}
        if kind == "array":
            return [self.example(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
        if kind == "string":
            if schema.get("format") == "date-time":
                return "2030-01-01T00:00:00+00:00"
            return "en" + "x" * max(0, schema.get("minLength", 0) - 2)
        if kind in ("integer", "number"):
            return schema.get("minimum", 0)
        if kind == "boolean":
            return False
        return 0  # Any

    def place(self, value: Any, schema: dict[str, Any], steps: tuple[object, ...]) -> Any:
        """``value`` with ``self.bad`` put at ``steps`` (containers made on the way)."""
        schema = self._branch(schema)
        if not steps:
            return self.bad
        step, rest = steps[0], steps[1:]
        if schema.get("type") == "array":
            items = list(value) if isinstance(value, list) else []
            if not items:
                items.append(self.example(schema["items"]))
            items[0] = self.place(items[0], schema["items"], rest)
            return items
        target = dict(value) if isinstance(value, dict) else {}
        if step is KEY:
            target[self.bad] = self.example(_values(schema) or {})
            return target
        sub = schema.get("properties", {}).get(step) or _values(schema) or {}
        assert isinstance(step, str)
        current = target.get(step, self.example(sub))
        target[step] = self.place(current, sub, rest)
        return target


def _values(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of a dict's values (``additionalProperties`` or, when its
    keys have a pattern, ``patternProperties``); None for a plain model."""
    values = schema.get("additionalProperties")
    if isinstance(values, dict):
        return values
    patterned = list(schema.get("patternProperties", {}).values())
    return patterned[0] if patterned else None


def _field(steps: tuple[object, ...]) -> str:
    names = []
    for step in steps:
        if step is KEY:
            break
        names.append(str(step))
    return ".".join(names)
