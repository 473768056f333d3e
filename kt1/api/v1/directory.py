"""Directory, read-only over the API, scoped exactly like the pages."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from kt1.directory import selectors
from kt1.directory.models import AdministrativeUnit, Agency, AgencyAddress, Facility

from .base import ScopedApiMixin


class AdministrativeUnitOutput(serializers.ModelSerializer):
    class Meta:
        model = AdministrativeUnit
        fields = ["id", "code", "name", "level", "parent", "valid_from", "valid_until"]


class AgencyAddressOutput(serializers.ModelSerializer):
    admin_unit = serializers.CharField(source="admin_unit.name")

    class Meta:
        model = AgencyAddress
        fields = ["id", "label", "street", "admin_unit", "is_default"]


class AgencyOutput(serializers.ModelSerializer):
    province = serializers.CharField(source="province.name")
    admin_unit_name = serializers.CharField(source="admin_unit.name")
    is_active = serializers.BooleanField()
    addresses = serializers.SerializerMethodField()

    class Meta:
        model = Agency
        fields = [
            "id", "name", "short_name", "agency_type", "level", "admin_unit", "admin_unit_name", "province", "parent",
            "is_mandatory", "enrolled_on", "valid_from", "valid_until", "is_active", "addresses",
        ]

    def get_addresses(self, agency) -> list[dict]:
        request = self.context["request"]
        return AgencyAddressOutput(selectors.agency_addresses(viewer=request.user, agency=agency), many=True).data


class FacilityOutput(serializers.ModelSerializer):
    province = serializers.CharField(source="province.name")
    is_active = serializers.BooleanField()

    class Meta:
        model = Facility
        fields = ["id", "postcode", "name", "kind", "parent", "province", "admin_unit", "address", "phone",
                  "valid_from", "valid_until", "is_active"]


_STATUS = OpenApiParameter("status", str, enum=["active", "retired", "all"], description="Mặc định: active")


class AgencyListApi(ScopedApiMixin, ListAPIView):
    serializer_class = AgencyOutput

    @extend_schema(parameters=[OpenApiParameter("q", str), OpenApiParameter("agency_type", str),
                               OpenApiParameter("mandatory", bool), OpenApiParameter("enrolled", bool), _STATUS])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        p = self.request.query_params
        return selectors.agency_list(
            viewer=self.request.user, q=p.get("q", ""), agency_type=p.get("agency_type", ""),
            mandatory=self.bool_param("mandatory"), enrolled=self.bool_param("enrolled"), status=p.get("status", "active"),
        )


class AgencyDetailApi(ScopedApiMixin, RetrieveAPIView):
    serializer_class = AgencyOutput

    def get_object(self):
        return selectors.agency_get(viewer=self.request.user, pk=self.kwargs["pk"])


class FacilityListApi(ScopedApiMixin, ListAPIView):
    serializer_class = FacilityOutput

    @extend_schema(parameters=[OpenApiParameter("q", str), OpenApiParameter("kind", str), _STATUS])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        p = self.request.query_params
        return selectors.facility_list(viewer=self.request.user, q=p.get("q", ""), kind=p.get("kind", ""),
                                       status=p.get("status", "active"))


class FacilityDetailApi(ScopedApiMixin, RetrieveAPIView):
    serializer_class = FacilityOutput

    def get_object(self):
        return selectors.facility_get(viewer=self.request.user, pk=self.kwargs["pk"])


class AdministrativeUnitListApi(ScopedApiMixin, ListAPIView):
    serializer_class = AdministrativeUnitOutput

    @extend_schema(parameters=[OpenApiParameter("q", str), OpenApiParameter("level", str), _STATUS])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        p = self.request.query_params
        return selectors.admin_unit_list(viewer=self.request.user, q=p.get("q", ""), level=p.get("level", ""),
                                         status=p.get("status", "active"))
