"""The demo province as data. Names follow the 2025 reform (Tuyên Quang merged with Hà Giang, no
district level); administrative-unit codes are demo codes, not the official list. Counts are
chosen to reproduce Tuyên Quang's 2020 figures: 73 agencies must use KT1, 37 of them do.

Agencies:   16 provincial mandatory + 19 communes × (Đảng ủy, HĐND, UBND) = 73 mandatory;
            4 socio-political organisations and 3 state enterprises are not obliged (7);
            enrolled: the 16 provincial ones, the 18 of the six wards and the 3 of xã Yên Sơn = 37.
Facilities: the provincial post office, one processing centre, 11 post offices, 2 service points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kt1.accounts.choices import Role
from kt1.core.choices import Secrecy
from kt1.directory.choices import AgencyType, FacilityKind, UnitLevel

# The day the merged provinces and the new communes came into force.
REFORM_DAY = dt.date(2025, 7, 1)

PROVINCE_CODE = "08"
PROVINCE_NAME = "Tỉnh Tuyên Quang"
OTHER_PROVINCE_CODE = "19"
OTHER_PROVINCE_NAME = "Tỉnh Thái Nguyên"

# Telephone area codes of the two former provinces (Tuyên Quang 0207, Hà Giang 0219).
AREA_TQ = "0207"
AREA_HG = "0219"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str
    area: str  # telephone area code: which former province the commune lies in


W, C = UnitLevel.WARD, UnitLevel.COMMUNE

COMMUNES: tuple[Unit, ...] = (
    Unit("08001", "Phường Minh Xuân", W, AREA_TQ),
    Unit("08002", "Phường Nông Tiến", W, AREA_TQ),
    Unit("08003", "Phường An Tường", W, AREA_TQ),
    Unit("08004", "Phường Mỹ Lâm", W, AREA_TQ),
    Unit("08005", "Phường Hà Giang 1", W, AREA_HG),
    Unit("08006", "Phường Hà Giang 2", W, AREA_HG),
    Unit("08007", "Xã Yên Sơn", C, AREA_TQ),
    Unit("08008", "Xã Chiêm Hóa", C, AREA_TQ),
    Unit("08009", "Xã Hàm Yên", C, AREA_TQ),
    Unit("08010", "Xã Na Hang", C, AREA_TQ),
    Unit("08011", "Xã Sơn Dương", C, AREA_TQ),
    Unit("08012", "Xã Đồng Văn", C, AREA_HG),
    Unit("08013", "Xã Mèo Vạc", C, AREA_HG),
    Unit("08014", "Xã Yên Minh", C, AREA_HG),
    Unit("08015", "Xã Quản Bạ", C, AREA_HG),
    Unit("08016", "Xã Bắc Quang", C, AREA_HG),
    Unit("08017", "Xã Hoàng Su Phì", C, AREA_HG),
    Unit("08018", "Xã Xín Mần", C, AREA_HG),
    Unit("08019", "Xã Vị Xuyên", C, AREA_HG),
)

OTHER_COMMUNES: tuple[Unit, ...] = (
    Unit("19001", "Phường Phan Đình Phùng", W, "0208"),
    Unit("19002", "Phường Đức Xuân", W, "0208"),
)

# The communes whose Party committee, People's Council and People's Committee already use KT1.
ENROLLED_COMMUNES = frozenset({"08001", "08002", "08003", "08004", "08005", "08006", "08007"})


@dataclass(frozen=True)
class AgencySpec:
    key: str
    name: str
    short_name: str
    agency_type: str
    unit: str  # code of the commune or ward of its seat (the delivery address)
    street: str
    parent: str = ""  # key of the parent agency
    mandatory: bool = True
    enrolled_on: dt.date | None = None


P, S, F, SP, E = (AgencyType.PARTY, AgencyType.STATE, AgencyType.FRONT, AgencyType.SOCIO_POLITICAL,
                  AgencyType.STATE_ENTERPRISE)


def _d(month: int, day: int, year: int = 2025) -> dt.date:
    return dt.date(year, month, day)


PROVINCIAL_AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec("tinh_uy", "Tỉnh ủy Tuyên Quang", "Tỉnh ủy", P, "08001", "Số 1 đường Đinh Tiên Hoàng", enrolled_on=_d(7, 1)),
    AgencySpec("ban_tgdv", "Ban Tuyên giáo và Dân vận Tỉnh ủy Tuyên Quang", "Ban TG&DV Tỉnh ủy", P, "08001",
               "Số 3 đường Đinh Tiên Hoàng", parent="tinh_uy", enrolled_on=_d(7, 1)),
    AgencySpec("hdnd", "Hội đồng nhân dân tỉnh Tuyên Quang", "HĐND tỉnh", S, "08001", "Số 160 đường Trần Hưng Đạo",
               enrolled_on=_d(7, 1)),
    AgencySpec("vp_doan", "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh Tuyên Quang",
               "VP Đoàn ĐBQH và HĐND", S, "08001", "Số 160 đường Trần Hưng Đạo", parent="hdnd", enrolled_on=_d(7, 1)),
    AgencySpec("ubnd", "Ủy ban nhân dân tỉnh Tuyên Quang", "UBND tỉnh", S, "08001", "Số 160 đường Trần Hưng Đạo",
               enrolled_on=_d(7, 1)),
    AgencySpec("mttq", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Tuyên Quang", "UBMTTQ tỉnh", F, "08001",
               "Số 8 đường Tân Trào", enrolled_on=_d(7, 2)),
    AgencySpec("so_noi_vu", "Sở Nội vụ tỉnh Tuyên Quang", "Sở Nội vụ", S, "08001", "Số 12 đường Tân Trào",
               parent="ubnd", enrolled_on=_d(7, 2)),
    AgencySpec("so_tai_chinh", "Sở Tài chính tỉnh Tuyên Quang", "Sở Tài chính", S, "08001", "Số 5 đường 17/8",
               parent="ubnd", enrolled_on=_d(7, 2)),
    AgencySpec("so_khcn", "Sở Khoa học và Công nghệ tỉnh Tuyên Quang", "Sở KH&CN", S, "08002",
               "Số 220 đường Chiến Thắng Sông Lô", parent="ubnd", enrolled_on=_d(7, 2)),
    AgencySpec("so_xay_dung", "Sở Xây dựng tỉnh Tuyên Quang", "Sở Xây dựng", S, "08002", "Số 45 đường Bình Thuận",
               parent="ubnd", enrolled_on=_d(7, 15)),
    AgencySpec("so_y_te", "Sở Y tế tỉnh Tuyên Quang", "Sở Y tế", S, "08003", "Số 7 đường Lê Duẩn", parent="ubnd",
               enrolled_on=_d(7, 15)),
    AgencySpec("so_gddt", "Sở Giáo dục và Đào tạo tỉnh Tuyên Quang", "Sở GD&ĐT", S, "08003", "Số 17 đường Quang Trung",
               parent="ubnd", enrolled_on=_d(7, 15)),
    AgencySpec("cong_an", "Công an tỉnh Tuyên Quang", "Công an tỉnh", S, "08004", "Số 63 đường Lê Lợi",
               enrolled_on=_d(7, 1)),
    AgencySpec("bo_chqs", "Bộ Chỉ huy Quân sự tỉnh Tuyên Quang", "Bộ CHQS tỉnh", S, "08004", "Số 2 đường Lý Nam Đế",
               enrolled_on=_d(7, 1)),
    AgencySpec("tand", "Tòa án nhân dân tỉnh Tuyên Quang", "TAND tỉnh", S, "08001", "Số 28 đường 17/8",
               enrolled_on=_d(8, 1)),
    AgencySpec("vksnd", "Viện Kiểm sát nhân dân tỉnh Tuyên Quang", "VKSND tỉnh", S, "08001", "Số 30 đường 17/8",
               enrolled_on=_d(8, 1)),
    # Since 2025 the socio-political organisations sit under the Fatherland Front; they are served
    # but not obliged to use KT1.
    AgencySpec("hoi_nong_dan", "Hội Nông dân tỉnh Tuyên Quang", "Hội Nông dân tỉnh", SP, "08001", "Số 10 đường Tân Trào",
               parent="mttq", mandatory=False),
    AgencySpec("hoi_phu_nu", "Hội Liên hiệp Phụ nữ tỉnh Tuyên Quang", "Hội LHPN tỉnh", SP, "08001",
               "Số 14 đường Tân Trào", parent="mttq", mandatory=False),
    AgencySpec("tinh_doan", "Tỉnh đoàn Tuyên Quang", "Tỉnh đoàn", SP, "08002", "Số 6 đường Nguyễn Trãi", parent="mttq",
               mandatory=False),
    AgencySpec("ldld", "Liên đoàn Lao động tỉnh Tuyên Quang", "LĐLĐ tỉnh", SP, "08002", "Số 9 đường Nguyễn Trãi",
               parent="mttq", mandatory=False),
    AgencySpec("dien_luc", "Công ty Điện lực Tuyên Quang", "PC Tuyên Quang", E, "08003", "Số 2 đường Lê Duẩn",
               mandatory=False),
    AgencySpec("xo_so", "Công ty TNHH MTV Xổ số kiến thiết Tuyên Quang", "XSKT Tuyên Quang", E, "08001",
               "Số 22 đường Tân Trào", mandatory=False),
    AgencySpec("lam_nghiep", "Công ty TNHH MTV Lâm nghiệp Tuyên Quang", "Lâm nghiệp Tuyên Quang", E, "08007",
               "Thôn Trung Tâm", mandatory=False),
)

# One Party committee, People's Council and People's Committee per commune; the commune Party
# committees answer to the provincial Party committee, the People's Committees to the province's.
COMMUNE_BODIES: tuple[tuple[str, str, str, str], ...] = (
    # key prefix, name prefix, short-name prefix, agency type
    ("dang_uy", "Đảng ủy", "ĐU", P),
    ("hdnd", "Hội đồng nhân dân", "HĐND", S),
    ("ubnd", "Ủy ban nhân dân", "UBND", S),
)
COMMUNE_BODY_PARENTS = {"dang_uy": "tinh_uy", "hdnd": "", "ubnd": "ubnd"}

OTHER_PROVINCE_AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec("tn_tinh_uy", "Tỉnh ủy Thái Nguyên", "Tỉnh ủy", P, "19001", "Số 1 đường Nha Trang", enrolled_on=_d(7, 1)),
    AgencySpec("tn_ubnd", "Ủy ban nhân dân tỉnh Thái Nguyên", "UBND tỉnh", S, "19001", "Số 18 đường Nha Trang",
               enrolled_on=_d(7, 1)),
    AgencySpec("tn_ubnd_dx", "Ủy ban nhân dân phường Đức Xuân", "UBND Đức Xuân", S, "19002", "Tổ 7", parent="tn_ubnd"),
)


@dataclass(frozen=True)
class FacilitySpec:
    key: str
    postcode: str
    name: str
    kind: str
    unit: str
    address: str
    phone: str
    parent: str = ""


PP, PR, PO, SV = FacilityKind.PROVINCIAL_POST, FacilityKind.PROCESSING, FacilityKind.POST_OFFICE, FacilityKind.SERVICE_POINT

# Postcodes: Tuyên Quang's start with 22, Hà Giang's with 20, Thái Nguyên's with 24.
FACILITIES: tuple[FacilitySpec, ...] = (
    FacilitySpec("bdt", "22000", "Bưu điện tỉnh Tuyên Quang", PP, "08001", "Số 2 đường Tân Trào", "0207 3822 200"),
    FacilitySpec("ktvc", "22100", "Trung tâm Khai thác Vận chuyển Tuyên Quang", PR, "08003", "Số 88 đường Lê Duẩn",
                 "0207 3822 210", parent="bdt"),
    FacilitySpec("bc_tt", "22010", "Bưu cục Trung tâm Tuyên Quang", PO, "08001", "Số 2 đường Tân Trào", "0207 3822 201",
                 parent="bdt"),
    FacilitySpec("bc_nong_tien", "22050", "Bưu cục Nông Tiến", PO, "08002", "Số 31 đường Bình Thuận", "0207 3822 250",
                 parent="bdt"),
    FacilitySpec("bc_yen_son", "22200", "Bưu cục Yên Sơn", PO, "08007", "Thôn Trung Tâm", "0207 3822 300", parent="bdt"),
    FacilitySpec("bc_son_duong", "22300", "Bưu cục Sơn Dương", PO, "08011", "Tổ dân phố Tân Bắc", "0207 3822 400",
                 parent="bdt"),
    FacilitySpec("bc_ham_yen", "22400", "Bưu cục Hàm Yên", PO, "08009", "Tổ dân phố Tân Bình", "0207 3822 500",
                 parent="bdt"),
    FacilitySpec("bc_chiem_hoa", "22500", "Bưu cục Chiêm Hóa", PO, "08008", "Tổ dân phố Vĩnh Thái", "0207 3822 600",
                 parent="bdt"),
    FacilitySpec("bc_ha_giang", "20010", "Bưu cục Trung tâm Hà Giang", PO, "08005", "Số 1 đường Nguyễn Trãi",
                 "0219 3866 100", parent="bdt"),
    FacilitySpec("bc_vi_xuyen", "20200", "Bưu cục Vị Xuyên", PO, "08019", "Tổ dân phố 5", "0219 3866 200", parent="bdt"),
    FacilitySpec("bc_bac_quang", "20300", "Bưu cục Bắc Quang", PO, "08016", "Tổ dân phố 3", "0219 3866 300", parent="bdt"),
    FacilitySpec("bc_dong_van", "20500", "Bưu cục Đồng Văn", PO, "08012", "Tổ dân phố 1", "0219 3866 500", parent="bdt"),
    FacilitySpec("bc_meo_vac", "20600", "Bưu cục Mèo Vạc", PO, "08013", "Tổ dân phố 2", "0219 3866 600", parent="bdt"),
    FacilitySpec("dv_hcc", "22011", "Điểm phục vụ Trung tâm Phục vụ hành chính công tỉnh", SV, "08001",
                 "Số 160 đường Trần Hưng Đạo", "0207 3822 211", parent="bc_tt"),
    FacilitySpec("dv_hg", "20011", "Điểm phục vụ Khu hành chính Hà Giang", SV, "08006", "Số 10 đường 19/5",
                 "0219 3866 111", parent="bc_ha_giang"),
)

OTHER_FACILITIES: tuple[FacilitySpec, ...] = (
    FacilitySpec("tn_bdt", "24000", "Bưu điện tỉnh Thái Nguyên", PP, "19001", "Số 10 đường Đội Cấn", "0208 3855 100"),
)


# --- people -------------------------------------------------------------------------------------

# Vetting outcomes the loader produces for a person.
APPROVED = "approved"  # in force for about a year
EXPIRING = "expiring"  # in force, ends within 30 days
EXPIRED = "expired"  # approved long ago, validity over
REQUESTED = "requested"  # waiting for the police
REJECTED = "rejected"
REVOKED = "revoked"


@dataclass(frozen=True)
class PersonSpec:
    username: str
    full_name: str
    role: str
    scope: str  # agency or facility key, or "province" / "other_province" / "nation"
    position: str
    phone: str = ""
    vetting: str = ""  # one of the outcomes above, or "" for none
    max_secrecy: str = ""
    days: int = 365  # validity of an approval, from now (EXPIRING: a few days)
    trained: bool = False


# The demo accounts: one per role, password DEMO_PASSWORD, two-factor by `kt1 demo_totp USERNAME`.
DEMO_PEOPLE: tuple[PersonSpec, ...] = (
    PersonSpec("demo.clerk", "Nguyễn Thị Hoa", Role.AGENCY_CLERK, "ubnd", "Văn thư Văn phòng UBND tỉnh",
               "0207 3822 001", APPROVED, Secrecy.A, trained=True),
    PersonSpec("demo.clerk2", "Lê Thị Thu Hà", Role.AGENCY_CLERK, "tinh_uy", "Văn thư Văn phòng Tỉnh ủy",
               "0207 3822 002", APPROVED, Secrecy.A, trained=True),
    PersonSpec("demo.counter", "Phạm Thị Mai", Role.COUNTER_CLERK, "bc_tt", "Giao dịch viên", "0912 000 003",
               APPROVED, Secrecy.B, trained=True),
    PersonSpec("demo.postman", "Hoàng Văn Nam", Role.POSTMAN, "bc_tt", "Bưu tá", "0912 000 004", APPROVED, Secrecy.B,
               trained=True),
    PersonSpec("demo.operator", "Đỗ Văn Tuấn", Role.OPERATOR, "ktvc", "Khai thác viên", "0912 000 005", APPROVED,
               Secrecy.A, trained=True),
    PersonSpec("demo.driver", "Vũ Văn Hải", Role.DRIVER, "ktvc", "Lái xe", "0912 000 006", APPROVED, Secrecy.B,
               trained=True),
    PersonSpec("demo.escort", "Bùi Văn Dũng", Role.ESCORT, "ktvc", "Áp tải", "0912 000 007", APPROVED, Secrecy.A,
               trained=True),
    PersonSpec("demo.supervisor", "Ngô Thị Lan", Role.SUPERVISOR, "bdt", "Phó Giám đốc Bưu điện tỉnh", "0912 000 008",
               APPROVED, Secrecy.A, trained=True),
    PersonSpec("demo.oversight", "Đặng Minh Quân", Role.OVERSIGHT, "province", "Chuyên viên Sở Khoa học và Công nghệ",
               "0207 3822 009"),
    PersonSpec("demo.police", "Lý Văn Thắng", Role.POLICE, "province", "Cán bộ Công an tỉnh", "0207 3822 010"),
    PersonSpec("demo.finance", "Ma Thị Hồng", Role.FINANCE, "province", "Chuyên viên Sở Tài chính", "0207 3822 011"),
)

DEMO_ADMIN_USERNAME = "demo.admin"
DEMO_ADMIN_NAME = "Trần Quốc Hưng"

# Named staff, so lists have content and every vetting state is on screen.
STAFF: tuple[PersonSpec, ...] = (
    PersonSpec("nong.van.khanh", "Nông Văn Khánh", Role.COUNTER_CLERK, "bc_ha_giang", "Giao dịch viên", "0912 100 001",
               APPROVED, Secrecy.B, trained=True),
    PersonSpec("hoang.thi.nga", "Hoàng Thị Nga", Role.POSTMAN, "bc_ha_giang", "Bưu tá", "0912 100 002", APPROVED,
               Secrecy.C, trained=True),
    PersonSpec("ma.van.long", "Ma Văn Long", Role.OPERATOR, "ktvc", "Khai thác viên", "0912 100 003", APPROVED, Secrecy.A,
               trained=True),
    PersonSpec("quan.van.binh", "Quan Văn Bình", Role.POSTMAN, "bc_chiem_hoa", "Bưu tá", "0912 100 004", EXPIRING,
               Secrecy.C, days=12, trained=True),
    PersonSpec("trieu.thi.hien", "Triệu Thị Hiền", Role.COUNTER_CLERK, "bc_yen_son", "Giao dịch viên", "0912 100 005",
               EXPIRING, Secrecy.B, days=25, trained=True),
    PersonSpec("duong.van.son", "Dương Văn Sơn", Role.DRIVER, "ktvc", "Lái xe", "0912 100 006", EXPIRED, Secrecy.B,
               trained=True),
    PersonSpec("ha.thi.thuy", "Hà Thị Thủy", Role.POSTMAN, "bc_tt", "Bưu tá", "0912 100 007", REVOKED, Secrecy.C,
               trained=True),
    PersonSpec("vi.van.cuong", "Vi Văn Cường", Role.ESCORT, "ktvc", "Áp tải", "0912 100 008", REJECTED),
    PersonSpec("sung.a.pao", "Sùng A Páo", Role.POSTMAN, "bc_dong_van", "Bưu tá", "0912 100 009", REQUESTED),
    PersonSpec("lo.thi.dung", "Lò Thị Dung", Role.COUNTER_CLERK, "bc_meo_vac", "Giao dịch viên", "0912 100 010", REQUESTED),
    PersonSpec("phan.van.toan", "Phan Văn Toàn", Role.OPERATOR, "ktvc", "Khai thác viên", "0912 100 011", REQUESTED),
    PersonSpec("tran.thi.huong", "Trần Thị Hương", Role.AGENCY_CLERK, "cong_an", "Văn thư", "0207 3822 101", APPROVED,
               Secrecy.A, trained=True),
    PersonSpec("nguyen.thi.yen", "Nguyễn Thị Yến", Role.AGENCY_CLERK, "so_khcn", "Văn thư", "0207 3822 102", APPROVED,
               Secrecy.B, trained=True),
    PersonSpec("dinh.van.hoa", "Đinh Văn Hòa", Role.AGENCY_CLERK, "ubnd_08001", "Văn thư", "0207 3822 103", REQUESTED),
    PersonSpec("giang.thi.mai", "Giàng Thị Mai", Role.AGENCY_CLERK, "dang_uy_08012", "Văn thư", "0219 3866 104", REJECTED),
    # Thái Nguyên: visible to nobody acting in Tuyên Quang.
    PersonSpec("duong.thi.lien", "Dương Thị Liên", Role.AGENCY_CLERK, "tn_ubnd", "Văn thư", "0208 3855 101"),
)

TRAINING_COURSE = "Nghiệp vụ KT1 và bảo vệ bí mật nhà nước"

# Contacts: deterministic Vietnamese names (random.Random with a fixed seed).
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Ma", "Nông", "Hà", "Quan", "Triệu", "Lý", "Đặng")
MIDDLE = ("Thị", "Văn", "Thị Thu", "Minh", "Thị Thanh", "Đức", "Thị Kim", "Quốc")
GIVEN = ("An", "Bình", "Chi", "Dung", "Giang", "Hạnh", "Hằng", "Hiếu", "Hương", "Khánh", "Linh", "Loan", "Minh", "Ngọc",
         "Phương", "Quyên", "Sơn", "Tâm", "Thảo", "Trang", "Tú", "Vân", "Yến")
