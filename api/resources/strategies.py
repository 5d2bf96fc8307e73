"""Reminder strategies (``/strategies/``) and their stages: configuration that supervisors and
admins read."""

from __future__ import annotations

from rest_framework import generics, serializers

from api.base import ApiView
from api.permissions import SupervisorsOnly
from reminders.models import ReminderStage, ReminderStrategy


class ReminderStageSerializer(serializers.ModelSerializer):
    # A call task has no template: the key may be empty, which a slug pattern would refuse.
    template_key = serializers.CharField(read_only=True)

    class Meta:
        model = ReminderStage
        fields = [
            "id",
            "name",
            "offset_days",
            "channel",
            "template_key",
            "risk_bands",
            "products",
            "min_balance",
            "max_balance",
            "has_active_plan",
            "is_active",
        ]
        read_only_fields = fields


class ReminderStrategySerializer(serializers.ModelSerializer):
    stages = ReminderStageSerializer(many=True, read_only=True)

    class Meta:
        model = ReminderStrategy
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "risk_bands",
            "is_default",
            "is_active",
            "stages",
            "created_at",
        ]
        read_only_fields = fields


class StrategyListView(ApiView, generics.ListAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ReminderStrategySerializer
    queryset = ReminderStrategy.objects.prefetch_related("stages")


class StrategyDetailView(ApiView, generics.RetrieveAPIView):
    permission_classes = [SupervisorsOnly]
    serializer_class = ReminderStrategySerializer
    queryset = ReminderStrategy.objects.prefetch_related("stages")
