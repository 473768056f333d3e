"""People, their scoped roles, political-standard vetting and training (DOMAIN §3, §11).

Writes go through kt1.accounts.services; vetting is a state machine in transitions.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kt1.core.choices import Secrecy
from kt1.core.clock import now

from .choices import Role, VettingStatus


class User(AbstractUser):
    full_name = models.CharField(_("Họ và tên"), max_length=150)
    phone = models.CharField(_("Điện thoại"), max_length=30, blank=True)
    position = models.CharField(_("Chức danh"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("người dùng")
        verbose_name_plural = _("người dùng")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username


class RoleAssignmentQuerySet(models.QuerySet):
    def current(self, at=None):
        at = at or now()
        return self.filter(Q(valid_from__lte=at), Q(ended_at__isnull=True) | Q(ended_at__gt=at))


class RoleAssignment(models.Model):
    """One role held by one person within one scope. Ended, never deleted, so history says who
    could do what on any past day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_assignments")
    role = models.CharField(_("Vai trò"), max_length=30, choices=Role.choices)
    agency = models.ForeignKey(
        "directory.Agency", verbose_name=_("Cơ quan"), null=True, blank=True, on_delete=models.PROTECT
    )
    facility = models.ForeignKey(
        "directory.Facility", verbose_name=_("Cơ sở bưu chính"), null=True, blank=True, on_delete=models.PROTECT
    )
    province = models.ForeignKey(
        "directory.AdministrativeUnit", verbose_name=_("Tỉnh"), null=True, blank=True, on_delete=models.PROTECT
    )
    valid_from = models.DateTimeField(_("Từ"), default=now)
    ended_at = models.DateTimeField(_("Kết thúc"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("phân quyền")
        verbose_name_plural = _("phân quyền")
        ordering = ["user_id", "role"]
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self) -> str:
        target = self.agency or self.facility or self.province or _("toàn quốc")
        return f"{self.get_role_display()} — {target}"


class Vetting(models.Model):
    """Political-standard vetting by the provincial police (thẩm tra tiêu chuẩn chính trị).

    requested → approved (valid_until, max_secrecy) | rejected; approved → revoked. Expiry is not
    a state: an approved vetting simply stops covering times after valid_until.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="vettings")
    status = models.CharField(_("Trạng thái"), max_length=20, choices=VettingStatus.choices, default=VettingStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("Ngày đề nghị"), default=now)
    request_note = models.TextField(_("Nội dung đề nghị"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("Ngày kết luận"), null=True, blank=True)
    decision_reference = models.CharField(_("Số văn bản kết luận"), max_length=100, blank=True)
    decision_note = models.TextField(_("Ghi chú kết luận"), blank=True)
    valid_until = models.DateTimeField(_("Hiệu lực đến"), null=True, blank=True)
    max_secrecy = models.CharField(
        _("Độ mật tối đa được tiếp xúc"), max_length=4, choices=Secrecy.choices, blank=True
    )
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(_("Ngày thu hồi"), null=True, blank=True)
    revocation_reason = models.TextField(_("Lý do thu hồi"), blank=True)

    class Meta:
        verbose_name = _("thẩm tra chính trị")
        verbose_name_plural = _("thẩm tra chính trị")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_status_display()}"

    def covers(self, at) -> bool:
        """True when this vetting was in force at `at` (approved before, not yet expired, and not
        revoked before)."""
        if self.status not in (VettingStatus.APPROVED, VettingStatus.REVOKED) or self.decided_at is None:
            return False
        if self.decided_at > at or (self.valid_until and at >= self.valid_until):
            return False
        return not (self.revoked_at and self.revoked_at <= at)

    @property
    def display_state(self) -> str:
        if self.status == VettingStatus.APPROVED and self.valid_until and self.valid_until <= now():
            return str(_("Hết hạn"))
        return self.get_status_display()


class Training(models.Model):
    """A KT1 operations / security training a worker completed (DOMAIN §11)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trainings")
    course = models.CharField(_("Khóa đào tạo"), max_length=200)
    completed_on = models.DateField(_("Ngày hoàn thành"))
    valid_until = models.DateField(_("Hiệu lực đến"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("đào tạo")
        verbose_name_plural = _("đào tạo")
        ordering = ["-completed_on"]

    def __str__(self) -> str:
        return f"{self.course} ({self.completed_on})"
