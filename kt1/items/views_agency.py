"""Items pages of the agency side and tracking: search by identifier, the item page with its
timeline, an agency's outgoing and incoming lists, registering and cancelling an outgoing item,
and pickup requests.

Who sees what is the selectors' business (kt1.items.scopes): an item outside the person's scope
answers 404, exactly like a missing one. Agency-private fields show only through
kt1.items.private (clerks of the two agencies; every read audited). Every write is a service call.
"""

from __future__ import annotations

import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kt1.core.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from kt1.core.permissions import has_perm, scope_of
from kt1.core.web import call_service, paginate, permission_required_404
from kt1.directory.selectors import agency_addresses

from . import s10, selectors, services
from .choices import EventCode, ItemStatus, PickupStatus
from .documents import may_print_label
from .forms_agency import (
    ItemFilterForm,
    ItemRegisterForm,
    PickupFilterForm,
    PickupRequestForm,
    pickup_postman_choices,
    recipient_addresses,
)
from .models import Item
from .private import may_read_private, private_read


def _url_or_none(name: str, *args) -> str | None:
    """The URL of a page another area owns, or None while that page is not installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def any_permission_404(*codes: str):
    """Sign-in required; a person holding none of the codes gets 404 (as permission_required_404)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(has_perm(request.user, code) for code in codes):
                raise Http404(_("Không tìm thấy."))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _item_or_404(user, tracking_number: str) -> Item:
    """The item named in a URL: a malformed identifier or a wrong check digit is a missing page."""
    try:
        return selectors.item_get(viewer=user, tracking_number=tracking_number)
    except ValidationFailed as exc:
        raise Http404(str(exc.message)) from exc


def _is_sender_clerk(user, item: Item) -> bool:
    return has_perm(user, "items.register") and item.sender_agency_id in scope_of(user).agency_ids


# --- tracking -------------------------------------------------------------------------------------


@permission_required_404("items.view")
@require_GET
def track(request):
    q = (request.GET.get("q") or "").strip()
    error = ""
    if q:
        try:
            item = selectors.item_get(viewer=request.user, tracking_number=q)
        except ValidationFailed as exc:  # malformed or wrong check digit: say which
            error = str(exc.message)
        except NotFound:
            # The same sentence for an unknown item and one outside the person's scope.
            error = _("Không tìm thấy bưu gửi %(t)s.") % {"t": s10.normalise(q)}
        else:
            return redirect("items:item_detail", tracking_number=item.tracking_number)
    scope = scope_of(request.user)
    return render(request, "items/track_search.html", {
        "q": q, "error": error, "is_clerk": scope.has("items.register"),
    })


@permission_required_404("items.view")
@require_GET
def item_detail(request, tracking_number: str):
    user = request.user
    item = _item_or_404(user, tracking_number)
    if item.tracking_number != tracking_number:
        return redirect("items:item_detail", tracking_number=item.tracking_number)
    can_private = may_read_private(user, item)
    private = private_read(viewer=user, item=item) if can_private else None
    sender_clerk = _is_sender_clerk(user, item)
    registered = item.status == ItemStatus.REGISTERED
    in_open_pickup = bool(item.pickup_request_id) and item.pickup_request.status in (
        PickupStatus.REQUESTED, PickupStatus.CONFIRMED)
    sees_pickups = has_perm(user, "items.pickup.request") or has_perm(user, "items.pickup.confirm")
    label_url = _url_or_none("items:label", item.tracking_number) if may_print_label(user, item) else None
    # Postal staff record events on the post side's page for the item.
    post_url = _url_or_none("items:record_event", item.tracking_number) if has_perm(user, "items.custody") else None
    return render(request, "items/item_detail.html", {
        "item": item,
        "events": selectors.item_events(viewer=user, item=item),
        "sender_address": agency_addresses(viewer=user, agency=item.sender_agency).first(),
        "show_private": can_private,
        "private": private or {},
        "can_cancel": sender_clerk and registered,
        "can_request_pickup": sender_clerk and registered and not in_open_pickup and has_perm(user, "items.pickup.request"),
        "pickup": item.pickup_request if item.pickup_request_id and sees_pickups else None,
        "label_url": label_url,
        "post_url": post_url,
        "cancel_uuid": uuid.uuid4(),
    })


# --- an agency's lists ------------------------------------------------------------------------------


def _agency_items(request, direction: str, title: str):
    form = ItemFilterForm(request.GET or None, user=request.user)
    values = form.values()
    status = values.pop("status")
    # The count bar covers every status under the other filters, so each count is a link.
    base = selectors.item_list(viewer=request.user, direction=direction, **values)
    counts = selectors.status_counts(base)
    items = base.filter(status=status) if status else base
    page = paginate(request, items)
    bar = [{"value": value, "label": label, "count": counts[value], "active": status == value}
           for value, label in ItemStatus.choices if counts[value] or status == value]
    return render(request, "items/agency_item_list.html", {
        "form": form, "page": page, "bar": bar, "total": sum(counts.values()), "status": status,
        "direction": direction, "title": title,
    })


@permission_required_404("items.register")
@require_GET
def outgoing(request):
    return _agency_items(request, "outgoing", _("Bưu gửi đi"))


@permission_required_404("items.register")
@require_GET
def incoming(request):
    return _agency_items(request, "incoming", _("Bưu gửi đến"))


# --- registering and cancelling ----------------------------------------------------------------------


@permission_required_404("items.register")
@require_http_methods(["GET", "POST"])
def item_register(request):
    form = ItemRegisterForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        data = services.ItemInput(
            sender_agency=d["sender_agency"], recipient_agency=d["recipient_agency"], kind=d["kind"],
            weight_g=d["weight_g"], secrecy=d["secrecy"], urgency=d["urgency"], deliver_by=d["deliver_by"],
            named_recipient=d["named_recipient"], named_only=d["named_only"], recipient_address=d["recipient_address"],
            private=form.private(),
        )
        item = call_service(form, services.item_register, actor=request.user, data=data)
        if item is not None:
            label_url = _url_or_none("items:label", item.tracking_number)
            if label_url:
                message = format_html('{} <a href="{}">{}</a>',
                                      _("Đã đăng ký bưu gửi số hiệu %(t)s.") % {"t": item.tracking_number},
                                      label_url, _("In nhãn"))
            else:
                message = _("Đã đăng ký bưu gửi số hiệu %(t)s.") % {"t": item.tracking_number}
            messages.success(request, message)
            return redirect("items:item_detail", tracking_number=item.tracking_number)
    return render(request, "items/agency_register.html", {"form": form})


@permission_required_404("items.register")
@require_GET
def recipient_address_options(request):
    """The <option>s of the recipient's delivery addresses (htmx, when the recipient changes)."""
    addresses = recipient_addresses(request.user, request.GET.get("recipient_agency"))
    return render(request, "items/agency_address_options.html", {"addresses": addresses})


@require_POST
@permission_required_404("items.view")
def item_cancel(request, tracking_number: str):
    """The sender's clerk withdraws an item the post has not accepted yet (event KCAN)."""
    user = request.user
    item = _item_or_404(user, tracking_number)
    if not _is_sender_clerk(user, item):
        raise PermissionDenied(_("Chỉ văn thư cơ quan gửi được hủy đăng ký."))
    try:
        event_uuid = uuid.UUID(request.POST.get("event_uuid", ""))
    except ValueError:
        event_uuid = uuid.uuid4()
    note = (request.POST.get("note") or "").strip()[:500]
    try:
        result = services.custody_record(actor=user, request=services.CustodyRequest(
            event_uuid=event_uuid, tracking_number=item.tracking_number, code=EventCode.CANCELLED, note=note))
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        if result.created:
            messages.success(request, _("Đã hủy đăng ký bưu gửi %(t)s.") % {"t": item.tracking_number})
    return redirect("items:item_detail", tracking_number=item.tracking_number)


# --- pickup requests -------------------------------------------------------------------------------------


@any_permission_404("items.pickup.request", "items.pickup.confirm")
@require_GET
def pickup_list(request):
    form = PickupFilterForm(request.GET or None)
    pickups = selectors.pickup_list(viewer=request.user, **form.values())
    return render(request, "items/agency_pickup_list.html", {
        "form": form, "page": paginate(request, pickups), "can_request": has_perm(request.user, "items.pickup.request"),
    })


@permission_required_404("items.pickup.request")
@require_http_methods(["GET", "POST"])
def pickup_new(request):
    form = PickupRequestForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        pickup = call_service(form, services.pickup_request, actor=request.user, agency=d["agency"],
                              tracking_numbers=[i.tracking_number for i in d["items"]], wanted_by=d["wanted_by"],
                              note=d["note"])
        if pickup is not None:
            messages.success(request, _("Đã gửi yêu cầu thu gom %(n)s.") % {"n": pickup.number})
            return redirect("items:pickup_detail", pk=pickup.pk)
    return render(request, "items/agency_pickup_form.html", {
        "form": form, "has_candidates": form.fields["items"].queryset.exists(),
    })


@any_permission_404("items.pickup.request", "items.pickup.confirm")
@require_GET
def pickup_detail(request, pk: int):
    user = request.user
    pickup = selectors.pickup_get(viewer=user, pk=pk)
    is_open = pickup.status in (PickupStatus.REQUESTED, PickupStatus.CONFIRMED)
    confirm_url = None
    postmen = []
    if has_perm(user, "items.pickup.confirm") and pickup.status == PickupStatus.REQUESTED:
        confirm_url = _url_or_none("items:pickup_confirm", pickup.pk)
        if confirm_url:
            postmen = pickup_postman_choices(pickup)
    cancel_url = None
    if is_open:
        # The agency withdraws its own request here; the post cancels through its own page.
        if has_perm(user, "items.pickup.request") and pickup.agency_id in scope_of(user).agency_ids:
            cancel_url = reverse("items:pickup_cancel", args=[pickup.pk])
        elif has_perm(user, "items.pickup.confirm"):
            cancel_url = _url_or_none("items:pickup_cancel_post", pickup.pk)
    return render(request, "items/agency_pickup_detail.html", {
        "pickup": pickup,
        "items": selectors.item_list(viewer=user).filter(pickup_request=pickup),
        "confirm_url": confirm_url,
        "postmen": postmen,
        "cancel_url": cancel_url,
    })


@permission_required_404("items.pickup.request")
@require_POST
def pickup_cancel(request, pk: int):
    """The agency's clerk withdraws a pickup request not yet collected (its items wait again)."""
    user = request.user
    pickup = selectors.pickup_get(viewer=user, pk=pk)
    if pickup.agency_id not in scope_of(user).agency_ids:
        raise PermissionDenied(_("Chỉ văn thư của cơ quan được hủy yêu cầu thu gom này."))
    reason = (request.POST.get("reason") or "").strip()[:300]
    try:
        services.pickup_cancel(actor=user, pickup=pickup, reason=reason)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        messages.error(request, _("Chưa hủy được yêu cầu %(n)s: %(e)s") % {"n": pickup.number, "e": exc.message})
    else:
        messages.success(request, _("Đã hủy yêu cầu thu gom %(n)s.") % {"n": pickup.number})
    return redirect("items:pickup_detail", pk=pickup.pk)
