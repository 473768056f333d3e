"""Audit actions of items and custody (codes are stable; messages are Vietnamese templates)."""

from kt1.audit.registry import register

ITEM_REGISTERED = register("item.registered", "Đăng ký bưu gửi")
ITEM_CANCELLED = register("item.cancelled", "Hủy đăng ký bưu gửi")
ITEM_PRIVATE_READ = register("item.private_read", "Xem thông tin riêng của cơ quan", security=True)
CUSTODY_RECORDED = register("custody.recorded", "Ghi sự kiện giao nhận", security=True)
CUSTODY_REFUSED = register("custody.refused", "Từ chối thao tác giao nhận", security=True)
HANDOVER_CREATED = register("handover.created", "Lập phiếu giao nhận", security=True)
HANDOVER_COMPLETED = register("handover.completed", "Ký nhận phiếu giao nhận", security=True)
HANDOVER_CANCELLED = register("handover.cancelled", "Hủy phiếu giao nhận", security=True)
PICKUP_REQUESTED = register("pickup.requested", "Yêu cầu thu gom")
PICKUP_CONFIRMED = register("pickup.confirmed", "Xác nhận yêu cầu thu gom")
PICKUP_CANCELLED = register("pickup.cancelled", "Hủy yêu cầu thu gom")
SERIAL_RANGE_CREATED = register("serial_range.created", "Tạo dải số hiệu")
FAILURE_REASON_CREATED = register("failure_reason.created", "Tạo lý do phát không thành công")
FAILURE_REASON_RETIRED = register("failure_reason.retired", "Ngừng lý do phát không thành công")
KIND_RULE_SET = register("kind_rule.set", "Đặt giới hạn khối lượng loại bưu gửi")
PRIVATE_REKEYED = register("item.private_rekeyed", "Mã hóa lại thông tin riêng bằng khóa mới", security=True)
