from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemKind(models.TextChoices):
    LETTER = "letter", _("Thư")
    PACKET = "packet", _("Gói")
    PARCEL = "parcel", _("Kiện tài liệu")


class Urgency(models.TextChoices):
    NONE = "none", _("Thường")
    EXPRESS = "express", _("Hỏa tốc")
    SCHEDULED = "scheduled", _("Hẹn giờ")


class Zone(models.TextChoices):
    WITHIN = "within", _("Nội tỉnh")
    BETWEEN = "between", _("Liên tỉnh")


class ItemStatus(models.TextChoices):
    REGISTERED = "registered", _("Đã đăng ký, chờ chấp nhận")
    ACCEPTED = "accepted", _("Bưu điện đang giữ")
    IN_BAG = "in_bag", _("Trong túi thư niêm phong")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Đang đi phát")
    DELIVERY_FAILED = "delivery_failed", _("Phát không thành công")
    DELIVERED = "delivered", _("Đã phát")
    RETURNED = "returned", _("Đã chuyển hoàn cho người gửi")
    CANCELLED = "cancelled", _("Đã hủy đăng ký")


FINAL_STATUSES = frozenset({ItemStatus.DELIVERED, ItemStatus.RETURNED, ItemStatus.CANCELLED})


class EventCode(models.TextChoices):
    """UPU tracking codes where they fit; KT1's own security events otherwise."""

    REGISTERED = "KREG", _("Cơ quan đăng ký bưu gửi")
    ACCEPTED = "EMA", _("Bưu điện chấp nhận")
    HANDOVER = "KHOV", _("Giao nhận giữa nhân viên")
    INTO_SORTING = "EDD", _("Đến cơ sở khai thác")
    OUT_OF_SORTING = "EDE", _("Rời cơ sở khai thác")
    AT_DELIVERY_OFFICE = "EMG", _("Đến bưu cục phát")
    OUT_FOR_DELIVERY = "EDG", _("Đem đi phát")
    DELIVERY_FAILED = "EMH", _("Phát không thành công")
    DELIVERED = "EMI", _("Phát thành công")
    SEAL_CHECKED = "KSEAL", _("Kiểm tra bì, niêm phong")
    INTO_BAG = "KBAG", _("Niêm phong vào túi thư")
    OUT_OF_BAG = "KOUT", _("Lấy ra khi mở túi thư")
    RETURN_STARTED = "KRET", _("Chuyển hoàn về người gửi")
    CANCELLED = "KCAN", _("Hủy đăng ký")


class NextAction(models.TextChoices):
    RETRY = "retry", _("Phát lại")
    HOLD_AT_OFFICE = "hold", _("Lưu tại bưu cục, chờ cơ quan nhận đến lấy")
    RETURN = "return", _("Chuyển hoàn về người gửi")


class HandoverKind(models.TextChoices):
    PICKUP = "pickup", _("Thu gom tại cơ quan")
    COUNTER = "counter", _("Chấp nhận tại quầy")
    INTERNAL = "internal", _("Giao nhận nội bộ bưu điện")
    DELIVERY = "delivery", _("Phát cho cơ quan nhận")
    RETURN = "return", _("Chuyển hoàn cho cơ quan gửi")


class HandoverStatus(models.TextChoices):
    OPEN = "open", _("Chờ bên nhận ký")
    COMPLETED = "completed", _("Đã ký nhận")
    CANCELLED = "cancelled", _("Đã hủy")


class PickupStatus(models.TextChoices):
    REQUESTED = "requested", _("Chờ xác nhận")
    CONFIRMED = "confirmed", _("Đã xác nhận, chờ thu gom")
    COLLECTED = "collected", _("Đã thu gom")
    CANCELLED = "cancelled", _("Đã hủy")
