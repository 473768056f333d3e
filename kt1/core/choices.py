from django.db import models
from django.utils.translation import gettext_lazy as _


class Secrecy(models.TextChoices):
    """State-secret level written outside the envelope. Ordered from least to most secret."""

    NONE = "none", _("Không mật")
    C = "C", _("Mật (C)")
    B = "B", _("Tối mật (B)")
    A = "A", _("Tuyệt mật (A)")

    @classmethod
    def rank(cls, value: str) -> int:
        return [cls.NONE, cls.C, cls.B, cls.A].index(cls(value))

    @classmethod
    def covers(cls, authorised: str, required: str) -> bool:
        return cls.rank(authorised) >= cls.rank(required)
