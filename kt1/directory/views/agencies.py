"""Agency pages: list, detail, create, edit, retire, and the delivery addresses and contacts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kt1.core.permissions import require
from kt1.core.web import call_service, paginate, permission_required_404

from .. import selectors, services
from ..forms import AddressForm, AgencyFilterForm, AgencyForm, ContactForm
from .common import can_manage, get_or_404, require_change, run_retire


@permission_required_404("directory.view")
@require_GET
def agency_list(request):
    form = AgencyFilterForm(request.GET, user=request.user)
    agencies = selectors.agency_list(viewer=request.user, **form.values())
    page = paginate(request, agencies)
    return render(request, "directory/agency_list.html", {
        "form": form, "page": page, "can_create": can_manage(request.user),
    })


@permission_required_404("directory.view")
@require_GET
def agency_detail(request, pk: int):
    agency = selectors.agency_get(viewer=request.user, pk=pk)
    # Retired addresses and contacts stay listed (marked): old items still point at them.
    addresses = sorted(selectors.agency_addresses(viewer=request.user, agency=agency, include_retired=True),
                       key=lambda a: not a.is_active)
    contacts = sorted(selectors.agency_contacts(viewer=request.user, agency=agency, include_retired=True),
                      key=lambda c: not c.is_active)
    return render(request, "directory/agency_detail.html", {
        "agency": agency,
        "addresses": addresses,
        "contacts": contacts,
        "children": selectors.agency_list(viewer=request.user, status="all").filter(parent=agency),
        "can_manage": can_manage(request.user, agency),
    })


@login_required
@require_http_methods(["GET", "POST"])
def agency_create(request):
    require(request.user, "directory.manage")
    form = AgencyForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_bound and form.is_valid():
        agency = call_service(form, services.agency_create, actor=request.user, **form.cleaned_data)
        if agency is not None:
            messages.success(request, _("Đã tạo cơ quan “%(name)s”.") % {"name": agency})
            return redirect("directory:agency_detail", pk=agency.pk)
    return render(request, "directory/form.html", {
        "form": form, "title": _("Thêm cơ quan"), "cancel_url": "directory:agency_list",
    })


@login_required
@require_http_methods(["GET", "POST"])
def agency_edit(request, pk: int):
    agency = selectors.agency_get(viewer=request.user, pk=pk)
    require_change(request.user, agency)
    form = AgencyForm(request.POST if request.method == "POST" else None, user=request.user, agency=agency)
    if form.is_bound and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Không có thay đổi nào."))
            return redirect("directory:agency_detail", pk=agency.pk)
        if call_service(form, services.agency_update, actor=request.user, agency=agency, **changes) is not None:
            messages.success(request, _("Đã lưu thay đổi."))
            return redirect("directory:agency_detail", pk=agency.pk)
    return render(request, "directory/form.html", {
        "form": form, "title": _("Sửa cơ quan: %(name)s") % {"name": agency}, "object": agency,
        "cancel_url": "directory:agency_detail",
    })


@login_required
@require_POST
def agency_retire(request, pk: int):
    agency = selectors.agency_get(viewer=request.user, pk=pk)
    require_change(request.user, agency)
    run_retire(request, services.agency_retire, agency=agency,
               success=_("Đã ngừng hiệu lực cơ quan “%(name)s”.") % {"name": agency})
    return redirect("directory:agency_detail", pk=agency.pk)


# --- delivery addresses and contacts ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def agency_address_add(request, pk: int):
    agency = selectors.agency_get(viewer=request.user, pk=pk)
    require_change(request.user, agency)
    form = AddressForm(request.POST if request.method == "POST" else None, user=request.user, agency=agency)
    if form.is_bound and form.is_valid() and call_service(
        form, services.agency_address_add, actor=request.user, agency=agency, **form.cleaned_data
    ):
        messages.success(request, _("Đã thêm địa chỉ phát."))
        return redirect("directory:agency_detail", pk=agency.pk)
    return render(request, "directory/form.html", {
        "form": form, "title": _("Thêm địa chỉ phát: %(name)s") % {"name": agency}, "object": agency,
        "cancel_url": "directory:agency_detail",
    })


@login_required
@require_POST
def agency_address_retire(request, pk: int, address_pk: int):
    agency = selectors.agency_get(viewer=request.user, pk=pk)
    address = get_or_404(selectors.agency_addresses(viewer=request.user, agency=agency, include_retired=True), address_pk)
    require_change(request.user, address)
    run_retire(request, services.agency_address_retire, address=address,
               success=_("Đã ngừng địa chỉ phát “%(name)s”.") % {"name": address})
    return redirect("directory:agency_detail", pk=agency.pk)


@login_required
@require_http_methods(["GET", "POST"])
def agency_contact_add(request, pk: int):
    agency = selectors.agency_get(viewer=request.user, pk=pk)
    require_change(request.user, agency)
    form = ContactForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and call_service(
        form, services.agency_contact_add, actor=request.user, agency=agency, **form.cleaned_data
    ):
        messages.success(request, _("Đã thêm người liên hệ."))
        return redirect("directory:agency_detail", pk=agency.pk)
    return render(request, "directory/form.html", {
        "form": form, "title": _("Thêm người liên hệ: %(name)s") % {"name": agency}, "object": agency,
        "cancel_url": "directory:agency_detail",
    })


@login_required
@require_POST
def agency_contact_retire(request, pk: int, contact_pk: int):
    agency = selectors.agency_get(viewer=request.user, pk=pk)
    contact = get_or_404(selectors.agency_contacts(viewer=request.user, agency=agency, include_retired=True), contact_pk)
    require_change(request.user, contact)
    run_retire(request, services.agency_contact_retire, contact=contact,
               success=_("Đã ngừng người liên hệ “%(name)s”.") % {"name": contact})
    return redirect("directory:agency_detail", pk=agency.pk)
