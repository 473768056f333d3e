"""Audit actions of dispatch (bags, trips, rounds)."""

from kt1.audit.registry import register

BAG_EVENT = register("bag.event", "Sự kiện túi thư", security=True)
BAG_REFUSED = register("bag.refused", "Từ chối thao tác túi thư", security=True)
TRANSFER_CREATED = register("bag_transfer.created", "Lập phiếu giao nhận túi", security=True)
TRANSFER_COMPLETED = register("bag_transfer.completed", "Xác nhận phiếu giao nhận túi", security=True)
TRANSFER_CANCELLED = register("bag_transfer.cancelled", "Hủy phiếu giao nhận túi", security=True)
MAIL_TRIP_CREATED = register("mail_trip.created", "Lập chuyến thư")
MAIL_TRIP_DEPARTED = register("mail_trip.departed", "Chuyến thư xuất phát")
MAIL_TRIP_ARRIVED = register("mail_trip.arrived", "Chuyến thư đến nơi")
VEHICLE_TRIP_CREATED = register("vehicle_trip.created", "Lập chuyến xe")
ROUTE_CREATED = register("mail_route.created", "Tạo đường thư")
VEHICLE_CREATED = register("vehicle.created", "Tạo phương tiện")
DELIVERY_ROUTE_CREATED = register("delivery_route.created", "Tạo tuyến phát")
ROUND_CREATED = register("delivery_round.created", "Lập chuyến phát")
ROUND_STARTED = register("delivery_round.started", "Bắt đầu chuyến phát")
ROUND_COMPLETED = register("delivery_round.completed", "Kết thúc chuyến phát")
MIX_RULE_SET = register("bag_mix_rule.set", "Đặt quy tắc đóng chung độ mật")
ROUND_RULE_SET = register("round_rule.set", "Đặt quy định số chuyến phát")
