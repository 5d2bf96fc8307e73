"""Contact policies (``/contact-policies/``): the rules of the compliance gate, which admins
list, create and change. A change writes the policy's next version; the one it replaces stays
as it was, because decisions refer to it.
"""

from __future__ import annotations

import django_filters
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api.base import ApiView
from api.permissions import IsAdminRole
from compliance.models import ContactPolicy
from compliance.selectors import current_policies
from compliance.services import policy_create, policy_save

_POLICY_CONFLICT = _(
    "Another current policy already covers this jurisdiction, or is already the default."
)


class ContactPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPolicy
        fields = [
            "id",
            "slug",
            "version",
            "name",
            "country",
            "region",
            "is_default",
            "is_active",
            "is_current",
            "rules",
            "source",
            "notes",
            "created_at",
            "created_by_label",
        ]
        read_only_fields = fields


class ContactPolicyInputSerializer(serializers.Serializer):
    """A whole policy version (``PUT`` replaces every field; the slug stays)."""

    name = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    region = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    is_default = serializers.BooleanField(required=False, default=False)
    is_active = serializers.BooleanField(required=False, default=True)
    rules = serializers.JSONField()
    source = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_rules(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(
                _("The rules are an object with one entry per channel.")
            )
        return value


class ContactPolicyCreateSerializer(ContactPolicyInputSerializer):
    slug = serializers.SlugField(max_length=64)


class ContactPolicyFilter(django_filters.FilterSet):
    class Meta:
        model = ContactPolicy
        fields = ["slug"]


def _saved_policy(save, **kwargs) -> ContactPolicy:
    """Run a policy service; a clash with another current policy is a 400, not a 500."""
    try:
        return save(**kwargs)
    except IntegrityError:
        raise serializers.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: [_POLICY_CONFLICT]}
        ) from None


@extend_schema_view(
    get=extend_schema(
        parameters=[OpenApiParameter("versions", OpenApiTypes.STR, enum=["all"])],
    )
)
class ContactPolicyListCreateView(ApiView, generics.ListAPIView):
    """Admins list the current policies (``?versions=all`` for every version) and create one."""

    permission_classes = [IsAdminRole]
    serializer_class = ContactPolicySerializer
    filterset_class = ContactPolicyFilter

    def get_queryset(self):
        # Any other value of ``versions`` means the current ones, like leaving it out.
        if self.request.query_params.get("versions") == "all":
            return ContactPolicy.objects.all()
        return current_policies()

    @extend_schema(request=ContactPolicyCreateSerializer, responses={201: ContactPolicySerializer})
    def post(self, request):
        data = ContactPolicyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = _saved_policy(policy_create, actor=request.user, **data.validated_data)
        return Response(ContactPolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class ContactPolicyDetailView(ApiView, generics.RetrieveAPIView):
    """The current version of one policy; ``PUT`` writes the next version."""

    permission_classes = [IsAdminRole]
    serializer_class = ContactPolicySerializer
    lookup_field = "slug"
    not_found_message = _("No such contact policy.")

    def get_queryset(self):
        return current_policies()

    @extend_schema(request=ContactPolicyInputSerializer, responses=ContactPolicySerializer)
    def put(self, request, slug: str):
        policy = self.get_object()
        data = ContactPolicyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = _saved_policy(policy_save, actor=request.user, policy=policy, **data.validated_data)
        return Response(ContactPolicySerializer(new).data)
