"""``/api/v1/auth/token/``: ``POST`` a username and password, get the user's API token;
``DELETE`` ends the caller's token.

DRF's ``AuthTokenSerializer`` checks the credentials (a username longer than a username can
be is refused before that), after the login lockout
(``django-axes``): ten failures for a username from one address lock it, and the right password
is then refused too (429). A token lives ``API_TOKEN_TTL_DAYS``; asking again after that gives a
new one.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import parsers, renderers, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from api.authentication import token_expired, tokens_revoke
from api.base import ApiView
from api.parsers import JSONParser

User = get_user_model()

LOCKED_OUT = _(
    "Too many failed sign-ins for this username from this address: it is locked for a while. "
    "A supervisor can unlock it."
)


class CredentialsSerializer(AuthTokenSerializer):
    # No longer than a username can be: a longer one is refused before the sign-in is tried
    # (the lockout records every failed one, in a column of 255 characters).
    username = serializers.CharField(
        label=_("Username"),
        write_only=True,
        max_length=User._meta.get_field(User.USERNAME_FIELD).max_length,
    )


class TokenView(ApiView):
    # Anyone may ask: the credentials are the check. Forms, uploads and JSON in, JSON out, as
    # with DRF's ``ObtainAuthToken``. Deleting needs the token itself.
    parser_classes = [parsers.FormParser, parsers.MultiPartParser, JSONParser]
    renderer_classes = [renderers.JSONRenderer]
    serializer_class = CredentialsSerializer

    def get_permissions(self):
        if self.request is not None and self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    @extend_schema(
        responses={
            200: inline_serializer("Token", fields={"token": serializers.CharField()}),
            400: OpenApiResponse(description=_("The username or the password is wrong.")),
            429: OpenApiResponse(description=LOCKED_OUT),
        },
    )
    def post(self, request):
        credentials = self.get_serializer(data=request.data)
        if not credentials.is_valid():
            # The lockout backend marks the request it refused.
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": LOCKED_OUT}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            raise serializers.ValidationError(credentials.errors)
        user = credentials.validated_data["user"]
        token = Token.objects.filter(user=user).first()
        if token is not None and token_expired(token):
            token.delete()
            token = None
        if token is None:
            token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        """End the caller's token (every token of the caller: there is one per user)."""
        tokens_revoke(user_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
