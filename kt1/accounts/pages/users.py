"""People pages: list, detail, create, edit, lock, passwords, two-factor reset, roles, training."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from kt1.core.clock import now
from kt1.core.errors import ValidationFailed
from kt1.core.permissions import get_in_scope, has_perm, in_scope, require
from kt1.core.web import bool_choice, call_service, paginate, permission_required_404

from .. import selectors, services
from ..forms import RoleGrantForm, SetPasswordForm, TrainingForm, UserCreateForm, UserEditForm, UserFilterForm
from ..models import RoleAssignment
from .status import person_vetting_badge, training_badge, vetting_badge, vetting_badges


def _manageable(request, pk: int):
    """The person, if the viewer may see them (else 404), checked for user management (else 403)."""
    person = selectors.user_get(viewer=request.user, pk=pk)
    require(request.user, "accounts.user.manage", person, action="change")
    return person


@permission_required_404("accounts.user.view")
def user_list(request):
    data = request.GET.copy()
    data.setdefault("active", "yes")
    filters = UserFilterForm(data)
    filters.is_valid()
    f = filters.cleaned_data
    users = selectors.user_list(viewer=request.user, q=(f.get("q") or "").strip(), role=f.get("role") or "",
                                active=bool_choice(f.get("active") or ""))
    page = paginate(request, users)
    badges = vetting_badges(viewer=request.user, users=page.object_list)
    rows = [{"user": u, "roles": u.current_roles, "vetting": badges.get(u.pk)} for u in page.object_list]
    query = data.copy()
    query.pop("page", None)
    return render(request, "accounts/user_list.html", {
        "filters": filters, "page": page, "rows": rows, "query": query.urlencode(),
        "can_create": has_perm(request.user, "accounts.user.manage"),
    })


@permission_required_404("accounts.user.view")
def user_detail(request, pk: int):
    viewer = request.user
    person = selectors.user_get(viewer=viewer, pk=pk)
    roles = list(selectors.user_roles(viewer=viewer, user=person, include_ended=True).order_by("-valid_from"))
    moment = now()
    current_ids = {r.pk for r in roles if r.valid_from <= moment and (r.ended_at is None or r.ended_at > moment)}
    vettings = list(selectors.user_vettings(viewer=viewer, user=person).order_by("-requested_at"))
    trainings = list(selectors.user_trainings(viewer=viewer, user=person).order_by("-completed_on"))
    can_manage = has_perm(viewer, "accounts.user.manage") and in_scope(viewer, person, "change")
    return render(request, "accounts/user_detail.html", {
        "person": person,
        "current_roles": [r for r in roles if r.pk in current_ids],
        "ended_roles": [r for r in roles if r.pk not in current_ids],
        "vettings": [(v, vetting_badge(v)) for v in vettings],
        "vetting_standing": person_vetting_badge(vettings),
        "trainings": [(t, training_badge(t)) for t in trainings],
        "can_manage": can_manage,
        "is_self": person.pk == viewer.pk,
        "can_request_vetting": has_perm(viewer, "accounts.vetting.request"),
        "can_record_training": has_perm(viewer, "accounts.training.record"),
    })


@never_cache
@sensitive_post_parameters("password", "password2")
@require_http_methods(["GET", "POST"])
@permission_required_404("accounts.user.manage")
def user_create(request):
    form = UserCreateForm(request.POST or None, viewer=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = call_service(
            form, services.user_create, actor=request.user, username=d["username"], full_name=d["full_name"],
            password=d["password"], email=d["email"], phone=d["phone"], position=d["position"], **form.role_kwargs(),
        )
        if person is not None:
            messages.success(request, _("Đã tạo người dùng %(name)s.") % {"name": person})
            return redirect("accounts:user_detail", pk=person.pk)
    return render(request, "accounts/user_form.html", {
        "form": form, "title": _("Tạo người dùng"), "cancel": "accounts:user_list",
    })


@require_http_methods(["GET", "POST"])
@permission_required_404("accounts.user.view")
def user_edit(request, pk: int):
    person = _manageable(request, pk)
    initial = {name: getattr(person, name) for name in ("full_name", "email", "phone", "position")}
    form = UserEditForm(request.POST or None, initial=initial)
    saved = request.method == "POST" and form.is_valid() and call_service(
        form, services.user_update, actor=request.user, user=person, **form.cleaned_data
    )
    if saved:
        messages.success(request, _("Đã lưu thông tin người dùng."))
        return redirect("accounts:user_detail", pk=person.pk)
    return render(request, "accounts/user_form.html", {
        "form": form, "person": person, "title": _("Sửa thông tin người dùng"),
    })


@require_POST
@permission_required_404("accounts.user.view")
def user_set_active(request, pk: int):
    person = _manageable(request, pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(actor=request.user, user=person, active=active)
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Đã mở khóa tài khoản.") if active else _("Đã khóa tài khoản."))
    return redirect("accounts:user_detail", pk=person.pk)


@never_cache
@sensitive_post_parameters("password", "password2")
@require_http_methods(["GET", "POST"])
@permission_required_404("accounts.user.view")
def user_set_password(request, pk: int):
    person = _manageable(request, pk)
    form = SetPasswordForm(request.POST or None)
    saved = request.method == "POST" and form.is_valid() and call_service(
        form, services.user_set_password, actor=request.user, user=person, password=form.cleaned_data["password"]
    )
    if saved:
        messages.success(request, _("Đã đặt mật khẩu mới cho %(name)s.") % {"name": person})
        return redirect("accounts:user_detail", pk=person.pk)
    return render(request, "accounts/user_form.html", {
        "form": form, "person": person, "title": _("Đặt mật khẩu mới"),
    })


@require_POST
@permission_required_404("accounts.user.view")
def user_reset_two_factor(request, pk: int):
    person = _manageable(request, pk)
    services.user_reset_two_factor(actor=request.user, user=person)
    messages.success(request, _("Đã đặt lại xác thực hai lớp: %(name)s đăng ký lại ở lần đăng nhập tới.") % {"name": person})
    return redirect("accounts:user_detail", pk=person.pk)


@require_http_methods(["GET", "POST"])
@permission_required_404("accounts.user.view")
def role_grant(request, pk: int):
    person = _manageable(request, pk)
    form = RoleGrantForm(request.POST or None, viewer=request.user)
    saved = request.method == "POST" and form.is_valid() and call_service(
        form, services.role_grant, actor=request.user, user=person, **form.role_kwargs()
    )
    if saved:
        messages.success(request, _("Đã cấp vai trò."))
        return redirect("accounts:user_detail", pk=person.pk)
    return render(request, "accounts/user_form.html", {
        "form": form, "person": person, "title": _("Cấp vai trò"),
    })


@require_POST
@permission_required_404("accounts.user.view")
def role_end(request, pk: int):
    assignment = get_in_scope(RoleAssignment.objects.select_related("user"), request.user, "view", pk=pk)
    require(request.user, "accounts.user.manage", assignment, action="change")
    try:
        services.role_end(actor=request.user, assignment=assignment)
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Đã thu hồi vai trò %(role)s.") % {"role": assignment})
    return redirect("accounts:user_detail", pk=assignment.user_id)


@require_http_methods(["GET", "POST"])
@permission_required_404("accounts.training.record")
def training_add(request, pk: int):
    person = selectors.user_get(viewer=request.user, pk=pk)
    form = TrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if call_service(form, services.training_record, actor=request.user, user=person, course=d["course"],
                        completed_on=d["completed_on"], valid_until=d["valid_until"]) is not None:
            messages.success(request, _("Đã ghi nhận đào tạo."))
            return redirect("accounts:user_detail", pk=person.pk)
    return render(request, "accounts/user_form.html", {
        "form": form, "person": person, "title": _("Ghi nhận đào tạo"),
    })
