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
    permission: str | None = None  # None: every signed-in person
    section: str = "main"


MENU: list[NavItem] = [
    NavItem("core:home", _("Trang chủ")),
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
]


def visible_menu(user, current_path: str) -> list[dict]:
    scope = scope_of(user)
    items = []
    for item in MENU:
        if item.permission and not scope.has(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # the feature is not installed in this deployment
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"url": url, "label": item.label, "active": active, "section": item.section})
    return items
