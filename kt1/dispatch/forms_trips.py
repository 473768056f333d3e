"""Forms of the trip, round, report and configuration pages of dispatch.

Forms parse input and offer only what a person may pick (routes leaving their facility, sealed bags
at the route's origin bound for its destination, drivers and escorts of their province, …); the
dispatch services decide and their refusals land on these forms through
kt1.core.web.call_service.
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kt1.accounts.choices import Role
from kt1.accounts.models import User
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.core.permissions import restrict, scope_of
from kt1.directory.choices import COMMUNE_LEVELS, UnitLevel
from kt1.directory.models import AdministrativeUnit, Facility
from kt1.items.forms_post import PersonChoice, TrackingNumbersField, postal_staff

from . import selectors
from .choices import RoundStatus, TripStatus
from .models import Bag, DeliveryRoute, MailRoute, MailTrip, RouteShift, Vehicle

MAX_REPORT_DAYS = 366


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


def _date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=DateInput(), input_formats=["%Y-%m-%d", "%d/%m/%Y"], **kwargs)


class FacilityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.postcode} {obj.name}"


class RouteChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.origin.name} → {obj.destination.name}"


class DeliveryRouteChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name} ({obj.facility.name})"


class BagChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.identifier


class MailTripChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number} — {obj.route.code} {obj.shift.name} {obj.service_date:%d/%m/%Y}"


class UnitChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.get_level_display()})"


def facilities_for(viewer) -> QuerySet:
    return restrict(Facility.objects.active(), viewer).order_by("postcode")


def _person(label, *, required: bool = True, empty_label=None) -> PersonChoice:
    return PersonChoice(label=label, queryset=User.objects.none(), required=required, empty_label=empty_label or "---------",
                        error_messages={"invalid_choice": _("Người được chọn không hợp lệ hoặc không còn làm việc."),
                                        "required": _("Bắt buộc.")})


# --- mail trips ------------------------------------------------------------------------------------


class TripFilterForm(forms.Form):
    date_from = _date_field(_("Từ ngày"), required=False)
    date_to = _date_field(_("Đến ngày"), required=False)
    facility = FacilityChoice(label=_("Cơ sở"), queryset=Facility.objects.none(), required=False,
                              empty_label=_("Tất cả"))
    status = forms.ChoiceField(label=_("Trạng thái"), required=False, choices=[("", _("Tất cả")), *TripStatus.choices])
    mine = forms.BooleanField(label=_("Chuyến tôi đi"), required=False)

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities_for(viewer)

    def values(self) -> dict:
        """Filters for the selector (the status is applied after counting, see the view)."""
        if not self.is_valid():
            return {"date_from": None, "date_to": None, "facility": None}
        cd = self.cleaned_data
        return {"date_from": cd.get("date_from"), "date_to": cd.get("date_to"),
                "facility": cd["facility"].pk if cd.get("facility") else None}

    def status_value(self) -> str:
        return (self.cleaned_data.get("status") or "") if self.is_valid() else ""

    def mine_value(self) -> bool:
        return bool(self.cleaned_data.get("mine")) if self.is_valid() else False


class TripRouteForm(forms.Form):
    """Step one (GET): which route the trip runs on: only routes leaving the person's facility."""

    route = RouteChoice(label=_("Đường thư"), queryset=MailRoute.objects.none(), empty_label=_("— chọn đường thư —"),
                        error_messages={"invalid_choice": _("Đường thư không hợp lệ hoặc không xuất phát từ cơ sở của bạn.")})

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = selectors.mail_route_list(viewer=viewer, active_on=local_today(),
                                                                  from_my_facilities=True)


class TripNewForm(forms.Form):
    shift = forms.ModelChoiceField(label=_("Ca"), queryset=RouteShift.objects.none(), empty_label=None)
    service_date = _date_field(_("Ngày chạy"))
    bags = BagChoices(label=_("Túi đã niêm phong đưa lên chuyến"), queryset=Bag.objects.none(), required=False,
                      widget=forms.CheckboxSelectMultiple,
                      error_messages={"invalid_choice": _("Túi %(value)s không còn chờ ở điểm đầu đường thư.")})

    def __init__(self, *args, viewer, route: MailRoute, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shift"].queryset = route.shifts.order_by("departs_at")
        self.fields["bags"].queryset = selectors.bags_for_trip(viewer=viewer, origin_id=route.origin_id,
                                                               destination_id=route.destination_id)
        if not self.is_bound:
            self.initial.setdefault("service_date", local_today())


class TripLoadForm(forms.Form):
    bags = BagChoices(label=_("Túi đưa thêm lên chuyến"), queryset=Bag.objects.none(),
                      widget=forms.CheckboxSelectMultiple,
                      error_messages={"required": _("Chọn ít nhất một túi."),
                                      "invalid_choice": _("Túi %(value)s không còn chờ ở điểm đầu đường thư.")})

    def __init__(self, *args, viewer, trip: MailTrip, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bags"].queryset = selectors.bags_for_trip(viewer=viewer, origin_id=trip.route.origin_id,
                                                               destination_id=trip.route.destination_id)


# --- vehicle trips ---------------------------------------------------------------------------------


class VehicleChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        kind = gettext("xe chuyên dùng KT1") if obj.is_dedicated else gettext("xe không chuyên dùng: cần áp tải")
        return f"{obj.registration} ({kind})"


class VehicleTripFilterForm(forms.Form):
    date = _date_field(_("Ngày"), required=False)

    def values(self) -> dict:
        return {"date": self.cleaned_data.get("date") if self.is_valid() else None}


class VehicleTripForm(forms.Form):
    vehicle = VehicleChoice(label=_("Xe"), queryset=Vehicle.objects.none(), empty_label=_("— chọn xe —"))
    driver = _person(_("Lái xe"))
    escort = _person(_("Áp tải"), required=False, empty_label=_("— không có áp tải —"))
    service_date = _date_field(_("Ngày chạy"))
    mail_trips = MailTripChoices(label=_("Chuyến thư xe chở"), queryset=MailTrip.objects.none(), required=False,
                                 widget=forms.CheckboxSelectMultiple,
                                 error_messages={"invalid_choice": _("Chuyến thư đã được xếp xe hoặc đã xuất phát.")})

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = selectors.vehicle_list(viewer=viewer, active_on=local_today())
        self.fields["driver"].queryset = postal_staff(viewer, roles=[Role.DRIVER])
        self.fields["escort"].queryset = postal_staff(viewer, roles=[Role.ESCORT, Role.DRIVER])
        self.fields["escort"].help_text = _("Bắt buộc khi xe không phải xe chuyên dùng KT1.")
        self.fields["mail_trips"].queryset = selectors.trips_to_carry(viewer=viewer)
        if not self.is_bound:
            self.initial.setdefault("service_date", local_today())


# --- delivery rounds -------------------------------------------------------------------------------


class RoundFilterForm(forms.Form):
    date = _date_field(_("Ngày"), required=False)
    postman = _person(_("Bưu tá"), required=False, empty_label=_("Tất cả"))
    status = forms.ChoiceField(label=_("Trạng thái"), required=False, choices=[("", _("Tất cả")), *RoundStatus.choices])

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["postman"].queryset = postal_staff(viewer, roles=[Role.POSTMAN])

    def values(self) -> dict:
        if not self.is_valid():
            return {"date": None, "postman": None, "status": ""}
        cd = self.cleaned_data
        return {"date": cd.get("date"), "postman": cd.get("postman"), "status": cd.get("status") or ""}


class RoundSetupForm(forms.Form):
    """Step one (GET): the route and the postman; the next step lists the items he holds for it."""

    route = DeliveryRouteChoice(label=_("Tuyến phát"), queryset=DeliveryRoute.objects.none(),
                                empty_label=_("— chọn tuyến phát —"),
                                error_messages={"invalid_choice": _("Tuyến phát không hợp lệ hoặc đã ngừng.")})
    postman = _person(_("Bưu tá"), empty_label=_("— chọn bưu tá —"))

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        facilities = scope_of(viewer).facility_ids
        self.fields["route"].queryset = selectors.delivery_route_list(viewer=viewer, active_on=local_today()).filter(
            facility_id__in=list(facilities))
        self.fields["postman"].queryset = postal_staff(viewer, roles=[Role.POSTMAN])


class RoundNewForm(forms.Form):
    service_date = _date_field(_("Ngày phát"))
    items = forms.MultipleChoiceField(label=_("Bưu gửi bưu tá đang giữ cho tuyến này"), choices=(), required=False,
                                      widget=forms.CheckboxSelectMultiple,
                                      error_messages={"invalid_choice": _("Bưu tá không giữ bưu gửi %(value)s.")})
    scanned = TrackingNumbersField(label=_("Hoặc quét / nhập số hiệu"), required=False,
                                   help_text=_("Mỗi dòng một số hiệu."))

    def __init__(self, *args, candidates: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(i.tracking_number, i.tracking_number) for i in candidates]
        if not self.is_bound:
            self.initial.setdefault("service_date", local_today())
            self.initial.setdefault("items", [i.tracking_number for i in candidates])

    def clean(self):
        data = super().clean()
        numbers = list(data.get("items") or [])
        numbers += [n for n in data.get("scanned") or [] if n not in numbers]
        data["tracking_numbers"] = numbers
        return data


class CoverageForm(forms.Form):
    day = _date_field(_("Ngày"), required=False)

    def day_value(self) -> dt.date:
        return (self.cleaned_data.get("day") if self.is_valid() else None) or local_today()


# --- volume report ---------------------------------------------------------------------------------


GROUP_CHOICES = [("day", _("Ngày")), ("shift", _("Ca")), ("month", _("Tháng"))]


class VolumeReportForm(forms.Form):
    facility = FacilityChoice(label=_("Cơ sở"), queryset=Facility.objects.none(), empty_label=None)
    date_from = _date_field(_("Từ ngày"))
    date_to = _date_field(_("Đến ngày"))
    group = forms.ChoiceField(label=_("Nhóm theo"), choices=GROUP_CHOICES)

    def __init__(self, data, *, viewer, default_facility: Facility | None, **kwargs):
        today = local_today()
        defaults = {"facility": default_facility.pk if default_facility else "",
                    "date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat(), "group": "day"}
        merged = {**defaults, **{k: v for k, v in data.items() if k in defaults and v}}
        super().__init__(merged, **kwargs)
        self.fields["facility"].queryset = restrict(Facility.objects.all(), viewer).order_by("postcode")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", gettext("Ngày kết thúc phải sau ngày bắt đầu."))
            elif (end - start).days >= MAX_REPORT_DAYS:
                self.add_error("date_to", gettext("Khoảng thời gian tối đa %(n)d ngày.") % {"n": MAX_REPORT_DAYS})
        return data


# --- configuration (administrators) --------------------------------------------------------------

SHIFT_LINE = re.compile(r"^(?P<name>.+?)\s+(?P<h>\d{1,2})[:hH](?P<m>\d{2})$")


class MailRouteForm(forms.Form):
    code = forms.CharField(label=_("Mã đường thư"), max_length=20)
    name = forms.CharField(label=_("Tên"), max_length=200)
    origin = FacilityChoice(label=_("Điểm đầu"), queryset=Facility.objects.none(), empty_label=_("— chọn cơ sở —"))
    destination = FacilityChoice(label=_("Điểm cuối"), queryset=Facility.objects.none(),
                                 empty_label=_("— chọn cơ sở —"))
    shifts = forms.CharField(label=_("Các ca trong ngày"), widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Mỗi dòng một ca: tên ca rồi giờ xuất phát, ví dụ “Sáng 07:00”."))

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["origin"].queryset = facilities_for(viewer)
        self.fields["destination"].queryset = facilities_for(viewer)

    def clean_shifts(self) -> list[tuple[str, dt.time]]:
        shifts: list[tuple[str, dt.time]] = []
        errors = []
        for line in (self.cleaned_data.get("shifts") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            match = SHIFT_LINE.match(line)
            try:
                if not match:
                    raise ValueError
                at = dt.time(int(match["h"]), int(match["m"]))
            except ValueError:
                errors.append(gettext("“%(l)s”: ghi tên ca rồi giờ HH:MM.") % {"l": line})
                continue
            if match["name"].strip() in {s[0] for s in shifts}:
                errors.append(gettext("Ca “%(n)s” ghi hai lần.") % {"n": match["name"].strip()})
                continue
            shifts.append((match["name"].strip(), at))
        if errors:
            raise ValidationError(errors)
        if not shifts:
            raise ValidationError(gettext("Đường thư cần ít nhất một ca."))
        return shifts


class VehicleForm(forms.Form):
    registration = forms.CharField(label=_("Biển số"), max_length=20)
    description = forms.CharField(label=_("Mô tả"), max_length=200, required=False)
    facility = FacilityChoice(label=_("Đơn vị quản lý"), queryset=Facility.objects.none(),
                              empty_label=_("— chọn cơ sở —"))
    is_dedicated = forms.BooleanField(label=_("Xe chuyên dùng KT1 (không cần áp tải)"), required=False)

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities_for(viewer)


class DeliveryRouteForm(forms.Form):
    code = forms.CharField(label=_("Mã tuyến phát"), max_length=20)
    name = forms.CharField(label=_("Tên"), max_length=200)
    facility = FacilityChoice(label=_("Bưu cục"), queryset=Facility.objects.none(), empty_label=_("— chọn bưu cục —"))
    admin_units = UnitChoices(label=_("Địa bàn phục vụ"), queryset=AdministrativeUnit.objects.none(),
                              widget=forms.CheckboxSelectMultiple,
                              error_messages={"required": _("Chọn địa bàn tuyến phát phục vụ.")})

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities_for(viewer)
        self.fields["admin_units"].queryset = restrict(AdministrativeUnit.objects.active(), viewer).order_by(
            "level", "name")


SECRECY_WORDS = {"none": Secrecy.NONE, "không": Secrecy.NONE, "thường": Secrecy.NONE, "kt1": Secrecy.NONE,
                 "a": Secrecy.A, "b": Secrecy.B, "c": Secrecy.C}


def parse_groups(text: str) -> list[list[str]]:
    """"A | B,C | none" → [["A"], ["B", "C"], ["none"]]."""
    groups = []
    for part in (text or "").split("|"):
        words = [w.strip().lower() for w in re.split(r"[,+;\s]+", part) if w.strip()]
        if not words:
            continue
        group = []
        for word in words:
            if word not in SECRECY_WORDS:
                raise ValidationError(gettext("“%(w)s” không phải độ mật (dùng A, B, C, none).") % {"w": word})
            group.append(str(SECRECY_WORDS[word]))
        groups.append(group)
    return groups


class MixRuleForm(forms.Form):
    groups = forms.CharField(label=_("Nhóm độ mật được đóng chung túi"), max_length=100,
                             help_text=_("Các nhóm cách nhau bởi “|”, độ mật trong nhóm cách nhau bởi dấu phẩy; "
                                         "ví dụ “A | B,C | none”: A đóng riêng, B và C chung, thư thường riêng."))
    legal_basis = forms.CharField(label=_("Căn cứ"), max_length=300, required=False)
    valid_from = _date_field(_("Hiệu lực từ"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("valid_from", local_today())

    def clean_groups(self) -> list[list[str]]:
        return parse_groups(self.cleaned_data.get("groups") or "")


UNIT_LEVEL_CHOICES = [(UnitLevel.PROVINCE.value, UnitLevel.PROVINCE.label),
                      *[(level.value, level.label) for level in COMMUNE_LEVELS]]


class RoundRuleForm(forms.Form):
    unit_level = forms.ChoiceField(label=_("Cấp địa bàn"), choices=UNIT_LEVEL_CHOICES)
    min_rounds_per_day = forms.IntegerField(label=_("Số chuyến phát tối thiểu mỗi ngày"), min_value=1, max_value=10)
    legal_basis = forms.CharField(label=_("Căn cứ"), max_length=300, required=False)
    valid_from = _date_field(_("Hiệu lực từ"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("valid_from", local_today())
