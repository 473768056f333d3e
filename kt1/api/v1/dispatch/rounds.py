"""Delivery rounds, the daily round coverage and the mail-trip volumes report over the API."""

from __future__ import annotations

from django.db.models import Q, prefetch_related_objects
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from kt1.core.clock import local_today
from kt1.core.errors import ValidationFailed
from kt1.core.permissions import restrict
from kt1.directory.models import Facility
from kt1.dispatch import selectors, services
from kt1.dispatch.choices import RoundStatus
from kt1.dispatch.models import DeliveryRoute, MailRoute

from ..base import ScopedApiMixin
from ..items import AgencyRefOutput, FacilityRefOutput, PersonRefOutput
from .common import (
    BOOL_ERRORS,
    DATE_ERRORS,
    ERRORS,
    ID_ERRORS,
    MAX_ROUND_ITEMS,
    WRITE_ERRORS,
    choice,
    colleague,
    one_in_scope,
    require_any,
)

# --- delivery rounds ------------------------------------------------------------------------------------


class RoundLineOutput(serializers.Serializer):
    tracking_number = serializers.CharField(source="item.tracking_number")
    recipient_agency = AgencyRefOutput(source="item.recipient_agency")
    item_status = serializers.CharField(source="item.status")
    result = serializers.CharField()
    result_label = serializers.CharField(source="get_result_display")
    recorded_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "DeliveryRoundLine"


class RoundOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    route = serializers.CharField(source="route.code")
    route_name = serializers.CharField(source="route.name")
    facility = FacilityRefOutput(source="route.facility")
    postman = PersonRefOutput()
    service_date = serializers.DateField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "DeliveryRound"


class RoundDetailOutput(RoundOutput):
    lines = RoundLineOutput(many=True, source="lines.all")

    class Meta:
        ref_name = "DeliveryRoundDetail"


def _round(viewer, pk: int) -> dict:
    rnd = selectors.round_get(viewer=viewer, pk=pk)
    prefetch_related_objects([rnd], "lines__item__recipient_agency")
    return RoundDetailOutput(rnd).data


class RoundListApi(ScopedApiMixin, ListAPIView):
    required_permission = "dispatch.view"
    serializer_class = RoundOutput

    class FilterSerializer(serializers.Serializer):
        date = serializers.DateField(required=False, allow_null=True, error_messages=DATE_ERRORS)
        status = choice(RoundStatus.choices, required=False, allow_blank=True)
        mine = serializers.BooleanField(required=False, default=False, error_messages=BOOL_ERRORS,
                                        help_text="Chỉ chuyến phát của bưu tá gọi API")

        class Meta:
            ref_name = "DeliveryRoundListFilter"

    @extend_schema(operation_id="delivery_rounds_list", parameters=[FilterSerializer],
                   responses={200: RoundOutput(many=True), 400: ERRORS[400]})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = RoundListApi.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        return selectors.round_list(viewer=self.request.user, date=f.get("date"), status=f.get("status", ""),
                                    postman=self.request.user if f.get("mine") else None)


class RoundCreateApi(ScopedApiMixin, APIView):
    """Plan a round of a delivery route for a postman with the items assigned; each item must be
    held by the postman (not_holder) and bound for the route's communes (wrong_route)."""

    required_permission = "dispatch.view"

    class InputSerializer(serializers.Serializer):
        route = serializers.IntegerField(error_messages=ID_ERRORS, help_text="Tuyến phát")
        postman = serializers.IntegerField(error_messages=ID_ERRORS)
        service_date = serializers.DateField(error_messages=DATE_ERRORS)
        tracking_numbers = serializers.ListField(child=serializers.CharField(max_length=40), required=False,
                                                 max_length=MAX_ROUND_ITEMS)

        class Meta:
            ref_name = "DeliveryRoundCreateInput"

    @extend_schema(operation_id="delivery_rounds_create", request=InputSerializer,
                   responses={201: RoundDetailOutput, **WRITE_ERRORS})
    def post(self, request, *args, **kwargs):
        user = request.user
        require_any(user, "dispatch.round")
        serializer = RoundCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rnd = services.round_create(
            actor=user, route=one_in_scope(user, DeliveryRoute.objects.all(), data["route"], "route", _("Tuyến phát")),
            postman=colleague(user, data["postman"], "postman", _("Bưu tá")), service_date=data["service_date"],
            tracking_numbers=data.get("tracking_numbers", []))
        return Response(_round(user, rnd.pk), status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api:round_detail", kwargs={"pk": rnd.pk})})


class RoundCollectionApi(RoundListApi, RoundCreateApi):
    """/delivery-rounds/: GET is RoundListApi, POST is RoundCreateApi."""


class RoundDetailApi(ScopedApiMixin, APIView):
    required_permission = "dispatch.view"

    @extend_schema(operation_id="delivery_rounds_retrieve", responses={200: RoundDetailOutput, 404: ERRORS[404]})
    def get(self, request, pk: int):
        return Response(_round(request.user, pk))


class RoundStartApi(ScopedApiMixin, APIView):
    """The round's postman leaves: each assigned item goes out for delivery (EDG)."""

    required_permission = "dispatch.view"

    @extend_schema(operation_id="delivery_rounds_start", request=None, responses={200: RoundDetailOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        rnd = selectors.round_get(viewer=request.user, pk=pk)
        require_any(request.user, "dispatch.round")
        services.round_start(actor=request.user, rnd=rnd)
        return Response(_round(request.user, pk))


class RoundCompleteApi(ScopedApiMixin, APIView):
    """The postman (or a supervisor) closes the round: each line's result is read from the item's
    custody (delivered, failed attempt, not attempted)."""

    required_permission = "dispatch.view"

    @extend_schema(operation_id="delivery_rounds_complete", request=None,
                   responses={200: RoundDetailOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        rnd = selectors.round_get(viewer=request.user, pk=pk)
        require_any(request.user, "dispatch.round")
        services.round_complete(actor=request.user, rnd=rnd)
        return Response(_round(request.user, pk))


class CoverageRuleOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    unit_level = serializers.CharField()
    min_rounds_per_day = serializers.IntegerField()
    legal_basis = serializers.CharField()
    valid_from = serializers.DateField()

    class Meta:
        ref_name = "RoundRule"


class CoverageRowOutput(serializers.Serializer):
    agency = AgencyRefOutput()
    unit_level = serializers.CharField(source="agency.admin_unit.level")
    required = serializers.IntegerField()
    done = serializers.IntegerField(help_text="Chuyến phát đã hoàn thành trong ngày qua địa bàn của cơ quan")
    ok = serializers.BooleanField()
    rule = CoverageRuleOutput(allow_null=True, help_text="Phiên bản quy định đã dùng để đánh giá")

    class Meta:
        ref_name = "RoundCoverageRow"


class RoundCoverageApi(ScopedApiMixin, APIView):
    """Completed delivery rounds per agency on a day against the rule in force (data: 2 a day; 1
    at commune level); each row names the rule version it was judged with."""

    required_permission = "dispatch.view"

    class FilterSerializer(serializers.Serializer):
        date = serializers.DateField(required=False, allow_null=True, error_messages=DATE_ERRORS,
                                     help_text="Mặc định: hôm nay (giờ Việt Nam)")
        facility = serializers.IntegerField(required=False, allow_null=True, error_messages=ID_ERRORS,
                                            help_text="Chỉ tuyến phát của bưu cục này")

        class Meta:
            ref_name = "RoundCoverageFilter"

    class OutputSerializer(serializers.Serializer):
        date = serializers.DateField()
        agencies = serializers.IntegerField()
        covered = serializers.IntegerField(help_text="Cơ quan đủ số chuyến phát")
        rows = CoverageRowOutput(many=True)

        class Meta:
            ref_name = "RoundCoverage"

    @extend_schema(operation_id="delivery_rounds_coverage", parameters=[FilterSerializer],
                   responses={200: OutputSerializer, 400: ERRORS[400]})
    def get(self, request):
        filters = RoundCoverageApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        day = f.get("date") or local_today()
        facility = one_in_scope(request.user, Facility.objects.all(), f.get("facility"), "facility", _("Bưu cục"))
        rows = selectors.round_coverage(viewer=request.user, day=day, facility=facility)
        return Response(RoundCoverageApi.OutputSerializer({
            "date": day, "agencies": len(rows), "covered": sum(1 for r in rows if r.ok), "rows": rows}).data)


# --- reports ----------------------------------------------------------------------------------------------


class TripVolumeRowOutput(serializers.Serializer):
    facility = FacilityRefOutput()
    period = serializers.CharField(help_text="YYYY-MM-DD, hoặc YYYY-MM khi group=month")
    shift = serializers.CharField(help_text="Tên ca khi group=shift")
    direction = serializers.ChoiceField(choices=["out", "in"])
    trips = serializers.IntegerField()
    bags = serializers.IntegerField()
    items = serializers.IntegerField()
    weight_g = serializers.IntegerField()

    class Meta:
        ref_name = "TripVolumeRow"


class TripVolumesApi(ScopedApiMixin, APIView):
    """Mail-trip volumes by shift / day / month, outgoing and incoming, per facility. Without
    `facility`, every facility in the caller's scope that is the end of a mail route."""

    required_permission = "dispatch.report"
    MAX_DAYS = 366

    class FilterSerializer(serializers.Serializer):
        facility = serializers.IntegerField(required=False, allow_null=True, error_messages=ID_ERRORS)
        date_from = serializers.DateField(required=False, allow_null=True, error_messages=DATE_ERRORS,
                                          help_text="Mặc định: đầu tháng này")
        date_to = serializers.DateField(required=False, allow_null=True, error_messages=DATE_ERRORS,
                                        help_text="Mặc định: hôm nay")
        group = choice(["shift", "day", "month"], required=False, default="day")

        class Meta:
            ref_name = "TripVolumesFilter"

    class OutputSerializer(serializers.Serializer):
        date_from = serializers.DateField()
        date_to = serializers.DateField()
        group = serializers.CharField()
        rows = TripVolumeRowOutput(many=True)

        class Meta:
            ref_name = "TripVolumes"

    @extend_schema(operation_id="reports_trip_volumes", parameters=[FilterSerializer],
                   responses={200: OutputSerializer, 400: ERRORS[400], 404: ERRORS[404]})
    def get(self, request):
        user = request.user
        filters = TripVolumesApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        date_to = f.get("date_to") or local_today()
        date_from = f.get("date_from") or date_to.replace(day=1)
        if date_from > date_to:
            raise ValidationFailed(_("Ngày bắt đầu sau ngày kết thúc."), detail={"date_from": _("Không hợp lệ.")})
        if (date_to - date_from).days >= self.MAX_DAYS:
            raise ValidationFailed(_("Tối đa %(n)d ngày mỗi báo cáo.") % {"n": self.MAX_DAYS},
                                   detail={"date_to": _("Không hợp lệ.")})
        if f.get("facility") is not None:
            facilities = [one_in_scope(user, Facility.objects.all(), f["facility"], "facility", _("Cơ sở"))]
        else:
            routes = restrict(MailRoute.objects.all(), user)
            facilities = list(restrict(Facility.objects.filter(
                Q(pk__in=routes.values("origin_id")) | Q(pk__in=routes.values("destination_id"))), user)
                .order_by("postcode"))
        rows = []
        for facility in facilities:
            for row in selectors.trip_volumes(viewer=user, facility=facility, date_from=date_from, date_to=date_to,
                                              group=f["group"]):
                rows.append({"facility": facility, **row.__dict__})
        return Response(TripVolumesApi.OutputSerializer({
            "date_from": date_from, "date_to": date_to, "group": f["group"], "rows": rows}).data)
