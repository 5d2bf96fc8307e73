"""Notes (``/notes/``): what collectors write on a debtor's file; added, listed and read."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.fields import scoped_debtors
from cases.access import debtors_for_user
from cases.filters import debtor_filter
from cases.models import Note
from cases.services import note_add


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["id", "debtor", "author", "body", "created_at"]
        read_only_fields = fields

    def get_author(self, note: Note) -> str:
        return note.author.get_username() if note.author_id else ""


class NoteCreateSerializer(serializers.Serializer):
    debtor = serializers.PrimaryKeyRelatedField(queryset=Note.objects.none())
    body = serializers.CharField(max_length=5000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["debtor"].queryset = scoped_debtors(self)


class NoteFilter(django_filters.FilterSet):
    debtor = debtor_filter()

    class Meta:
        model = Note
        fields = []


def _notes(user):
    return Note.objects.filter(debtor__in=debtors_for_user(user)).select_related("author")


class NoteListCreateView(ApiView, generics.ListAPIView):
    serializer_class = NoteSerializer
    filterset_class = NoteFilter
    scope = staticmethod(_notes)

    @extend_schema(request=NoteCreateSerializer, responses={201: NoteSerializer})
    def post(self, request):
        data = NoteCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        note = note_add(actor=request.user, **data.validated_data)
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class NoteDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = NoteSerializer
    scope = staticmethod(_notes)
