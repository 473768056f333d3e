"""Incidents (sự cố) and their written records (biên bản). Dispatch creates them automatically on
any discrepancy; a record is confirmed by each person present."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kt1.core.choices import Secrecy
from kt1.core.clock import now

from .choices import IncidentKind, IncidentStatus


class Incident(models.Model):
    number = models.CharField(_("Số sự cố"), max_length=30, unique=True)
    kind = models.CharField(_("Loại"), max_length=20, choices=IncidentKind.choices)
    status = models.CharField(_("Trạng thái"), max_length=15, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    facility = models.ForeignKey("directory.Facility", verbose_name=_("Nơi xảy ra"), on_delete=models.PROTECT,
                                 related_name="incidents")
    item = models.ForeignKey("items.Item", verbose_name=_("Bưu gửi"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="incidents")
    bag = models.ForeignKey("dispatch.Bag", verbose_name=_("Túi thư"), null=True, blank=True, on_delete=models.PROTECT,
                            related_name="incidents")
    secrecy = models.CharField(_("Độ mật liên quan"), max_length=4, choices=Secrecy.choices, default=Secrecy.NONE)
    police_notified = models.BooleanField(_("Báo công an"), default=False)
    description = models.TextField(_("Mô tả"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(default=now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sự cố")
        verbose_name_plural = _("sự cố")
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return self.number


class IncidentRecord(models.Model):
    """The formal written record (biên bản) of an incident, confirmed by those present."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="records")
    number = models.CharField(_("Số biên bản"), max_length=30, unique=True)
    text = models.TextField(_("Nội dung"))
    drawn_up_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drawn_up_at = models.DateTimeField(default=now)
    present = models.ManyToManyField(settings.AUTH_USER_MODEL, through="RecordConfirmation", related_name="+")

    class Meta:
        verbose_name = _("biên bản")
        verbose_name_plural = _("biên bản")
        ordering = ["-drawn_up_at"]

    def __str__(self) -> str:
        return self.number

    @property
    def fully_confirmed(self) -> bool:
        return not self.confirmations.filter(confirmed_at__isnull=True).exists()


class RecordConfirmation(models.Model):
    record = models.ForeignKey(IncidentRecord, on_delete=models.PROTECT, related_name="confirmations")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role_label = models.CharField(_("Tư cách"), max_length=100, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record", "person"], name="record_confirmation_unique")]

    def __str__(self) -> str:
        return f"{self.record_id}:{self.person_id}"
