"""Cases (``/cases/``): listed with the same ``CaseFilter`` as the exports, read, and assigned
to a collector by supervisors."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from api.base import ApiView
from api.permissions import SupervisorsOnly
from cases.access import cases_for_user
from cases.filters import CaseFilter
from cases.models import Case
from cases.roles import COLLECTOR, is_supervisor
from cases.services import cases_reassign


class CaseSerializer(serializers.ModelSerializer):
    total_outstanding = serializers.DecimalField(max_digits=19, decimal_places=2, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "debtor",
            "assigned_to",
            "status",
            "next_action_on",
            "max_days_past_due",
            "total_outstanding",
            "broken_promises",
            "last_contact_at",
            "priority",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CaseAssignSerializer(serializers.Serializer):
    assigned_to = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.none(),
        allow_null=True,
        help_text=_("A collector's user id, or null to unassign."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = get_user_model().objects.filter(
            groups__name=COLLECTOR, is_active=True
        )


class CaseListView(ApiView, generics.ListAPIView):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    scope = staticmethod(cases_for_user)


class CaseDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = CaseSerializer
    scope = staticmethod(cases_for_user)

    @extend_schema(
        request=CaseAssignSerializer,
        responses={200: CaseSerializer, 403: OpenApiResponse(description=_("Not a supervisor."))},
    )
    def patch(self, request, pk: int):
        """Assign the case to a collector (or nobody). Supervisors only."""
        case = self.get_object()
        if not is_supervisor(request.user):
            self.permission_denied(request, message=SupervisorsOnly.message)
        data = CaseAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cases_reassign(
            actor=request.user, case_ids=[case.pk], to_user=data.validated_data["assigned_to"]
        )
        return Response(CaseSerializer(self.get_queryset().get(pk=case.pk)).data)
