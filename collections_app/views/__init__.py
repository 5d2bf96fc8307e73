"""The workspace pages. Views translate HTTP; the rules live in services and selectors."""

from .case import case_detail
from .misc import healthz
from .queue import home

__all__ = ["case_detail", "healthz", "home"]
