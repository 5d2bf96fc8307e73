from django.utils.functional import SimpleLazyObject

from cases.roles import is_admin, is_supervisor
from workspace.selectors.replies import unread_count


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_supervisor": False, "is_admin": False, "unread_replies": 0}
    return {
        "is_supervisor": is_supervisor(user),
        "is_admin": is_admin(user),
        # Counted only on pages that show it (the staff's navigation).
        "unread_replies": SimpleLazyObject(lambda: unread_count(user)),
    }
