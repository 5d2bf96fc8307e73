"""The project's URLs: each surface's own, and what belongs to none of them.

No route serves ``MEDIA_ROOT``, with ``DEBUG`` or without: each kind of stored file has its own
view that checks who asks (see ``debtors.files``).
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from collections_app.health import healthz
from portal.unsubscribe import one_click

urlpatterns = [
    path("", include("workspace.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # What providers post back about reminders (delivery reports).
    path("reminders/", include("reminders.urls")),
    # What SMS and email providers post back: replies, keywords, delivery reports, bounces.
    path("webhooks/", include("messaging.urls")),
    # The debtor's self-service pages, and the one-click unsubscribe of every email.
    path("p/", include("portal.urls")),
    path("u/<str:token>/", one_click, name="unsubscribe"),
]

# A URL under /api/ that matches no route answers the API's JSON error, not the site's page.
handler404 = "api.errors.page_not_found"
