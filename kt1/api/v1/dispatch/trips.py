"""Bag transfers confirmed by both sides, mail trips and vehicle trips over the API."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from kt1.core.permissions import restrict
from kt1.directory.models import Facility
from kt1.dispatch import selectors, services
from kt1.dispatch.choices import TripStatus
from kt1.dispatch.models import Bag, MailRoute, MailTrip, RouteShift, Vehicle

from ..base import ScopedApiMixin
from ..items import FacilityRefOutput, PersonRefOutput
from .common import (
    DATE_ERRORS,
    ERRORS,
    ID_ERRORS,
    WRITE_ERRORS,
    BagOutput,
    BagRefOutput,
    TripRefOutput,
    choice,
    colleague,
    id_list,
    many_in_scope,
    one_in_scope,
    require_any,
    unknown_reference,
)

# --- bag transfers ------------------------------------------------------------------------------------


class TransferOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    giver = PersonRefOutput()
    taker = PersonRefOutput()
    facility = FacilityRefOutput()
    mail_trip = TripRefOutput(allow_null=True)
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    bags = BagRefOutput(many=True, source="bags.all")
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "BagTransfer"


_CARRIERS = ("dispatch.bag", "dispatch.trip", "dispatch.carry")


class TransferListApi(ScopedApiMixin, ListAPIView):
    """Transfers waiting for the caller to confirm (the caller is the taker)."""

    required_permission = "dispatch.view"
    serializer_class = TransferOutput

    @extend_schema(operation_id="bag_transfers_list", responses={200: TransferOutput(many=True)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.transfers_waiting_for(viewer=self.request.user).select_related("taker", "mail_trip") \
            .prefetch_related("bags")


class TransferCreateApi(ScopedApiMixin, APIView):
    """The holder lists sealed bags for a taker (facility staff or a vehicle crew member); nothing
    moves until the taker confirms in their own session. Refused: not_holder, taker_not_cleared,
    taker_not_allowed; 409 for a bag not sealed or already received."""

    required_permission = "dispatch.view"

    class InputSerializer(serializers.Serializer):
        taker = serializers.IntegerField(error_messages=ID_ERRORS, help_text="Người nhận túi")
        bags = id_list("Các túi giao")
        mail_trip = serializers.IntegerField(required=False, allow_null=True, error_messages=ID_ERRORS)

        class Meta:
            ref_name = "BagTransferCreateInput"

    @extend_schema(operation_id="bag_transfers_create", request=InputSerializer,
                   responses={201: TransferOutput, **WRITE_ERRORS})
    def post(self, request, *args, **kwargs):
        user = request.user
        require_any(user, *_CARRIERS)
        serializer = TransferCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        transfer = services.transfer_create(
            actor=user, taker=colleague(user, data["taker"], "taker", _("Người nhận")),
            bags=many_in_scope(user, Bag.objects.all(), data["bags"], "bags", _("Túi")),
            mail_trip=one_in_scope(user, MailTrip.objects.all(), data.get("mail_trip"), "mail_trip", _("Chuyến thư")),
        )
        transfer = selectors.transfer_get(viewer=user, pk=transfer.pk)
        return Response(TransferOutput(transfer).data, status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api:transfer_detail", kwargs={"pk": transfer.pk})})


class TransferCollectionApi(TransferListApi, TransferCreateApi):
    """/bag-transfers/: GET is TransferListApi, POST is TransferCreateApi."""


class TransferDetailApi(ScopedApiMixin, APIView):
    required_permission = "dispatch.view"

    @extend_schema(operation_id="bag_transfers_retrieve", responses={200: TransferOutput, 404: ERRORS[404]})
    def get(self, request, pk: int):
        return Response(TransferOutput(selectors.transfer_get(viewer=request.user, pk=pk)).data)


class TransferConfirmApi(ScopedApiMixin, APIView):
    """The taker named on the transfer confirms: custody of every bag moves at once (403 for
    anyone else, taker_not_cleared when their vetting does not cover the bags)."""

    required_permission = "dispatch.view"

    @extend_schema(operation_id="bag_transfers_confirm", request=None, responses={200: TransferOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        transfer = selectors.transfer_get(viewer=request.user, pk=pk)
        require_any(request.user, *_CARRIERS)
        services.transfer_complete(actor=request.user, transfer=transfer)
        return Response(TransferOutput(selectors.transfer_get(viewer=request.user, pk=pk)).data)


class TransferCancelApi(ScopedApiMixin, APIView):
    """Either party withdraws a transfer not yet confirmed."""

    required_permission = "dispatch.view"

    @extend_schema(operation_id="bag_transfers_cancel", request=None, responses={200: TransferOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        transfer = selectors.transfer_get(viewer=request.user, pk=pk)
        require_any(request.user, *_CARRIERS)
        services.transfer_cancel(actor=request.user, transfer=transfer)
        return Response(TransferOutput(selectors.transfer_get(viewer=request.user, pk=pk)).data)


# --- mail trips and vehicle trips ------------------------------------------------------------------


class RouteRefOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    code = serializers.CharField()
    name = serializers.CharField()
    origin = FacilityRefOutput()
    destination = FacilityRefOutput()

    class Meta:
        ref_name = "MailRouteRef"


class ShiftOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    departs_at = serializers.TimeField()

    class Meta:
        ref_name = "RouteShift"


class VehicleTripOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    vehicle = serializers.CharField(source="vehicle.registration")
    vehicle_is_dedicated = serializers.BooleanField(source="vehicle.is_dedicated")
    driver = PersonRefOutput()
    escort = PersonRefOutput(allow_null=True)
    service_date = serializers.DateField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    mail_trips = TripRefOutput(many=True, source="mail_trips.all")
    departed_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "VehicleTrip"


class MailTripOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    route = RouteRefOutput()
    shift = ShiftOutput()
    service_date = serializers.DateField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    vehicle_trip = TripRefOutput(allow_null=True)
    departed_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "MailTrip"


class MailTripDetailOutput(MailTripOutput):
    vehicle_trip = VehicleTripOutput(allow_null=True)
    bags = serializers.SerializerMethodField()

    class Meta:
        ref_name = "MailTripDetail"

    @extend_schema_field(BagOutput(many=True))
    def get_bags(self, trip) -> list:
        viewer = self.context["viewer"]
        bags = restrict(Bag.objects.filter(trip=trip).select_related("origin", "destination", "holder", "facility"),
                        viewer).order_by("pk")
        return BagOutput(bags, many=True, context={"viewer": viewer}).data


def _trip(trip: MailTrip, viewer) -> dict:
    return MailTripDetailOutput(trip, context={"viewer": viewer}).data


class MailTripListApi(ScopedApiMixin, ListAPIView):
    required_permission = "dispatch.view"

    class FilterSerializer(serializers.Serializer):
        status = choice(TripStatus.choices, required=False, allow_blank=True)
        date_from = serializers.DateField(required=False, allow_null=True, error_messages=DATE_ERRORS)
        date_to = serializers.DateField(required=False, allow_null=True, error_messages=DATE_ERRORS)
        facility = serializers.IntegerField(required=False, allow_null=True, error_messages=ID_ERRORS,
                                            help_text="Điểm đầu hoặc điểm cuối của đường thư")

        class Meta:
            ref_name = "MailTripListFilter"

    serializer_class = MailTripOutput

    @extend_schema(operation_id="mail_trips_list", parameters=[FilterSerializer],
                   responses={200: MailTripOutput(many=True), 400: ERRORS[400]})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = MailTripListApi.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        user = self.request.user
        facility = one_in_scope(user, Facility.objects.all(), f.get("facility"), "facility", _("Cơ sở"))
        return selectors.mail_trip_list(viewer=user, status=f.get("status", ""), date_from=f.get("date_from"),
                                        date_to=f.get("date_to"), facility=facility.pk if facility else None)


class MailTripCreateApi(ScopedApiMixin, APIView):
    """Plan the mail trip of a route's shift on a day from the caller's facility, loading sealed
    bags bound for the route's destination (refused: wrong_route, duplicate_trip)."""

    required_permission = "dispatch.view"

    class InputSerializer(serializers.Serializer):
        route = serializers.IntegerField(error_messages=ID_ERRORS)
        shift = serializers.IntegerField(error_messages=ID_ERRORS, help_text="Ca của đường thư")
        service_date = serializers.DateField(error_messages=DATE_ERRORS)
        bags = id_list("Túi đã niêm phong", required=False)

        class Meta:
            ref_name = "MailTripCreateInput"

    @extend_schema(operation_id="mail_trips_create", request=InputSerializer,
                   responses={201: MailTripDetailOutput, **WRITE_ERRORS})
    def post(self, request, *args, **kwargs):
        user = request.user
        require_any(user, "dispatch.trip")
        serializer = MailTripCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        route = one_in_scope(user, MailRoute.objects.all(), data["route"], "route", _("Đường thư"))
        shift = RouteShift.objects.filter(pk=data["shift"], route=route).first()
        if shift is None:
            raise unknown_reference("shift", _("Ca"), data["shift"])
        trip = services.mail_trip_create(
            actor=user, route=route, shift=shift, service_date=data["service_date"],
            bags=many_in_scope(user, Bag.objects.all(), data.get("bags", []), "bags", _("Túi")))
        return Response(_trip(selectors.mail_trip_get(viewer=user, pk=trip.pk), user), status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api:mail_trip_detail", kwargs={"pk": trip.pk})})


class MailTripCollectionApi(MailTripListApi, MailTripCreateApi):
    """/mail-trips/: GET is MailTripListApi, POST is MailTripCreateApi."""


class MailTripDetailApi(ScopedApiMixin, APIView):
    required_permission = "dispatch.view"

    @extend_schema(operation_id="mail_trips_retrieve", responses={200: MailTripDetailOutput, 404: ERRORS[404]})
    def get(self, request, pk: int):
        return Response(_trip(selectors.mail_trip_get(viewer=request.user, pk=pk), request.user))


class MailTripDepartApi(ScopedApiMixin, APIView):
    """The crew departs: every bag must be in the crew's hands (not_holder), the crew cleared for
    the highest secrecy on board. Only the vehicle trip's driver or escort (403 otherwise)."""

    required_permission = "dispatch.view"

    @extend_schema(operation_id="mail_trips_depart", request=None, responses={200: MailTripDetailOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        trip = selectors.mail_trip_get(viewer=request.user, pk=pk)
        require_any(request.user, "dispatch.carry")
        services.mail_trip_depart(actor=request.user, trip=trip)
        return Response(_trip(selectors.mail_trip_get(viewer=request.user, pk=pk), request.user))


class MailTripArriveApi(ScopedApiMixin, APIView):
    """The crew arrives at the route's destination (409 unless departed)."""

    required_permission = "dispatch.view"

    @extend_schema(operation_id="mail_trips_arrive", request=None, responses={200: MailTripDetailOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        trip = selectors.mail_trip_get(viewer=request.user, pk=pk)
        require_any(request.user, "dispatch.carry")
        services.mail_trip_arrive(actor=request.user, trip=trip)
        return Response(_trip(selectors.mail_trip_get(viewer=request.user, pk=pk), request.user))


class VehicleTripListApi(ScopedApiMixin, ListAPIView):
    required_permission = "dispatch.view"
    serializer_class = VehicleTripOutput

    class FilterSerializer(serializers.Serializer):
        date = serializers.DateField(required=False, allow_null=True, error_messages=DATE_ERRORS)

        class Meta:
            ref_name = "VehicleTripListFilter"

    @extend_schema(operation_id="vehicle_trips_list", parameters=[FilterSerializer],
                   responses={200: VehicleTripOutput(many=True), 400: ERRORS[400]})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = VehicleTripListApi.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.vehicle_trip_list(viewer=self.request.user, date=filters.validated_data.get("date")) \
            .prefetch_related("mail_trips")


class VehicleTripCreateApi(ScopedApiMixin, APIView):
    """A vehicle trip with its crew, carrying planned mail trips. An escort is required when the
    vehicle is not a dedicated KT1 vehicle (escort_required)."""

    required_permission = "dispatch.view"

    class InputSerializer(serializers.Serializer):
        vehicle = serializers.IntegerField(error_messages=ID_ERRORS)
        driver = serializers.IntegerField(error_messages=ID_ERRORS)
        escort = serializers.IntegerField(required=False, allow_null=True, error_messages=ID_ERRORS,
                                          help_text="Bắt buộc khi xe không phải xe chuyên dùng KT1")
        service_date = serializers.DateField(error_messages=DATE_ERRORS)
        mail_trips = id_list("Chuyến thư xếp lên chuyến xe", required=False)

        class Meta:
            ref_name = "VehicleTripCreateInput"

    @extend_schema(operation_id="vehicle_trips_create", request=InputSerializer,
                   responses={201: VehicleTripOutput, **WRITE_ERRORS})
    def post(self, request, *args, **kwargs):
        user = request.user
        require_any(user, "dispatch.trip")
        serializer = VehicleTripCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        trip = services.vehicle_trip_create(
            actor=user, vehicle=one_in_scope(user, Vehicle.objects.all(), data["vehicle"], "vehicle", _("Xe")),
            driver=colleague(user, data["driver"], "driver", _("Lái xe")),
            escort=colleague(user, data.get("escort"), "escort", _("Áp tải")), service_date=data["service_date"],
            mail_trips=many_in_scope(user, MailTrip.objects.all(), data.get("mail_trips", []), "mail_trips",
                                      _("Chuyến thư")),
        )
        trip = selectors.vehicle_trip_list(viewer=user).prefetch_related("mail_trips").get(pk=trip.pk)
        return Response(VehicleTripOutput(trip).data, status=status.HTTP_201_CREATED)


class VehicleTripCollectionApi(VehicleTripListApi, VehicleTripCreateApi):
    """/vehicle-trips/: GET is VehicleTripListApi, POST is VehicleTripCreateApi."""
