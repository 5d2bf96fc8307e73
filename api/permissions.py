"""Who may call what. Object access (which debtor) is decided by ``cases.access``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from cases.roles import is_admin, is_supervisor


class SupervisorWrites(BasePermission):
    """Anyone signed in reads (scoped by the access rules); supervisors and admins write."""

    message = _("Only supervisors and admins may do this.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or is_supervisor(request.user)


class ReadAnyWriteSupervisor(SupervisorWrites):
    """Creating ledger records is for supervisors and admins (debtors and loans come from the
    lender's systems, not from collectors)."""

    message = _("Only supervisors and admins may create debtors and loans.")


class SupervisorsOnly(BasePermission):
    message = _("Only supervisors and admins may do this.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and is_supervisor(request.user))


class IsAdminRole(BasePermission):
    """Contact policies are configured by admins only."""

    message = _("Only admins may read or change contact policies.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and is_admin(request.user))
