"""The debtor's pages (``/p/``). The link's own URL comes last: every other path is a word."""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("verify/", views.verify, name="verify"),
    path("language/", views.language, name="language"),
    path("promise/", views.promise, name="promise"),
    path("plan/", views.plan, name="plan"),
    path("contact/", views.contact, name="contact"),
    path("dispute/", views.dispute, name="dispute"),
    path("disputes/<int:dispute_id>/document/", views.dispute_document, name="dispute-document"),
    path("rate/", views.rate, name="rate"),
    path("leave/", views.leave, name="leave"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:message_id>/", views.inbox_message, name="inbox-message"),
    path("<str:token>/", views.landing, name="landing"),
]
