"""Labels for codes and choices, read once per process (a page shows dozens)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from compliance.reasons import reason_label


def reasons_text(codes: Iterable[str]) -> list[str]:
    return [str(reason_label(code)) for code in codes]


def choice_label(model, field_name: str, value):
    """The label of ``value`` among a model field's choices (the value itself if unknown),
    from the choices read once per process: ``get_<field>_display()`` rebuilds them on every
    call, and a page shows dozens."""
    try:
        return _choice_labels(model, field_name).get(value, value)
    except TypeError:  # an unhashable value is never a choice
        return value


@lru_cache(maxsize=512)
def _choice_labels(model, field_name: str) -> dict:
    return dict(model._meta.get_field(field_name).flatchoices)
