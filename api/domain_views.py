"""The rest of the domain over HTTP: payments (idempotent), contact points, installments,
plans, promises, cases (assignment), notes, reminder strategies, templates and imports.

Every queryset is scoped by ``cases.access`` before anything else touches it: a
collector's lists contain only their cases' objects, and another's object answers 404 by id,
by filter and by nested route alike. Lists are cursor-paginated: no page says how many rows
exist.
"""

from __future__ import annotations

import hashlib
import inspect
import json

from django.db import IntegrityError, transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api import domain_serializers as ds
from api import filters
from api.errors import api_exception_handler
from api.metadata import DescriptionMetadata
from api.models import IdempotencyKey
from api.pagination import ByIdPagination
from api.permissions import SupervisorsOnly, SupervisorWrites
from cases.access import cases_for_user, debtors_for_user, loans_for_user
from cases.filters import CaseFilter
from cases.models import Note
from cases.payments import payment_record
from cases.roles import is_supervisor
from cases.services import (
    cases_reassign,
    contact_point_mark,
    note_add,
    plan_propose,
    promise_record,
)
from debtors.models import ContactPoint, Installment, Payment, PromiseToPay, RepaymentPlan
from debtors.services import contact_point_add
from imports.models import ImportIssue, ImportJob
from imports.services import import_create, rejected_rows_csv
from imports.tasks import import_enqueue
from messaging.models import MessageTemplate
from reminders.models import ReminderStrategy


class Scoped:
    # Domain errors answer 400; lists are paginated by id. ``scope`` names the function that
    # gives a caller's rows (``scope(user)``); every list, detail and nested route of the view
    # reads through it, so the scoping cannot be forgotten. (No docstring: the schema would
    # show it as every operation's description.)

    permission_classes = [IsAuthenticated]
    pagination_class = ByIdPagination
    metadata_class = DescriptionMetadata
    scope = None

    def get_exception_handler(self):
        return api_exception_handler

    def get_queryset(self):
        if self.scope is None:
            return super().get_queryset()
        return type(self).scope(self.request.user)


class Creates:
    # ``POST`` validates ``create_serializer_class``, makes the object with ``create`` (a
    # service call) and answers 201 with it in the view's ``serializer_class``. (A comment:
    # the schema would show a docstring as the operation's description.)

    create_serializer_class = None

    def create(self, request, fields: dict):
        raise NotImplementedError

    def post(self, request):
        data = self.create_serializer_class(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        created = self.create(request, dict(data.validated_data))
        return Response(self.serializer_class(created).data, status=status.HTTP_201_CREATED)


def creating(view):
    """Describe a ``Creates`` view's ``POST`` in the schema: its input and its 201 answer."""
    return extend_schema_view(
        post=extend_schema(
            request=view.create_serializer_class,
            responses={201: view.serializer_class},
            description=inspect.getdoc(view.create),
        )
    )(view)


# --- Payments -------------------------------------------------------------------------------

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


def _payments_queryset(user):
    return (
        Payment.objects.filter(loan__in=loans_for_user(user))
        .select_related("loan")
        .prefetch_related("allocations__payment__loan")
    )


class PaymentListCreateView(Scoped, generics.ListAPIView):
    permission_classes = [SupervisorWrites]
    serializer_class = ds.PaymentSerializer
    filterset_class = filters.PaymentFilter
    scope = staticmethod(_payments_queryset)

    @extend_schema(
        request=ds.PaymentInputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: ds.PaymentSerializer,
            200: OpenApiResponse(ds.PaymentSerializer, _("Already posted: the first result.")),
            409: OpenApiResponse(description=_("The reference belongs to another payment.")),
            422: OpenApiResponse(description=_("The key was used with a different request.")),
        },
    )
    def post(self, request):
        """Post a payment: allocated oldest installment first, promises and the plan updated,
        reminders it made pointless cancelled, all in one transaction."""
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            raise ValidationError({"Idempotency-Key": [_("At most 255 characters.")]})
        data = ds.PaymentInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if not fields.get("external_ref"):
            if not key:
                raise ValidationError(
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
        payment = _payments_queryset(request.user).get(pk=payment.pk)
        body = ds.PaymentSerializer(payment).data
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


class PaymentDetailView(Scoped, generics.RetrieveAPIView):
    serializer_class = ds.PaymentSerializer
    scope = staticmethod(_payments_queryset)


# --- Contact points -------------------------------------------------------------------------


def _contact_points(user):
    return ContactPoint.objects.filter(debtor__in=debtors_for_user(user))


@creating
class ContactPointListCreateView(Scoped, Creates, generics.ListAPIView):
    serializer_class = ds.ContactPointDetailSerializer
    create_serializer_class = ds.ContactPointCreateSerializer
    filterset_class = filters.ContactPointFilter
    scope = staticmethod(_contact_points)

    def create(self, request, fields):
        try:
            with transaction.atomic():
                return contact_point_add(actor=request.user, **fields)
        except IntegrityError:
            raise ValidationError(
                {"value": [_("The debtor already has this contact point.")]}
            ) from None


class ContactPointDetailView(Scoped, generics.RetrieveAPIView):
    serializer_class = ds.ContactPointDetailSerializer
    scope = staticmethod(_contact_points)

    @extend_schema(request=ds.ContactPointStatusSerializer, responses=serializer_class)
    def patch(self, request, pk: int):
        """Mark a number or address valid, invalid or wrong party."""
        point = self.get_object()
        data = ds.ContactPointStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        point = contact_point_mark(
            actor=request.user, contact_point=point, status=data.validated_data["status"]
        )
        return Response(ds.ContactPointDetailSerializer(point).data)


# --- Installments ---------------------------------------------------------------------------


def _installments(user):
    return Installment.objects.filter(loan__in=loans_for_user(user)).select_related("loan")


class InstallmentListView(Scoped, generics.ListAPIView):
    serializer_class = ds.InstallmentDetailSerializer
    filterset_class = filters.InstallmentFilter
    scope = staticmethod(_installments)


class InstallmentDetailView(Scoped, generics.RetrieveAPIView):
    serializer_class = ds.InstallmentDetailSerializer
    scope = staticmethod(_installments)


# --- Plans ----------------------------------------------------------------------------------


def _plans(user):
    return (
        RepaymentPlan.objects.filter(loan__in=loans_for_user(user))
        .select_related("loan")
        .prefetch_related("installments__plan__loan")
    )


@creating
class PlanListCreateView(Scoped, Creates, generics.ListAPIView):
    serializer_class = ds.PlanSerializer
    create_serializer_class = ds.PlanCreateSerializer
    filterset_class = filters.PlanFilter
    scope = staticmethod(_plans)

    def create(self, request, fields):
        """Propose a plan from the calculator's inputs: without a discount it starts at once,
        with one it waits for a supervisor's approval."""
        plan = plan_propose(actor=request.user, **fields)
        return _plans(request.user).get(pk=plan.pk)


class PlanDetailView(Scoped, generics.RetrieveAPIView):
    serializer_class = ds.PlanSerializer
    scope = staticmethod(_plans)


# --- Promises -------------------------------------------------------------------------------


def _promises(user):
    return PromiseToPay.objects.filter(loan__in=loans_for_user(user)).select_related("loan")


@creating
class PromiseListCreateView(Scoped, Creates, generics.ListAPIView):
    serializer_class = ds.PromiseSerializer
    create_serializer_class = ds.PromiseCreateSerializer
    filterset_class = filters.PromiseFilter
    scope = staticmethod(_promises)

    def create(self, request, fields):
        return promise_record(actor=request.user, **fields)


class PromiseDetailView(Scoped, generics.RetrieveAPIView):
    serializer_class = ds.PromiseSerializer
    scope = staticmethod(_promises)


# --- Cases ----------------------------------------------------------------------------------


class CaseListView(Scoped, generics.ListAPIView):
    serializer_class = ds.CaseSerializer
    filterset_class = CaseFilter
    scope = staticmethod(cases_for_user)


class CaseDetailView(Scoped, generics.RetrieveAPIView):
    serializer_class = ds.CaseSerializer
    scope = staticmethod(cases_for_user)

    @extend_schema(
        request=ds.CaseAssignSerializer,
        responses={200: serializer_class, 403: OpenApiResponse(description=_("Not a supervisor."))},
    )
    def patch(self, request, pk: int):
        """Assign the case to a collector (or nobody). Supervisors only."""
        case = self.get_object()
        if not is_supervisor(request.user):
            self.permission_denied(request, message=SupervisorsOnly.message)
        data = ds.CaseAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cases_reassign(
            actor=request.user, case_ids=[case.pk], to_user=data.validated_data["assigned_to"]
        )
        return Response(ds.CaseSerializer(cases_for_user(request.user).get(pk=case.pk)).data)


# --- Notes ----------------------------------------------------------------------------------


def _notes(user):
    return Note.objects.filter(debtor__in=debtors_for_user(user)).select_related("author")


@creating
class NoteListCreateView(Scoped, Creates, generics.ListAPIView):
    serializer_class = ds.NoteSerializer
    create_serializer_class = ds.NoteCreateSerializer
    filterset_class = filters.NoteFilter
    scope = staticmethod(_notes)

    def create(self, request, fields):
        return note_add(actor=request.user, **fields)


class NoteDetailView(Scoped, generics.RetrieveAPIView):
    serializer_class = ds.NoteSerializer
    scope = staticmethod(_notes)


# --- Strategies and templates (configuration: supervisors and admins read them) --------------


class StrategyListView(Scoped, generics.ListAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ds.ReminderStrategySerializer
    queryset = ReminderStrategy.objects.prefetch_related("stages")


class StrategyDetailView(Scoped, generics.RetrieveAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ds.ReminderStrategySerializer
    queryset = ReminderStrategy.objects.prefetch_related("stages")


class TemplateListView(Scoped, generics.ListAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ds.MessageTemplateSerializer
    queryset = MessageTemplate.objects.all()


class TemplateDetailView(Scoped, generics.RetrieveAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ds.MessageTemplateSerializer
    queryset = MessageTemplate.objects.all()


# --- Imports --------------------------------------------------------------------------------


class ImportListCreateView(Scoped, generics.ListAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ds.ImportJobSerializer
    filterset_class = filters.ImportJobFilter
    parser_classes = [MultiPartParser, FormParser]
    queryset = ImportJob.objects.all()

    @extend_schema(request=ds.ImportCreateSerializer, responses={202: serializer_class})
    def post(self, request):
        """Upload a file; the import runs in the background (poll the job for progress)."""

        data = ds.ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        upload = fields.pop("file")
        job = import_create(actor=request.user, file=upload, name=upload.name, **fields)
        import_enqueue(job)
        return Response(ds.ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailView(Scoped, generics.RetrieveAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ds.ImportJobSerializer
    queryset = ImportJob.objects.all()


class ImportIssueListView(Scoped, generics.ListAPIView):
    """The problems of an import's rows (line 1 is the header), in the caller's language."""

    permission_classes = [SupervisorsOnly]
    serializer_class = ds.ImportIssueSerializer
    queryset = ImportIssue.objects.none()  # the schema's model; requests use the job's

    def get_queryset(self):
        job = get_object_or_404(ImportJob, pk=self.kwargs["pk"])
        return job.issues.select_related("job")


class ImportRejectedRowsView(Scoped, generics.GenericAPIView):
    permission_classes = [SupervisorsOnly]
    queryset = ImportJob.objects.all()

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        """The rejected rows as CSV, with a column naming their problems."""

        job = self.get_object()
        response = StreamingHttpResponse(rejected_rows_csv(job), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.csv"'
        return response
