"""Post-side pages: confirming and collecting pickups, acceptance at the counter, the items a person
holds and their events, handover lists between colleagues, delivery to the recipient clerk and
returns to the sender.

Views parse, call a selector or a service, and render. The custody services decide everything that
matters (who holds what, whose vetting covers which secrecy now, which transition is legal) and
refuse with a Vietnamese message: a ValidationFailed lands on the form (call_service), an illegal
transition becomes a 409 page, an object outside the person's scope a 404, and an action on a
visible object the person may not take a 403 (DomainErrorMiddleware).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kt1.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kt1.core.permissions import has_perm, restrict
from kt1.core.web import call_service, paginate, permission_required_404

from . import selectors, services
from .choices import EventCode, HandoverKind, HandoverStatus, ItemStatus, PickupStatus
from .forms_post import (
    AttemptFailedForm,
    BulkEventForm,
    CounterAcceptForm,
    CounterAgencyForm,
    CounterRegisterForm,
    DeliverForm,
    EventForm,
    HandoverFilterForm,
    InternalHandoverForm,
    OnScreenSignatureForm,
    PickupCollectForm,
    PickupConfirmForm,
    ReasonForm,
    ReturnForm,
)
from .models import HandoverLine, HandoverList, Item
from .services import CustodyRequest, ItemInput

ON_SCREEN_KINDS = (HandoverKind.DELIVERY, HandoverKind.RETURN)


# --- helpers --------------------------------------------------------------------------------------


def _maybe_url(name: str, *args) -> str | None:
    """A page another area owns (the agency-side pickup page, printable documents), if installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _form_errors_text(form: forms.Form) -> str:
    """One sentence for a message: the service's summary when there is one, else the field errors."""
    if form.non_field_errors():
        return " ".join(form.non_field_errors())
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)


def _sign_both(*, actor, create: dict, complete: dict | None = None) -> HandoverList:
    """Both parties sign on one screen (pickup, counter, delivery, return): the list is drawn up
    and signed for in one go, or, if either step is refused, not at all."""
    with transaction.atomic():
        handover = services.handover_create(actor=actor, **create)
        return services.handover_complete(actor=actor, handover=handover, **(complete or {}))


def _pickup_page(pickup) -> str:
    return _maybe_url("items:pickup_detail", pickup.pk) or reverse("items:my_items")


def _held_items(user) -> list[Item]:
    return list(selectors.item_list(viewer=user, held_by_me=True).exclude(status__in=[
        ItemStatus.REGISTERED, ItemStatus.DELIVERED, ItemStatus.RETURNED, ItemStatus.CANCELLED]))


def _in_open_lists(user, items: list[Item]) -> dict[int, HandoverList]:
    """Items already listed on an unsigned handover list (the engine refuses to list them twice)."""
    lists = restrict(HandoverList.objects.filter(status=HandoverStatus.OPEN), user)
    lines = HandoverLine.objects.filter(item__in=items, handover__in=lists).select_related("handover")
    return {line.item_id: line.handover for line in lines}


# --- pickups --------------------------------------------------------------------------------------


@permission_required_404("items.pickup.confirm")
@require_POST
def pickup_confirm(request, pk: int):
    pickup = selectors.pickup_get(viewer=request.user, pk=pk)
    form = PickupConfirmForm(request.POST, pickup=pickup)
    if form.is_valid() and call_service(form, services.pickup_confirm, actor=request.user, pickup=pickup,
                                        postman=form.cleaned_data["postman"]):
        messages.success(request, _("Đã xác nhận yêu cầu thu gom %(n)s; bưu tá %(p)s sẽ đến thu gom.") % {
            "n": pickup.number, "p": form.cleaned_data["postman"]})
    else:
        messages.error(request, _("Chưa xác nhận được yêu cầu %(n)s: %(e)s") % {
            "n": pickup.number, "e": _form_errors_text(form)})
    return redirect(_pickup_page(pickup))


@permission_required_404("items.pickup.confirm")
@require_POST
def pickup_cancel_post(request, pk: int):
    pickup = selectors.pickup_get(viewer=request.user, pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and call_service(form, services.pickup_cancel, actor=request.user, pickup=pickup,
                                        reason=form.cleaned_data["reason"]):
        messages.success(request, _("Đã hủy yêu cầu thu gom %(n)s.") % {"n": pickup.number})
    else:
        messages.error(request, _("Chưa hủy được yêu cầu %(n)s: %(e)s") % {"n": pickup.number, "e": _form_errors_text(form)})
    return redirect(_pickup_page(pickup))


@permission_required_404("items.accept")
@require_http_methods(["GET", "POST"])
def pickup_collect(request, pk: int):
    pickup = selectors.pickup_get(viewer=request.user, pk=pk)
    if pickup.postman_id != request.user.pk:
        raise PermissionDenied(_("Yêu cầu thu gom %(n)s không được phân công cho bạn.") % {"n": pickup.number})
    if pickup.status != PickupStatus.CONFIRMED:
        raise Conflict(_("Yêu cầu %(n)s đang ở trạng thái “%(s)s”, không thu gom được.") % {
            "n": pickup.number, "s": pickup.get_status_display()})
    items = list(selectors.item_list(viewer=request.user).filter(pickup_request=pickup, status=ItemStatus.REGISTERED)
                 .order_by("tracking_number"))
    form = PickupCollectForm(request.POST if request.method == "POST" else None, pickup=pickup, items=items)
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        handover = call_service(form, _sign_both, actor=request.user, create={
            "kind": HandoverKind.PICKUP, "tracking_numbers": form.chosen_numbers(), "giver": cd["giver"],
            "taker": request.user, "giver_signature": cd["signature"], "giver_signed_name": cd["giver_signed_name"],
            "envelope_ok": form.envelope_ok(), "weights": form.weights(),
        })
        if handover is not None:
            messages.success(request, _("Đã thu gom %(k)d bưu gửi; phiếu %(n)s đã ký giao nhận.") % {
                "k": len(form.chosen_numbers()), "n": handover.number})
            return redirect("items:handover_detail", pk=handover.pk)
    return render(request, "items/post_pickup_collect.html", {"pickup": pickup, "form": form, "items": items})


# --- counter --------------------------------------------------------------------------------------


@permission_required_404("items.accept")
@require_http_methods(["GET", "POST"])
def counter_accept(request):
    agency_form = CounterAgencyForm(request.GET if "agency" in request.GET else None, viewer=request.user)
    agency = agency_form.cleaned_data["agency"] if agency_form.is_bound and agency_form.is_valid() else None
    form = None
    if agency is not None:
        initial = {"tracking_numbers": "\n".join(request.GET.get("numbers", "").split()),
                   "giver": request.GET.get("clerk") or None}
        form = CounterAcceptForm(request.POST if request.method == "POST" else None, agency=agency, initial=initial)
        if form.is_bound and form.is_valid():
            cd = form.cleaned_data
            handover = call_service(form, _sign_both, actor=request.user, create={
                "kind": HandoverKind.COUNTER, "tracking_numbers": cd["tracking_numbers"], "giver": cd["giver"],
                "taker": request.user, "giver_signature": cd["signature"], "giver_signed_name": cd["giver_signed_name"],
            })
            if handover is not None:
                messages.success(request, _("Đã chấp nhận %(k)d bưu gửi của %(a)s; phiếu %(n)s đã ký giao nhận.") % {
                    "k": len(cd["tracking_numbers"]), "a": agency, "n": handover.number})
                return redirect("items:handover_detail", pk=handover.pk)
    elif request.method == "POST":
        messages.error(request, _("Chọn cơ quan gửi trước."))
    return render(request, "items/post_counter_accept.html", {
        "agency_form": agency_form, "agency": agency, "form": form,
        "can_register": has_perm(request.user, "items.accept"),
    })


@permission_required_404("items.accept")
@require_http_methods(["GET", "POST"])
def counter_register(request):
    agency_form = CounterAgencyForm(request.GET if "agency" in request.GET else None, viewer=request.user)
    if not (agency_form.is_bound and agency_form.is_valid()):
        if request.method == "POST":
            messages.error(request, _("Chọn cơ quan gửi trước khi đăng ký bưu gửi tại quầy."))
        return render(request, "items/post_counter_register.html", {"agency_form": agency_form, "agency": None})
    agency = agency_form.cleaned_data["agency"]
    form = CounterRegisterForm(request.POST if request.method == "POST" else None, viewer=request.user, agency=agency,
                               initial={"holder": request.GET.get("clerk") or None})
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        data = ItemInput(sender_agency=agency, recipient_agency=cd["recipient_agency"], kind=cd["kind"],
                         weight_g=cd["weight_g"], secrecy=cd["secrecy"], urgency=cd["urgency"],
                         deliver_by=cd["deliver_by"], named_recipient=cd["named_recipient"], named_only=cd["named_only"])
        item = call_service(form, services.item_register, actor=request.user, data=data, holder=cd["holder"])
        if item is not None:
            messages.success(request, _("Đã đăng ký bưu gửi %(t)s; đưa vào phiếu chấp nhận bên dưới.") % {
                "t": item.tracking_number})
            numbers = [*request.GET.get("numbers", "").split(), item.tracking_number]
            query = urlencode({"agency": agency.pk, "clerk": cd["holder"].pk, "numbers": " ".join(numbers)})
            return redirect(f"{reverse('items:counter_accept')}?{query}")
    return render(request, "items/post_counter_register.html", {"agency": agency, "form": form})


# --- items I hold ---------------------------------------------------------------------------------


@permission_required_404("items.custody")
@require_http_methods(["GET", "POST"])
def my_items(request):
    go = (request.GET.get("go") or "").strip()
    if go:
        try:
            item = selectors.item_get(viewer=request.user, tracking_number=go)
        except (ValidationFailed, NotFound) as exc:
            messages.error(request, str(exc.message))
            return redirect("items:my_items")
        return redirect("items:record_event", tracking_number=item.tracking_number)
    held = _held_items(request.user)
    form = BulkEventForm(request.POST if request.method == "POST" else None, viewer=request.user, held=held)
    if form.is_bound:
        if form.is_valid():
            _record_bulk(request, form)
            return redirect("items:my_items")
        messages.error(request, _form_errors_text(form))
    open_lists = _in_open_lists(request.user, held)
    pickups = selectors.pickups_open(viewer=request.user).filter(postman=request.user, status=PickupStatus.CONFIRMED)
    return render(request, "items/post_my_items.html", {
        "form": form, "rows": [(i, open_lists.get(i.pk)) for i in held], "count": len(held),
        "inbox": selectors.handovers_waiting_for(viewer=request.user), "pickups": pickups,
        "can_deliver": has_perm(request.user, "items.deliver"),
    })


def _record_bulk(request, form: BulkEventForm) -> None:
    cd = form.cleaned_data
    facility = cd.get("facility")
    requests = [CustodyRequest(
        event_uuid=uuid.uuid5(cd["batch"], f"{number}:{cd['code']}"), tracking_number=number, code=cd["code"],
        facility_id=facility.pk if facility else None, note=cd.get("note") or "",
    ) for number in cd["items"]]
    outcomes = services.custody_record_batch(actor=request.user, requests=requests)
    done = [o for o in outcomes if o.ok]
    label = EventCode(cd["code"]).label
    if done:
        messages.success(request, _("Đã ghi “%(c)s” cho %(k)d bưu gửi.") % {"c": label, "k": len(done)})
    for o in outcomes:
        if not o.ok:
            messages.error(request, _("%(t)s: %(e)s") % {"t": requests[o.index].tracking_number, "e": o.error.message})


@permission_required_404("items.custody")
@require_http_methods(["GET", "POST"])
def record_event(request, tracking_number: str):
    item = selectors.item_get(viewer=request.user, tracking_number=tracking_number)
    form = EventForm(request.POST if request.method == "POST" else None, viewer=request.user)
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        failed = cd["code"] == EventCode.DELIVERY_FAILED
        req = CustodyRequest(
            event_uuid=cd["event"], tracking_number=item.tracking_number, code=cd["code"],
            facility_id=cd["facility"].pk if cd.get("facility") else None,
            reason_code=cd["reason"].code if failed and cd.get("reason") else "",
            next_action=(cd.get("next_action") or "") if failed else "", note=cd.get("note") or "",
        )
        result = call_service(form, services.custody_record, actor=request.user, request=req)
        if result is not None:
            messages.success(request, _("Đã ghi “%(c)s” cho bưu gửi %(t)s.") % {
                "c": EventCode(cd["code"]).label, "t": item.tracking_number})
            return redirect("items:record_event", tracking_number=item.tracking_number)
    return render(request, "items/post_item.html", _item_context(request, item, form=form))


def _item_context(request, item: Item, **extra) -> dict:
    user = request.user
    return {
        "item": item, "events": selectors.item_events(viewer=user, item=item),
        "is_holder": item.holder_id == user.pk,
        "can_fail": has_perm(user, "items.deliver") and item.status == ItemStatus.OUT_FOR_DELIVERY
        and item.holder_id == user.pk,
        "can_return": has_perm(user, "items.return") and item.status in (ItemStatus.ACCEPTED, ItemStatus.DELIVERY_FAILED)
        and not item.is_returning,
        "return_form": extra.pop("return_form", None) or ReturnForm(),
        "item_url": _maybe_url("items:item_detail", item.tracking_number),
        **extra,
    }


@permission_required_404("items.deliver")
@require_http_methods(["GET", "POST"])
def attempt_failed(request, tracking_number: str):
    item = selectors.item_get(viewer=request.user, tracking_number=tracking_number)
    form = AttemptFailedForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        req = CustodyRequest(event_uuid=cd["event"], tracking_number=item.tracking_number, code=EventCode.DELIVERY_FAILED,
                             reason_code=cd["reason"].code, next_action=cd.get("next_action") or "",
                             note=cd.get("note") or "")
        result = call_service(form, services.custody_record, actor=request.user, request=req)
        if result is not None:
            messages.success(request, _("Đã ghi phát không thành công bưu gửi %(t)s: %(r)s; hướng xử lý: %(a)s.") % {
                "t": item.tracking_number, "r": result.event.reason, "a": result.event.get_next_action_display()})
            return redirect("items:my_items")
    return render(request, "items/post_attempt_failed.html", {"item": item, "form": form})


@permission_required_404("items.return")
@require_POST
def return_start(request, tracking_number: str):
    item = selectors.item_get(viewer=request.user, tracking_number=tracking_number)
    form = ReturnForm(request.POST)
    if form.is_valid():
        req = CustodyRequest(event_uuid=form.cleaned_data["event"], tracking_number=item.tracking_number,
                             code=EventCode.RETURN_STARTED, note=form.cleaned_data["note"])
        if call_service(form, services.custody_record, actor=request.user, request=req) is not None:
            messages.success(request, _("Đã chuyển hoàn bưu gửi %(t)s về %(a)s.") % {
                "t": item.tracking_number, "a": item.sender_agency})
            return redirect("items:record_event", tracking_number=item.tracking_number)
    return render(request, "items/post_item.html", _item_context(request, item, form=EventForm(viewer=request.user),
                                                                  return_form=form))


# --- handover lists -------------------------------------------------------------------------------


@permission_required_404("items.view")
@require_GET
def handover_list(request):
    form = HandoverFilterForm(request.GET)
    page = paginate(request, selectors.handover_list(viewer=request.user, **form.values()))
    return render(request, "items/handover_list.html", {
        "form": form, "page": page, "inbox": selectors.handovers_waiting_for(viewer=request.user),
        "can_create": has_perm(request.user, "items.custody"),
    })


@permission_required_404("items.custody")
@require_http_methods(["GET", "POST"])
def handover_new(request):
    held = _held_items(request.user)
    form = InternalHandoverForm(request.POST if request.method == "POST" else None, viewer=request.user, held=held,
                                initial={"items": request.GET.getlist("item")})
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        handover = call_service(form, services.handover_create, actor=request.user, kind=HandoverKind.INTERNAL,
                                tracking_numbers=cd["tracking_numbers"], giver=request.user, taker=cd["taker"],
                                note=cd.get("note") or "")
        if handover is not None:
            messages.success(request, _("Đã lập phiếu %(n)s; bưu gửi vẫn do bạn giữ cho đến khi %(t)s ký nhận.") % {
                "n": handover.number, "t": handover.taker})
            return redirect("items:handover_detail", pk=handover.pk)
    open_lists = _in_open_lists(request.user, held)
    return render(request, "items/handover_new.html", {
        "form": form, "rows": [(i, open_lists.get(i.pk)) for i in held],
    })


@permission_required_404("items.view")
@require_GET
def handover_detail(request, pk: int):
    handover = selectors.handover_get(viewer=request.user, pk=pk)
    return render(request, "items/handover_detail.html", _handover_context(request, handover))


def _handover_context(request, handover: HandoverList, **extra) -> dict:
    user = request.user
    is_open = handover.status == HandoverStatus.OPEN
    on_screen = handover.kind in ON_SCREEN_KINDS
    can_sign_on_screen = is_open and on_screen and user.pk == handover.giver_id
    return {
        "handover": handover,
        "lines": handover.lines.select_related("item").order_by("line_no"),
        "on_screen": on_screen,
        "can_sign": is_open and not on_screen and user.pk == handover.taker_id,
        "can_sign_on_screen": can_sign_on_screen,
        "sign_form": extra.pop("sign_form", None) or (OnScreenSignatureForm() if can_sign_on_screen else None),
        "can_cancel": is_open and user.pk in (handover.giver_id, handover.taker_id, handover.created_by_id),
        "cancel_form": extra.pop("cancel_form", None) or ReasonForm(),
        "giver_signature": _png(handover.giver_signature),
        "taker_signature": _png(handover.taker_signature),
        "pdf_url": _maybe_url("items:handover_pdf", handover.pk),
        "receipt_url": _maybe_url("items:handover_receipt_pdf", handover.pk) or _maybe_url("items:receipt_pdf", handover.pk),
        **extra,
    }


def _png(value: str) -> str:
    return value if (value or "").startswith("data:image/png;base64,") else ""


@login_required
@require_POST
def handover_complete(request, pk: int):
    handover = selectors.handover_get(viewer=request.user, pk=pk)
    if handover.kind in ON_SCREEN_KINDS:
        form = OnScreenSignatureForm(request.POST)
        if form.is_valid() and call_service(form, services.handover_complete, actor=request.user, handover=handover,
                                            taker_signature=form.cleaned_data["signature"],
                                            taker_signed_name=form.cleaned_data["taker_signed_name"]):
            messages.success(request, _("Phiếu %(n)s đã được ký nhận.") % {"n": handover.number})
            return redirect("items:handover_detail", pk=handover.pk)
        if handover.giver_id != request.user.pk:
            raise PermissionDenied(_("Chỉ bưu tá lập phiếu mới hoàn tất phiếu phát."))
        return render(request, "items/handover_detail.html", _handover_context(request, handover, sign_form=form))
    try:
        services.handover_complete(actor=request.user, handover=handover)
    except ValidationFailed as exc:
        messages.error(request, _("Chưa ký nhận được phiếu %(n)s: %(e)s") % {"n": handover.number, "e": exc.message})
    else:
        messages.success(request, _("Bạn đã ký nhận phiếu %(n)s; các bưu gửi trên phiếu nay do bạn giữ.") % {
            "n": handover.number})
    return redirect("items:handover_detail", pk=handover.pk)


@login_required
@require_POST
def handover_cancel(request, pk: int):
    handover = selectors.handover_get(viewer=request.user, pk=pk)
    if request.user.pk not in (handover.giver_id, handover.taker_id, handover.created_by_id):
        raise PermissionDenied(_("Chỉ bên giao hoặc bên nhận được hủy phiếu."))
    form = ReasonForm(request.POST)
    if form.is_valid() and call_service(form, services.handover_cancel, actor=request.user, handover=handover,
                                        reason=form.cleaned_data["reason"]):
        messages.success(request, _("Đã hủy phiếu %(n)s; bưu gửi vẫn do bên giao giữ.") % {"n": handover.number})
        return redirect("items:handover_detail", pk=handover.pk)
    return render(request, "items/handover_detail.html", _handover_context(request, handover, cancel_form=form))


# --- delivery -------------------------------------------------------------------------------------


def _delivery_groups(user) -> OrderedDict:
    """Items I hold out for delivery, by the agency that signs for them: the recipient, or the
    sender for a returning item (a return goes on its own list)."""
    items = selectors.item_list(viewer=user, held_by_me=True).filter(status=ItemStatus.OUT_FOR_DELIVERY)
    groups: OrderedDict = OrderedDict()
    for item in sorted(items, key=lambda i: (i.is_returning, i.tracking_number)):
        agency = item.sender_agency if item.is_returning else item.recipient_agency
        kind = HandoverKind.RETURN if item.is_returning else HandoverKind.DELIVERY
        groups.setdefault((agency.pk, kind.value), {"agency": agency, "kind": kind, "items": []})["items"].append(item)
    return groups


@permission_required_404("items.deliver")
@require_http_methods(["GET", "POST"])
def deliver(request):
    groups = _delivery_groups(request.user)
    try:
        key = (int(request.GET.get("agency", "")), request.GET.get("kind") or HandoverKind.DELIVERY.value)
    except ValueError:
        key = None
    group = groups.get(key) if key else None
    if group is None:
        if request.method == "POST":
            messages.error(request, _("Không còn bưu gửi nào đang đi phát cho cơ quan này."))
            return redirect("items:deliver")
        return render(request, "items/post_deliver.html", {"groups": groups.values(), "group": None})
    form = DeliverForm(request.POST if request.method == "POST" else None, agency=group["agency"], items=group["items"])
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        handover = call_service(form, _sign_both, actor=request.user, create={
            "kind": group["kind"], "tracking_numbers": cd["items"], "giver": request.user, "taker": cd["taker"],
        }, complete={"taker_signature": cd["signature"], "taker_signed_name": cd["taker_signed_name"]})
        if handover is not None:
            messages.success(request, _("Đã phát %(k)d bưu gửi cho %(a)s; %(t)s đã ký nhận (phiếu %(n)s).") % {
                "k": len(cd["items"]), "a": group["agency"], "t": cd["taker_signed_name"], "n": handover.number})
            return redirect("items:handover_detail", pk=handover.pk)
    return render(request, "items/post_deliver.html", {"groups": groups.values(), "group": group, "form": form})

