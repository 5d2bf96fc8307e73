"""Contact attempts (``/contact-attempts/``): contacts that happened, recorded (always stored,
marked as a breach if they broke the policy) and listed newest first.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.fields import AwareDateTimeField
from api.pagination import NewestFirstPagination
from cases.access import debtors_for_user, loans_for_user
from cases.filters import debtor_filter
from cases.services import contact_outcome_record
from compliance.models import ContactAttempt, Direction, Outcome
from debtors.models import Channel, ContactPoint, Debtor, Loan


class ContactAttemptInputSerializer(serializers.Serializer):
    """A contact that already happened. ``pending`` is the gate's own outcome for a permit."""

    debtor = serializers.PrimaryKeyRelatedField(queryset=Debtor.objects.none())
    loan = serializers.PrimaryKeyRelatedField(
        queryset=Loan.objects.none(), required=False, allow_null=True
    )
    contact_point = serializers.PrimaryKeyRelatedField(
        queryset=ContactPoint.objects.none(), required=False, allow_null=True
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices)
    outcome = serializers.ChoiceField(
        choices=[(value, label) for value, label in Outcome.choices if value != Outcome.PENDING]
    )
    occurred_at = AwareDateTimeField()
    attempt = serializers.PrimaryKeyRelatedField(
        queryset=ContactAttempt.objects.none(),
        required=False,
        allow_null=True,
        help_text=_(
            "The pending attempt of a permit (its id is returned with the permit): the outcome "
            "completes that attempt instead of adding another."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # the schema is being generated
            return
        user = request.user
        visible = debtors_for_user(user)
        self.fields["debtor"].queryset = visible
        self.fields["loan"].queryset = loans_for_user(user)
        self.fields["contact_point"].queryset = ContactPoint.objects.filter(debtor__in=visible)
        self.fields["attempt"].queryset = ContactAttempt.objects.filter(
            debtor__in=visible, outcome=Outcome.PENDING
        )

    def validate(self, attrs: dict) -> dict:
        debtor = attrs["debtor"]
        errors = {}
        loan = attrs.get("loan")
        if loan is not None and loan.debtor_id != debtor.pk:
            errors["loan"] = [_("This loan is not one of the debtor's.")]
        point = attrs.get("contact_point")
        if point is not None and point.debtor_id != debtor.pk:
            errors["contact_point"] = [_("This contact point is not one of the debtor's.")]
        attempt = attrs.get("attempt")
        if attempt is not None and attempt.debtor_id != debtor.pk:
            errors["attempt"] = [_("This attempt is not one of the debtor's.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ContactAttemptSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="actor_label", read_only=True)
    body = serializers.SerializerMethodField(
        help_text=_("What the message said: an SMS or email sent, or a reply received.")
    )
    delivery_status = serializers.SerializerMethodField(
        help_text=_("The provider's last delivery report on a sent message, else empty.")
    )

    def _words(self, attempt: ContactAttempt):
        for name in ("sent_message", "received_message"):
            try:
                return getattr(attempt, name)
            except ObjectDoesNotExist:
                continue
        return None

    def get_body(self, attempt: ContactAttempt) -> str:
        words = self._words(attempt)
        return words.body if words is not None else ""

    def get_delivery_status(self, attempt: ContactAttempt) -> str:
        words = self._words(attempt)
        return getattr(words, "delivery_status", "") if words is not None else ""

    class Meta:
        model = ContactAttempt
        fields = [
            "id",
            "debtor",
            "loan",
            "contact_point",
            "channel",
            "direction",
            "outcome",
            "occurred_at",
            "breach",
            "breach_reasons",
            "recorded_by",
            "body",
            "delivery_status",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class ContactAttemptFilter(django_filters.FilterSet):
    debtor = debtor_filter()

    class Meta:
        model = ContactAttempt
        fields = []


def _contact_attempts(user):
    return ContactAttempt.objects.filter(debtor__in=debtors_for_user(user)).select_related(
        "sent_message", "received_message"
    )


class ContactAttemptListCreateView(ApiView, generics.ListAPIView):
    """Record a contact that happened (always stored, marked as a breach if it broke the
    policy), and list them newest first, optionally for one debtor (``?debtor=<id>``)."""

    serializer_class = ContactAttemptSerializer
    filterset_class = ContactAttemptFilter
    pagination_class = NewestFirstPagination
    scope = staticmethod(_contact_attempts)

    @extend_schema(request=ContactAttemptInputSerializer, responses={201: ContactAttemptSerializer})
    def post(self, request):
        data = ContactAttemptInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        attempt = contact_outcome_record(actor=request.user, **data.validated_data)
        return Response(ContactAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)
