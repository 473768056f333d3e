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


class ScopeStamp(models.Model):
    """One row whose value is replaced by a new random one in the transaction of any change a
    person's scope is computed from (role assignments, people's active flag, agencies,
    facilities: kt1.core.apps connects the signals). A scope cached with the stamp it was
    computed under is reused only while the stamp is unchanged (kt1.core.permissions.scope_of).
    Random, not a counter: a rolled-back change must never let an old value come back."""

    value = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.value


from .numbering import NumberSequence  # noqa: E402,F401  (model lives with its helper)
