"""``/imports/``: included by the project's URLconf."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.import_list, name="imports"),
    path("<int:job_id>/", views.import_detail, name="import-detail"),
    path("<int:job_id>/progress/", views.import_progress, name="import-progress"),
    path("<int:job_id>/rejected.csv", views.import_rejected, name="import-rejected"),
]
