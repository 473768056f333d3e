"""Sign-in pages: password, then TOTP (enrolment at first sign-in), then home."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import auth


class SignInForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Tên đăng nhập"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label=gettext_lazy("Mật khẩu"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=gettext_lazy("Mã xác thực 6 chữ số"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": gettext_lazy("Mã gồm đúng 6 chữ số.")},
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def lockout_response(request, credentials=None, *args, **kwargs):
    """Rendered by django-axes while a username + IP is locked out."""
    form = SignInForm(initial={"username": (credentials or {}).get("username", "")})
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    error = _("Đăng nhập sai quá nhiều lần. Tài khoản tạm khóa trên máy này trong %(m)d phút.") % {"m": minutes}
    return render(request, "accounts/login.html", {"form": form, "lockout_error": error}, status=429)


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.user.is_verified():
        return redirect(_next_url(request) or settings.LOGIN_REDIRECT_URL)
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = auth.sign_in_password(request, username=form.cleaned_data["username"], password=form.cleaned_data["password"])
        if user is not None:
            nxt = _next_url(request)
            target = redirect("accounts:otp_verify" if auth.has_confirmed_device(user) else "accounts:otp_enrol")
            if nxt:
                request.session["kt1_next"] = nxt
            return target
        if not getattr(request, "axes_locked_out", False):
            form.add_error(None, _("Tên đăng nhập hoặc mật khẩu không đúng."))
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request), "demo": settings.KT1_DEMO})


@require_POST
def logout_view(request):
    auth.sign_out(request)
    messages.info(request, _("Bạn đã đăng xuất."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _wrong_code_message(user, message: str) -> str:
    wait = auth.wait_seconds(user)
    if wait:
        return message + " " + _("Sau nhiều lần sai, vui lòng đợi %(s)d giây trước khi nhập lại.") % {"s": wait}
    return message


def _after_two_factor(request):
    return redirect(request.session.pop("kt1_next", "") or settings.LOGIN_REDIRECT_URL)


@never_cache
@require_http_methods(["GET", "POST"])
def otp_verify_view(request):
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if request.user.is_verified():
        return _after_two_factor(request)
    if not auth.has_confirmed_device(request.user):
        return redirect("accounts:otp_enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if auth.two_factor_verify(request, token=form.cleaned_data["token"]):
            return _after_two_factor(request)
        form.add_error("token", _wrong_code_message(request.user, _("Mã xác thực không đúng hoặc đã hết hạn. Thử lại với mã mới.")))
    return render(request, "accounts/otp_verify.html", {"form": form, "demo": settings.KT1_DEMO})


@never_cache
@require_http_methods(["GET", "POST"])
def otp_enrol_view(request):
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if request.user.is_verified():
        return _after_two_factor(request)
    if auth.has_confirmed_device(request.user):
        return redirect("accounts:otp_verify")
    device = auth.pending_enrolment_device(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if auth.two_factor_enrol(request, token=form.cleaned_data["token"]):
            messages.success(request, _("Đã bật xác thực hai lớp."))
            return _after_two_factor(request)
        form.add_error("token", _wrong_code_message(request.user, _("Mã xác thực không đúng. Kiểm tra giờ trên điện thoại và thử lại.")))
    context = {
        "form": form,
        "qr": auth.provisioning_qr_data_uri(device),
        "secret": auth.base32_secret(device),
    }
    return render(request, "accounts/otp_enrol.html", context)
