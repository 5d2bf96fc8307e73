"""API tokens that end: ``API_TOKEN_TTL_DAYS`` after they were made, and at once when their
user changes password, is deactivated, signs out, or deletes the token
(``DELETE /api/v1/auth/token/``)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_expired(token: Token, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return token.created <= now - dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)


def tokens_revoke(*, user_id: int) -> int:
    """End every API token of the user; returns how many there were."""
    deleted, _by_model = Token.objects.filter(user_id=user_id).delete()
    return deleted


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's ``Authorization: Token <key>``, refused once the token is past its lifetime."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise AuthenticationFailed(_("The token has expired; ask for a new one."))
        return user, token


@receiver(user_logged_out)
def _revoke_on_sign_out(sender, request, user, **kwargs):
    if user is not None:
        tokens_revoke(user_id=user.pk)


@receiver(pre_save, sender=get_user_model())
def _revoke_on_password_or_deactivation(sender, instance, update_fields=None, **kwargs):
    """A new password or a deactivation ends the user's tokens (a stolen token must not
    outlive the password it was obtained with)."""
    if instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # last_login and the like: nothing that ends a token
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["password"] != instance.password or (before["is_active"] and not instance.is_active):
        tokens_revoke(user_id=instance.pk)
