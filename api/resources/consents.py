"""Consents (``/consents/``): a debtor's consent to be contacted on a channel (the TCPA's prior
express consent for automated texts), recorded with where it was given and when it expires,
and listed with every revocation and restoration (a STOP, a START, an unsubscribe) and the
message that caused it."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.fields import AwareDateTimeField, scoped_debtors
from cases.access import debtors_for_user
from cases.filters import debtor_filter
from debtors.models import Channel, ChannelConsent, ConsentEvent, ContactPoint
from debtors.services import channel_consent_record


class ConsentEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = ConsentEvent
        fields = ["kind", "at", "source", "evidence", "actor"]
        read_only_fields = fields


class ConsentSerializer(serializers.ModelSerializer):
    given_at = serializers.DateTimeField(source="consented_at", read_only=True)
    source = serializers.CharField(source="consent_source", read_only=True)
    in_force = serializers.BooleanField(source="has_consent", read_only=True)
    events = ConsentEventSerializer(many=True, read_only=True)

    class Meta:
        model = ChannelConsent
        fields = [
            "id",
            "debtor",
            "channel",
            "contact_point",
            "given_at",
            "source",
            "expires_at",
            "opted_out_at",
            "opt_out_source",
            "in_force",
            "events",
        ]
        read_only_fields = fields


class ConsentCreateSerializer(serializers.Serializer):
    debtor = serializers.PrimaryKeyRelatedField(queryset=ChannelConsent.objects.none())
    channel = serializers.ChoiceField(choices=Channel.choices)
    contact_point = serializers.PrimaryKeyRelatedField(
        queryset=ContactPoint.objects.none(),
        required=False,
        allow_null=True,
        help_text=_("Leave out for every contact point of that channel."),
    )
    given_at = AwareDateTimeField(required=False)
    source = serializers.CharField(
        max_length=100, help_text=_('Where it was given: "loan agreement §7", "portal" ...')
    )
    expires_at = AwareDateTimeField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        debtors = scoped_debtors(self)
        self.fields["debtor"].queryset = debtors
        self.fields["contact_point"].queryset = ContactPoint.objects.filter(debtor__in=debtors)


class ConsentFilter(django_filters.FilterSet):
    debtor = debtor_filter()

    class Meta:
        model = ChannelConsent
        fields = []


def _consents(user):
    return (
        ChannelConsent.objects.filter(debtor__in=debtors_for_user(user))
        .prefetch_related("events")
        .order_by("-id")
    )


class ConsentListCreateView(ApiView, generics.ListAPIView):
    """Record a consent (201), or list a debtor's (``?debtor=<id>``) with their revocations."""

    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter
    scope = staticmethod(_consents)

    @extend_schema(request=ConsentCreateSerializer, responses={201: ConsentSerializer})
    def post(self, request):
        data = ConsentCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            consent = channel_consent_record(
                actor=request.user,
                debtor=values["debtor"],
                channel=values["channel"],
                contact_point=values.get("contact_point"),
                source=values["source"],
                given_at=values.get("given_at"),
                expires_at=values.get("expires_at"),
                evidence=f"Recorded through the API by {request.user.get_username()}",
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)
