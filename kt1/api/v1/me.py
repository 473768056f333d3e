from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kt1.accounts.models import RoleAssignment
from kt1.core.permissions import scope_of


class RoleOutput(serializers.Serializer):
    role = serializers.CharField()
    role_label = serializers.CharField()
    scope = serializers.ChoiceField(choices=["agency", "facility", "province", "nation"])
    agency = serializers.IntegerField(allow_null=True)
    facility = serializers.IntegerField(allow_null=True)
    province = serializers.IntegerField(allow_null=True)


class MeApi(APIView):
    """Who the caller is: roles and scope. A clerk's integration reads `agency` from here."""

    @extend_schema(responses=inline_serializer("MeOutput", {
        "id": serializers.IntegerField(), "username": serializers.CharField(), "full_name": serializers.CharField(),
        "roles": RoleOutput(many=True), "agency": serializers.IntegerField(allow_null=True),
        "permissions": serializers.ListField(child=serializers.CharField()),
    }))
    def get(self, request):
        user = request.user
        assignments = RoleAssignment.objects.current().filter(user=user).order_by("pk")
        roles = []
        for a in assignments:
            scope = "agency" if a.agency_id else "facility" if a.facility_id else "province" if a.province_id else "nation"
            roles.append({"role": a.role, "role_label": a.get_role_display(), "scope": scope, "agency": a.agency_id,
                          "facility": a.facility_id, "province": a.province_id})
        agency_ids = sorted(scope_of(user).agency_ids)
        return Response({
            "id": user.pk,
            "username": user.username,
            "full_name": user.full_name,
            "roles": roles,
            "agency": agency_ids[0] if len(agency_ids) == 1 else None,
            "permissions": sorted(scope_of(user).permissions),
        })
