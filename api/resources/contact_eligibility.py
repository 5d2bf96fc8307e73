"""A debtor's contact eligibility and permits: ``/debtors/{id}/contact-eligibility`` (a dry
run of the compliance gate) and ``/debtors/{id}/contact-permits/`` (the real request).

The debtor is read through the caller's scope like every other route to it; the gate itself
lives in ``compliance`` and is only called from here, never reimplemented.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.fields import AwareDateTimeField
from api.resources.debtors import NO_SUCH_DEBTOR
from cases.access import debtors_for_user
from compliance import gate
from debtors.models import Channel, ContactPoint, Loan


class ContactTargetSerializer(serializers.Serializer):
    """A channel, and optionally a loan and a contact point, all of one debtor."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    loan = serializers.PrimaryKeyRelatedField(
        queryset=Loan.objects.none(), required=False, allow_null=True
    )
    contact_point = serializers.PrimaryKeyRelatedField(
        queryset=ContactPoint.objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        debtor = self.context.get("debtor")
        if debtor is None:  # the schema is being generated
            return
        # Only this debtor's loans and contact points: anything else is "does not exist".
        self.fields["loan"].queryset = Loan.objects.filter(debtor=debtor)
        self.fields["contact_point"].queryset = ContactPoint.objects.filter(debtor=debtor)


class EligibilityQuerySerializer(ContactTargetSerializer):
    at = AwareDateTimeField(required=False, allow_null=True)

    def to_internal_value(self, data):
        # ``?at=`` (empty) means "now", like leaving it out.
        if hasattr(data, "dict"):
            data = data.dict()
        if data.get("at") == "":
            data = {**data, "at": None}
        return super().to_internal_value(data)


class DecisionSerializer(serializers.Serializer):
    """The gate's answer; also the body of a 409 for a refused permit."""

    allowed = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    next_allowed_at = serializers.DateTimeField(allow_null=True)
    timezones = serializers.ListField(child=serializers.CharField())
    policy = serializers.CharField(allow_null=True)
    policy_version = serializers.IntegerField(allow_null=True)


def decision_body(decision) -> dict:
    """The gate's ``Decision`` as JSON, its instant rendered like every other one of the API."""
    data = decision.as_dict()
    data["next_allowed_at"] = decision.next_allowed_at
    return DecisionSerializer(data).data


class PermitSerializer(serializers.Serializer):
    permit = serializers.CharField(source="token")
    expires_at = serializers.DateTimeField()
    # The pending attempt the permit counts as; send it with the outcome to complete it.
    attempt = serializers.IntegerField(source="attempt_id")


class ContactEligibilityView(ApiView):
    """``GET /debtors/{id}/contact-eligibility``: may this contact happen at ``at`` (or now)?

    Writes nothing: it is the gate's dry run.
    """

    scope = staticmethod(debtors_for_user)
    lookup_url_kwarg = "debtor_id"
    not_found_message = NO_SUCH_DEBTOR

    @extend_schema(parameters=[EligibilityQuerySerializer], responses=DecisionSerializer)
    def get(self, request, debtor_id: int):
        debtor = self.get_object()
        query = EligibilityQuerySerializer(data=request.query_params, context={"debtor": debtor})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        decision = gate.check(
            debtor=debtor,
            channel=params["channel"],
            loan=params.get("loan"),
            contact_point=params.get("contact_point"),
            at=params.get("at"),
        )
        return Response(decision_body(decision))


class ContactPermitView(ApiView):
    """``POST /debtors/{id}/contact-permits/``: 201 with a single-use permit, or 409 with the
    decision that refused it (the same body as the eligibility check)."""

    scope = staticmethod(debtors_for_user)
    lookup_url_kwarg = "debtor_id"
    not_found_message = NO_SUCH_DEBTOR

    @extend_schema(
        request=ContactTargetSerializer,
        responses={201: PermitSerializer, 409: DecisionSerializer},
    )
    def post(self, request, debtor_id: int):
        debtor = self.get_object()
        target = ContactTargetSerializer(data=request.data, context={"debtor": debtor})
        target.is_valid(raise_exception=True)
        params = target.validated_data
        try:
            permit = gate.request(
                debtor=debtor,
                channel=params["channel"],
                actor=request.user,
                loan=params.get("loan"),
                contact_point=params.get("contact_point"),
            )
        except gate.ContactBlocked as blocked:
            return Response(decision_body(blocked.decision), status=status.HTTP_409_CONFLICT)
        return Response(PermitSerializer(permit).data, status=status.HTTP_201_CREATED)
