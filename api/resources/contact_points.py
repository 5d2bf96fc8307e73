"""Contact points (``/contact-points/``): a debtor's numbers and addresses, added and marked
valid, invalid or wrong party.

``ContactPointInputSerializer`` is also the shape of the contact points sent with a new debtor.
"""

from __future__ import annotations

import django_filters
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.fields import PhonesMaskedForCollectors, scoped_debtors
from cases.access import debtors_for_user
from cases.filters import debtor_filter
from cases.services import contact_point_mark
from debtors.models import ContactPoint
from debtors.services import contact_point_add
from debtors.validators import validate_country, validate_timezone


class ContactPointInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContactPoint.Kind.choices)
    value = serializers.CharField(max_length=500)
    owner = serializers.ChoiceField(
        choices=ContactPoint.Owner.choices, default=ContactPoint.Owner.SELF
    )
    owner_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    label = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, validators=[validate_country]
    )
    timezone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, validators=[validate_timezone]
    )
    is_primary = serializers.BooleanField(required=False)


class ContactPointDetailSerializer(PhonesMaskedForCollectors, serializers.ModelSerializer):
    class Meta:
        model = ContactPoint
        fields = [
            "id",
            "debtor",
            "kind",
            "value",
            "owner",
            "owner_name",
            "label",
            "country",
            "timezone",
            "status",
            "is_primary",
            "created_at",
        ]
        read_only_fields = fields


class ContactPointCreateSerializer(ContactPointInputSerializer):
    debtor = serializers.PrimaryKeyRelatedField(queryset=ContactPoint.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["debtor"].queryset = scoped_debtors(self)


class ContactPointStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ContactPoint.Status.choices)


class ContactPointFilter(django_filters.FilterSet):
    debtor = debtor_filter()

    class Meta:
        model = ContactPoint
        fields = ["kind", "status", "owner"]


def _contact_points(user):
    return ContactPoint.objects.filter(debtor__in=debtors_for_user(user))


class ContactPointListCreateView(ApiView, generics.ListAPIView):
    serializer_class = ContactPointDetailSerializer
    filterset_class = ContactPointFilter
    scope = staticmethod(_contact_points)

    @extend_schema(
        request=ContactPointCreateSerializer, responses={201: ContactPointDetailSerializer}
    )
    def post(self, request):
        data = ContactPointCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                point = contact_point_add(actor=request.user, **data.validated_data)
        except IntegrityError:
            raise serializers.ValidationError(
                {"value": [_("The debtor already has this contact point.")]}
            ) from None
        return Response(
            ContactPointDetailSerializer(point, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ContactPointDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = ContactPointDetailSerializer
    scope = staticmethod(_contact_points)

    @extend_schema(request=ContactPointStatusSerializer, responses=ContactPointDetailSerializer)
    def patch(self, request, pk: int):
        """Mark a number or address valid, invalid or wrong party."""
        point = self.get_object()
        data = ContactPointStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        point = contact_point_mark(
            actor=request.user, contact_point=point, status=data.validated_data["status"]
        )
        return Response(ContactPointDetailSerializer(point, context={"request": request}).data)
