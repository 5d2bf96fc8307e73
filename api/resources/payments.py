"""Payments (``/payments/``): posted idempotently, listed and read.

A payment is identified by its ``external_ref`` or, without one, by the client's
``Idempotency-Key`` header: the same payment posted again is stored once. A repeat with the
same key answers with the first answer (``Idempotent-Replayed: true``); the key reused for a
different request is a 422, and a reference that belongs to another payment a 409.
"""

from __future__ import annotations

import hashlib
import json

import django_filters
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.fields import (
    AwareDateTimeField,
    InstantFilter,
    MoneyField,
    MoneyStringField,
    check_amount,
    scoped_loans,
)
from api.models import IdempotencyKey
from api.permissions import SupervisorWrites
from api.schema import FieldErrorsSerializer
from cases.access import loans_for_user
from cases.filters import debtor_filter, loan_filter
from cases.payments import payment_record
from debtors.models import Payment, PaymentAllocation


class PaymentAllocationSerializer(serializers.ModelSerializer):
    amount = MoneyStringField(lambda a: a.payment.loan.currency)

    class Meta:
        model = PaymentAllocation
        fields = ["installment", "plan_installment", "amount"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    amount = MoneyStringField(lambda p: p.loan.currency)
    allocated_amount = MoneyStringField(lambda p: p.loan.currency)
    credit_amount = MoneyStringField(lambda p: p.loan.currency)
    allocations = PaymentAllocationSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "loan",
            "amount",
            "received_at",
            "method",
            "source",
            "external_ref",
            "allocated_amount",
            "credit_amount",
            "allocations",
            "created_at",
        ]
        read_only_fields = fields


class PaymentInputSerializer(serializers.Serializer):
    loan = serializers.PrimaryKeyRelatedField(queryset=Payment.objects.none())
    amount = MoneyField()
    received_at = AwareDateTimeField()
    method = serializers.ChoiceField(choices=Payment.Method.choices)
    external_ref = serializers.CharField(
        max_length=128,
        required=False,
        help_text=_(
            "The payment's reference in the reporting system. Without it, the Idempotency-Key "
            "header identifies the payment."
        ),
    )
    source = serializers.CharField(max_length=64, required=False, default="api")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loan"].queryset = scoped_loans(self)

    def validate(self, attrs: dict) -> dict:
        loan = attrs["loan"]
        check_amount(attrs["amount"], loan.currency, "amount")
        return attrs


class PaymentFilter(django_filters.FilterSet):
    loan = loan_filter()
    debtor = debtor_filter("loan__debtor")
    received_after = InstantFilter(field_name="received_at", lookup_expr="gte")
    received_before = InstantFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Payment
        fields = ["method", "source", "external_ref"]


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_(
        "Any unique string (a UUID): the same payment posted again with the same key is "
        "stored once, and the repeat answers with the first answer."
    ),
)


def _fingerprint(data) -> str:
    canonical = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _payments(user):
    return (
        Payment.objects.filter(loan__in=loans_for_user(user))
        .select_related("loan")
        .prefetch_related("allocations__payment__loan")
    )


class PaymentListCreateView(ApiView, generics.ListAPIView):
    permission_classes = [SupervisorWrites]
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    scope = staticmethod(_payments)

    @extend_schema(
        request=PaymentInputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: PaymentSerializer,
            200: OpenApiResponse(PaymentSerializer, _("Already posted: the first result.")),
            409: OpenApiResponse(
                FieldErrorsSerializer, _("The reference belongs to another payment.")
            ),
            422: OpenApiResponse(
                FieldErrorsSerializer, _("The key was used with a different request.")
            ),
        },
    )
    def post(self, request):
        """Post a payment: allocated oldest installment first, promises and the plan updated,
        reminders it made pointless cancelled, all in one transaction."""
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            raise serializers.ValidationError({"Idempotency-Key": [_("At most 255 characters.")]})
        # PostgreSQL cannot store a NUL; no key needs a control character.
        if not key.isprintable():
            raise serializers.ValidationError(
                {"Idempotency-Key": [_("Printable characters only (a UUID, for example).")]}
            )
        data = PaymentInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if not fields.get("external_ref"):
            if not key:
                raise serializers.ValidationError(
                    {"external_ref": [_("Send an external_ref or an Idempotency-Key header.")]}
                )
            fields["external_ref"] = f"key:{request.user.pk}:{key}"[:128]
        if not key:
            return self._post(request, fields)
        fingerprint = _fingerprint(request.data)
        with transaction.atomic():
            try:
                # The key's row is taken first: a concurrent request with the same key waits
                # here until this one commits, then replays its answer.
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=request.user,
                        endpoint="payments",
                        key=key,
                        fingerprint=fingerprint,
                        response_status=0,
                        response_body={},
                    )
            except IntegrityError:
                record = None
            if record is not None:
                response = self._post(request, fields)
                record.response_status = response.status_code
                record.response_body = response.data
                record.save(update_fields=["response_status", "response_body"])
                return response
        return self._replay(request, key, fingerprint)

    def _post(self, request, fields) -> Response:
        loan = fields.pop("loan")
        posted = payment_record(actor=request.user, loan=loan, **fields)
        payment = posted.payment
        if not posted.created and (
            payment.loan_id != loan.pk or payment.amount != fields["amount"]
        ):
            return Response(
                {"external_ref": [_("This reference already belongs to another payment.")]},
                status=status.HTTP_409_CONFLICT,
            )
        payment = self.get_queryset().get(pk=payment.pk)
        body = PaymentSerializer(payment).data
        return Response(body, status=status.HTTP_201_CREATED if posted.created else 200)

    def _replay(self, request, key: str, fingerprint: str) -> Response:
        record = IdempotencyKey.objects.get(user=request.user, endpoint="payments", key=key)
        if record.fingerprint != fingerprint:
            return Response(
                {"Idempotency-Key": [_("This key was already used with a different request.")]},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response(
            record.response_body,
            status=record.response_status,
            headers={"Idempotent-Replayed": "true"},
        )


class PaymentDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = PaymentSerializer
    scope = staticmethod(_payments)
