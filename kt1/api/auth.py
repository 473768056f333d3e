"""API authentication: DRF's token, read together with the scope stamp.

The stamp comes in the same query as the token and its user, so a process that already computed
the caller's scope under that stamp reuses it (kt1.core.permissions.scope_of): an API request then
costs one query for the caller, compiled once per process (kt1.core.prepared), and its own reads.

The tracking lookup, the API's most frequent read, saves that query too (confirms_token_in_read):
a caller this process authenticated before is taken provisionally — request.auth is an
UnconfirmedToken — and the item is read in the same statement as the token and the stamp
(read_confirmed). The answer is used only when that statement found the token, its user still
active, and the stamp unchanged since the caller was authenticated: then nothing the scope is
computed from has changed (the stamp moves in the transaction of any such change), the token
was neither deleted nor replaced, and the read is exactly the one a fresh authentication would
have made.
Otherwise — and on any refusal — the token is read as everywhere else and the read runs again.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Subquery
from django.db.models.base import ModelState
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from kt1.core.errors import ApplicationError
from kt1.core.models import ScopeStamp
from kt1.core.prepared import SENTINEL, prepared

T = TypeVar("T")

# Token key → (the user as authenticated, before any request touched it; the stamp read with it).
# Per process; only the key's holder can name an entry. Bounded: cleared when full.
_KNOWN: dict[str, tuple[Any, str]] = {}
_KNOWN_MAX = 10_000
TOKEN_SENTINEL = "\x00kt1-prepared-token\x00"


def _stamp() -> Subquery:
    """The scope stamp, read in the caller's statement."""
    return Subquery(ScopeStamp.objects.filter(pk=1).values("value")[:1])


class StampedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with the scope stamp read alongside. A view that confirms the
    token in its own read (`confirms_token_in_read = True`, using read_confirmed) gets a caller
    known to this process provisionally, without a query, on GET."""

    def authenticate(self, request):
        view = (getattr(request, "parser_context", None) or {}).get("view")
        self._provisional = request.method in ("GET", "HEAD") and getattr(view, "confirms_token_in_read", False)
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        known = _KNOWN.get(key) if getattr(self, "_provisional", False) else None
        if known is not None:
            user, stamp = known
            return _fresh_copy(user), UnconfirmedToken(key, user.pk, stamp)
        query = prepared("api.token", lambda: Token.objects.select_related("user").annotate(
            scope_stamp=_stamp()).filter(key=SENTINEL)[:1])
        found = query.fetch(key)
        token = found[0] if found else None
        # DRF's own messages (and translations), as TokenAuthentication answers.
        if token is None:
            _KNOWN.pop(key, None)
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            _KNOWN.pop(key, None)
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        # None (no stamp row) leaves the scope uncached.
        token.user._kt1_scope_stamp = token.scope_stamp
        if token.scope_stamp is not None:
            if len(_KNOWN) >= _KNOWN_MAX:
                _KNOWN.clear()
            _KNOWN[key] = (copy.copy(token.user), token.scope_stamp)  # before any request touches it
        return token.user, token


def _fresh_copy(user):
    """A new instance of the user as authenticated: same field values and stamp, none of what an
    earlier request cached on its own instance (its scope, related objects)."""
    clone = user.__class__.__new__(user.__class__)
    clone.__dict__.update(user.__dict__)
    clone._state = ModelState()
    clone._state.db, clone._state.adding = user._state.db, False
    return clone


class UnconfirmedToken:
    """request.auth of a caller known from an earlier request of this process, whose token this
    request has not read yet: a read made for them must carry `annotations()` (with the key in
    place of TOKEN_SENTINEL) and pass `holds(row)` before its answer is used."""

    SENTINEL = TOKEN_SENTINEL

    def __init__(self, key: str, user_pk: int, stamp: str) -> None:
        self.key, self.user_pk, self.stamp = key, user_pk, stamp

    @staticmethod
    def annotations() -> dict[str, Subquery]:
        return {
            "_kt1_stamp": _stamp(),
            "_kt1_token_user": Subquery(Token.objects.filter(key=TOKEN_SENTINEL, user__is_active=True)
                                        .values("user_id")[:1]),
        }

    def holds(self, row: dict[str, Any]) -> bool:
        return row["_kt1_stamp"] == self.stamp and row["_kt1_token_user"] == self.user_pk


def confirm_token(request) -> None:
    """Read the token of a provisionally authenticated request now, as any other request does:
    AuthenticationFailed (401) when it is gone or its user inactive."""
    if isinstance(request.auth, UnconfirmedToken):
        request.user, request.auth = StampedTokenAuthentication().authenticate_credentials(request.auth.key)


def read_confirmed(view, request, read: Callable[[UnconfirmedToken | None], T]) -> T:
    """read(check) for the caller of `request`. For a provisionally authenticated caller, read gets
    the UnconfirmedToken and returns a row carrying its annotations; that row is the answer when
    the check holds. When it does not, or read refuses (not found, invalid — decided under a scope
    that may be stale), the token is read, the view's permission checked again for the caller as
    they are now (view.check_required_permission), and read(None) runs again: its answer or
    refusal is final."""
    auth = request.auth
    if isinstance(auth, UnconfirmedToken):
        try:
            row = read(auth)
        except ApplicationError:
            row = None
        if row is not None and auth.holds(row):
            return row
        confirm_token(request)
        view.check_required_permission(request)
    return read(None)
