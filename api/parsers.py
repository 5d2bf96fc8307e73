"""Request bodies: DRF's parsers, with JSON that must be text.

JSON may escape half of a surrogate pair on its own (``"\\ud800"``). Python parses it into a
string that no UTF-8 can hold: PostgreSQL refuses it, and so does the JSON of any answer that
repeats it (``"\\ud800" is not a valid choice``), both as a server error. The body is refused
as unparseable instead, like a body that is not JSON. Forms and query strings cannot carry one:
Django decodes their bytes with replacement characters.
"""

from __future__ import annotations

import json

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError(
                _("JSON parse error - a string holds half of a surrogate pair (\\ud800-\\udfff).")
            ) from None
        return data


# DRF's defaults, with the JSON above.
PARSER_CLASSES = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
