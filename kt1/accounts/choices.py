from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Quản trị hệ thống")
    AGENCY_CLERK = "agency_clerk", _("Văn thư cơ quan")
    COUNTER_CLERK = "counter_clerk", _("Giao dịch viên")
    POSTMAN = "postman", _("Bưu tá")
    OPERATOR = "operator", _("Khai thác viên")
    DRIVER = "driver", _("Lái xe")
    ESCORT = "escort", _("Áp tải")
    SUPERVISOR = "supervisor", _("Kiểm soát viên / lãnh đạo bưu điện")
    OVERSIGHT = "oversight", _("Sở Khoa học và Công nghệ")
    POLICE = "police", _("Công an tỉnh")
    FINANCE = "finance", _("Sở Tài chính")


POSTAL_ROLES = frozenset(
    {Role.COUNTER_CLERK, Role.POSTMAN, Role.OPERATOR, Role.DRIVER, Role.ESCORT, Role.SUPERVISOR}
)
PROVINCE_ROLES = frozenset({Role.OVERSIGHT, Role.POLICE, Role.FINANCE})


class ScopeKind(models.TextChoices):
    AGENCY = "agency", _("Cơ quan")
    FACILITY = "facility", _("Cơ sở bưu chính")
    PROVINCE = "province", _("Tỉnh")
    NATION = "nation", _("Toàn quốc")


def scope_kind_for(role: str) -> str:
    """Which kind of scope an assignment of this role carries."""
    if role == Role.AGENCY_CLERK:
        return ScopeKind.AGENCY
    if role in POSTAL_ROLES:
        return ScopeKind.FACILITY
    if role in PROVINCE_ROLES:
        return ScopeKind.PROVINCE
    return ScopeKind.PROVINCE  # admin: a province, or the nation when no province is given


class VettingStatus(models.TextChoices):
    REQUESTED = "requested", _("Đang chờ thẩm tra")
    APPROVED = "approved", _("Đạt")
    REJECTED = "rejected", _("Không đạt")
    REVOKED = "revoked", _("Đã thu hồi")
