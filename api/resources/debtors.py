"""Debtors (``/debtors/``): listed, created with their contact points and case, read, and their
holds and opt-outs set.

A debtor that the user may not see answers 404 whether it exists or not, in the URL, in a
filter and in a body field alike (there it is "does not exist", 400 naming the field). The
national id is always masked.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.errors import duplicate_ref_error
from api.permissions import ReadAnyWriteSupervisor
from api.resources.contact_points import ContactPointInputSerializer
from cases.access import debtors_for_user
from cases.services import debtor_create_with_case
from debtors.models import Channel, ContactPoint, Debtor, Language
from debtors.services import debtor_set_holds
from debtors.validators import (
    normalize_email,
    normalize_phone,
    validate_country,
    validate_timezone,
)

HOLD_FIELDS = ("dispute", "bankruptcy", "deceased", "cease_communication")

# The 404 of every other route to a debtor (``cases.access``, the ``?debtor=`` filters).
NO_SUCH_DEBTOR = "No such debtor."


class ContactPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPoint
        fields = [
            "id",
            "kind",
            "value",
            "owner",
            "owner_name",
            "label",
            "country",
            "timezone",
            "status",
            "is_primary",
        ]
        read_only_fields = fields


class DebtorSerializer(serializers.ModelSerializer):
    """A debtor as the API shows it. The national id is always masked."""

    national_id = serializers.CharField(source="masked_national_id", read_only=True)
    contact_points = ContactPointSerializer(many=True, read_only=True)
    opt_outs = serializers.SerializerMethodField()

    class Meta:
        model = Debtor
        fields = [
            "id",
            "external_ref",
            "full_name",
            "national_id",
            "date_of_birth",
            "country",
            "region",
            "preferred_language",
            "timezone",
            *HOLD_FIELDS,
            "hardship_pause_until",
            "opt_outs",
            "contact_points",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_opt_outs(self, debtor: Debtor) -> list[str]:
        # Debtor-level opt-outs only (a row without a contact point covers every point).
        # Uses the prefetched consents when the view prefetched them.
        return sorted(
            consent.channel
            for consent in debtor.channel_consents.all()
            if consent.contact_point_id is None and consent.is_opted_out
        )


class DebtorCreateSerializer(serializers.Serializer):
    external_ref = serializers.CharField(max_length=64)
    full_name = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=2, validators=[validate_country])
    region = serializers.CharField(max_length=16, required=False, allow_blank=True)
    timezone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, validators=[validate_timezone]
    )
    preferred_language = serializers.ChoiceField(choices=Language.choices, required=False)
    national_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    contact_points = ContactPointInputSerializer(many=True, required=False)

    def validate_external_ref(self, value: str) -> str:
        if Debtor.objects.filter(external_ref=value).exists():
            raise serializers.ValidationError(
                _("A debtor with external reference %(ref)s already exists.") % {"ref": value}
            )
        return value

    def validate(self, attrs: dict) -> dict:
        """Phones must be valid for their country, emails well formed (named per item)."""
        errors: list[dict] = []
        for point in attrs.get("contact_points", []):
            item_errors: dict = {}
            try:
                if point["kind"] in ContactPoint.PHONE_KINDS:
                    normalize_phone(point["value"], attrs.get("country"))
                elif point["kind"] == ContactPoint.Kind.EMAIL:
                    normalize_email(point["value"])
            except DjangoValidationError as exc:
                item_errors["value"] = list(exc.messages)
            errors.append(item_errors)
        if any(errors):
            raise serializers.ValidationError({"contact_points": errors})
        return attrs


class DebtorHoldsSerializer(serializers.Serializer):
    """``PATCH /debtors/{id}/``: the holds and the debtor-level opted-out channels."""

    dispute = serializers.BooleanField(required=False)
    bankruptcy = serializers.BooleanField(required=False)
    deceased = serializers.BooleanField(required=False)
    cease_communication = serializers.BooleanField(required=False)
    hardship_pause_until = serializers.DateField(required=False, allow_null=True)
    opt_outs = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), required=False, allow_empty=True
    )

    def validate(self, attrs: dict) -> dict:
        # A field that cannot be changed here must not look as if it had been.
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: [_("This field cannot be changed here.")] for name in unknown}
            )
        if "opt_outs" in attrs:
            attrs["opt_outs"] = sorted(set(attrs["opt_outs"]))
        return attrs


class DebtorFilter(django_filters.FilterSet):
    class Meta:
        model = Debtor
        fields = ["external_ref"]


def _debtors(user):
    return debtors_for_user(user).prefetch_related("contact_points", "channel_consents")


class DebtorListCreateView(ApiView, generics.ListAPIView):
    permission_classes = [ReadAnyWriteSupervisor]
    serializer_class = DebtorSerializer
    filterset_class = DebtorFilter
    scope = staticmethod(_debtors)

    @extend_schema(request=DebtorCreateSerializer, responses={201: DebtorSerializer})
    def post(self, request):
        data = DebtorCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        try:
            debtor = debtor_create_with_case(actor=request.user, **fields)
        except IntegrityError:
            error = duplicate_ref_error(Debtor, fields["external_ref"])
            if error is None:
                raise
            raise error from None
        debtor = self.get_queryset().get(pk=debtor.pk)
        return Response(DebtorSerializer(debtor).data, status=status.HTTP_201_CREATED)


class DebtorDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = DebtorSerializer
    scope = staticmethod(_debtors)
    lookup_url_kwarg = "debtor_id"
    not_found_message = NO_SUCH_DEBTOR

    @extend_schema(request=DebtorHoldsSerializer, responses=DebtorSerializer)
    def patch(self, request, debtor_id: int):
        """Set or lift holds and opt-outs; each change is recorded in the debtor's history."""
        debtor = self.get_object()
        changes = DebtorHoldsSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        debtor_set_holds(actor=request.user, debtor=debtor, changes=dict(changes.validated_data))
        debtor = self.get_queryset().get(pk=debtor.pk)
        return Response(DebtorSerializer(debtor).data)
