"""``OPTIONS`` answers: the view's name, description and formats, no serializer dump.

DRF's default describes the writable fields by building the view's serializer, which for
views whose serializer depends on the object in the URL (or on nothing at all) is wrong or
fails; the OpenAPI schema at ``/api/schema/`` is where clients learn the fields.
"""

from __future__ import annotations

from rest_framework.metadata import SimpleMetadata


class DescriptionMetadata(SimpleMetadata):
    def determine_actions(self, request, view):
        return {}
