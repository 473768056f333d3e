"""Administrative unit pages: list, detail, create, edit, retire."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kt1.core.permissions import require
from kt1.core.web import call_service, paginate, permission_required_404

from .. import selectors, services
from ..forms import UnitCreateForm, UnitEditForm, UnitFilterForm
from .common import can_manage, require_change, run_retire


@permission_required_404("directory.view")
@require_GET
def unit_list(request):
    form = UnitFilterForm(request.GET)
    values = form.values()
    province = None
    if values["province"]:
        province = selectors.admin_unit_list(viewer=request.user, status="all").filter(pk=values["province"]).first()
    page = paginate(request, selectors.admin_unit_list(viewer=request.user, **values))
    return render(request, "directory/unit_list.html", {
        "form": form, "page": page, "province": province, "can_create": can_manage(request.user),
    })


@permission_required_404("directory.view")
@require_GET
def unit_detail(request, pk: int):
    unit = selectors.admin_unit_get(viewer=request.user, pk=pk)
    children = selectors.admin_unit_list(viewer=request.user, status="all").filter(parent=unit)
    return render(request, "directory/unit_detail.html", {
        "unit": unit,
        "children_active": children.active().count(),
        "children_all": children.count(),
        "agency_count": selectors.agency_list(viewer=request.user, admin_unit=unit.pk).count(),
        "can_manage": can_manage(request.user, unit),
    })


@login_required
@require_http_methods(["GET", "POST"])
def unit_create(request):
    require(request.user, "directory.manage")
    form = UnitCreateForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_bound and form.is_valid():
        unit = call_service(form, services.admin_unit_create, actor=request.user, **form.cleaned_data)
        if unit is not None:
            messages.success(request, _("Đã tạo đơn vị hành chính “%(name)s”.") % {"name": unit})
            return redirect("directory:unit_detail", pk=unit.pk)
    return render(request, "directory/form.html", {
        "form": form, "title": _("Thêm đơn vị hành chính"), "cancel_url": "directory:unit_list",
    })


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request, pk: int):
    unit = selectors.admin_unit_get(viewer=request.user, pk=pk)
    require_change(request.user, unit)
    form = UnitEditForm(request.POST if request.method == "POST" else None, unit=unit)
    if form.is_bound and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Không có thay đổi nào."))
            return redirect("directory:unit_detail", pk=unit.pk)
        if call_service(form, services.admin_unit_update, actor=request.user, unit=unit, **changes) is not None:
            messages.success(request, _("Đã lưu thay đổi."))
            return redirect("directory:unit_detail", pk=unit.pk)
    return render(request, "directory/form.html", {
        "form": form, "title": _("Sửa đơn vị hành chính: %(name)s") % {"name": unit}, "object": unit,
        "cancel_url": "directory:unit_detail",
    })


@login_required
@require_POST
def unit_retire(request, pk: int):
    unit = selectors.admin_unit_get(viewer=request.user, pk=pk)
    require_change(request.user, unit)
    run_retire(request, services.admin_unit_retire, unit=unit,
               success=_("Đã ngừng hiệu lực đơn vị hành chính “%(name)s”.") % {"name": unit})
    return redirect("directory:unit_detail", pk=unit.pk)
