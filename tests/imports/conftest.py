"""Running imports in tests: files written from text, jobs run in this process."""

from __future__ import annotations

import io

import pytest

from imports.services import import_create, import_run


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def run_import(kind: str, content: str | bytes, *, actor="tests", name=None, **options):
    data = content.encode("utf-8") if isinstance(content, str) else content
    name = name or f"{kind}.csv"
    job = import_create(actor=actor, kind=kind, file=io.BytesIO(data), name=name, **options)
    return import_run(job_id=job.pk)


def messages(job) -> list[tuple[int, str, str]]:
    return [
        (i.line, i.column, i.message)
        for i in job.issues.select_related("job").order_by("line", "id")
    ]
