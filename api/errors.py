"""Turning the domain's errors into API responses.

Services raise ``django.core.exceptions.ValidationError`` (usually with a dict naming the
field), and the gate ``GateInputError`` for a request that names something inconsistent. The
API answers those with 400 and the same field names, never with a 500.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from compliance.gate import GateInputError


def validation_error_detail(exc: DjangoValidationError) -> dict | list:
    """The body of a 400 for a Django ``ValidationError``: ``{field: [messages]}``."""
    if hasattr(exc, "error_dict"):
        detail = {}
        for field, errors in exc.error_dict.items():
            name = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
            detail[name] = [message for error in errors for message in error.messages]
        return detail
    return {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}


def as_api_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(validation_error_detail(exc))


def api_exception_handler(exc, context):
    """DRF's handler, plus the domain's input errors as 400."""
    if isinstance(exc, DjangoValidationError):
        exc = as_api_error(exc)
    elif isinstance(exc, GateInputError):
        exc = exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]})
    return exception_handler(exc, context)


# Where the project's URLconf mounts the API (``collections_app.urls``).
API_PREFIX = "/api/"


def page_not_found(request, exception):
    """The project's 404 (``handler404``), for a URL that matches no route: the API's error
    body under ``/api/`` (``/api/v1/debtors/abc/`` is an API client's mistake, answered in the
    format it parses), the site's page everywhere else. The API's views answer their own 404s."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)


def duplicate_ref_error(model, external_ref: str) -> exceptions.ValidationError | None:
    """A unique external reference lost to a concurrent request reads as a 400, not a 500.

    None when no row has ``external_ref``: the ``IntegrityError`` was about something else.
    """
    if model.objects.filter(external_ref=external_ref).exists():
        return exceptions.ValidationError(
            {"external_ref": [_("This external reference already exists.")]}
        )
    return None
