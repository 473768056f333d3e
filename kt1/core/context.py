"""Request context: who is asking from where, for the audit log.

Services take the actor explicitly; the network origin is ambient (it is the same for every write of
one request), so a middleware puts it in a context variable the audit service reads.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestOrigin:
    ip: str | None = None
    user_agent: str = ""
    channel: str = "web"  # web | api | cli


_origin: contextvars.ContextVar[RequestOrigin] = contextvars.ContextVar("kt1_origin", default=RequestOrigin(channel="cli"))  # noqa: B039 (frozen dataclass)


def current_origin() -> RequestOrigin:
    return _origin.get()


def client_ip(request) -> str | None:
    # Behind the production proxy the socket peer is the proxy; SecurityMiddleware does not rewrite
    # REMOTE_ADDR, so take the first X-Forwarded-For hop only when settings trust the proxy.
    from django.conf import settings

    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


class RequestOriginMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = "api" if request.path.startswith("/api/") else "web"
        token = _origin.set(
            RequestOrigin(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300], channel=channel)
        )
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)
