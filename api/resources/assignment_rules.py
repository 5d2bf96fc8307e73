"""Assignment rules (``/assignment-rules/``): admins keep the ordered list; supervisors read it
and deal out the cases that have no collector (``/assignment-rules/apply/``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.permissions import SupervisorsOnly
from cases.assignment import (
    assignment_rule_delete,
    assignment_rule_save,
    cases_assign_apply,
)
from cases.models import AssignmentRule
from cases.roles import is_admin
from debtors.models import Loan

ADMINS_ONLY = _("Only admins may change the assignment rules.")


class ConditionsSerializer(serializers.Serializer):
    country = serializers.ListField(
        child=serializers.RegexField(r"^[A-Za-z]{2}$"), required=False, default=list
    )
    language = serializers.ListField(
        child=serializers.CharField(max_length=16), required=False, default=list
    )
    product = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list
    )
    risk_band = serializers.ListField(
        child=serializers.ChoiceField(choices=Loan.RiskBand.choices), required=False, default=list
    )
    min_days_past_due = serializers.IntegerField(
        min_value=0, max_value=100000, required=False, allow_null=True
    )
    max_days_past_due = serializers.IntegerField(
        min_value=0, max_value=100000, required=False, allow_null=True
    )
    min_outstanding = serializers.DecimalField(
        max_digits=19, decimal_places=4, min_value=0, required=False, allow_null=True
    )
    max_outstanding = serializers.DecimalField(
        max_digits=19, decimal_places=4, min_value=0, required=False, allow_null=True
    )


# Conditions that are lists (left out: an empty list); the others are bounds (left out: None).
LIST_CONDITIONS = ("country", "language", "product", "risk_band")

# API condition names -> rule fields.
CONDITION_FIELDS = {
    "country": "countries",
    "language": "languages",
    "product": "products",
    "risk_band": "risk_bands",
    "min_days_past_due": "min_days_past_due",
    "max_days_past_due": "max_days_past_due",
    "min_outstanding": "min_outstanding",
    "max_outstanding": "max_outstanding",
}


class AssignmentRuleSerializer(serializers.ModelSerializer):
    conditions = serializers.SerializerMethodField()
    collectors = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = AssignmentRule
        fields = ["id", "name", "order", "is_active", "conditions", "collectors", "method"]
        read_only_fields = fields

    def get_conditions(self, rule) -> dict:
        return {key: getattr(rule, field) for key, field in CONDITION_FIELDS.items()}


class AssignmentRuleInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    order = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0)
    is_active = serializers.BooleanField(required=False, default=True)
    conditions = ConditionsSerializer(required=False)
    collectors = serializers.PrimaryKeyRelatedField(
        many=True, queryset=get_user_model().objects.all()
    )
    method = serializers.ChoiceField(choices=AssignmentRule.Method.choices)

    def to_fields(self) -> dict:
        data = dict(self.validated_data)
        fields = {
            name: data[name] for name in ("name", "order", "is_active", "method") if name in data
        }
        if "conditions" in data:
            conditions = data["conditions"]
            for key, field in CONDITION_FIELDS.items():
                fields[field] = conditions.get(key, [] if key in LIST_CONDITIONS else None)
        return fields


class _RuleAccess:
    """Supervisors and admins read; admins write."""

    permission_classes = [SupervisorsOnly]
    queryset = AssignmentRule.objects.prefetch_related("collectors")

    def require_admin(self, request) -> None:
        if not is_admin(request.user):
            self.permission_denied(request, message=ADMINS_ONLY)


class AssignmentRuleListView(_RuleAccess, ApiView, generics.ListAPIView):
    serializer_class = AssignmentRuleSerializer
    pagination_class = None

    @extend_schema(request=AssignmentRuleInputSerializer, responses={201: AssignmentRuleSerializer})
    def post(self, request):
        """Add a rule (admins)."""
        self.require_admin(request)
        data = AssignmentRuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = assignment_rule_save(
            actor=request.user,
            collectors=data.validated_data["collectors"],
            **data.to_fields(),
        )
        return Response(AssignmentRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class AssignmentRuleDetailView(_RuleAccess, ApiView, generics.RetrieveAPIView):
    serializer_class = AssignmentRuleSerializer

    @extend_schema(request=AssignmentRuleInputSerializer, responses={200: AssignmentRuleSerializer})
    def patch(self, request, pk: int):
        """Change a rule (admins): only the fields given change."""
        rule = self.get_object()
        self.require_admin(request)
        data = AssignmentRuleInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = assignment_rule_save(
            actor=request.user,
            rule=rule,
            collectors=data.validated_data.get("collectors"),
            **data.to_fields(),
        )
        return Response(AssignmentRuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        """Remove a rule (admins)."""
        rule = self.get_object()
        self.require_admin(request)
        assignment_rule_delete(actor=request.user, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssignmentApplyView(ApiView, generics.GenericAPIView):
    permission_classes = [SupervisorsOnly]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("AssignedCount", {"assigned": serializers.IntegerField()}),
            403: OpenApiResponse(description=_("Not a supervisor.")),
        },
    )
    def post(self, request):
        """Deal out every open case that has no (active) collector, by the rules."""
        return Response({"assigned": cases_assign_apply(actor=request.user)})
