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
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.base import ApiView
from api.errors import duplicate_ref_error
from api.fields import PhonesMaskedForCollectors, masked_birth_date, sees_in_full
from api.permissions import ReadAnyWriteSupervisor
from api.resources.contact_points import ContactPointInputSerializer
from cases.access import debtors_for_user
from cases.models import RevealLog
from cases.services import (
    contact_point_reveal,
    date_of_birth_reveal,
    debtor_create_with_case,
    national_id_reveal,
)
from debtors.crypto import blind_index
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


class ContactPointSerializer(PhonesMaskedForCollectors, serializers.ModelSerializer):
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
    date_of_birth = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "YYYY-MM-DD for supervisors and admins; the year only (YYYY-**-**) for collectors, "
            "who reveal it through POST /api/v1/debtors/{id}/reveal/ (logged)."
        ),
    )
    contact_points = ContactPointSerializer(many=True, read_only=True)
    opt_outs = serializers.SerializerMethodField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        day = instance.date_of_birth
        data["date_of_birth"] = (
            (day.isoformat() if day else None) if sees_in_full(self) else masked_birth_date(day)
        )
        return data

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
    national_id = django_filters.CharFilter(
        method="by_national_id",
        label=_("The full national id, exactly (spaces and dashes aside, any case)."),
    )

    class Meta:
        model = Debtor
        fields = ["external_ref"]

    def by_national_id(self, queryset, name, value):
        # Stored encrypted: found by its search key.
        return queryset.filter(national_id_index=blind_index(value)) if value else queryset


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
        return Response(
            DebtorSerializer(debtor, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


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
        return Response(DebtorSerializer(debtor, context={"request": request}).data)


class RevealSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=RevealLog.Field.choices)
    contact_point = serializers.IntegerField(
        required=False, help_text=_("The contact point to reveal (field contact_point).")
    )


class RevealedSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField(allow_null=True)


class DebtorRevealView(ApiView):
    """``POST /api/v1/debtors/{id}/reveal/``: one masked value in full (a national id, a phone
    number, a date of birth), for a debtor the caller may see; logged before it is answered,
    like a reveal on the case page."""

    scope = staticmethod(debtors_for_user)
    serializer_class = RevealSerializer

    @extend_schema(request=RevealSerializer, responses={200: RevealedSerializer})
    def post(self, request, debtor_id: int):
        debtor = self.get_queryset().filter(pk=debtor_id).first()
        if debtor is None:
            raise NotFound(NO_SUCH_DEBTOR)
        data = RevealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        field = data.validated_data["field"]
        if field == RevealLog.Field.NATIONAL_ID:
            value = national_id_reveal(actor=request.user, debtor=debtor)
        elif field == RevealLog.Field.DATE_OF_BIRTH:
            day = date_of_birth_reveal(actor=request.user, debtor=debtor)
            value = day.isoformat() if day else None
        else:
            point = debtor.contact_points.filter(
                pk=data.validated_data.get("contact_point")
            ).first()
            if point is None:
                raise serializers.ValidationError(
                    {"contact_point": [_("Name one of this debtor's contact points.")]}
                )
            value = contact_point_reveal(actor=request.user, contact_point=point)
        return Response({"field": field, "value": value})
