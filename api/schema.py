"""The OpenAPI schema's error responses: every operation lists the errors it can answer, with
the bodies that ``api.errors`` and DRF really send.

Two bodies, two components:

- ``Error``, ``{"detail": "..."}``: not signed in (401), not allowed (403), not found (404),
  a body of a type the operation does not read (415), throttled (429), and a 400 for a body
  that cannot be parsed at all;
- ``FieldErrors``, ``{"field": ["message", ...]}``: a 400 naming what is wrong with each field
  (``non_field_errors`` for the request as a whole); a nested object nests its errors the same
  way, a list of objects one entry per item (``{}`` for an item without errors), a list of
  values one entry per wrong item, keyed by its index.

Which operation lists which code (``ApiAutoSchema.error_codes``):

- 400 when it takes input: a request body, or query or header parameters other than paging;
- 401 and 403 always: every view authenticates (a bad token is refused even where anyone may
  call) and refuses a caller without the right role, or a browser session without its CSRF
  token;
- 404 when its path names an object, it filters by an object (``?debtor=``, ``?loan=``, which
  answer 404 like the object's own URL), or it is a paged list (an invalid cursor);
- 415 when it takes a body: one of a Content-Type it does not read (or none) is refused;
- 429 when it is throttled (every view is);
- 409, 422 and anything else only when the view declares it, with its body: they are the
  domain's answers (``POST /payments/``, ``POST /debtors/{id}/contact-permits/``).

A response that a view declares keeps its description; one declared without a body gets the
body of its code.
"""

from __future__ import annotations

import inspect

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from cases.filters import ScopedIdFilter

ERROR_DESCRIPTIONS = {
    "400": _("The input is wrong: each field named with what is wrong with it."),
    "401": _("Not signed in: no token, or a token that is unknown or has expired."),
    "403": _(
        "Not allowed: the caller's role may not do this (or a signed-in browser session sent "
        "no CSRF token)."
    ),
    "404": _("No such object, or not one the caller may see (or an invalid page cursor)."),
    "415": _("The body's Content-Type is not one the operation reads."),
    "429": _("Too many requests: try again after the number of seconds in Retry-After."),
}


class ErrorSerializer(serializers.Serializer):
    """An error that concerns the request as a whole."""

    detail = serializers.CharField()


class FieldErrorsSerializer(serializers.Serializer):
    """What is wrong with each field of the input: ``{"field": ["message", ...]}``.

    ``non_field_errors`` holds what concerns the input as a whole. A nested object's errors are
    an object of the same shape; a list of objects has one entry per item: its error object
    (``{}`` when it has none), or its messages when it is not an object at all; a list of values
    has one entry per wrong item, keyed by its index.
    """


# One field's errors: its messages; one entry per item of a list of objects (the item's error
# object, or its messages when the item is not an object at all); or a nested object's.
FIELD_ERRORS_REF = {"$ref": "#/components/schemas/FieldErrors"}
MESSAGES = {"type": "array", "items": {"type": "string"}}
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [{"type": "string"}, MESSAGES, FIELD_ERRORS_REF]}},
            FIELD_ERRORS_REF,
        ]
    },
    "example": {"amount": ["Ensure this value is greater than 0."]},
}


class FieldErrorsExtension(OpenApiSerializerExtension):
    """A serializer cannot say "any field name, recursively": the schema is written out."""

    target_class = FieldErrorsSerializer

    def get_name(self, auto_schema, direction):
        return "FieldErrors"

    def map_serializer(self, auto_schema, direction):
        return {
            **FIELD_ERRORS_SCHEMA,
            "description": inspect.cleandoc(FieldErrorsSerializer.__doc__),
        }


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error responses of each operation."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self.error_codes(operation):
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code >= "400" and "content" not in response:
                schema = self.error_schema(code)
                response["content"] = {
                    media_type: {"schema": schema}
                    for media_type in self.map_renderers("media_type")
                }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_codes(self, operation: dict) -> list[str]:
        """The error codes every operation of this kind can answer (see the module)."""
        parameters = operation.get("parameters", [])
        paging = self.paging_parameters(operation)
        codes = ["401", "403"]
        if "requestBody" in operation or any(
            p["in"] in ("query", "header") and p["name"] not in paging for p in parameters
        ):
            codes.append("400")
        if any(p["in"] == "path" for p in parameters) or paging or self.filters_by_object():
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def error_schema(self, code: str) -> dict:
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        if code == "400":
            field_errors = self.resolve_serializer(FieldErrorsSerializer, "response").ref
            return {"oneOf": [field_errors, error]}
        return error

    def paging_parameters(self, operation: dict) -> set[str]:
        """The query parameters of the list's paging (``cursor``, ``page_size``) that the
        operation has: none for one that is not a paged list."""
        pagination_class = getattr(self.view, "pagination_class", None)
        if self.method != "GET" or pagination_class is None:
            return set()
        paging = pagination_class().get_schema_operation_parameters(self.view)
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        return names & {parameter["name"] for parameter in paging}

    def filters_by_object(self) -> bool:
        """Whether a filter names an object the caller may not see (``?debtor=``): a 404."""
        filterset = getattr(self.view, "filterset_class", None)
        if self.method != "GET" or filterset is None:
            return False
        return any(isinstance(f, ScopedIdFilter) for f in filterset.base_filters.values())
