"""Short status summaries shown as badges: a person's vetting, a vetting, a training record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kt1.core.clock import local_today, now

from .. import selectors
from ..choices import VettingStatus


@dataclass(frozen=True)
class Badge:
    tone: str  # ok | warn | bad | muted
    label: str
    until: dt.datetime | dt.date | None = None  # shown after the label, in local time


def vetting_badge(vetting, at: dt.datetime | None = None) -> Badge:
    """One vetting's state; an approved vetting past its validity shows as expired (expiry is
    not a stored state)."""
    at = at or now()
    if vetting.status == VettingStatus.APPROVED:
        if vetting.valid_until and vetting.valid_until <= at:
            return Badge("bad", _("Hết hạn"), vetting.valid_until)
        return Badge("ok", _("Đạt, hiệu lực đến"), vetting.valid_until)
    if vetting.status == VettingStatus.REQUESTED:
        return Badge("warn", _("Đang chờ thẩm tra"))
    if vetting.status == VettingStatus.REVOKED:
        return Badge("bad", _("Đã thu hồi"))
    return Badge("bad", _("Không đạt"))


NO_VETTING = Badge("muted", _("Chưa thẩm tra"))


def person_vetting_badge(vettings) -> Badge:
    """A person's standing from their vettings (newest first): the best one in force, else a
    pending request, else the latest outcome, else none."""
    at = now()
    vettings = list(vettings)
    in_force = [v for v in vettings if v.status == VettingStatus.APPROVED and (v.valid_until is None or v.valid_until > at)]
    if in_force:
        best = max(in_force, key=lambda v: v.valid_until or dt.datetime.max.replace(tzinfo=dt.UTC))
        return vetting_badge(best, at)
    pending = [v for v in vettings if v.status == VettingStatus.REQUESTED]
    if pending:
        return vetting_badge(pending[0], at)
    decided = [v for v in vettings if v.decided_at is not None]
    if decided:
        latest = max(decided, key=lambda v: v.revoked_at or v.decided_at)
        return vetting_badge(latest, at)
    return NO_VETTING


def vetting_badges(*, viewer, users) -> dict[int, Badge]:
    """Badges for a page of people, in one query over the vettings the viewer may see."""
    ids = [u.pk for u in users]
    by_user: dict[int, list] = {pk: [] for pk in ids}
    for v in selectors.vetting_list(viewer=viewer).filter(user_id__in=ids):
        by_user[v.user_id].append(v)
    return {pk: person_vetting_badge(vs) for pk, vs in by_user.items()}


def training_badge(training, day: dt.date | None = None) -> Badge:
    day = day or local_today()
    if training.completed_on > day:
        return Badge("muted", _("Chưa hiệu lực"))
    if training.valid_until is not None and training.valid_until < day:
        return Badge("bad", _("Hết hạn"), training.valid_until)
    if training.valid_until is None:
        return Badge("ok", _("Còn hiệu lực"))
    return Badge("ok", _("Còn hiệu lực đến"), training.valid_until)
