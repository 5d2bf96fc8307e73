"""Imports (``/imports/``): files uploaded by supervisors and imported in the background, the
problems of their rows, and the rejected rows as CSV."""

from __future__ import annotations

import django_filters
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from api.base import ApiView
from api.permissions import SupervisorsOnly
from imports.models import ImportIssue, ImportJob, ImportKind
from imports.services import import_create, rejected_rows_csv
from imports.tasks import import_enqueue


class ImportJobSerializer(serializers.ModelSerializer):
    valid_rows = serializers.IntegerField(read_only=True)
    uploaded_by = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "original_name",
            "dry_run",
            "valid_rows_only",
            "status",
            "phase",
            "progress",
            "total_rows",
            "valid_rows",
            "invalid_rows",
            "created_count",
            "updated_count",
            "unchanged_count",
            "error",
            "uploaded_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    dry_run = serializers.BooleanField(required=False, default=False)
    valid_rows_only = serializers.BooleanField(required=False, default=False)

    def validate_file(self, value):
        name = (value.name or "").lower()
        if not name.endswith((".csv", ".xlsx", ".txt")):
            raise serializers.ValidationError(_("Upload a .csv or .xlsx file."))
        return value


class ImportIssueSerializer(serializers.ModelSerializer):
    message = serializers.CharField(read_only=True)

    class Meta:
        model = ImportIssue
        fields = ["line", "column", "code", "value", "message"]
        read_only_fields = fields


class ImportJobFilter(django_filters.FilterSet):
    class Meta:
        model = ImportJob
        fields = ["kind", "status"]


class ImportListCreateView(ApiView, generics.ListAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ImportJobSerializer
    filterset_class = ImportJobFilter
    parser_classes = [MultiPartParser, FormParser]
    queryset = ImportJob.objects.all()

    @extend_schema(request=ImportCreateSerializer, responses={202: ImportJobSerializer})
    def post(self, request):
        """Upload a file; the import runs in the background (poll the job for progress).

        A file larger than the import limit (``IMPORT_MAX_UPLOAD_MB``, the upload page's too)
        is refused with 400 naming the limit, and nothing is stored."""
        data = ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        upload = fields.pop("file")
        job = import_create(actor=request.user, file=upload, name=upload.name, **fields)
        import_enqueue(job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailView(ApiView, generics.RetrieveAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.all()


class ImportIssueListView(ApiView, generics.ListAPIView):
    """The problems of an import's rows (line 1 is the header), in the caller's language."""

    permission_classes = [SupervisorsOnly]
    serializer_class = ImportIssueSerializer
    queryset = ImportIssue.objects.none()  # the schema's model; requests use the job's

    def get_queryset(self):
        job = get_object_or_404(ImportJob, pk=self.kwargs["pk"])
        return job.issues.select_related("job")


class ImportRejectedRowsView(ApiView):
    permission_classes = [SupervisorsOnly]
    queryset = ImportJob.objects.all()

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        """The rejected rows as CSV, with a column naming their problems."""
        job = self.get_object()
        response = StreamingHttpResponse(rejected_rows_csv(job), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.csv"'
        return response
