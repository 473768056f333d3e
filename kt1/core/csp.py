"""The Content-Security-Policy header, built once per process.

django-csp's middleware rebuilds the policy string from the settings on every response (a tenth
of a small API answer's CPU). KT1's pages never change the policy per view and never use a nonce
(no inline script or style at all), so the header is the same string every time: this middleware
builds it once and sets it as django-csp would. A response or request that does use django-csp's
per-view decorators or a nonce goes through django-csp's own code, unchanged. The cache follows
the settings (cleared when a test overrides them).
"""

from __future__ import annotations

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed

_PER_VIEW = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_POLICIES: dict[bool, str] = {}


def _policy(report_only: bool) -> str:
    policy = _POLICIES.get(report_only)
    if policy is None:
        policy = _POLICIES[report_only] = build_policy(report_only=report_only)
    return policy


def _settings_changed(setting, **kwargs) -> None:
    if setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        _POLICIES.clear()


setting_changed.connect(_settings_changed, dispatch_uid="kt1-csp-policies")


class CachedPolicyCSPMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        if (settings.DEBUG or getattr(request, "_csp_nonce", None) is not None
                or any(hasattr(response, name) for name in _PER_VIEW)):
            return super().process_response(request, response)
        for header, exempt, report_only, setting in (
                (HEADER, "_csp_exempt", False, "CONTENT_SECURITY_POLICY"),
                (HEADER_REPORT_ONLY, "_csp_exempt_ro", True, "CONTENT_SECURITY_POLICY_REPORT_ONLY")):
            policy = _policy(report_only)
            # As django-csp: only when set, not already there, not exempted, not an excluded prefix.
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if (policy and header not in response and getattr(response, exempt, False) is False
                    and not request.path_info.startswith(tuple(prefixes))):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
