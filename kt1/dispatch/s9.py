"""Bag (receptacle) identifiers after UPU S9, domestic variant with Vietnamese postcodes.

29 characters: origin office (6: "V" + 5-digit postcode), destination office (6), mail category
(1), subclass (2), year digit (1), dispatch number (4) — together the S8 dispatch identifier (20) —
then receptacle serial (3), last-receptacle flag (1), registered flag (1), weight in 0.1 kg (4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CATEGORY = "A"  # priority
SUBCLASS = "KT"
S9_RE = re.compile(r"^V(\d{5})V(\d{5})([A-Z])([A-Z0-9]{2})(\d)(\d{4})(\d{3})([01])([019])(\d{4})$")


@dataclass(frozen=True)
class Receptacle:
    origin_postcode: str
    destination_postcode: str
    year_digit: int
    dispatch_number: int
    receptacle_serial: int
    last: bool
    weight_g: int
    category: str = CATEGORY
    subclass: str = SUBCLASS
    registered: bool = True

    def __str__(self) -> str:
        weight = min(9999, (self.weight_g + 99) // 100)  # 0.1 kg units, rounded up
        return (f"V{self.origin_postcode}V{self.destination_postcode}{self.category}{self.subclass}{self.year_digit}"
                f"{self.dispatch_number:04d}{self.receptacle_serial:03d}{int(self.last)}{int(self.registered)}"
                f"{weight:04d}")

    @property
    def dispatch_id(self) -> str:
        return str(self)[:20]


def parse(raw: str) -> Receptacle:
    match = S9_RE.match((raw or "").strip().upper())
    if not match:
        raise ValueError("not a KT1 receptacle identifier")
    o, d, cat, sub, year, dispatch, serial, last, registered, weight = match.groups()
    return Receptacle(o, d, int(year), int(dispatch), int(serial), last == "1", int(weight) * 100, cat, sub,
                      registered != "0")
