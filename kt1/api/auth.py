"""API authentication: DRF's token, read together with the scope stamp.

The stamp comes in the same query as the token and its user, so a process that already computed
the caller's scope under that stamp reuses it (kt1.core.permissions.scope_of): a tracking lookup
then costs one query for the caller and one for the item, both compiled once per process
(kt1.core.prepared)."""

from __future__ import annotations

from django.db.models import Subquery
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from kt1.core.models import ScopeStamp
from kt1.core.prepared import SENTINEL, prepared


class StampedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        query = prepared("api.token", lambda: Token.objects.select_related("user").annotate(
            scope_stamp=Subquery(ScopeStamp.objects.filter(pk=1).values("value")[:1])).filter(key=SENTINEL)[:1])
        found = query.fetch(key)
        token = found[0] if found else None
        # DRF's own messages (and translations), as TokenAuthentication answers.
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        # None (no stamp row) leaves the scope uncached.
        token.user._kt1_scope_stamp = token.scope_stamp
        return token.user, token
