"""Incidents and their written records over the API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from kt1.core.choices import Secrecy
from kt1.incidents import selectors
from kt1.incidents.choices import IncidentKind, IncidentStatus
from kt1.incidents.services import record_confirm

from ..base import ScopedApiMixin
from ..items import FacilityRefOutput, PersonRefOutput
from .common import (
    ERRORS,
    ID_ERRORS,
    WRITE_ERRORS,
    BagRefOutput,
    choice,
)

# --- incidents ----------------------------------------------------------------------------------------------


class ConfirmationOutput(serializers.Serializer):
    person = PersonRefOutput()
    role_label = serializers.CharField()
    confirmed_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "RecordConfirmation"


class RecordOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    text = serializers.CharField()
    drawn_up_by = PersonRefOutput()
    drawn_up_at = serializers.DateTimeField()
    fully_confirmed = serializers.BooleanField()
    confirmations = serializers.SerializerMethodField()

    class Meta:
        ref_name = "IncidentRecord"

    @extend_schema_field(ConfirmationOutput(many=True))
    def get_confirmations(self, record) -> list:
        return ConfirmationOutput(selectors.record_confirmations(record=record), many=True).data


class IncidentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    facility = FacilityRefOutput()
    bag = BagRefOutput(allow_null=True)
    tracking_number = serializers.CharField(source="item.tracking_number", allow_null=True)
    secrecy = serializers.CharField()
    police_notified = serializers.BooleanField()
    description = serializers.CharField()
    reported_by = PersonRefOutput()
    reported_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Incident"


class IncidentDetailOutput(IncidentOutput):
    records = serializers.SerializerMethodField(help_text="Biên bản, với xác nhận của người có mặt")

    class Meta:
        ref_name = "IncidentDetail"

    @extend_schema_field(RecordOutput(many=True))
    def get_records(self, incident) -> list:
        return RecordOutput(selectors.incident_records(viewer=self.context["viewer"], incident=incident), many=True).data


class IncidentListApi(ScopedApiMixin, ListAPIView):
    """Incidents in the caller's scope, newest first."""

    required_permission = "incidents.view"
    serializer_class = IncidentOutput

    class FilterSerializer(serializers.Serializer):
        kind = choice(IncidentKind.choices, required=False, allow_blank=True)
        status = choice(IncidentStatus.choices, required=False, allow_blank=True)
        secrecy = choice(Secrecy.choices, required=False, allow_blank=True)
        bag = serializers.IntegerField(required=False, allow_null=True, error_messages=ID_ERRORS)
        q = serializers.CharField(required=False, allow_blank=True, max_length=40,
                                  help_text="Số sự cố, số hiệu bưu gửi hoặc túi")

        class Meta:
            ref_name = "IncidentListFilter"

    @extend_schema(operation_id="incidents_list", parameters=[FilterSerializer],
                   responses={200: IncidentOutput(many=True), 400: ERRORS[400]})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = IncidentListApi.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        qs = selectors.incident_list(viewer=self.request.user, kind=f.get("kind", ""), status=f.get("status", ""),
                                     q=f.get("q", ""), bag=f.get("bag"))
        return qs.filter(secrecy=f["secrecy"]) if f.get("secrecy") else qs


class IncidentDetailApi(ScopedApiMixin, APIView):
    required_permission = "incidents.view"

    @extend_schema(operation_id="incidents_retrieve", responses={200: IncidentDetailOutput, 404: ERRORS[404]})
    def get(self, request, pk: int):
        incident = selectors.incident_get(viewer=request.user, pk=pk)
        return Response(IncidentDetailOutput(incident, context={"viewer": request.user}).data)


class RecordConfirmApi(ScopedApiMixin, APIView):
    """A person named as present confirms the written record in their own session (403 for anyone
    else, 409 when already confirmed)."""

    required_permission = "incidents.view"

    @extend_schema(operation_id="incident_records_confirm", request=None, responses={200: RecordOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        record_confirm(actor=request.user, record=selectors.record_get(viewer=request.user, pk=pk))
        return Response(RecordOutput(selectors.record_get(viewer=request.user, pk=pk)).data)
