"""Files kept on disk (import files, letters, dispute documents): their names and how they are
served.

Contract:

* A stored file's path is ``<purpose>/<yyyy>/<mm>/<uuid4 hex><extension>``. Nothing of the
  name it arrived with is kept in the path but its extension, and only an extension of
  ``CONTENT_TYPES`` (otherwise none). A name worth showing is kept in a field of its row.
* No route serves ``MEDIA_ROOT`` as a whole. Each kind of file has its own view, which first
  fetches the row through the access rule of its surface (``cases.access`` for the staff, the
  portal's session for the debtor), then answers with ``file_response``: an attachment, its
  ``Content-Type`` from ``CONTENT_TYPES`` by the stored extension (never the uploader's word),
  ``X-Content-Type-Options: nosniff``. A row without a file, or a file missing on disk, is 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import PurePosixPath

from django.core.exceptions import SuspiciousFileOperation
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# The only extensions kept, and the only types served; anything else is served as bytes.
CONTENT_TYPES = {
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}
UNKNOWN_TYPE = "application/octet-stream"


def safe_extension(name: str) -> str:
    """The extension of ``name`` (lower case, with its dot) if it is one of ``CONTENT_TYPES``,
    else ``""``."""
    suffix = PurePosixPath(name or "").suffix.lower()
    suffix = ".jpg" if suffix == ".jpeg" else suffix
    return suffix if suffix in CONTENT_TYPES else ""


def extension_for(content_type: str) -> str:
    """The extension stored for a type judged from a file's content (``""`` if unknown)."""
    for extension, known in CONTENT_TYPES.items():
        if known == content_type:
            return extension
    return ""


def stored_name(purpose: str, extension: str = "", *, now: dt.datetime | None = None) -> str:
    """A new random path: ``<purpose>/<yyyy>/<mm>/<uuid4 hex><extension>``."""
    return f"{purpose}/{now or timezone.now():%Y/%m}/{uuid.uuid4().hex}{extension}"


@deconstructible
class RandomName:
    """A ``FileField``'s ``upload_to``: a random path under ``purpose``, whatever the name."""

    def __init__(self, purpose: str):
        self.purpose = purpose

    def __call__(self, instance, filename: str) -> str:
        return stored_name(self.purpose, safe_extension(filename))

    def __eq__(self, other) -> bool:
        return isinstance(other, RandomName) and other.purpose == self.purpose

    def __hash__(self) -> int:
        return hash(self.purpose)


def file_response(stored: FieldFile, *, download_name: str) -> FileResponse:
    """The file as an attachment named ``download_name`` plus its stored extension.

    The caller has already decided that the requester may have it. Raises ``Http404`` when the
    row has no file or the storage has none under its name.
    """
    if not stored:
        raise Http404
    try:
        handle = stored.storage.open(stored.name, "rb")
    except (OSError, SuspiciousFileOperation) as exc:
        raise Http404 from exc
    extension = safe_extension(stored.name)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{download_name}{extension}",
        content_type=CONTENT_TYPES.get(extension, UNKNOWN_TYPE),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
