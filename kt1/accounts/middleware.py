"""Session lifetime and two-factor enforcement for the web pages (the API uses tokens)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from kt1.audit import actions as A
from kt1.audit.services import audit_record
from kt1.core.clock import now

SIGNED_IN_AT = "kt1_signed_in_at"
OPEN_PREFIXES = ("/static/", "/i18n/", "/api/", "/accounts/login/", "/accounts/logout/", "/accounts/two-factor/")


class SessionLifetimeMiddleware:
    """Idle timeout is the session cookie age (renewed on every request); this enforces the
    absolute limit counted from sign-in, so a session kept busy still ends after 12 hours."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The path first: reading request.user loads the session, which API requests never use.
        user = None if request.path.startswith("/api/") else getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            limit = getattr(settings, "KT1_SESSION_ABSOLUTE_SECONDS", 12 * 3600)
            if started is None or now().timestamp() - float(started) > limit:
                audit_record(action=A.SESSION_EXPIRED.code, actor=user)
                logout(request)
                messages.info(request, _("Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại."))
                return redirect(settings.LOGIN_URL)
        return self.get_response(request)


class RequireTwoFactorMiddleware:
    """Every person passes a TOTP check before any page: first sign-in enrols an authenticator."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = None if request.path.startswith(OPEN_PREFIXES) else getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():
            from .auth import has_confirmed_device

            if has_confirmed_device(user):
                return redirect("accounts:otp_verify")
            return redirect("accounts:otp_enrol")
        return self.get_response(request)
