"""Reference data: administrative units, served agencies, postal facilities.

All of it is effective-dated (DOMAIN §2): the 2025 reform merged provinces and removed districts,
so units and agencies change over time while old items keep pointing at the record as it was.
Writes go through kt1.directory.services only.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kt1.core.models import EffectiveDated

from .choices import AgencyLevel, AgencyType, FacilityKind, UnitLevel


class AdministrativeUnit(EffectiveDated):
    code = models.CharField(_("Mã đơn vị hành chính"), max_length=10, unique=True)
    name = models.CharField(_("Tên"), max_length=200)
    level = models.CharField(_("Cấp"), max_length=20, choices=UnitLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("Trực thuộc"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = _("đơn vị hành chính")
        verbose_name_plural = _("đơn vị hành chính")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def province_id_value(self) -> int:
        return self.pk if self.level == UnitLevel.PROVINCE else self.parent_id


class Agency(EffectiveDated):
    """A served agency (cơ quan, đơn vị sử dụng dịch vụ)."""

    name = models.CharField(_("Tên cơ quan"), max_length=300)
    short_name = models.CharField(_("Tên viết tắt"), max_length=60)
    agency_type = models.CharField(_("Loại cơ quan"), max_length=30, choices=AgencyType.choices)
    level = models.CharField(_("Cấp"), max_length=20, choices=AgencyLevel.choices)
    admin_unit = models.ForeignKey(
        AdministrativeUnit, verbose_name=_("Đơn vị hành chính"), on_delete=models.PROTECT, related_name="agencies"
    )
    # Denormalised from admin_unit so every scope query is one indexed comparison.
    province = models.ForeignKey(
        AdministrativeUnit, verbose_name=_("Tỉnh"), on_delete=models.PROTECT, related_name="province_agencies"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("Cơ quan cấp trên"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_mandatory = models.BooleanField(_("Bắt buộc sử dụng KT1"), default=False)
    enrolled_on = models.DateField(_("Ngày tham gia KT1"), null=True, blank=True)

    class Meta:
        verbose_name = _("cơ quan")
        verbose_name_plural = _("cơ quan")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("short_name"), "province", name="agency_short_name_unique_in_province"),
        ]

    def __str__(self) -> str:
        return self.name


class AgencyAddress(EffectiveDated):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="addresses")
    label = models.CharField(_("Tên địa chỉ"), max_length=100, default="Trụ sở")
    street = models.CharField(_("Địa chỉ"), max_length=300)
    admin_unit = models.ForeignKey(AdministrativeUnit, verbose_name=_("Xã / phường"), on_delete=models.PROTECT)
    is_default = models.BooleanField(_("Địa chỉ phát mặc định"), default=False)

    class Meta:
        verbose_name = _("địa chỉ phát")
        verbose_name_plural = _("địa chỉ phát")
        ordering = ["-is_default", "label"]

    def __str__(self) -> str:
        return f"{self.street}, {self.admin_unit}"


class AgencyContact(EffectiveDated):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="contacts")
    full_name = models.CharField(_("Họ và tên"), max_length=150)
    position = models.CharField(_("Chức vụ"), max_length=150, blank=True)
    phone = models.CharField(_("Điện thoại"), max_length=30, blank=True)
    email = models.EmailField(_("Thư điện tử"), blank=True)

    class Meta:
        verbose_name = _("người liên hệ")
        verbose_name_plural = _("người liên hệ")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name


class Facility(EffectiveDated):
    """A postal facility: the provincial post office, a processing facility, a post office or
    service point. Facilities form a tree under the provincial post office; staff scoped to a
    facility act for it and everything below it."""

    postcode = models.CharField(_("Mã bưu chính"), max_length=5, unique=True)
    name = models.CharField(_("Tên"), max_length=200)
    kind = models.CharField(_("Loại"), max_length=20, choices=FacilityKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("Trực thuộc"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    province = models.ForeignKey(
        AdministrativeUnit, verbose_name=_("Tỉnh"), on_delete=models.PROTECT, related_name="province_facilities"
    )
    admin_unit = models.ForeignKey(
        AdministrativeUnit, verbose_name=_("Đơn vị hành chính"), on_delete=models.PROTECT, related_name="facilities"
    )
    address = models.CharField(_("Địa chỉ"), max_length=300, blank=True)
    phone = models.CharField(_("Điện thoại"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("cơ sở bưu chính")
        verbose_name_plural = _("cơ sở bưu chính")
        ordering = ["postcode"]

    def __str__(self) -> str:
        return f"{self.postcode} {self.name}"
