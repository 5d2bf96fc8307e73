"""The compliance endpoints: eligibility (a dry run of the gate), permits (the real request),
recorded contact attempts, and the contact policies admins configure.

Every debtor is fetched through ``cases.access``; the gate itself lives in
``compliance`` and is only called from here, never reimplemented.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api import serializers
from api.pagination import ByIdPagination, NewestFirstPagination
from api.permissions import IsAdminRole
from api.views import ApiView, debtor_from_filter
from cases.access import debtors_for_user, get_debtor_for_user
from compliance import gate
from compliance.models import ContactAttempt, ContactPolicy
from compliance.selectors import current_policies
from compliance.services import contact_attempt_record, policy_create, policy_save


class ContactEligibilityView(ApiView):
    """``GET /debtors/{id}/contact-eligibility``: may this contact happen at ``at`` (or now)?

    Writes nothing: it is the gate's dry run.
    """

    @extend_schema(
        parameters=[serializers.EligibilityQuerySerializer],
        responses=serializers.DecisionSerializer,
    )
    def get(self, request, debtor_id: int):
        debtor = get_debtor_for_user(request.user, debtor_id)
        query = serializers.EligibilityQuerySerializer(
            data=request.query_params, context={"debtor": debtor}
        )
        query.is_valid(raise_exception=True)
        params = query.validated_data
        decision = gate.check(
            debtor=debtor,
            channel=params["channel"],
            loan=params.get("loan"),
            contact_point=params.get("contact_point"),
            at=params.get("at"),
        )
        return Response(serializers.decision_body(decision))


class ContactPermitView(ApiView):
    """``POST /debtors/{id}/contact-permits/``: 201 with a single-use permit, or 409 with the
    decision that refused it (the same body as the eligibility check)."""

    @extend_schema(
        request=serializers.ContactTargetSerializer,
        responses={201: serializers.PermitSerializer, 409: serializers.DecisionSerializer},
    )
    def post(self, request, debtor_id: int):
        debtor = get_debtor_for_user(request.user, debtor_id)
        target = serializers.ContactTargetSerializer(data=request.data, context={"debtor": debtor})
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
            body = serializers.decision_body(blocked.decision)
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(serializers.PermitSerializer(permit).data, status=status.HTTP_201_CREATED)


class ContactAttemptListCreateView(ApiView):
    """Record a contact that happened (always stored, marked as a breach if it broke the
    policy), and list them newest first, optionally for one debtor (``?debtor=<id>``)."""

    queryset = ContactAttempt.objects.none()  # the schema's model; requests scope their own
    pagination_class = NewestFirstPagination

    @extend_schema(
        operation_id="v1_contact_attempts_list",
        parameters=[OpenApiParameter("debtor", OpenApiTypes.INT)],
        responses=serializers.ContactAttemptSerializer(many=True),
    )
    def get(self, request):
        queryset = ContactAttempt.objects.filter(debtor__in=debtors_for_user(request.user))
        debtor = debtor_from_filter(request)
        if debtor is not None:
            queryset = queryset.filter(debtor=debtor)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(
            serializers.ContactAttemptSerializer(page, many=True).data
        )

    @extend_schema(
        request=serializers.ContactAttemptInputSerializer,
        responses={201: serializers.ContactAttemptSerializer},
    )
    def post(self, request):
        data = serializers.ContactAttemptInputSerializer(
            data=request.data, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        attempt = contact_attempt_record(actor=request.user, **data.validated_data)
        return Response(
            serializers.ContactAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED
        )


# --- Contact policies -----------------------------------------------------------------------

_POLICY_CONFLICT = _(
    "Another current policy already covers this jurisdiction, or is already the default."
)


def _saved_policy(save, **kwargs) -> ContactPolicy:
    """Run a policy service; a clash with another current policy is a 400, not a 500."""
    try:
        return save(**kwargs)
    except IntegrityError:
        raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [_POLICY_CONFLICT]}) from None


def _get_current_policy(slug: str) -> ContactPolicy:
    try:
        return current_policies().get(slug=slug)
    except ContactPolicy.DoesNotExist as exc:
        raise Http404(_("No such contact policy.")) from exc


class ContactPolicyListCreateView(ApiView):
    """Admins list the current policies (``?versions=all`` for every version) and create one."""

    permission_classes = [IsAdminRole]
    queryset = ContactPolicy.objects.none()  # the schema's model; requests scope their own
    pagination_class = ByIdPagination

    @extend_schema(
        operation_id="v1_contact_policies_list",
        parameters=[
            OpenApiParameter("versions", OpenApiTypes.STR, enum=["all"]),
            OpenApiParameter("slug", OpenApiTypes.STR),
        ],
        responses=serializers.ContactPolicySerializer(many=True),
    )
    def get(self, request):
        queryset = ContactPolicy.objects.all()
        if request.query_params.get("versions") != "all":
            queryset = current_policies()
        slug = request.query_params.get("slug")
        if slug:
            queryset = queryset.filter(slug=slug)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(
            serializers.ContactPolicySerializer(page, many=True).data
        )

    @extend_schema(
        request=serializers.ContactPolicyCreateSerializer,
        responses={201: serializers.ContactPolicySerializer},
    )
    def post(self, request):
        data = serializers.ContactPolicyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = _saved_policy(policy_create, actor=request.user, **data.validated_data)
        return Response(
            serializers.ContactPolicySerializer(policy).data, status=status.HTTP_201_CREATED
        )


class ContactPolicyDetailView(ApiView):
    """The current version of one policy; ``PUT`` writes the next version."""

    permission_classes = [IsAdminRole]

    @extend_schema(responses=serializers.ContactPolicySerializer)
    def get(self, request, slug: str):
        policy = _get_current_policy(slug)
        return Response(serializers.ContactPolicySerializer(policy).data)

    @extend_schema(
        request=serializers.ContactPolicyInputSerializer,
        responses=serializers.ContactPolicySerializer,
    )
    def put(self, request, slug: str):
        policy = _get_current_policy(slug)
        data = serializers.ContactPolicyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = _saved_policy(policy_save, actor=request.user, policy=policy, **data.validated_data)
        return Response(serializers.ContactPolicySerializer(new).data)
