"""Message templates (``/templates/``): configuration that supervisors and admins read."""

from __future__ import annotations

from rest_framework import generics, serializers

from api.base import ApiView
from api.permissions import SupervisorsOnly
from messaging.models import MessageTemplate


class MessageTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["id", "key", "channel", "language", "subject", "body", "updated_at"]
        read_only_fields = fields


class TemplateListView(ApiView, generics.ListAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = MessageTemplateSerializer
    queryset = MessageTemplate.objects.all()


class TemplateDetailView(ApiView, generics.RetrieveAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = MessageTemplateSerializer
    queryset = MessageTemplate.objects.all()
