"""API views: parse the request, fetch objects through ``cases.access``, call one
service, render the result. No business rule lives here.

A debtor that the user may not see answers 404 whether it exists or not, in the URL, in a
filter and in a body field alike (there it is "does not exist", 400 naming the field).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api import serializers
from api.errors import api_exception_handler
from api.metadata import DescriptionMetadata
from api.pagination import ByIdPagination
from api.permissions import ReadAnyWriteSupervisor
from cases.access import debtors_for_user, get_debtor_for_user, get_loan_for_user, loans_for_user
from cases.models import Case
from debtors.audit import acting_as
from debtors.models import Debtor, Loan
from debtors.services import debtor_create, debtor_set_holds, loan_create


class ApiView(GenericAPIView):
    """Base for every API view: domain validation errors answer 400, never 500."""

    permission_classes = [IsAuthenticated]
    metadata_class = DescriptionMetadata

    def get_exception_handler(self):
        return api_exception_handler


def _debtor_detail_queryset(queryset):
    return queryset.prefetch_related("contact_points", "channel_consents")


def debtor_create_with_case(*, actor, **fields) -> Debtor:
    """A new debtor and its (unassigned) case, in one transaction.

    The API is its only caller today; once another surface creates debtors it belongs in
    ``cases.services``.
    """
    with transaction.atomic(), acting_as(actor):
        debtor = debtor_create(actor=actor, **fields)
        Case.objects.create(debtor=debtor)
    return debtor


def _duplicate_ref_error(model, external_ref: str) -> ValidationError | None:
    """A unique external reference lost to a concurrent request reads as a 400, not a 500."""
    if model.objects.filter(external_ref=external_ref).exists():
        return ValidationError({"external_ref": [_("This external reference already exists.")]})
    return None


def debtor_from_filter(request) -> Debtor | None:
    """``?debtor=<id>``: a malformed id is a 400 naming it; another's debtor is a 404."""
    raw = request.query_params.get("debtor", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError({"debtor": [_("%(value)s is not a debtor id.") % {"value": raw}]})
    return get_debtor_for_user(request.user, int(raw))


# --- Debtors --------------------------------------------------------------------------------


class DebtorListCreateView(ApiView):
    permission_classes = [ReadAnyWriteSupervisor]
    queryset = Debtor.objects.none()  # the schema's model; requests scope their own
    pagination_class = ByIdPagination

    @extend_schema(
        operation_id="v1_debtors_list",
        parameters=[OpenApiParameter("external_ref", OpenApiTypes.STR)],
        responses=serializers.DebtorSerializer(many=True),
    )
    def get(self, request):
        queryset = _debtor_detail_queryset(debtors_for_user(request.user))
        external_ref = request.query_params.get("external_ref")
        if external_ref:
            queryset = queryset.filter(external_ref=external_ref)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializers.DebtorSerializer(page, many=True).data)

    @extend_schema(
        request=serializers.DebtorCreateSerializer, responses={201: serializers.DebtorSerializer}
    )
    def post(self, request):
        data = serializers.DebtorCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        try:
            debtor = debtor_create_with_case(actor=request.user, **fields)
        except IntegrityError:
            error = _duplicate_ref_error(Debtor, fields["external_ref"])
            if error is None:
                raise
            raise error from None
        debtor = _debtor_detail_queryset(Debtor.objects).get(pk=debtor.pk)
        return Response(serializers.DebtorSerializer(debtor).data, status=status.HTTP_201_CREATED)


class DebtorDetailView(ApiView):
    @extend_schema(responses=serializers.DebtorSerializer)
    def get(self, request, debtor_id: int):
        debtor = get_debtor_for_user(request.user, debtor_id)
        debtor = _debtor_detail_queryset(Debtor.objects).get(pk=debtor.pk)
        return Response(serializers.DebtorSerializer(debtor).data)

    @extend_schema(
        request=serializers.DebtorHoldsSerializer, responses=serializers.DebtorSerializer
    )
    def patch(self, request, debtor_id: int):
        """Set or lift holds and opt-outs; each change is recorded in the debtor's history."""
        debtor = get_debtor_for_user(request.user, debtor_id)
        changes = serializers.DebtorHoldsSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        debtor_set_holds(actor=request.user, debtor=debtor, changes=dict(changes.validated_data))
        debtor = _debtor_detail_queryset(Debtor.objects).get(pk=debtor.pk)
        return Response(serializers.DebtorSerializer(debtor).data)


# --- Loans ----------------------------------------------------------------------------------


def _loan_detail_queryset(queryset):
    return queryset.prefetch_related("installments__loan")


class LoanListCreateView(ApiView):
    permission_classes = [ReadAnyWriteSupervisor]
    queryset = Loan.objects.none()  # the schema's model; requests scope their own
    pagination_class = ByIdPagination

    @extend_schema(
        operation_id="v1_loans_list",
        parameters=[OpenApiParameter("debtor", OpenApiTypes.INT)],
        responses=serializers.LoanSerializer(many=True),
    )
    def get(self, request):
        queryset = _loan_detail_queryset(loans_for_user(request.user))
        debtor = debtor_from_filter(request)
        if debtor is not None:
            queryset = queryset.filter(debtor=debtor)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializers.LoanSerializer(page, many=True).data)

    @extend_schema(
        request=serializers.LoanCreateSerializer, responses={201: serializers.LoanSerializer}
    )
    def post(self, request):
        data = serializers.LoanCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["installments"] = [
            (item["due_date"], item["amount"]) for item in fields["installments"]
        ]
        try:
            loan = loan_create(actor=request.user, **fields)
        except IntegrityError:
            error = _duplicate_ref_error(Loan, fields["external_ref"])
            if error is None:
                raise
            raise error from None
        loan = _loan_detail_queryset(Loan.objects).get(pk=loan.pk)
        return Response(serializers.LoanSerializer(loan).data, status=status.HTTP_201_CREATED)


class LoanDetailView(ApiView):
    @extend_schema(responses=serializers.LoanSerializer)
    def get(self, request, loan_id: int):
        loan = get_loan_for_user(request.user, loan_id)
        loan = _loan_detail_queryset(Loan.objects).get(pk=loan.pk)
        return Response(serializers.LoanSerializer(loan).data)
