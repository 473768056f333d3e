"""The main menu, as data: each entry names its URL and the permission that shows it.

Apps add their entries here; the context processor shows a person only what they may open.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .permissions import scope_of


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    permission: str | tuple[str, ...] | None = None  # None: every signed-in person; a tuple: any of them
    section: str = "main"


MENU: list[NavItem] = [
    NavItem("core:home", _("Trang chủ")),
    NavItem("items:track", _("Tra cứu bưu gửi"), "items.view", "items"),
    NavItem("items:outgoing", _("Bưu gửi đi"), "items.register", "items"),
    NavItem("items:incoming", _("Bưu gửi đến"), "items.register", "items"),
    NavItem("items:pickup_list", _("Yêu cầu thu gom"), ("items.pickup.request", "items.pickup.confirm"), "items"),
    NavItem("directory:agency_list", _("Cơ quan"), "directory.view", "directory"),
    NavItem("directory:facility_list", _("Cơ sở bưu chính"), "directory.view", "directory"),
    NavItem("directory:unit_list", _("Đơn vị hành chính"), "directory.view", "directory"),
    NavItem("accounts:user_list", _("Người dùng"), "accounts.user.view", "people"),
    NavItem("accounts:vetting_list", _("Thẩm tra chính trị"), "accounts.vetting.view", "people"),
    NavItem("audit:entry_list", _("Nhật ký an ninh"), "audit.view", "people"),
    NavItem("accounts:me", _("Hồ sơ của tôi"), None, "people"),
    NavItem("items:my_items", _("Bưu gửi tôi đang giữ"), "items.custody", "items"),
    NavItem("items:counter_accept", _("Chấp nhận tại quầy"), "items.accept", "items"),
    NavItem("items:handover_list", _("Phiếu giao nhận"), "items.custody", "items"),
    NavItem("dispatch:bag_list", _("Túi thư"), "dispatch.view", "dispatch"),
    NavItem("dispatch:transfer_inbox", _("Giao nhận túi thư"), ("dispatch.bag", "dispatch.trip", "dispatch.carry"),
            "dispatch"),
    NavItem("dispatch:trip_list", _("Chuyến thư"), "dispatch.view", "dispatch"),
    NavItem("dispatch:round_list", _("Chuyến phát"), "dispatch.view", "dispatch"),
    NavItem("dispatch:volume_report", _("Báo cáo sản lượng"), "dispatch.report", "dispatch"),
    NavItem("dispatch:config", _("Cấu hình vận chuyển"), "dispatch.configure", "dispatch"),
    NavItem("incidents:incident_list", _("Sự cố"), "incidents.view", "incidents"),
]


def visible_menu(user, current_path: str) -> list[dict]:
    scope = scope_of(user)
    items = []
    for item in MENU:
        codes = (item.permission,) if isinstance(item.permission, str) else item.permission
        if codes and not any(scope.has(code) for code in codes):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # the feature is not installed in this deployment
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"url": url, "label": item.label, "active": active, "section": item.section})
    return items
