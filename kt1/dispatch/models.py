"""Sealed bags, mail routes and trips, vehicle trips, bag transfers and delivery rounds.

A sealed bag holds its items: when a bag is sealed, custody of every item moves to the bag, and the
bag itself has exactly one holder (a person) at a time. Bag events are append-only and sealed in the
audit chain like item custody events.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kt1.core.choices import Secrecy
from kt1.core.clock import now
from kt1.core.models import EffectiveDated
from kt1.items.models import AppendOnlyModel

from .choices import (
    SEAL_IN_USE,
    BagEventCode,
    BagStatus,
    RoundResult,
    RoundStatus,
    TransferStatus,
    TripStatus,
)


class SecrecyMixRule(EffectiveDated):
    """Which secrecy levels may travel in one bag: a list of groups; a bag's items must all fall in
    one group. E.g. [["A"], ["B", "C"], ["none"]] keeps A alone and plain mail apart."""

    groups = models.JSONField(_("Nhóm độ mật được đóng chung"))
    legal_basis = models.CharField(_("Căn cứ"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("quy tắc đóng chung độ mật")
        verbose_name_plural = _("quy tắc đóng chung độ mật")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return " | ".join("+".join(g) for g in self.groups)

    def group_of(self, level: str) -> int | None:
        for index, group in enumerate(self.groups):
            if level in group:
                return index
        return None


class Bag(models.Model):
    identifier = models.CharField(_("Số hiệu túi"), max_length=29, unique=True)
    dispatch_number = models.PositiveIntegerField(_("Số chuyến thư (S8)"))
    receptacle_serial = models.PositiveIntegerField(_("Số thứ tự túi"))
    origin = models.ForeignKey("directory.Facility", verbose_name=_("Nơi đóng"), on_delete=models.PROTECT,
                               related_name="bags_out")
    destination = models.ForeignKey("directory.Facility", verbose_name=_("Nơi nhận"), on_delete=models.PROTECT,
                                    related_name="bags_in")
    status = models.CharField(_("Trạng thái"), max_length=12, choices=BagStatus.choices, default=BagStatus.OPEN)
    seal_number = models.CharField(_("Số niêm phong"), max_length=30, blank=True)
    highest_secrecy = models.CharField(_("Độ mật cao nhất"), max_length=4, choices=Secrecy.choices, default=Secrecy.NONE)
    mix_rule = models.ForeignKey(SecrecyMixRule, null=True, on_delete=models.PROTECT, related_name="+")
    item_count = models.PositiveIntegerField(_("Số bưu gửi"), default=0)
    weight_g = models.PositiveIntegerField(_("Khối lượng (g)"), default=0)
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Người đang giữ"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="held_bags")
    facility = models.ForeignKey("directory.Facility", verbose_name=_("Cơ sở hiện tại"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="bags_here")
    trip = models.ForeignKey("dispatch.MailTrip", verbose_name=_("Chuyến thư"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="bags")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    sealed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sealed_at = models.DateTimeField(_("Niêm phong lúc"), null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    received_at = models.DateTimeField(_("Nhận lúc"), null=True, blank=True)
    seal_intact = models.BooleanField(_("Niêm phong nguyên vẹn"), null=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("Mở xong lúc"), null=True, blank=True)
    last_event_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("túi thư KT1")
        verbose_name_plural = _("túi thư KT1")
        ordering = ["-created_at"]
        constraints = [
            # A seal number cannot be reused while the bag that carries it is still closed.
            models.UniqueConstraint(fields=["seal_number"], condition=Q(status__in=SEAL_IN_USE),
                                    name="bag_seal_number_in_use_unique"),
        ]
        indexes = [models.Index(fields=["status", "origin"]), models.Index(fields=["status", "destination"])]

    def __str__(self) -> str:
        return self.identifier

    @property
    def dispatch_id(self) -> str:
        """The S8 dispatch identifier: the first 20 characters of the S9 receptacle identifier."""
        return self.identifier[:20]


class BagItem(models.Model):
    """An item's stay in a bag: added while open, removed before sealing, or found at opening."""

    bag = models.ForeignKey(Bag, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey("items.Item", on_delete=models.PROTECT, related_name="bag_lines")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=now)
    removed_at = models.DateTimeField(null=True, blank=True)
    scanned_at = models.DateTimeField(_("Quét khi mở"), null=True, blank=True)
    scanned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    damaged = models.BooleanField(_("Hư hỏng"), default=False)

    class Meta:
        ordering = ["bag_id", "added_at", "pk"]
        constraints = [
            # An item is in at most one open or travelling bag at a time.
            models.UniqueConstraint(fields=["item"], condition=Q(removed_at__isnull=True, scanned_at__isnull=True),
                                    name="bag_item_one_live_bag"),
        ]

    def __str__(self) -> str:
        return f"{self.bag_id}:{self.item_id}"


class BagEvent(AppendOnlyModel):
    bag = models.ForeignKey(Bag, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    code = models.CharField(max_length=14, choices=BagEventCode.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    taker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey("directory.Facility", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("items.Item", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(default=now)
    data = models.JSONField(default=dict)
    audit_seq = models.BigIntegerField(null=True)

    class Meta:
        ordering = ["bag_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["bag", "seq"], name="bag_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.bag_id}#{self.seq} {self.code}"


class MailRoute(EffectiveDated):
    """A mail route (đường thư) between two facilities, with its daily shifts."""

    code = models.CharField(_("Mã đường thư"), max_length=20, unique=True)
    name = models.CharField(_("Tên"), max_length=200)
    origin = models.ForeignKey("directory.Facility", verbose_name=_("Điểm đầu"), on_delete=models.PROTECT,
                               related_name="routes_out")
    destination = models.ForeignKey("directory.Facility", verbose_name=_("Điểm cuối"), on_delete=models.PROTECT,
                                    related_name="routes_in")

    class Meta:
        verbose_name = _("đường thư")
        verbose_name_plural = _("đường thư")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RouteShift(models.Model):
    route = models.ForeignKey(MailRoute, on_delete=models.PROTECT, related_name="shifts")
    name = models.CharField(_("Ca"), max_length=50)
    departs_at = models.TimeField(_("Giờ xuất phát"))

    class Meta:
        ordering = ["route_id", "departs_at"]
        constraints = [models.UniqueConstraint(fields=["route", "name"], name="route_shift_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.departs_at:%H:%M})"


class Vehicle(EffectiveDated):
    registration = models.CharField(_("Biển số"), max_length=20, unique=True)
    description = models.CharField(_("Mô tả"), max_length=200, blank=True)
    is_dedicated = models.BooleanField(_("Xe chuyên dùng KT1"), default=False)
    facility = models.ForeignKey("directory.Facility", verbose_name=_("Đơn vị quản lý"), on_delete=models.PROTECT,
                                 related_name="vehicles")

    class Meta:
        verbose_name = _("phương tiện")
        verbose_name_plural = _("phương tiện")
        ordering = ["registration"]

    def __str__(self) -> str:
        return self.registration


class VehicleTrip(models.Model):
    """A vehicle trip (chuyến xe) with its crew; it carries one or more mail trips."""

    number = models.CharField(_("Số chuyến xe"), max_length=30, unique=True)
    vehicle = models.ForeignKey(Vehicle, verbose_name=_("Xe"), on_delete=models.PROTECT, related_name="trips")
    driver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Lái xe"), on_delete=models.PROTECT,
                               related_name="+")
    escort = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Áp tải"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    service_date = models.DateField(_("Ngày"))
    status = models.CharField(_("Trạng thái"), max_length=10, choices=TripStatus.choices, default=TripStatus.PLANNED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    departed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("chuyến xe")
        verbose_name_plural = _("chuyến xe")
        ordering = ["-service_date", "number"]

    def __str__(self) -> str:
        return self.number


class MailTrip(models.Model):
    """A mail trip (chuyến thư): the closed bags one route carries in one shift of one day."""

    number = models.CharField(_("Số chuyến thư"), max_length=30, unique=True)
    route = models.ForeignKey(MailRoute, verbose_name=_("Đường thư"), on_delete=models.PROTECT, related_name="trips")
    shift = models.ForeignKey(RouteShift, verbose_name=_("Ca"), on_delete=models.PROTECT, related_name="trips")
    service_date = models.DateField(_("Ngày"))
    vehicle_trip = models.ForeignKey(VehicleTrip, verbose_name=_("Chuyến xe"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="mail_trips")
    status = models.CharField(_("Trạng thái"), max_length=10, choices=TripStatus.choices, default=TripStatus.PLANNED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    departed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("chuyến thư")
        verbose_name_plural = _("chuyến thư")
        ordering = ["-service_date", "number"]
        constraints = [models.UniqueConstraint(fields=["route", "shift", "service_date"], name="mail_trip_per_shift")]

    def __str__(self) -> str:
        return self.number


class BagTransfer(models.Model):
    """Handover of sealed bags between two people (facility staff and a vehicle crew), confirmed by
    both: the giver lists the bags, the taker confirms in their own session; custody moves then."""

    number = models.CharField(_("Số phiếu"), max_length=30, unique=True)
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Bên giao"), on_delete=models.PROTECT,
                              related_name="+")
    taker = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Bên nhận"), on_delete=models.PROTECT,
                              related_name="+")
    facility = models.ForeignKey("directory.Facility", verbose_name=_("Tại"), on_delete=models.PROTECT, related_name="+")
    mail_trip = models.ForeignKey(MailTrip, null=True, blank=True, on_delete=models.PROTECT, related_name="transfers")
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.OPEN)
    bags = models.ManyToManyField(Bag, related_name="transfers")
    created_at = models.DateTimeField(default=now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("phiếu giao nhận túi")
        verbose_name_plural = _("phiếu giao nhận túi")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number


class DeliveryRoute(EffectiveDated):
    """A delivery route (tuyến phát) of a post office: the communes and wards it serves."""

    code = models.CharField(_("Mã tuyến phát"), max_length=20, unique=True)
    name = models.CharField(_("Tên"), max_length=200)
    facility = models.ForeignKey("directory.Facility", verbose_name=_("Bưu cục"), on_delete=models.PROTECT,
                                 related_name="delivery_routes")
    admin_units = models.ManyToManyField("directory.AdministrativeUnit", verbose_name=_("Địa bàn"),
                                         related_name="delivery_routes")

    class Meta:
        verbose_name = _("tuyến phát")
        verbose_name_plural = _("tuyến phát")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RoundRule(EffectiveDated):
    """Required delivery rounds a day by unit level (DOMAIN §8: 2 a day; 1 at commune level)."""

    unit_level = models.CharField(_("Cấp địa bàn"), max_length=20)
    min_rounds_per_day = models.PositiveSmallIntegerField(_("Số chuyến phát tối thiểu/ngày"))
    legal_basis = models.CharField(_("Căn cứ"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("quy định số chuyến phát")
        verbose_name_plural = _("quy định số chuyến phát")
        ordering = ["unit_level", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.unit_level}: {self.min_rounds_per_day}"


class DeliveryRound(models.Model):
    number = models.CharField(_("Số chuyến phát"), max_length=30, unique=True)
    route = models.ForeignKey(DeliveryRoute, verbose_name=_("Tuyến phát"), on_delete=models.PROTECT,
                              related_name="rounds")
    postman = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Bưu tá"), on_delete=models.PROTECT,
                                related_name="+")
    service_date = models.DateField(_("Ngày"))
    status = models.CharField(_("Trạng thái"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.PLANNED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("chuyến phát")
        verbose_name_plural = _("chuyến phát")
        ordering = ["-service_date", "number"]

    def __str__(self) -> str:
        return self.number


class RoundItem(models.Model):
    round = models.ForeignKey(DeliveryRound, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey("items.Item", on_delete=models.PROTECT, related_name="round_lines")
    result = models.CharField(_("Kết quả"), max_length=15, choices=RoundResult.choices, default=RoundResult.PENDING)
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round_id", "pk"]
        constraints = [models.UniqueConstraint(fields=["round", "item"], name="round_item_unique")]

    def __str__(self) -> str:
        return f"{self.round_id}:{self.item_id}"


def local_date(moment: dt.datetime) -> dt.date:
    from kt1.core.clock import LOCAL_TZ

    return moment.astimezone(LOCAL_TZ).date()
