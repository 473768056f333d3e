from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitLevel(models.TextChoices):
    PROVINCE = "province", _("Tỉnh / thành phố")
    COMMUNE = "commune", _("Xã")
    WARD = "ward", _("Phường")
    SPECIAL_ZONE = "special_zone", _("Đặc khu")


COMMUNE_LEVELS = (UnitLevel.COMMUNE, UnitLevel.WARD, UnitLevel.SPECIAL_ZONE)


class AgencyType(models.TextChoices):
    PARTY = "party", _("Cơ quan Đảng")
    STATE = "state", _("Cơ quan Nhà nước")
    FRONT = "front", _("Mặt trận Tổ quốc")
    SOCIO_POLITICAL = "socio_political", _("Tổ chức chính trị - xã hội")
    STATE_ENTERPRISE = "state_enterprise", _("Doanh nghiệp nhà nước")
    OTHER = "other", _("Khác")


class AgencyLevel(models.TextChoices):
    CENTRAL = "central", _("Trung ương")
    PROVINCE = "province", _("Cấp tỉnh")
    COMMUNE = "commune", _("Cấp xã")


class FacilityKind(models.TextChoices):
    PROVINCIAL_POST = "provincial_post", _("Bưu điện tỉnh")
    PROCESSING = "processing", _("Cơ sở khai thác")
    POST_OFFICE = "post_office", _("Bưu cục")
    SERVICE_POINT = "service_point", _("Điểm phục vụ")
