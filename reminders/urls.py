"""``/reminders/``: what providers post back about reminders (staff pages are the workspace's)."""

from django.urls import path

from reminders import webhooks

urlpatterns = [
    path("sms/delivery/", webhooks.sms_delivery_report, name="sms-delivery-report"),
]
