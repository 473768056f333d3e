"""Postal items, their custody events, handover lists, pickup requests and identifier ranges.

Custody is append-only: an item's current holder and status are a projection of its events,
updated by the services in the same transaction that appends the event; `verify_audit` proves the
events still match what the audit chain recorded.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kt1.core.choices import Secrecy
from kt1.core.clock import now
from kt1.core.models import EffectiveDated

from .choices import (
    EventCode,
    HandoverKind,
    HandoverStatus,
    ItemKind,
    ItemStatus,
    NextAction,
    PickupStatus,
    Urgency,
    Zone,
)


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} is append-only: record a correction as a new row")

    def delete(self):
        raise TypeError(f"{self.model.__name__} is append-only: nothing is ever deleted")


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never changed; the guard catches a mistake in our own code (an
    edit made directly in the database is caught by the audit chain instead)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is append-only")


class SerialRange(models.Model):
    """A block of S10 serials an issuing facility hands out (configuration, DOMAIN §6)."""

    facility = models.ForeignKey("directory.Facility", verbose_name=_("Cơ sở cấp số"), on_delete=models.PROTECT,
                                 related_name="serial_ranges")
    service_indicator = models.CharField(_("Mã dịch vụ S10"), max_length=2)
    first_serial = models.PositiveIntegerField(_("Số đầu"))
    last_serial = models.PositiveIntegerField(_("Số cuối"))
    next_serial = models.PositiveIntegerField(_("Số kế tiếp"))
    is_active = models.BooleanField(_("Đang dùng"), default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("dải số hiệu")
        verbose_name_plural = _("dải số hiệu")
        constraints = [
            models.CheckConstraint(condition=Q(first_serial__lte=models.F("last_serial")), name="serial_range_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.service_indicator} {self.first_serial:08d}–{self.last_serial:08d} ({self.facility.postcode})"


class KindRule(EffectiveDated):
    """Weight limit of an item kind (DOMAIN §4: limits are not published, so an administrator sets
    them, with the legal basis, as effective-dated data)."""

    kind = models.CharField(_("Loại bưu gửi"), max_length=10, choices=ItemKind.choices)
    max_weight_g = models.PositiveIntegerField(_("Khối lượng tối đa (g)"))
    legal_basis = models.CharField(_("Căn cứ"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("giới hạn khối lượng")
        verbose_name_plural = _("giới hạn khối lượng")
        ordering = ["kind", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ≤ {self.max_weight_g} g"


class DeliveryFailureReason(EffectiveDated):
    """Why a delivery attempt failed: a configurable, effective-dated list (DOMAIN §5)."""

    code = models.CharField(_("Mã"), max_length=20, unique=True)
    label = models.CharField(_("Lý do"), max_length=200)
    default_next_action = models.CharField(_("Hướng xử lý mặc định"), max_length=10, choices=NextAction.choices,
                                           default=NextAction.RETRY)

    class Meta:
        verbose_name = _("lý do phát không thành công")
        verbose_name_plural = _("lý do phát không thành công")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.label


class Item(models.Model):
    tracking_number = models.CharField(_("Số hiệu"), max_length=13, unique=True)
    kind = models.CharField(_("Loại bưu gửi"), max_length=10, choices=ItemKind.choices)
    weight_g = models.PositiveIntegerField(_("Khối lượng (g)"))
    secrecy = models.CharField(_("Độ mật"), max_length=4, choices=Secrecy.choices, default=Secrecy.NONE)
    urgency = models.CharField(_("Độ khẩn"), max_length=10, choices=Urgency.choices, default=Urgency.NONE)
    deliver_by = models.DateTimeField(_("Hẹn phát trước"), null=True, blank=True)
    zone = models.CharField(_("Phạm vi"), max_length=10, choices=Zone.choices)
    # No index of their own: the (agency, registered_at) indexes below lead with them. Every index
    # is written again by each custody event's projection update.
    sender_agency = models.ForeignKey("directory.Agency", verbose_name=_("Cơ quan gửi"), on_delete=models.PROTECT,
                                      related_name="sent_items", db_index=False)
    recipient_agency = models.ForeignKey("directory.Agency", verbose_name=_("Cơ quan nhận"), on_delete=models.PROTECT,
                                         related_name="received_items", db_index=False)
    recipient_address = models.ForeignKey("directory.AgencyAddress", verbose_name=_("Địa chỉ phát"), null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    named_recipient = models.CharField(_("Người nhận đích danh"), max_length=150, blank=True)
    named_only = models.BooleanField(_("Chỉ người có tên mới được bóc bì"), default=False)
    # Agency-private data (registry number, document number and symbol, summary): Fernet-encrypted
    # JSON, readable only through kt1.items.private by clerks of the two agencies.
    private_data = models.TextField(blank=True, default="")
    status = models.CharField(_("Trạng thái"), max_length=20, choices=ItemStatus.choices, default=ItemStatus.REGISTERED)
    is_returning = models.BooleanField(_("Đang chuyển hoàn"), default=False)
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Người đang giữ"), null=True,
                               on_delete=models.PROTECT, related_name="held_items", db_index=False)  # Meta.indexes
    # Exactly one holder at any moment: a person, or a sealed bag (kt1.dispatch) while it travels.
    holder_bag = models.ForeignKey("dispatch.Bag", verbose_name=_("Túi thư đang chứa"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="held_items")
    holder_since = models.DateTimeField(_("Giữ từ"), null=True)
    facility = models.ForeignKey("directory.Facility", verbose_name=_("Cơ sở hiện tại"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="items_here")
    issuing_facility = models.ForeignKey("directory.Facility", verbose_name=_("Cơ sở cấp số"), on_delete=models.PROTECT,
                                         related_name="issued_items")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("Ngày đăng ký"), default=now, db_index=True)
    kind_rule = models.ForeignKey(KindRule, null=True, on_delete=models.PROTECT, related_name="+")  # rule version used
    accepted_at = models.DateTimeField(_("Ngày chấp nhận"), null=True, blank=True)
    first_attempt_at = models.DateTimeField(_("Lần phát đầu"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("Ngày phát"), null=True, blank=True)
    last_event_seq = models.PositiveIntegerField(default=0)
    pickup_request = models.ForeignKey("items.PickupRequest", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="items")

    class Meta:
        verbose_name = _("bưu gửi")
        verbose_name_plural = _("bưu gửi")
        ordering = ["-registered_at"]
        indexes = [
            models.Index(fields=["sender_agency", "registered_at"]),
            models.Index(fields=["recipient_agency", "registered_at"]),
            models.Index(fields=["status"]),
            models.Index(fields=["holder"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(holder__isnull=False) & Q(holder_bag__isnull=True))
                | (Q(holder__isnull=True) & Q(holder_bag__isnull=False)),
                name="item_exactly_one_holder",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number


class CustodyEvent(AppendOnlyModel):
    # Indexed by the unique (item, seq) constraint, which leads with it.
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="events", db_index=False)
    seq = models.PositiveIntegerField(_("Thứ tự"))  # per item, gap-free from 1
    event_uuid = models.UUIDField(_("Mã sự kiện"), unique=True, default=uuid.uuid4)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the request that created it (idempotency)
    code = models.CharField(_("Sự kiện"), max_length=6, choices=EventCode.choices)
    status_after = models.CharField(max_length=20, choices=ItemStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    taker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey("directory.Facility", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(_("Thời điểm (máy chủ)"), default=now)
    device_time = models.DateTimeField(_("Thời điểm (thiết bị)"), null=True, blank=True)
    reason = models.ForeignKey(DeliveryFailureReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    next_action = models.CharField(max_length=10, choices=NextAction.choices, blank=True)
    note = models.CharField(_("Ghi chú"), max_length=500, blank=True)
    handover = models.ForeignKey("items.HandoverList", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="events")
    bag = models.ForeignKey("dispatch.Bag", null=True, blank=True, on_delete=models.PROTECT, related_name="item_events")
    audit_seq = models.BigIntegerField(null=True)  # the audit chain entry that sealed this event

    class Meta:
        verbose_name = _("sự kiện giao nhận")
        verbose_name_plural = _("sự kiện giao nhận")
        ordering = ["item_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["item", "seq"], name="custody_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.item_id}#{self.seq} {self.code}"


class HandoverList(models.Model):
    """A handover list (sổ / phiếu giao nhận): one line per item, signed by giver and taker.

    The giver (current holder) signs when creating it; custody moves for every line at once when
    the taker signs. A person who is not a KT1 user at that moment (an agency clerk at the counter
    or at delivery) signs on the other party's screen: name, time and a drawn signature.
    """

    number = models.CharField(_("Số phiếu"), max_length=30, unique=True)
    kind = models.CharField(_("Loại"), max_length=10, choices=HandoverKind.choices)
    status = models.CharField(_("Trạng thái"), max_length=10, choices=HandoverStatus.choices, default=HandoverStatus.OPEN)
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Bên giao"), on_delete=models.PROTECT,
                              related_name="+")
    taker = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Bên nhận"), on_delete=models.PROTECT,
                              related_name="+")
    facility = models.ForeignKey("directory.Facility", verbose_name=_("Cơ sở"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("directory.Agency", verbose_name=_("Cơ quan"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    giver_signed_at = models.DateTimeField(null=True, blank=True)
    giver_signed_name = models.CharField(max_length=150, blank=True)
    giver_signature = models.TextField(blank=True)  # PNG data URI when drawn on screen
    taker_signed_at = models.DateTimeField(null=True, blank=True)
    taker_signed_name = models.CharField(max_length=150, blank=True)
    taker_signature = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("Ghi chú"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("phiếu giao nhận")
        verbose_name_plural = _("phiếu giao nhận")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number


class HandoverLine(models.Model):
    handover = models.ForeignKey(HandoverList, on_delete=models.PROTECT, related_name="lines")
    line_no = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="handover_lines")
    weight_g = models.PositiveIntegerField()
    envelope_ok = models.BooleanField(_("Bì, niêm phong nguyên vẹn"), default=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["handover_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["handover", "item"], name="handover_line_item_unique"),
            models.UniqueConstraint(fields=["handover", "line_no"], name="handover_line_no_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.handover_id}/{self.line_no}"


class PickupRequest(models.Model):
    """An agency asks the post to collect its outgoing items (yêu cầu thu gom)."""

    number = models.CharField(_("Số yêu cầu"), max_length=30, unique=True)
    agency = models.ForeignKey("directory.Agency", verbose_name=_("Cơ quan"), on_delete=models.PROTECT,
                               related_name="pickup_requests")
    address = models.ForeignKey("directory.AgencyAddress", verbose_name=_("Địa chỉ thu gom"), on_delete=models.PROTECT,
                                related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=now)
    wanted_by = models.DateTimeField(_("Cần thu gom trước"), null=True, blank=True)
    note = models.CharField(_("Ghi chú"), max_length=500, blank=True)
    status = models.CharField(_("Trạng thái"), max_length=10, choices=PickupStatus.choices, default=PickupStatus.REQUESTED)
    facility = models.ForeignKey("directory.Facility", verbose_name=_("Bưu cục phụ trách"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    postman = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Bưu tá thu gom"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    handover = models.ForeignKey(HandoverList, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("yêu cầu thu gom")
        verbose_name_plural = _("yêu cầu thu gom")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return self.number
