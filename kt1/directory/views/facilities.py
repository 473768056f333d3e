"""Postal facility pages: list, detail, create, edit, retire."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kt1.core.permissions import require
from kt1.core.web import call_service, paginate, permission_required_404

from .. import selectors, services
from ..forms import FacilityFilterForm, FacilityForm
from .common import can_manage, require_change, run_retire


@permission_required_404("directory.view")
@require_GET
def facility_list(request):
    form = FacilityFilterForm(request.GET)
    values = form.values()
    parent = None
    if values["parent"]:
        parent = selectors.facility_list(viewer=request.user, status="all").filter(pk=values["parent"]).first()
    page = paginate(request, selectors.facility_list(viewer=request.user, **values))
    return render(request, "directory/facility_list.html", {
        "form": form, "page": page, "parent": parent, "can_create": can_manage(request.user),
    })


@permission_required_404("directory.view")
@require_GET
def facility_detail(request, pk: int):
    facility = selectors.facility_get(viewer=request.user, pk=pk)
    children = selectors.facility_list(viewer=request.user, parent=facility.pk, status="all")
    return render(request, "directory/facility_detail.html", {
        "facility": facility,
        "children": sorted(children, key=lambda f: not f.is_active),
        "can_manage": can_manage(request.user, facility),
    })


@login_required
@require_http_methods(["GET", "POST"])
def facility_create(request):
    require(request.user, "directory.manage")
    form = FacilityForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_bound and form.is_valid():
        facility = call_service(form, services.facility_create, actor=request.user, **form.cleaned_data)
        if facility is not None:
            messages.success(request, _("Đã tạo cơ sở bưu chính “%(name)s”.") % {"name": facility})
            return redirect("directory:facility_detail", pk=facility.pk)
    return render(request, "directory/form.html", {
        "form": form, "title": _("Thêm cơ sở bưu chính"), "cancel_url": "directory:facility_list",
    })


@login_required
@require_http_methods(["GET", "POST"])
def facility_edit(request, pk: int):
    facility = selectors.facility_get(viewer=request.user, pk=pk)
    require_change(request.user, facility)
    form = FacilityForm(request.POST if request.method == "POST" else None, user=request.user, facility=facility)
    if form.is_bound and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Không có thay đổi nào."))
            return redirect("directory:facility_detail", pk=facility.pk)
        if call_service(form, services.facility_update, actor=request.user, facility=facility, **changes) is not None:
            messages.success(request, _("Đã lưu thay đổi."))
            return redirect("directory:facility_detail", pk=facility.pk)
    return render(request, "directory/form.html", {
        "form": form, "title": _("Sửa cơ sở bưu chính: %(name)s") % {"name": facility}, "object": facility,
        "cancel_url": "directory:facility_detail",
    })


@login_required
@require_POST
def facility_retire(request, pk: int):
    facility = selectors.facility_get(viewer=request.user, pk=pk)
    require_change(request.user, facility)
    run_retire(request, services.facility_retire, facility=facility,
               success=_("Đã ngừng hiệu lực cơ sở bưu chính “%(name)s”.") % {"name": facility})
    return redirect("directory:facility_detail", pk=facility.pk)
