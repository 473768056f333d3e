"""Political-standard vetting pages: list, detail, request, and the police's decisions.

Who sees what is the selectors' business (the police, supervisors and administrators their scope,
everyone their own). Only the police decide: anyone else who can see a vetting gets 403 on a
decision page; the police of another province get 404, as for a missing record.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kt1.core.permissions import has_perm, in_scope, require
from kt1.core.transitions import IllegalTransition
from kt1.core.web import call_service, paginate, permission_required_404

from .. import selectors, services
from ..choices import VettingStatus
from ..forms import (
    VettingApproveForm,
    VettingFilterForm,
    VettingRejectForm,
    VettingRequestForm,
    VettingRevokeForm,
)
from ..transitions import VETTING
from .status import vetting_badge


@login_required
def vetting_list(request):
    filters = VettingFilterForm(request.GET)
    filters.is_valid()
    f = filters.cleaned_data  # the valid filters apply; an invalid one shows its error and is ignored
    vettings = selectors.vetting_list(
        viewer=request.user, status=f.get("status") or "", q=(f.get("q") or "").strip(),
        expiring_within_days=f.get("expiring"),
    )
    page = paginate(request, vettings)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/vetting_list.html", {
        "filters": filters, "page": page, "rows": [(v, vetting_badge(v)) for v in page.object_list],
        "query": query.urlencode(),
    })


@login_required
def vetting_detail(request, pk: int):
    viewer = request.user
    vetting = selectors.vetting_get(viewer=viewer, pk=pk)
    can_decide = has_perm(viewer, "accounts.vetting.decide") and in_scope(viewer, vetting, "decide")
    targets = VETTING.targets_from(vetting.status) if can_decide else []
    return render(request, "accounts/vetting_detail.html", {
        "vetting": vetting,
        "badge": vetting_badge(vetting),
        "can_approve": VettingStatus.APPROVED in targets,
        "can_reject": VettingStatus.REJECTED in targets,
        "can_revoke": VettingStatus.REVOKED in targets,
        "can_view_person": has_perm(viewer, "accounts.user.view"),
    })


@require_http_methods(["GET", "POST"])
@permission_required_404("accounts.vetting.request")
def vetting_request(request, pk: int):
    person = selectors.user_get(viewer=request.user, pk=pk)
    form = VettingRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        vetting = call_service(form, services.vetting_request, actor=request.user, user=person, note=form.cleaned_data["note"])
        if vetting is not None:
            messages.success(request, _("Đã gửi đề nghị thẩm tra tới Công an tỉnh."))
            return redirect("accounts:vetting_detail", pk=vetting.pk)
    return render(request, "accounts/user_form.html", {
        "form": form, "person": person, "title": _("Đề nghị thẩm tra chính trị"),
    })


def _refused(request, vetting, target: str):
    message = _("Hồ sơ thẩm tra của %(name)s đang ở trạng thái “%(state)s”: không thể chuyển sang “%(target)s”.") % {
        "name": vetting.user, "state": vetting.display_state, "target": VettingStatus(target).label,
    }
    return render(request, "error.html", {"error": {"message": message}}, status=IllegalTransition.http_status)


def _decision(request, pk: int, target: str, form_class, run, title: str, done: str):
    """The shared shape of approve / reject / revoke: 404 outside scope, 403 without the police
    role, 409 from a state the decision cannot leave; the service re-checks all of it under lock."""
    vetting = selectors.vetting_get(viewer=request.user, pk=pk)
    require(request.user, "accounts.vetting.decide", vetting, action="decide")
    try:
        VETTING.check(vetting.status, target)
    except IllegalTransition:
        return _refused(request, vetting, target)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = call_service(form, run, actor=request.user, vetting=vetting, form=form)
        except IllegalTransition:  # decided by someone else meanwhile
            vetting.refresh_from_db()
            return _refused(request, vetting, target)
        if result is not None:
            messages.success(request, done)
            return redirect("accounts:vetting_detail", pk=vetting.pk)
    return render(request, "accounts/vetting_decide.html", {
        "form": form, "vetting": vetting, "badge": vetting_badge(vetting), "title": title, "target": target,
        "can_view_person": has_perm(request.user, "accounts.user.view"),
    })


def _approve(*, actor, vetting, form):
    d = form.cleaned_data
    return services.vetting_approve(actor=actor, vetting=vetting, valid_until=form.valid_until_moment(),
                                    max_secrecy=d["max_secrecy"], reference=d["reference"], note=d["note"])


def _reject(*, actor, vetting, form):
    d = form.cleaned_data
    return services.vetting_reject(actor=actor, vetting=vetting, reference=d["reference"], note=d["note"])


def _revoke(*, actor, vetting, form):
    return services.vetting_revoke(actor=actor, vetting=vetting, reason=form.cleaned_data["reason"])


@require_http_methods(["GET", "POST"])
@login_required
def vetting_approve(request, pk: int):
    return _decision(request, pk, VettingStatus.APPROVED, VettingApproveForm, _approve,
                     _("Kết luận thẩm tra: đạt"), _("Đã kết luận thẩm tra: đạt."))


@require_http_methods(["GET", "POST"])
@login_required
def vetting_reject(request, pk: int):
    return _decision(request, pk, VettingStatus.REJECTED, VettingRejectForm, _reject,
                     _("Kết luận thẩm tra: không đạt"), _("Đã kết luận thẩm tra: không đạt."))


@require_http_methods(["GET", "POST"])
@login_required
def vetting_revoke(request, pk: int):
    return _decision(request, pk, VettingStatus.REVOKED, VettingRevokeForm, _revoke,
                     _("Thu hồi kết quả thẩm tra"), _("Đã thu hồi kết quả thẩm tra; quyền giao nhận KT1 chấm dứt ngay."))
