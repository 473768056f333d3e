"""My profile: my roles, my vetting and training, what I may handle now, and my password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from kt1.core.choices import Secrecy
from kt1.core.permissions import PERMISSIONS, scope_of
from kt1.core.web import call_service

from .. import selectors, services
from ..clearance import handling_clearance
from ..forms import OwnPasswordForm
from .status import person_vetting_badge, training_badge, vetting_badge


@never_cache
@sensitive_post_parameters("current_password", "password", "password2")
@require_http_methods(["GET", "POST"])
@login_required
def me(request):
    user = request.user
    form = OwnPasswordForm(request.POST or None, user=user)
    saved = request.method == "POST" and form.is_valid() and call_service(
        form, services.user_set_password, actor=user, user=user, password=form.cleaned_data["password"]
    )
    if saved:
        # Keep this session signed in; other sessions of the person end with the old password.
        update_session_auth_hash(request, user)
        messages.success(request, _("Đã đổi mật khẩu."))
        return redirect("accounts:me")
    vettings = list(selectors.user_vettings(viewer=user, user=user).order_by("-requested_at"))
    trainings = list(selectors.user_trainings(viewer=user, user=user).order_by("-completed_on"))
    clearances = [(Secrecy(level).label, handling_clearance(user, level)) for level in Secrecy.values]
    return render(request, "accounts/me.html", {
        "person": user,
        "roles": selectors.user_roles(viewer=user, user=user).order_by("role"),
        "permissions": [(code, PERMISSIONS[code]) for code in sorted(scope_of(user).permissions)],
        "vettings": [(v, vetting_badge(v)) for v in vettings],
        "vetting_standing": person_vetting_badge(vettings),
        "trainings": [(t, training_badge(t)) for t in trainings],
        "clearances": clearances,
        "form": form,
    })
