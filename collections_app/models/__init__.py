"""The workflow's models, one module per area; import them from here."""

from .cases import Case

__all__ = ["Case"]
