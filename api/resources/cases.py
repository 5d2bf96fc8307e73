"""Cases (``/cases/``): listed with the same ``CaseFilter`` as the exports, read, assigned to a
collector and closed by supervisors, with the history of their status and collector; and the
caller's next case (``/cases/next/``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.permissions import SupervisorsOnly
from cases.access import cases_for_user
from cases.filters import CaseFilter
from cases.lifecycle import case_close, case_history
from cases.models import Case
from cases.roles import COLLECTOR, is_collector, is_supervisor
from cases.selectors import next_case
from cases.services import cases_reassign
from scoring.models import CaseScore
from scoring.selectors import reason_label


class ScoreReasonSerializer(serializers.Serializer):
    feature = serializers.CharField(help_text=_("The feature's code, e.g. days_past_due."))
    bin = serializers.IntegerField(help_text=_("The index of the case's bin of the feature."))
    points = serializers.IntegerField(help_text=_("What the bin costs against the best one."))
    label = serializers.CharField(help_text=_("The reason in words, in the caller's language."))


class CaseSerializer(serializers.ModelSerializer):
    total_outstanding = serializers.DecimalField(max_digits=19, decimal_places=2, read_only=True)
    closed_reason = serializers.SerializerMethodField(
        help_text=_("Why the case is closed (null while it is not).")
    )
    score = serializers.SerializerMethodField(
        help_text=_("The active score model's points (higher: likelier to pay); null if unscored.")
    )
    score_band = serializers.SerializerMethodField(
        help_text=_("A (likeliest to pay within 30 days) to E; null if unscored.")
    )
    score_reasons = serializers.SerializerMethodField(
        help_text=_("Up to three features that cost the score the most points, costliest first.")
    )

    def get_closed_reason(self, case) -> str | None:
        return case.closed_reason or None

    @staticmethod
    def _score(case):
        try:
            return case.score
        except CaseScore.DoesNotExist:
            return None

    def get_score(self, case) -> int | None:
        score = self._score(case)
        return score.points if score is not None else None

    def get_score_band(self, case) -> str | None:
        score = self._score(case)
        return score.band if score is not None else None

    @extend_schema_field(ScoreReasonSerializer(many=True))
    def get_score_reasons(self, case) -> list[dict]:
        score = self._score(case)
        if score is None:
            return []
        return [{**reason, "label": reason_label(reason)} for reason in score.reasons]

    class Meta:
        model = Case
        fields = [
            "id",
            "debtor",
            "assigned_to",
            "status",
            "closed_reason",
            "closed_at",
            "next_action_on",
            "max_days_past_due",
            "total_outstanding",
            "broken_promises",
            "last_contact_at",
            "priority",
            "score",
            "score_band",
            "score_reasons",
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


class CaseCloseSerializer(serializers.Serializer):
    reason = serializers.CharField(
        help_text=_(
            "charged_off, deceased, bankrupt or withdrawn (paid and settled are automatic)."
        )
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text=_("Why, in words (kept on the case and in its history)."),
    )


class CaseHistoryEntrySerializer(serializers.Serializer):
    status = serializers.CharField()
    closed_reason = serializers.CharField(allow_null=True)
    assigned_to = serializers.IntegerField(allow_null=True)
    changed_at = serializers.DateTimeField()
    changed_by = serializers.CharField()
    why = serializers.CharField()


def _cases_with_scores(user):
    return cases_for_user(user).select_related("score")


class CaseListView(ApiView, generics.ListAPIView):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    scope = staticmethod(_cases_with_scores)


class CaseDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = CaseSerializer
    scope = staticmethod(_cases_with_scores)

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


class CaseCloseView(ApiView, generics.GenericAPIView):
    serializer_class = CaseCloseSerializer
    scope = staticmethod(cases_for_user)

    @extend_schema(
        request=CaseCloseSerializer,
        responses={
            200: CaseSerializer,
            400: OpenApiResponse(description=_("Unknown reason, paid or settled, or closed.")),
            403: OpenApiResponse(description=_("Not a supervisor.")),
        },
    )
    def post(self, request, pk: int):
        """Close the case (supervisors): charged off, deceased, bankrupt or withdrawn."""
        case = self.get_object()
        if not is_supervisor(request.user):
            self.permission_denied(request, message=SupervisorsOnly.message)
        data = CaseCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"]
        case_close(
            actor=request.user,
            case=case,
            reason=reason,
            # The API's reason code is reason enough when no words are given.
            note=data.validated_data.get("note") or f"{reason} (API)",
        )
        return Response(CaseSerializer(self.get_queryset().get(pk=case.pk)).data)


class CaseHistoryView(ApiView, generics.GenericAPIView):
    scope = staticmethod(cases_for_user)
    pagination_class = None

    @extend_schema(responses={200: CaseHistoryEntrySerializer(many=True)})
    def get(self, request, pk: int):
        """The changes of the case's status and collector, newest first."""
        case = self.get_object()
        return Response(CaseHistoryEntrySerializer(case_history(case), many=True).data)


class NextCaseView(ApiView, generics.GenericAPIView):
    scope = staticmethod(cases_for_user)

    @extend_schema(
        request=None,
        responses={
            200: CaseSerializer,
            204: OpenApiResponse(description=_("Nothing can be worked now.")),
            403: OpenApiResponse(description=_("Not a collector.")),
        },
    )
    def post(self, request):
        """The caller's next case to work (collectors). Offering it changes nothing."""
        if not is_collector(request.user):
            self.permission_denied(request, message=_("Only collectors are given cases to work."))
        case = next_case(request.user)
        if case is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CaseSerializer(self.get_queryset().get(pk=case.pk)).data)
