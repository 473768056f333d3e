from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentKind(models.TextChoices):
    MISSING_ITEM = "missing_item", _("Thiếu bưu gửi trong túi")
    EXTRA_ITEM = "extra_item", _("Thừa bưu gửi trong túi")
    DAMAGED_ITEM = "damaged_item", _("Bưu gửi hư hỏng")
    SEAL_MISMATCH = "seal_mismatch", _("Số niêm phong không khớp")
    SEAL_BROKEN = "seal_broken", _("Niêm phong không nguyên vẹn")
    LOST = "lost", _("Mất bưu gửi")
    ENVELOPE_OPENED = "envelope_opened", _("Bì bị bóc")
    WRONG_RECIPIENT = "wrong_recipient", _("Phát nhầm")
    LATE = "late", _("Chậm")
    OTHER = "other", _("Khác")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Mới ghi nhận")
    INVESTIGATING = "investigating", _("Đang xác minh")
    CLOSED = "closed", _("Đã kết thúc")
