"""Glue between pages and services: domain errors become form errors, 404s or 403s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed


class DomainErrorMiddleware:
    """A domain error that escapes a page view: NotFound is a plain 404 (same as a missing object),
    PermissionDenied a 403 for an object the person can see, anything else a 400 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, NotFound):
            raise Http404(str(exception.message))
        if isinstance(exception, PermissionDenied):
            raise DjangoPermissionDenied(str(exception.message))
        if isinstance(exception, ApplicationError):
            return render(request, "error.html", {"error": exception}, status=exception.http_status)
        return None


def call_service(form: forms.Form, service: Callable[..., Any], /, **kwargs) -> Any | None:
    """Run a service for a submitted form. A ValidationFailed lands on the form (per field when
    the service names fields that the form has); other domain errors propagate."""
    try:
        return service(**kwargs)
    except ValidationFailed as exc:
        for field, message in (exc.detail or {}).items():
            if field in form.fields:
                for m in message if isinstance(message, list | tuple) else [message]:
                    form.add_error(field, str(m))
        # The summary always shows: per-field notes like "Đã tồn tại." need the sentence that names the value.
        form.add_error(None, str(exc.message))
        return None


def paginate(request, queryset, per_page: int = 25):
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))


def bool_choice(value: str) -> bool | None:
    """Parse the yes/no filter used in list pages ('' means any)."""
    return {"yes": True, "no": False}.get(value or "")


# Lazy: these labels are built at import time and must follow the language of each request.
YES_NO_ANY = [("", gettext_lazy("Tất cả")), ("yes", gettext_lazy("Có")), ("no", gettext_lazy("Không"))]
STATUS_CHOICES = [("active", gettext_lazy("Đang hiệu lực")), ("retired", gettext_lazy("Đã ngừng")), ("all", gettext_lazy("Tất cả"))]


def render_error(request, message: str, status: int = 400):
    return render(request, "error.html", {"error": {"message": message}}, status=status)


def permission_required_404(code: str):
    """Page decorator: sign-in required; a person without the permission code gets 404, the same
    answer the API gives for a collection outside their scope (a 403 would advertise the page)."""
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login

    from .permissions import PERMISSIONS, has_perm

    if code not in PERMISSIONS:  # fail at import, not on the first request
        raise KeyError(f"unknown permission code {code!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_perm(request.user, code):
                raise Http404(_("Không tìm thấy."))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


__all__ = ["DomainErrorMiddleware", "call_service", "paginate", "bool_choice", "YES_NO_ANY", "STATUS_CHOICES", "render_error", "NotFound",
           "permission_required_404"]
