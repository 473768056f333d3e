"""kt1.core.csp sets exactly the header django-csp's own middleware would, and leaves every case it
does not cache (per-view policies, nonces, debug) to django-csp."""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory, override_settings

from kt1.core.csp import CachedPolicyCSPMiddleware


def _both(path: str, make_response, prepare_request=None):
    answers = []
    for middleware_class in (CSPMiddleware, CachedPolicyCSPMiddleware):
        request = RequestFactory().get(path)
        middleware = middleware_class(lambda r: make_response())
        middleware.process_request(request)
        if prepare_request:
            prepare_request(request)
        response = middleware.process_response(request, make_response())
        answers.append((response.get(HEADER), response.get(HEADER_REPORT_ONLY)))
    return answers


def test_the_cached_header_is_django_csps_header():
    ours, theirs = _both("/items/", lambda: HttpResponse("<p>trang</p>"))[::-1]
    assert ours == theirs and "default-src 'self'" in ours[0] and "frame-ancestors 'none'" in ours[0]
    assert _both("/api/v1/items/X/", lambda: JsonResponse({"a": 1}))[0] == _both(
        "/api/v1/items/X/", lambda: JsonResponse({"a": 1}))[1]


@pytest.mark.parametrize("change", [
    {"CONTENT_SECURITY_POLICY": {"EXCLUDE_URL_PREFIXES": ["/static/"], "DIRECTIVES": {"default-src": ["'none'"]}}},
    {"CONTENT_SECURITY_POLICY_REPORT_ONLY": {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/r/"}}},
    {"CONTENT_SECURITY_POLICY": None},
])
def test_the_cache_follows_the_settings(change):
    with override_settings(**change):
        for path in ("/static/a.css", "/items/"):
            plain, cached = _both(path, lambda: HttpResponse("x"))
            assert plain == cached
    plain, cached = _both("/items/", lambda: HttpResponse("x"))
    assert plain == cached and "default-src 'self'" in cached[0]  # back to the project's policy


def test_per_view_policies_nonces_and_exemptions_are_django_csps():
    def updated():
        response = HttpResponse("x")
        response._csp_update = {"img-src": ["https://example.org"]}
        return response

    plain, cached = _both("/items/", updated)
    assert plain == cached and "https://example.org" in cached[0]

    def exempt():
        response = HttpResponse("x")
        response._csp_exempt = True
        return response

    assert _both("/items/", exempt) == [(None, None), (None, None)]
    from csp.constants import NONCE, SELF

    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": [SELF, NONCE]}}):
        nonces = _both("/items/", lambda: HttpResponse("x"), prepare_request=lambda request: str(request.csp_nonce))
        assert all("'nonce-" in header for header, _ro in nonces)  # each request's own nonce, by django-csp
        assert "'nonce-" not in _both("/items/", lambda: HttpResponse("x"))[1][0]  # none asked: none written
