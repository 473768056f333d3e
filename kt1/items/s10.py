"""UPU S10 item identifiers: 2 letters (service indicator) + 8-digit serial + check digit + country.

Check digit (UPU S10): weights 8 6 4 2 3 5 9 7 over the serial digits, S = Σ weight × digit,
C = 11 − (S mod 11); C = 10 → 0, C = 11 → 5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kt1.core.errors import ValidationFailed

WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
S10_RE = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")


def check_digit(serial: str) -> int:
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError("serial must be 8 digits")
    total = sum(w * int(d) for w, d in zip(WEIGHTS, serial, strict=True))
    c = 11 - (total % 11)
    return {10: 0, 11: 5}.get(c, c)


def build(service_indicator: str, serial: int, country: str = "VN") -> str:
    if not re.fullmatch(r"[A-Z]{2}", service_indicator or "") or not re.fullmatch(r"[A-Z]{2}", country or ""):
        raise ValueError("service indicator and country are two capital letters")
    if not 0 <= serial <= 99_999_999:
        raise ValueError("serial out of range")
    digits = f"{serial:08d}"
    return f"{service_indicator}{digits}{check_digit(digits)}{country}"


@dataclass(frozen=True)
class S10:
    service_indicator: str
    serial: str
    check: int
    country: str

    def __str__(self) -> str:
        return f"{self.service_indicator}{self.serial}{self.check}{self.country}"


def normalise(raw: str) -> str:
    """What a scanner or a person typed: spaces and dashes dropped, capitals."""
    return re.sub(r"[\s\-]", "", raw or "").upper()


def parse(raw: str) -> S10:
    """Parse and check an identifier; ValidationFailed names the problem in the user's language."""
    value = normalise(raw)
    match = S10_RE.match(value)
    if not match:
        raise ValidationFailed(
            _("Số hiệu “%(v)s” không đúng dạng: 2 chữ cái, 9 chữ số, 2 chữ cái (ví dụ RB123456785VN).") % {"v": raw},
            code="invalid_tracking_number",
            detail={"tracking_number": _("Sai định dạng.")},
        )
    si, serial, check, country = match.groups()
    expected = check_digit(serial)
    if int(check) != expected:
        raise ValidationFailed(
            _("Số hiệu “%(v)s” sai số kiểm tra: chữ số thứ 11 phải là %(e)d.") % {"v": value, "e": expected},
            code="invalid_check_digit",
            detail={"tracking_number": _("Sai số kiểm tra.")},
        )
    return S10(si, serial, int(check), country)


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except ValidationFailed:
        return False
    return True
