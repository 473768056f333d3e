"""Audit actions of incidents."""

from kt1.audit.registry import register

INCIDENT_OPENED = register("incident.opened", "Ghi nhận sự cố", security=True)
INCIDENT_CLOSED = register("incident.closed", "Kết thúc sự cố", security=True)
RECORD_DRAWN_UP = register("incident_record.drawn_up", "Lập biên bản", security=True)
RECORD_CONFIRMED = register("incident_record.confirmed", "Xác nhận biên bản", security=True)
