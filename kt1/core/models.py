"""Shared model pieces."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kt1.core.clock import local_today


class EffectiveDatedQuerySet(models.QuerySet):
    def valid_on(self, day: dt.date | None = None):
        day = day or local_today()
        return self.filter(Q(valid_from__lte=day), Q(valid_until__isnull=True) | Q(valid_until__gt=day))

    def active(self):
        return self.valid_on(local_today())


class EffectiveDated(models.Model):
    """A record valid from one local day until (not including) another.

    Retiring sets valid_until: the record disappears from choices for new work while history
    (items, statements) keeps pointing at it. Nothing effective-dated is ever deleted.
    """

    valid_from = models.DateField(_("Hiệu lực từ"), default=local_today)
    valid_until = models.DateField(_("Hết hiệu lực từ"), null=True, blank=True)

    objects = EffectiveDatedQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_valid_on(self, day: dt.date | None = None) -> bool:
        day = day or local_today()
        return self.valid_from <= day and (self.valid_until is None or self.valid_until > day)

    @property
    def is_active(self) -> bool:
        return self.is_valid_on()


from .numbering import NumberSequence  # noqa: E402,F401  (model lives with its helper)
