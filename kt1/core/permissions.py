"""The one permission policy.

Three questions, answered here and nowhere else:

* ``has_perm(user, code)`` — does any current role of this person grant this permission code?
* ``restrict(queryset, user, action)`` — which rows of this model may this person see (``view``) or
  change (``change``)? Everything outside answers 404, exactly like a missing row.
* ``require(user, code, obj=None)`` — raise unless the person holds the code and, when an object is
  given, the object lies in their scope for that action.

Scope comes from the user's current role assignments: an agency (clerks), a facility and the
facilities below it (postal staff), a province (oversight, police, finance, a provincial admin) or
the nation (an admin with no province). Role → permission codes is data (ROLE_PERMISSIONS); each
model declares its scope rule once with ``@scope_rule``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .clock import LOCAL_TZ, now
from .errors import NotFound, PermissionDenied

# --- permission codes -------------------------------------------------------------------------

PERMISSIONS: dict[str, str] = {
    "directory.view": "Xem danh mục (đơn vị hành chính, cơ quan, cơ sở bưu chính)",
    "directory.manage": "Tạo, sửa, ngừng hiệu lực danh mục",
    "accounts.user.view": "Xem người dùng",
    "accounts.user.manage": "Tạo, sửa, khóa người dùng và phân quyền",
    "accounts.vetting.view": "Xem hồ sơ thẩm tra chính trị",
    "accounts.vetting.request": "Đề nghị thẩm tra chính trị",
    "accounts.vetting.decide": "Kết luận, thu hồi thẩm tra chính trị",
    "accounts.training.record": "Ghi nhận đào tạo",
    "audit.view": "Xem nhật ký an ninh",
    "items.view": "Tra cứu bưu gửi",
    "items.register": "Đăng ký bưu gửi của cơ quan",
    "items.private.view": "Xem thông tin riêng của cơ quan trên bưu gửi",
    "items.pickup.request": "Yêu cầu thu gom",
    "items.pickup.confirm": "Xác nhận yêu cầu thu gom, phân công bưu tá",
    "items.accept": "Chấp nhận bưu gửi (tại quầy, khi thu gom)",
    "items.custody": "Giao nhận, ghi sự kiện hành trình bưu gửi",
    "items.deliver": "Phát bưu gửi, ghi kết quả phát",
    "items.return": "Chuyển hoàn bưu gửi",
    "items.configure": "Cấu hình dải số hiệu, lý do phát không thành công",
    "dispatch.view": "Xem túi thư, chuyến thư, chuyến xe, chuyến phát",
    "dispatch.bag": "Đóng, niêm phong, nhận và mở túi thư",
    "dispatch.trip": "Lập chuyến thư, chuyến xe; giao nhận túi với tổ lái",
    "dispatch.carry": "Nhận và giao túi thư trên chuyến xe (lái xe, áp tải)",
    "dispatch.round": "Lập và chạy chuyến phát",
    "dispatch.configure": "Cấu hình đường thư, phương tiện, tuyến phát, quy tắc đóng túi",
    "dispatch.report": "Báo cáo sản lượng chuyến thư",
    "incidents.view": "Xem sự cố, biên bản",
    "incidents.record": "Ghi nhận sự cố, lập biên bản",
}

_POSTAL_BASE = {"directory.view", "items.view", "items.custody", "dispatch.view", "incidents.view", "incidents.record"}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({
        "directory.view", "directory.manage", "accounts.user.view", "accounts.user.manage", "accounts.vetting.view",
        "accounts.vetting.request", "accounts.training.record", "audit.view", "items.view", "items.configure",
        "dispatch.view", "dispatch.configure", "dispatch.report", "incidents.view",
    }),
    "agency_clerk": frozenset({"directory.view", "items.view", "items.register", "items.private.view",
                               "items.pickup.request"}),
    "counter_clerk": frozenset(_POSTAL_BASE | {"items.accept", "items.pickup.confirm", "items.deliver", "items.return",
                                               "dispatch.bag", "dispatch.round"}),
    "postman": frozenset(_POSTAL_BASE | {"items.accept", "items.deliver", "dispatch.round"}),
    "operator": frozenset(_POSTAL_BASE | {"dispatch.bag", "dispatch.trip"}),
    "driver": frozenset(_POSTAL_BASE | {"dispatch.carry"}),
    "escort": frozenset(_POSTAL_BASE | {"dispatch.carry"}),
    "supervisor": frozenset(
        _POSTAL_BASE
        | {"accounts.user.view", "accounts.vetting.view", "accounts.vetting.request", "accounts.training.record", "audit.view",
           "items.accept", "items.pickup.confirm", "items.deliver", "items.return", "dispatch.bag", "dispatch.trip",
           "dispatch.round", "dispatch.report"}
    ),
    "oversight": frozenset({"directory.view", "items.view", "dispatch.view", "dispatch.report", "incidents.view"}),
    "police": frozenset({"directory.view", "accounts.user.view", "accounts.vetting.view", "accounts.vetting.decide", "audit.view",
                         "items.view", "dispatch.view", "incidents.view"}),
    "finance": frozenset({"directory.view", "items.view"}),
}
assert set().union(*ROLE_PERMISSIONS.values()) <= set(PERMISSIONS), "unknown permission code in ROLE_PERMISSIONS"


# Explicit conditions, not Q(): an empty Q() vanishes when OR-ed with another condition.
NOTHING = Q(pk__in=[])
EVERYTHING = Q(pk__isnull=False)

# --- the caller's scope -----------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One current role assignment, resolved: the role and the rows it reaches."""

    role: str
    agency_id: int | None = None
    facility_ids: frozenset[int] = frozenset()  # the assigned facility and everything below it
    province_id: int | None = None  # the province the assignment acts in (None: the nation)

    @property
    def nation(self) -> bool:
        return self.role == "admin" and self.province_id is None


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    grants: tuple[Grant, ...] = ()
    permissions: frozenset[str] = frozenset()

    def has(self, code: str) -> bool:
        return code in self.permissions

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    def grants_for(self, *roles: str) -> list[Grant]:
        return [g for g in self.grants if not roles or g.role in roles]

    @property
    def agency_ids(self) -> frozenset[int]:
        return frozenset(g.agency_id for g in self.grants if g.agency_id)

    @property
    def facility_ids(self) -> frozenset[int]:
        return frozenset().union(*(g.facility_ids for g in self.grants)) if self.grants else frozenset()

    @property
    def province_ids(self) -> frozenset[int]:
        return frozenset(g.province_id for g in self.grants if g.province_id)


ANONYMOUS = Scope(user_id=None)


# Scopes computed for API callers, by user id: (stamp, valid until, scope). Reused by any request of
# this process that authenticated with the same stamp (kt1.api.auth reads it with the token).
_SCOPE_CACHE: dict[int, tuple[str, dt.datetime, Scope]] = {}
_SCOPE_CACHE_MAX = 10_000


def scope_of(user) -> Scope:
    """The scope of this user now, cached on the user object for the request.

    When the request read the scope stamp (kt1.core.models.ScopeStamp) with the caller's
    credentials, a scope this process computed under the same stamp is reused until the next
    moment it could change by itself (an assignment starting or ending, the local day turning,
    which retires or starts agencies and facilities). Only scopes computed outside a transaction
    are kept: they are made of committed rows only."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, "_kt1_scope", None)
    if cached is not None:
        return cached
    stamp = getattr(user, "_kt1_scope_stamp", None)
    moment = now()
    if stamp is not None:
        hit = _SCOPE_CACHE.get(user.pk)
        if hit is not None and hit[0] == stamp and moment < hit[1]:
            user._kt1_scope = hit[2]
            return hit[2]
    scope, valid_until = _compute_scope(user, moment)
    if stamp is not None and not connection.in_atomic_block:
        if len(_SCOPE_CACHE) >= _SCOPE_CACHE_MAX:
            _SCOPE_CACHE.clear()
        _SCOPE_CACHE[user.pk] = (stamp, valid_until, scope)
    user._kt1_scope = scope
    return scope


def forget_scope(user) -> None:
    if hasattr(user, "_kt1_scope"):
        del user._kt1_scope


def current_scope_stamp() -> str | None:
    from .models import ScopeStamp

    return ScopeStamp.objects.filter(pk=1).values_list("value", flat=True).first()


def bump_scope_stamp(**kwargs) -> None:
    """A change a scope is computed from: every cached scope is stale (a signal receiver)."""
    from .models import ScopeStamp

    if not ScopeStamp.objects.filter(pk=1).update(value=secrets.token_hex(16)):
        ScopeStamp.objects.create(pk=1, value=secrets.token_hex(16))


def _compute_scope(user, at: dt.datetime) -> tuple[Scope, dt.datetime]:
    """The scope at `at`, and the moment until which it holds unless a stamped change comes first."""
    from kt1.accounts.models import RoleAssignment
    from kt1.directory.models import Facility

    grants: list[Grant] = []
    perms: set[str] = set()
    # Agencies and facilities start and retire on local days: nothing holds past local midnight.
    valid_until = dt.datetime.combine(at.astimezone(LOCAL_TZ).date() + dt.timedelta(days=1), dt.time(),
                                      tzinfo=LOCAL_TZ)
    assignments = (RoleAssignment.objects.filter(user=user).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
                   .select_related("agency", "facility").order_by("pk"))
    for a in assignments:
        if a.ended_at is not None:
            valid_until = min(valid_until, a.ended_at)
        if a.valid_from > at:  # starts later: not yet part of the scope
            valid_until = min(valid_until, a.valid_from)
            continue
        if a.agency_id:
            # A retired agency's clerk keeps no rights over it.
            if not a.agency.is_active:
                continue
            grant = Grant(role=a.role, agency_id=a.agency_id, province_id=a.agency.province_id)
        elif a.facility_id:
            if not a.facility.is_active:
                continue
            grant = Grant(role=a.role, facility_ids=frozenset(_descendants(Facility, {a.facility_id})),
                          province_id=a.facility.province_id)
        else:
            grant = Grant(role=a.role, province_id=a.province_id)
        grants.append(grant)
        perms |= ROLE_PERMISSIONS.get(a.role, frozenset())
    return Scope(user_id=user.pk, grants=tuple(grants), permissions=frozenset(perms)), valid_until


def _descendants(model, roots: set[int]) -> set[int]:
    found = set(roots)
    frontier = set(roots)
    while frontier:
        frontier = set(model.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return found


def any_of(conditions: list[Q]) -> Q:
    """OR a list of conditions; an empty list matches nothing."""
    if not conditions:
        return NOTHING
    result = conditions[0]
    for c in conditions[1:]:
        result |= c
    return result


# --- checks -----------------------------------------------------------------------------------


def has_perm(user, code: str) -> bool:
    if code not in PERMISSIONS:
        raise KeyError(f"unknown permission code {code!r}")
    return scope_of(user).has(code)


ScopeRule = Callable[[Scope, str], Q]
_SCOPE_RULES: dict[str, ScopeRule] = {}


def scope_rule(model_label: str):
    """Declare which rows of a model a scope may see (action 'view') or change ('change')."""

    def decorator(func: ScopeRule) -> ScopeRule:
        if model_label in _SCOPE_RULES:
            raise RuntimeError(f"scope rule for {model_label} declared twice")
        _SCOPE_RULES[model_label] = func
        return func

    return decorator


def restrict(queryset: QuerySet, user, action: str = "view") -> QuerySet:
    scope = scope_of(user)
    if scope.user_id is None:
        return queryset.none()
    label = queryset.model._meta.label_lower
    try:
        rule = _SCOPE_RULES[label]
    except KeyError as exc:  # a model without a rule is visible to nobody, loudly
        raise RuntimeError(f"no scope rule declared for {label}") from exc
    condition = rule(scope, action)
    if condition is NOTHING:
        return queryset.none()
    return queryset.filter(condition)


def in_scope(user, obj: Model, action: str = "view") -> bool:
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()


def require(user, code: str, obj: Model | None = None, *, action: str = "view") -> None:
    """Raise unless the user holds `code` and `obj` (if given) is in their scope for `action`.

    An object outside the scope raises NotFound, never PermissionDenied: a 403 would confirm that
    the object exists.
    """
    if obj is not None and not in_scope(user, obj, "view"):
        raise NotFound(_("Không tìm thấy."))
    if not has_perm(user, code):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))
    if obj is not None and action != "view" and not in_scope(user, obj, action):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


def get_in_scope(queryset: QuerySet, user, action: str = "view", **lookup) -> Model:
    """Fetch one object within the user's scope, or NotFound."""
    obj = restrict(queryset, user, action).filter(**lookup).first()
    if obj is None:
        raise NotFound(_("Không tìm thấy."))
    return obj
