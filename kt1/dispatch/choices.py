from django.db import models
from django.utils.translation import gettext_lazy as _


class BagStatus(models.TextChoices):
    OPEN = "open", _("Đang đóng túi")
    SEALED = "sealed", _("Đã niêm phong")
    IN_TRANSIT = "in_transit", _("Đang vận chuyển")
    RECEIVED = "received", _("Đã nhận, chưa mở")
    OPENED = "opened", _("Đã mở")
    CANCELLED = "cancelled", _("Đã hủy")


# A seal number is "in use" from sealing until the bag is opened at its destination.
SEAL_IN_USE = (BagStatus.SEALED, BagStatus.IN_TRANSIT, BagStatus.RECEIVED)


class BagEventCode(models.TextChoices):
    CREATED = "created", _("Lập túi")
    ITEM_ADDED = "item_added", _("Cho bưu gửi vào túi")
    ITEM_REMOVED = "item_removed", _("Lấy bưu gửi ra khỏi túi (trước niêm phong)")
    SEALED = "sealed", _("Niêm phong")
    HANDED_OVER = "handed_over", _("Giao nhận túi")
    DEPARTED = "departed", _("Xuất phát")
    ARRIVED = "arrived", _("Đến nơi")
    RECEIVED = "received", _("Nhận túi, kiểm tra niêm phong")
    ITEM_SCANNED = "item_scanned", _("Mở túi: quét bưu gửi")
    ITEM_UNSCANNED = "item_unscanned", _("Mở túi: hủy quét bưu gửi")
    OPENED = "opened", _("Kết thúc mở túi")
    CANCELLED = "cancelled", _("Hủy túi rỗng")


class TripStatus(models.TextChoices):
    PLANNED = "planned", _("Kế hoạch")
    DEPARTED = "departed", _("Đã xuất phát")
    ARRIVED = "arrived", _("Đã đến")
    CANCELLED = "cancelled", _("Đã hủy")


class TransferStatus(models.TextChoices):
    OPEN = "open", _("Chờ bên nhận xác nhận")
    COMPLETED = "completed", _("Đã xác nhận")
    CANCELLED = "cancelled", _("Đã hủy")


class RoundStatus(models.TextChoices):
    PLANNED = "planned", _("Kế hoạch")
    OUT = "out", _("Đang đi phát")
    COMPLETED = "completed", _("Đã hoàn thành")


class RoundResult(models.TextChoices):
    PENDING = "pending", _("Chưa phát")
    DELIVERED = "delivered", _("Phát thành công")
    FAILED = "failed", _("Phát không thành công")
    NOT_ATTEMPTED = "not_attempted", _("Không đi phát")
