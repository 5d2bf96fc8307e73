from django.urls import path

from . import views

urlpatterns = [
    path("today/", views.run_today, name="reminders-today"),
    path("dispatch/", views.run_dispatch, name="reminders-dispatch"),
    path("templates/<int:template_id>/preview/", views.template_preview, name="template-preview"),
    path("sms/delivery/", views.sms_delivery_report, name="sms-delivery-report"),
]
