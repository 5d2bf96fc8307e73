"""The collections back office: project settings and the collections workflow."""

from collections_app.celery import app as celery_app

__all__ = ("celery_app",)
