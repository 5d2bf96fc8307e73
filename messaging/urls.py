"""``/webhooks/``: what SMS and email providers post back (``messaging.webhooks``)."""

from django.urls import path

from messaging import webhooks

urlpatterns = [
    path("twilio/sms/", webhooks.twilio_sms, name="webhook-twilio-sms"),
    path("twilio/status/", webhooks.twilio_status, name="webhook-twilio-status"),
    path("aliyun/sms-up/", webhooks.aliyun_sms_up, name="webhook-aliyun-sms-up"),
    path("aliyun/sms-report/", webhooks.aliyun_sms_report, name="webhook-aliyun-sms-report"),
    path("email/inbound/", webhooks.email_inbound, name="webhook-email-inbound"),
]
