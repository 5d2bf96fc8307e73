"""``ApiView``: the one base of every API view.

Lists and details are DRF's generic views on top of it (``ApiView, generics.ListAPIView``);
writes are explicit ``post``/``patch``/``put`` methods that validate an input serializer and
call one domain service. No business rule lives in a view.

Every queryset of debtors' data is scoped by ``cases.access`` before anything else touches it: a
collector's lists contain only their cases' objects, and another's object answers 404 by id, by
filter and by nested route alike. Lists are cursor-paginated: no page says how many rows exist.
"""

from __future__ import annotations

from django.http import Http404
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from api.errors import api_exception_handler
from api.metadata import DescriptionMetadata
from api.pagination import ByIdPagination
from api.parsers import PARSER_CLASSES


class ApiView(GenericAPIView):
    # Domain errors answer 400, never 500; lists are paginated by id; only signed-in callers
    # get in; JSON bodies must be text (``api.parsers``). ``scope`` names the function that
    # gives a caller's rows (``scope(user)``); every list, detail and nested route of the view
    # reads through it, so the scoping cannot be forgotten. Configuration that every permitted
    # caller sees whole (strategies, templates, imports, contact policies) needs no scope:
    # those views set ``queryset`` or override ``get_queryset``. ``not_found_message`` is the
    # 404's detail when the object is not among the rows (default: DRF's, naming the model).
    # (No docstring: the schema would show it as every operation's description.)

    permission_classes = [IsAuthenticated]
    parser_classes = PARSER_CLASSES
    pagination_class = ByIdPagination
    metadata_class = DescriptionMetadata
    scope = None
    not_found_message = None

    def get_exception_handler(self):
        return api_exception_handler

    def get_queryset(self):
        if self.scope is None:
            return super().get_queryset()
        return type(self).scope(self.request.user)

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            if self.not_found_message is None:
                raise
            raise Http404(self.not_found_message) from None
