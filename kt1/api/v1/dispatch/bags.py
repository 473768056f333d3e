"""Bags over the API: open, fill, seal; receive, open scan by scan, finish. Discrepancies are not
errors: they become incidents, named in the successful answer."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from kt1.api.errors import _first_message
from kt1.core.errors import ValidationFailed
from kt1.directory.models import Facility
from kt1.dispatch import selectors, services
from kt1.dispatch.choices import BagEventCode, BagStatus
from kt1.dispatch.models import Bag
from kt1.dispatch.policy import seal_hidden_from
from kt1.incidents.choices import IncidentKind
from kt1.items import s10

from ..base import ScopedApiMixin, batch_entries_field, validate_entries
from ..items import AgencyRefOutput, FacilityRefOutput, PersonRefOutput
from .common import (
    BOOL_ERRORS,
    ERRORS,
    ID_ERRORS,
    WRITE_ERRORS,
    BagOutput,
    IncidentRefOutput,
    assigned_facility_id,
    choice,
    colleagues,
    id_list,
    incident_mark,
    incidents_for,
    one_in_scope,
    opened_since,
    require_any,
)


class BagLineOutput(serializers.Serializer):
    tracking_number = serializers.CharField(source="item.tracking_number")
    kind = serializers.CharField(source="item.kind")
    secrecy = serializers.CharField(source="item.secrecy")
    weight_g = serializers.IntegerField(source="item.weight_g")
    recipient_agency = AgencyRefOutput(source="item.recipient_agency")
    added_at = serializers.DateTimeField()
    removed_at = serializers.DateTimeField(allow_null=True)
    scanned_at = serializers.DateTimeField(allow_null=True, help_text="Quét khi mở túi")
    damaged = serializers.BooleanField()

    class Meta:
        ref_name = "BagLine"


class BagEventOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    code = serializers.CharField()
    code_label = serializers.CharField(source="get_code_display")
    actor = PersonRefOutput()
    giver = PersonRefOutput(allow_null=True)
    taker = PersonRefOutput(allow_null=True)
    facility = FacilityRefOutput(allow_null=True)
    tracking_number = serializers.CharField(source="item.tracking_number", allow_null=True)
    occurred_at = serializers.DateTimeField()
    data = serializers.SerializerMethodField()

    class Meta:
        ref_name = "BagEvent"

    def get_data(self, event) -> dict:
        data = dict(event.data or {})
        if event.code == BagEventCode.SEALED and self.context.get("seal_hidden"):
            data.pop("seal_number", None)
        return data


class BagDetailOutput(BagOutput):
    lines = serializers.SerializerMethodField(help_text="Danh sách túi: bưu gửi đang trong túi")
    events = serializers.SerializerMethodField()
    incidents = serializers.SerializerMethodField(help_text="Sự cố của túi (sai lệch khi nhận, mở)")

    class Meta:
        ref_name = "BagDetail"

    @extend_schema_field(BagLineOutput(many=True))
    def get_lines(self, bag) -> list:
        return BagLineOutput(selectors.bag_lines(bag=bag), many=True).data

    @extend_schema_field(BagEventOutput(many=True))
    def get_events(self, bag) -> list:
        hidden = seal_hidden_from(self.context["viewer"], bag)
        return BagEventOutput(selectors.bag_events(bag=bag), many=True, context={"seal_hidden": hidden}).data

    @extend_schema_field(IncidentRefOutput(many=True))
    def get_incidents(self, bag) -> list:
        return IncidentRefOutput(incidents_for(self.context["viewer"], bag).order_by("pk"), many=True).data


def _bag(bag: Bag, viewer, detail: bool = False) -> dict:
    return (BagDetailOutput if detail else BagOutput)(bag, context={"viewer": viewer}).data


class CountsOutput(serializers.Serializer):
    listed = serializers.IntegerField(help_text="Bưu gửi trong danh sách túi")
    scanned = serializers.IntegerField(help_text="Đã quét khi mở")
    remaining = serializers.IntegerField(help_text="Trong danh sách, chưa quét")
    damaged = serializers.IntegerField()
    extra = serializers.IntegerField(help_text="Quét được nhưng không có trong danh sách")

    class Meta:
        ref_name = "BagOpeningCounts"


def _counts(viewer, bag: Bag) -> dict:
    lines = selectors.bag_lines(bag=bag).aggregate(listed=Count("pk"), scanned=Count("scanned_at"),
                                                   damaged=Count("pk", filter=Q(damaged=True)))
    extra = incidents_for(viewer, bag).filter(kind=IncidentKind.EXTRA_ITEM).count()
    return {**lines, "remaining": lines["listed"] - lines["scanned"], "extra": extra}


# --- bags -----------------------------------------------------------------------------------------


class BagListApi(ScopedApiMixin, ListAPIView):
    """Bags the caller may see, newest first. `direction` is relative to `facility`, by default the
    caller's own facility."""

    required_permission = "dispatch.view"

    class FilterSerializer(serializers.Serializer):
        status = choice(BagStatus.choices, required=False, allow_blank=True)
        direction = choice(["out", "in"], required=False, allow_blank=True,
                            help_text="out: đóng tại cơ sở; in: gửi đến cơ sở")
        facility = serializers.IntegerField(required=False, allow_null=True, error_messages=ID_ERRORS)
        q = serializers.CharField(required=False, allow_blank=True, max_length=40,
                                  help_text="Số hiệu túi, số niêm phong, số hiệu bưu gửi trong túi")

        class Meta:
            ref_name = "BagListFilter"

    serializer_class = BagOutput

    @extend_schema(operation_id="bags_list", parameters=[FilterSerializer],
                   responses={200: BagOutput(many=True), 400: ERRORS[400]})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "viewer": self.request.user}

    def get_queryset(self):
        filters = BagListApi.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        user = self.request.user
        facility = one_in_scope(user, Facility.objects.all(), f.get("facility"), "facility", _("Cơ sở"))
        facility_id = facility.pk if facility else None
        if f.get("direction") and facility_id is None:
            facility_id = assigned_facility_id(user)
            if facility_id is None:
                raise ValidationFailed(_("Chọn cơ sở để lọc túi đi hoặc đến."), detail={"facility": _("Bắt buộc.")})
        return selectors.bag_list(viewer=user, status=f.get("status", ""), facility=facility_id, q=f.get("q", ""),
                                  direction=f.get("direction", ""))


class BagCreateApi(ScopedApiMixin, APIView):
    """Open a new bag at the caller's facility for a destination facility. The S9 identifier is
    final once the bag is sealed (weight and last-bag flag)."""

    required_permission = "dispatch.view"

    class InputSerializer(serializers.Serializer):
        destination = serializers.IntegerField(error_messages=ID_ERRORS, help_text="Cơ sở nhận túi")
        origin = serializers.IntegerField(required=False, allow_null=True, error_messages=ID_ERRORS,
                                          help_text="Mặc định: cơ sở của người gọi")
        same_dispatch_as = serializers.IntegerField(required=False, allow_null=True, error_messages=ID_ERRORS,
                                                    help_text="Túi cùng chuyến thư (S8) với túi này")

        class Meta:
            ref_name = "BagCreateInput"

    @extend_schema(operation_id="bags_create", request=InputSerializer,
                   responses={201: BagDetailOutput, 400: ERRORS[400], 403: ERRORS[403]})
    def post(self, request, *args, **kwargs):
        user = request.user
        require_any(user, "dispatch.bag")
        serializer = BagCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        facilities = Facility.objects.all()
        bag = services.bag_create(
            actor=user, destination=one_in_scope(user, facilities, data["destination"], "destination", _("Nơi nhận")),
            origin=one_in_scope(user, facilities, data.get("origin"), "origin", _("Nơi đóng")),
            same_dispatch_as=one_in_scope(user, Bag.objects.all(), data.get("same_dispatch_as"), "same_dispatch_as",
                                       _("Túi")),
        )
        bag = selectors.bag_get(viewer=user, pk=bag.pk)
        return Response(_bag(bag, user, detail=True), status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api:bag_detail", kwargs={"pk": bag.pk})})


class BagCollectionApi(BagListApi, BagCreateApi):
    """/bags/: GET is BagListApi, POST is BagCreateApi."""


class BagDetailApi(ScopedApiMixin, APIView):
    """One bag with its list (the items in it), its events and its incidents."""

    required_permission = "dispatch.view"

    @extend_schema(operation_id="bags_retrieve", responses={200: BagDetailOutput, 404: ERRORS[404]})
    def get(self, request, pk: int):
        return Response(_bag(selectors.bag_get(viewer=request.user, pk=pk), request.user, detail=True))


class TrackingNumberInput(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=40, help_text="Số hiệu S10, quét hoặc gõ")

    class Meta:
        ref_name = "BagTrackingNumberInput"


class BagItemAddApi(ScopedApiMixin, APIView):
    """Put an item the caller holds into an open bag (refused: not_holder, in_bag, secrecy_mix,
    illegal_transition for an item not accepted; bag_not_open 409 once sealed). Custody moves to
    the bag only at sealing."""

    required_permission = "dispatch.view"

    class OutputSerializer(serializers.Serializer):
        line = BagLineOutput()
        items_in_bag = serializers.IntegerField()

        class Meta:
            ref_name = "BagItemAddOutput"

    @extend_schema(operation_id="bags_items_create", request=TrackingNumberInput,
                   responses={201: OutputSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        bag = selectors.bag_get(viewer=request.user, pk=pk)
        require_any(request.user, "dispatch.bag")
        serializer = TrackingNumberInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        line = services.bag_add_item(actor=request.user, bag=bag, tracking_number=serializer.validated_data["tracking_number"])
        count = selectors.bag_lines(bag=bag).count()
        return Response(BagItemAddApi.OutputSerializer({"line": line, "items_in_bag": count}).data,
                        status=status.HTTP_201_CREATED)


class BagItemRemoveApi(ScopedApiMixin, APIView):
    """Take an item back out of an open bag (not_in_bag when it is not there)."""

    required_permission = "dispatch.view"

    @extend_schema(operation_id="bags_items_remove", request=None, responses={200: BagLineOutput, **WRITE_ERRORS})
    def post(self, request, pk: int, tracking_number: str):
        bag = selectors.bag_get(viewer=request.user, pk=pk)
        require_any(request.user, "dispatch.bag")
        line = services.bag_remove_item(actor=request.user, bag=bag, tracking_number=tracking_number)
        return Response(BagLineOutput(line).data)


class BagSealApi(ScopedApiMixin, APIView):
    """Seal an open bag: custody of every item moves to the bag. Refused: empty_bag, seal_in_use
    (the number is on another bag not yet opened), a missing seal number."""

    required_permission = "dispatch.view"

    class InputSerializer(serializers.Serializer):
        seal_number = serializers.CharField(max_length=30, help_text="Số niêm phong (kẹp chì)")
        last_in_dispatch = serializers.BooleanField(required=False, default=False, error_messages=BOOL_ERRORS,
                                                    help_text="Túi cuối của chuyến thư (S9)")

        class Meta:
            ref_name = "BagSealInput"

    @extend_schema(operation_id="bags_seal", request=InputSerializer, responses={200: BagOutput, **WRITE_ERRORS})
    def post(self, request, pk: int):
        bag = selectors.bag_get(viewer=request.user, pk=pk)
        require_any(request.user, "dispatch.bag")
        serializer = BagSealApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.bag_seal(actor=request.user, bag=bag, seal_number=data["seal_number"],
                          last_in_dispatch=data["last_in_dispatch"])
        return Response(_bag(selectors.bag_get(viewer=request.user, pk=pk), request.user))


class PresentInput(serializers.Serializer):
    present = id_list("Những người có mặt, ký xác nhận biên bản nếu có sai lệch", required=False)

    class Meta:
        ref_name = "BagOpeningPresentInput"


class DiscrepancyOutput(serializers.Serializer):
    bag = BagOutput()
    incidents = IncidentRefOutput(many=True, help_text="Sự cố vừa lập (mỗi sự cố kèm biên bản)")
    counts = CountsOutput()


class BagReceiveApi(ScopedApiMixin, APIView):
    """The receiving officer, holding the bag at its destination, types the seal number read on
    the seal and says whether the seal is intact. A mismatch or a broken seal is not an error: the
    bag is received, an incident with its record is opened, and the answer names it. Refused:
    wrong_facility, not_holder (take the bag from the crew first)."""

    required_permission = "dispatch.view"

    class InputSerializer(PresentInput):
        seal_number = serializers.CharField(max_length=30, help_text="Số niêm phong đọc trên túi")
        seal_intact = serializers.BooleanField(error_messages=BOOL_ERRORS)

        class Meta:
            ref_name = "BagReceiveInput"

    class OutputSerializer(DiscrepancyOutput):
        seal_matches = serializers.BooleanField()

        class Meta:
            ref_name = "BagReceiveOutput"

    @extend_schema(operation_id="bags_receive", request=InputSerializer,
                   responses={200: OutputSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        user = request.user
        bag = selectors.bag_get(viewer=user, pk=pk)
        require_any(user, "dispatch.bag")
        serializer = BagReceiveApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        present = colleagues(user, data.get("present", []), "present", _("Người có mặt"))
        mark = incident_mark(bag)
        bag = services.bag_receive(actor=user, bag=bag, seal_number_read=data["seal_number"],
                                   seal_intact=data["seal_intact"], present=present)
        received = bag.events.filter(code=BagEventCode.RECEIVED).order_by("-seq").first()
        bag = selectors.bag_get(viewer=user, pk=pk)
        return Response(BagReceiveApi.OutputSerializer({
            "bag": bag, "seal_matches": bool(received and received.data.get("seal_matches")),
            "incidents": opened_since(user, bag, mark), "counts": _counts(user, bag),
        }, context={"viewer": user}).data)


class BagScanApi(ScopedApiMixin, APIView):
    """One scan while opening a received bag. A listed item's scan is recorded on its line; the
    item stays in the bag's custody until the opening is finished (open-finish hands every scanned
    item to the person who scanned it). An item not on the list is recorded as an extra item, a
    damaged one as damaged (an incident each, answered 200 with its number). Refused:
    already_scanned, not_holder; 409 unless received (also once the opening is finished)."""

    required_permission = "dispatch.view"

    class InputSerializer(PresentInput):
        tracking_number = serializers.CharField(max_length=40, help_text="Số hiệu S10, quét hoặc gõ")
        damaged = serializers.BooleanField(required=False, default=False, error_messages=BOOL_ERRORS)

        class Meta:
            ref_name = "BagScanInput"

    class OutputSerializer(serializers.Serializer):
        tracking_number = serializers.CharField()
        listed = serializers.BooleanField(help_text="Có trong danh sách túi")
        extra = serializers.BooleanField(help_text="Không có trong danh sách: đã lập sự cố thừa bưu gửi")
        damaged = serializers.BooleanField()
        line = BagLineOutput(allow_null=True)
        incidents = IncidentRefOutput(many=True)
        counts = CountsOutput()

        class Meta:
            ref_name = "BagScanOutput"

    @extend_schema(operation_id="bags_scan", request=InputSerializer, responses={200: OutputSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        user = request.user
        bag = selectors.bag_get(viewer=user, pk=pk)
        require_any(user, "dispatch.bag")
        serializer = BagScanApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        present = colleagues(user, data.get("present", []), "present", _("Người có mặt"))
        mark = incident_mark(bag)
        line = services.bag_open_scan(actor=user, bag=bag, tracking_number=data["tracking_number"],
                                      damaged=data["damaged"], present=present)
        return Response(BagScanApi.OutputSerializer({
            "tracking_number": str(s10.parse(data["tracking_number"])), "listed": line is not None,
            "extra": line is None, "damaged": data["damaged"], "line": line,
            "incidents": opened_since(user, bag, mark), "counts": _counts(user, bag),
        }).data)


class BagOpenFinishApi(ScopedApiMixin, APIView):
    """Finish opening: custody of every scanned item moves from the bag to the person who scanned
    it (one KOUT custody event each, in one transaction); each listed item not scanned is missing
    (an incident each; the item stays in the bag's custody, never silently dropped). The answer
    lists the missing items and every discrepancy of the bag, from receiving to now."""

    required_permission = "dispatch.view"

    class OutputSerializer(DiscrepancyOutput):
        missing = serializers.ListField(child=serializers.CharField(), help_text="Số hiệu bưu gửi thiếu")
        opened_now = IncidentRefOutput(many=True, help_text="Sự cố thiếu bưu gửi vừa lập")

        class Meta:
            ref_name = "BagOpenFinishOutput"

    @extend_schema(operation_id="bags_open_finish", request=PresentInput,
                   responses={200: OutputSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        user = request.user
        bag = selectors.bag_get(viewer=user, pk=pk)
        require_any(user, "dispatch.bag")
        serializer = PresentInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        present = colleagues(user, serializer.validated_data.get("present", []), "present", _("Người có mặt"))
        mark = incident_mark(bag)
        services.bag_open_finish(actor=user, bag=bag, present=present)
        bag = selectors.bag_get(viewer=user, pk=pk)
        opened = bag.events.filter(code=BagEventCode.OPENED).order_by("-seq").first()
        return Response(BagOpenFinishApi.OutputSerializer({
            "bag": bag, "missing": opened.data.get("missing", []) if opened else [],
            "opened_now": opened_since(user, bag, mark),
            "incidents": list(incidents_for(user, bag).order_by("pk")), "counts": _counts(user, bag),
        }, context={"viewer": user}).data)


SCAN_BATCH_MAX = 1000


class ScanEntryInput(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=40, help_text="Số hiệu S10, quét hoặc gõ")
    damaged = serializers.BooleanField(required=False, default=False, error_messages=BOOL_ERRORS)

    class Meta:
        ref_name = "BagScanBatchEntry"


_ScanEntries = batch_entries_field(ScanEntryInput)


class ScanResultOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="Vị trí trong danh sách gửi lên, từ 0")
    tracking_number = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["scanned", "extra", "refused"], help_text=(
        "scanned: đã ghi trên dòng của túi; extra: không có trong danh sách, đã lập sự cố thừa bưu gửi; "
        "refused: không ghi gì, xem code và message"))
    damaged = serializers.BooleanField()
    code = serializers.CharField(allow_null=True, help_text="Mã lỗi khi bị từ chối")
    message = serializers.CharField(allow_null=True)
    detail = serializers.DictField()

    class Meta:
        ref_name = "BagScanBatchResult"


class BagScanBatchApi(ScopedApiMixin, APIView):
    """The scans of an opening sent together by a handheld (up to 1000), in the order read, recorded
    in one transaction. Each scan stands alone: a malformed number or a second scan of an item is
    refused alone (code, message as for one scan); an item not on the list is recorded as an extra
    item and a damaged one as damaged (an incident each). The whole request is refused (nothing
    recorded) when the bag is not received or the caller did not receive it: not_holder; 409 unless
    received (also once the opening is finished)."""

    required_permission = "dispatch.view"

    class InputSerializer(PresentInput):
        scans = _ScanEntries(allow_empty=False, max_length=SCAN_BATCH_MAX, error_messages={
            "empty": gettext_lazy("Gửi ít nhất một lần quét."),
            "max_length": gettext_lazy("Tối đa {max_length} lần quét mỗi lần gửi."),
            "not_a_list": gettext_lazy("“scans” phải là một danh sách."),
        })

        class Meta:
            ref_name = "BagScanBatchInput"

    class OutputSerializer(serializers.Serializer):
        results = ScanResultOutput(many=True)
        scanned = serializers.IntegerField()
        extra = serializers.IntegerField()
        refused = serializers.IntegerField()
        incidents = IncidentRefOutput(many=True, help_text="Sự cố vừa lập (thừa, hư hỏng)")
        counts = CountsOutput()

        class Meta:
            ref_name = "BagScanBatchOutput"

    @extend_schema(operation_id="bags_scans_batch", request=InputSerializer,
                   responses={200: OutputSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        user = request.user
        bag = selectors.bag_get(viewer=user, pk=pk)
        require_any(user, "dispatch.bag")
        serializer = BagScanBatchApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        present = colleagues(user, serializer.validated_data.get("present", []), "present", _("Người có mặt"))
        results: list[dict | None] = []
        scans: list[services.ScanInput] = []
        positions: list[int] = []
        for index, raw, data, detail in validate_entries(serializer.validated_data["scans"], ScanEntryInput(),
                                                         _("Mỗi lần quét là một đối tượng.")):
            if data is None:
                number = raw.get("tracking_number") if isinstance(raw, dict) else None
                results.append(_scan_result(index, number, "refused", False, "invalid",
                                            _first_message(detail) or _("Dữ liệu không hợp lệ."), detail))
                continue
            scans.append(services.ScanInput(data["tracking_number"], data["damaged"]))
            positions.append(index)
            results.append(None)
        mark = incident_mark(bag)
        outcomes = services.bag_open_scans(actor=user, bag=bag, scans=scans, present=present) if scans else []
        for position, outcome in zip(positions, outcomes, strict=True):
            error = outcome.error
            results[position] = _scan_result(
                position, outcome.tracking_number, outcome.status, scans[outcome.index].damaged and error is None,
                error.code if error else None, str(error.message) if error else None,
                error.as_dict()["detail"] if error else {})
        return Response(BagScanBatchApi.OutputSerializer({
            "results": results, **{s: sum(1 for r in results if r["status"] == s) for s in ("scanned", "extra", "refused")},
            "incidents": opened_since(user, bag, mark), "counts": _counts(user, bag),
        }).data)


def _scan_result(index: int, number, status_: str, damaged: bool, code, message, detail) -> dict:
    return {"index": index, "tracking_number": None if number is None else str(number)[:64], "status": status_,
            "damaged": damaged, "code": code, "message": message, "detail": detail}


class BagUnscanApi(ScopedApiMixin, APIView):
    """Undo a scan before the opening is finished (the receiver; a reason is required): the line
    is not scanned any more, the item was never handed over and may be scanned again; the bag's
    history keeps the undo with its reason. Refused: reason_required, not_in_bag, not_scanned,
    not_holder; 409 unless received (also once the opening is finished)."""

    required_permission = "dispatch.view"

    class InputSerializer(serializers.Serializer):
        tracking_number = serializers.CharField(max_length=40, help_text="Số hiệu S10 của bưu gửi đã quét")
        reason = serializers.CharField(max_length=500, help_text="Lý do hủy quét")

        class Meta:
            ref_name = "BagUnscanInput"

    class OutputSerializer(serializers.Serializer):
        line = BagLineOutput()
        counts = CountsOutput()

        class Meta:
            ref_name = "BagUnscanOutput"

    @extend_schema(operation_id="bags_unscan", request=InputSerializer,
                   responses={200: OutputSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        user = request.user
        bag = selectors.bag_get(viewer=user, pk=pk)
        require_any(user, "dispatch.bag")
        serializer = BagUnscanApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        line = services.bag_open_unscan(actor=user, bag=bag, tracking_number=data["tracking_number"],
                                        reason=data["reason"])
        return Response(BagUnscanApi.OutputSerializer({"line": line, "counts": _counts(user, bag)}).data)
