"""``POST /api/v1/auth/token/``: a username and password in, the user's API token out.

DRF's ``AuthTokenSerializer`` checks the credentials; the same user always gets the same token.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import parsers, renderers, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from api.base import ApiView


class TokenView(ApiView):
    # Anyone may ask: the credentials are the check. Forms, uploads and JSON in, JSON out, as
    # with DRF's ``ObtainAuthToken``.
    permission_classes = [AllowAny]
    parser_classes = [parsers.FormParser, parsers.MultiPartParser, parsers.JSONParser]
    renderer_classes = [renderers.JSONRenderer]
    serializer_class = AuthTokenSerializer

    @extend_schema(
        responses=inline_serializer("Token", fields={"token": serializers.CharField()}),
    )
    def post(self, request):
        credentials = self.get_serializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        token, _created = Token.objects.get_or_create(user=credentials.validated_data["user"])
        return Response({"token": token.key})
