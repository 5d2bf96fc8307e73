"""The API's OpenAPI document as the tests read it: generated in this process (the served one
needs a login), and the fields of its request bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer


def api_schema() -> dict:
    """The document ``/api/schema/`` serves."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))


def resolve(document: dict, schema: dict) -> dict:
    if "$ref" in schema:
        return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def body_fields(document: dict, schema: dict, prefix: tuple = ()) -> Iterator[tuple[str, ...]]:
    """Every field a client writes in a body, nested ones too, as paths: ``("amount",)``,
    ``("conditions", "country")``, ``("installments", "*", "due_date")`` (``*``: each item of
    a list). Uploaded files are left out."""
    schema = resolve(document, schema)
    if len(prefix) > 6:
        return
    for name, field in schema.get("properties", {}).items():
        if field.get("readOnly") or field.get("format") == "binary":
            continue
        path = (*prefix, name)
        yield path
        field = resolve(document, field)
        if "properties" in field:
            yield from body_fields(document, field, path)
        elif field.get("type") == "array" and isinstance(field.get("items"), dict):
            yield (*path, "*")
            yield from body_fields(document, field["items"], (*path, "*"))
