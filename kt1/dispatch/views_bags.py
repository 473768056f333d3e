"""Bag pages: the bag list, opening a bag for a destination, filling it scan by scan, sealing, the
printable bag list, handing sealed bags over (the taker confirms in their own session), receiving
with the seal check, and opening scan by scan until the discrepancies are known.

Views parse, call a selector or a service, and render. The dispatch services decide everything that
matters and refuse with a Vietnamese message; here every refusal lands on the page the person is
on: a ValidationFailed on the form (call_service), an illegal step (Conflict) on the form too with
status 409, an object outside the person's scope is a 404, and an action on a visible bag the person
may not take a 403 (the permission policy via `require`).

Scanning works with and without JavaScript: the scan forms post normally (redirect after success)
and, with htmx, swap only their panel so a scanner can keep going without a page load.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kt1.core.errors import Conflict, NotFound, ValidationFailed
from kt1.core.permissions import has_perm, require, restrict, scope_of
from kt1.core.web import call_service, paginate, permission_required_404
from kt1.incidents import selectors as incident_selectors
from kt1.items import s10

from . import documents, s9, selectors, services
from .choices import BagEventCode, BagStatus, TransferStatus
from .forms_bags import (
    BagFilterForm,
    BagNewForm,
    OpenFinishForm,
    OpenScanForm,
    PasteScanForm,
    ReceiveForm,
    RemoveForm,
    ScanForm,
    SealForm,
    TransferNewForm,
    UnscanForm,
    bags_to_hand_over,
)
from .models import Bag, BagTransfer

TRANSFER_CODES = ("dispatch.bag", "dispatch.trip", "dispatch.carry")
AWAITING_RECEIPT = (BagStatus.SEALED, BagStatus.IN_TRANSIT)


# --- helpers --------------------------------------------------------------------------------------


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _bag_for_action(request, pk: int) -> Bag:
    """The bag, if the person sees it (else 404) and may work on bags (else 403)."""
    bag = selectors.bag_get(viewer=request.user, pk=pk)
    require(request.user, "dispatch.bag", bag)
    return bag


def _back_to_opening(request, bag: Bag, form):
    """Back to the opening page, with the form's refusals shown there as messages."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("dispatch:bag_open", pk=bag.pk)


def _run(form, service, /, **kwargs):
    """call_service, plus the refusals a person can cause by what they scan or when they act: an
    illegal step (Conflict, status 409) and an item number that names nothing they may see. Returns
    (result, http status); the form carries the message."""
    try:
        return call_service(form, service, **kwargs), 200
    except Conflict as exc:
        form.add_error(None, str(exc.message))
        return None, 409
    except NotFound as exc:
        if exc.code != "item_not_found":
            raise
        form.add_error("tracking_number" if "tracking_number" in form.fields else None, str(exc.message))
        return None, 200


def _attempt(service, /, **kwargs):
    """Run one service call of a batch: (result, error message or None, conflict?)."""
    try:
        return service(**kwargs), None, False
    except Conflict as exc:
        return None, str(exc.message), True
    except NotFound as exc:
        if exc.code != "item_not_found":
            raise
        return None, str(exc.message), False
    except ValidationFailed as exc:
        return None, str(exc.message), False


def _maybe_url(name: str, *args) -> str | None:
    """A page another area owns (the mail trip page), if installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _incident_links(incidents) -> str:
    return format_html_join(", ", '<a href="{}">{}</a>', (
        (reverse("incidents:incident_detail", args=[i.pk]), f"{i.number} ({i.get_kind_display()})") for i in incidents))


def _maybe_incident_links(incidents) -> str:
    try:
        return _incident_links(incidents)
    except NoReverseMatch:  # the incident pages are another app; the numbers are enough without them
        return ", ".join(f"{i.number} ({i.get_kind_display()})" for i in incidents)


def _live_lines(bag: Bag) -> list:
    return list(selectors.bag_lines(bag=bag).order_by("added_at", "pk"))


def _opening(request, bag: Bag) -> dict:
    """Where the opening of a bag stands: expected, scanned, the remaining list, damaged and extra
    items, and (once finished) the missing ones, with the incidents recorded for the bag."""
    lines = _live_lines(bag)
    scanned = [ln for ln in lines if ln.scanned_at]
    remaining = [ln for ln in lines if not ln.scanned_at]
    extra = [e for e in selectors.bag_events(bag=bag).filter(code=BagEventCode.ITEM_SCANNED)
             if not (e.data or {}).get("listed", True)]
    return {
        "expected": len(lines), "scanned": scanned, "remaining": remaining,
        "damaged": [ln for ln in scanned if ln.damaged], "extra": extra,
        "missing": remaining if bag.status == BagStatus.OPENED else [],
        "incidents": list(incident_selectors.incident_list(viewer=request.user, bag=bag)),
    }


def _flags(request, bag: Bag) -> dict:
    user = request.user
    may_bag = has_perm(user, "dispatch.bag")
    mine = scope_of(user).facility_ids
    is_holder = bag.holder_id == user.pk
    in_transfer = bag.transfers.filter(status=TransferStatus.OPEN).first()
    return {
        "is_holder": is_holder,
        "open_transfer": in_transfer,
        "can_fill": may_bag and bag.status == BagStatus.OPEN and bag.origin_id in mine,
        "can_transfer": bag.status in AWAITING_RECEIPT and is_holder and in_transfer is None
        and any(has_perm(user, c) for c in TRANSFER_CODES),
        "can_receive": may_bag and bag.status in AWAITING_RECEIPT and bag.destination_id in mine,
        "can_open": may_bag and bag.status == BagStatus.RECEIVED and user.pk in (bag.received_by_id, bag.holder_id),
    }


def _form_messages(form) -> list[str]:
    return [str(m) for errors in form.errors.values() for m in errors] if form is not None else []


def _bag_context(request, bag: Bag, **extra) -> dict:
    flags = _flags(request, bag)
    if not flags["can_fill"]:
        # The bag can no longer be filled (sealed meanwhile, say): the refusal shows at the top.
        extra["action_errors"] = _form_messages(extra.pop("scan_form", None)) + _form_messages(extra.pop("seal_form", None))
    lines = _live_lines(bag)
    context = {
        "bag": bag,
        "lines": lines,
        "lines_weight": sum(ln.item.weight_g for ln in lines),
        "events": selectors.bag_events(bag=bag),
        "incidents": list(incident_selectors.incident_list(viewer=request.user, bag=bag)),
        "scan_form": extra.pop("scan_form", None) or (ScanForm() if flags["can_fill"] else None),
        "seal_form": extra.pop("seal_form", None) or (SealForm() if flags["can_fill"] else None),
        "opening": _opening(request, bag) if bag.status in (BagStatus.RECEIVED, BagStatus.OPENED) else None,
        "secrecy_letter": bag.highest_secrecy if bag.highest_secrecy in ("A", "B", "C") else "",
        "trip_url": _maybe_url("dispatch:trip_detail", bag.trip_id) if bag.trip_id else None,
        **flags,
        **extra,
    }
    return context


def _render_detail(request, bag: Bag, status: int = 200, **extra):
    return render(request, "dispatch/bag_detail.html", _bag_context(request, bag, **extra), status=status)


def _render_fill_panel(request, bag: Bag, form: ScanForm, notes: list[tuple[str, str]], status: int = 200):
    """The scan-in panel alone (htmx): the form, what just happened, and the bag's current list. If
    the bag can no longer be filled (sealed in another window, say), the whole page reloads and
    shows why."""
    if not _flags(request, bag)["can_fill"]:
        for message in _form_messages(form):
            messages.error(request, message)
        return HttpResponse(status=204, headers={"HX-Redirect": reverse("dispatch:bag_detail", args=[bag.pk])})
    context = _bag_context(request, bag, scan_form=form, notes=notes)
    return render(request, "dispatch/bag_fill_panel.html", context, status=status)


# --- list and detail ----------------------------------------------------------------------------------


@permission_required_404("dispatch.view")
@require_GET
def bag_list(request):
    user = request.user
    form = BagFilterForm(request.GET or None, viewer=user)
    values = form.values()
    q = values["q"]
    if q and s9.S9_RE.match(q.upper().replace(" ", "")):  # a scanned bag label opens the bag
        bag = selectors.bag_list(viewer=user).filter(identifier=q.upper().replace(" ", "")).first()
        if bag is not None:
            return redirect("dispatch:bag_detail", pk=bag.pk)
    base = selectors.bag_list(viewer=user, q=q)
    chosen = values["facility"]
    facilities = {chosen.pk} if chosen else set(scope_of(user).facility_ids)
    direction = values["direction"]
    if facilities and direction == "out":
        base = base.filter(origin_id__in=facilities)
    elif facilities and direction == "in":
        base = base.filter(destination_id__in=facilities)
    elif chosen:
        base = base.filter(Q(origin_id=chosen.pk) | Q(destination_id=chosen.pk))
    rows = base.order_by().values("status").annotate(n=Count("pk", distinct=True))
    counts = {row["status"]: row["n"] for row in rows}
    qs = base.filter(status=values["status"]) if values["status"] else base
    page = paginate(request, qs)
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("status", None)
    status_links = [{"value": "", "label": _("Tất cả"), "count": sum(counts.values()),
                     "query": params.urlencode(), "current": not values["status"]}]
    for value, label in BagStatus.choices:
        p = params.copy()
        p["status"] = value
        status_links.append({"value": value, "label": label, "count": counts.get(value, 0), "query": p.urlencode(),
                             "current": values["status"] == value})
    return render(request, "dispatch/bag_list.html", {
        "form": form, "page": page, "status_links": status_links,
        "can_create": has_perm(user, "dispatch.bag"),
        "may_transfer": any(has_perm(user, c) for c in TRANSFER_CODES),
        "waiting": selectors.transfers_waiting_for(viewer=user).count(),
    })


@permission_required_404("dispatch.bag")
@require_http_methods(["GET", "POST"])
def bag_new(request):
    form = BagNewForm(request.POST if request.method == "POST" else None, viewer=request.user)
    if form.is_bound and form.is_valid():
        bag = call_service(form, services.bag_create, actor=request.user, destination=form.cleaned_data["destination"])
        if bag is not None:
            messages.success(request, _("Đã lập túi %(b)s gửi %(d)s; quét bưu gửi vào túi.") % {
                "b": bag.identifier, "d": bag.destination})
            return redirect("dispatch:bag_detail", pk=bag.pk)
    return render(request, "dispatch/bag_new.html", {"form": form})


@permission_required_404("dispatch.view")
@require_GET
def bag_detail(request, pk: int):
    bag = selectors.bag_get(viewer=request.user, pk=pk)
    return _render_detail(request, bag)


@login_required
@require_GET
def bag_pdf(request, pk: int):
    if not has_perm(request.user, "dispatch.view"):
        raise Http404(_("Không tìm thấy."))
    bag = selectors.bag_get(viewer=request.user, pk=pk)
    return documents.pdf_response(documents.bag_list_pdf(bag, viewer=request.user), f"KT1-TUI-{bag.identifier}.pdf")


# --- filling, sealing, cancelling --------------------------------------------------------------------


@login_required
@require_POST
def bag_add_item(request, pk: int):
    bag = _bag_for_action(request, pk)
    form = ScanForm(request.POST)
    notes: list[tuple[str, str]] = []
    status = 200
    if form.is_valid():
        refused = []
        for number in form.numbers():
            line, error, conflict = _attempt(services.bag_add_item, actor=request.user, bag=bag, tracking_number=number)
            if error:
                refused.append(error)
                status = 409 if conflict else status
            else:
                notes.append(("success", _("Đã cho %(t)s vào túi.") % {"t": line.item.tracking_number}))
        for error in refused:
            form.add_error("tracking_number", error)
        if not refused:
            if _is_htmx(request):
                return _render_fill_panel(request, bag, ScanForm(), notes)
            for _level, text in notes:
                messages.success(request, text)
            return redirect(f"{reverse('dispatch:bag_detail', args=[bag.pk])}#fill")
    bag = selectors.bag_get(viewer=request.user, pk=pk)
    if _is_htmx(request):
        return _render_fill_panel(request, bag, form, notes)
    for _level, text in notes:
        messages.success(request, text)
    return _render_detail(request, bag, status=status, scan_form=form)


@login_required
@require_POST
def bag_remove_item(request, pk: int):
    bag = _bag_for_action(request, pk)
    form = RemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Chọn bưu gửi cần lấy ra."))
        return redirect("dispatch:bag_detail", pk=bag.pk)
    number = form.cleaned_data["tracking_number"]
    line, error, conflict = _attempt(services.bag_remove_item, actor=request.user, bag=bag, tracking_number=number)
    scan_form = ScanForm()
    notes = []
    if error:
        scan_form = ScanForm(data={"tracking_number": ""})
        scan_form.is_valid()
        scan_form.errors.clear()
        scan_form.add_error(None, error)
    else:
        notes.append(("success", _("Đã lấy %(t)s ra khỏi túi; bưu gửi vẫn do bạn giữ.") % {"t": line.item.tracking_number}))
    if _is_htmx(request):
        return _render_fill_panel(request, bag, scan_form, notes)
    if error:
        return _render_detail(request, bag, status=409 if conflict else 200, scan_form=scan_form)
    messages.success(request, notes[0][1])
    return redirect(f"{reverse('dispatch:bag_detail', args=[bag.pk])}#fill")


@login_required
@require_POST
def bag_seal(request, pk: int):
    bag = _bag_for_action(request, pk)
    form = SealForm(request.POST)
    status = 200
    if form.is_valid():
        sealed, status = _run(form, services.bag_seal, actor=request.user, bag=bag,
                              seal_number=form.cleaned_data["seal_number"],
                              last_in_dispatch=form.cleaned_data["last_in_dispatch"])
        if sealed is not None:
            messages.success(request, _("Đã niêm phong túi %(b)s (số niêm phong %(s)s, %(n)d bưu gửi). "
                                        "Bưu gửi nay do túi giữ.") % {
                "b": sealed.identifier, "s": sealed.seal_number, "n": sealed.item_count})
            return redirect("dispatch:bag_detail", pk=sealed.pk)
    return _render_detail(request, selectors.bag_get(viewer=request.user, pk=pk), status=status, seal_form=form)


@login_required
@require_POST
def bag_cancel(request, pk: int):
    bag = _bag_for_action(request, pk)
    services.bag_cancel(actor=request.user, bag=bag)  # a sealed bag: Conflict, a 409 page naming the bag
    messages.success(request, _("Đã hủy túi %(b)s; bưu gửi trong túi (nếu có) vẫn do bạn giữ.") % {"b": bag.identifier})
    return redirect("dispatch:bag_detail", pk=bag.pk)


# --- receiving and opening ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def bag_receive(request, pk: int):
    bag = _bag_for_action(request, pk)
    user = request.user
    form = ReceiveForm(request.POST if request.method == "POST" else None, bag=bag, viewer=user)
    status = 200
    if form.is_bound and form.is_valid():
        before = set(incident_selectors.incident_list(viewer=user, bag=bag).values_list("pk", flat=True))
        cd = form.cleaned_data
        received, status = _run(form, services.bag_receive, actor=user, bag=bag, seal_number_read=cd["seal_number"],
                                seal_intact=cd["seal_intact"], present=list(cd["present"]))
        if received is not None:
            new = list(incident_selectors.incident_list(viewer=user, bag=received).exclude(pk__in=before))
            if new:
                messages.warning(request, format_html(
                    "{} {}", _("Đã nhận túi %(b)s nhưng có sai lệch về niêm phong; đã lập sự cố và biên bản:") % {
                        "b": received.identifier}, _maybe_incident_links(new)))
            else:
                messages.success(request, _("Đã nhận túi %(b)s: số niêm phong khớp, niêm phong nguyên vẹn. "
                                            "Mở túi và quét từng bưu gửi.") % {"b": received.identifier})
            query = urlencode([("present", p.pk) for p in cd["present"]])
            return redirect(f"{reverse('dispatch:bag_open', args=[received.pk])}{'?' + query if query else ''}")
    mine = scope_of(user).facility_ids
    return render(request, "dispatch/bag_receive.html", {
        "bag": bag, "form": form,
        "awaiting": bag.status in AWAITING_RECEIPT,
        "at_destination": bag.destination_id in mine,
        "is_holder": bag.holder_id == user.pk,
    }, status=status)


def _open_context(request, bag: Bag, scan_form, finish_form, notes=()) -> dict:
    user = request.user
    return {
        "bag": bag, "scan_form": scan_form, "finish_form": finish_form, "notes": list(notes),
        "opening": _opening(request, bag),
        "may_open": bag.status == BagStatus.RECEIVED and user.pk in (bag.received_by_id, bag.holder_id),
        "paste_form": PasteScanForm(auto_id="id_paste_%s"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def bag_open(request, pk: int):
    """Opening scan by scan: each scan is recorded on its bag line (the item stays in the bag's
    custody until the opening is finished); an unlisted or a damaged item is recorded as an
    incident at once."""
    bag = _bag_for_action(request, pk)
    user = request.user
    present_initial = {"present": request.GET.getlist("present")}
    is_post = request.method == "POST"
    form = OpenScanForm(request.POST if is_post else None, bag=bag, viewer=user, initial=present_initial)
    finish_form = OpenFinishForm(bag=bag, viewer=user, initial=present_initial)
    status = 200
    notes: list[tuple[str, str]] = []
    if is_post and form.is_valid():
        cd = form.cleaned_data
        present = list(cd["present"])
        before = set(incident_selectors.incident_list(viewer=user, bag=bag).values_list("pk", flat=True))
        line, status = _run(form, services.bag_open_scan, actor=user, bag=bag, tracking_number=cd["tracking_number"],
                            damaged=cd["damaged"], present=present)
        if not form.errors:
            new = list(incident_selectors.incident_list(viewer=user, bag=bag).exclude(pk__in=before))
            if line is None:
                notes.append(("warning", format_html("{} {}", _(
                    "Bưu gửi %(t)s KHÔNG có trong danh sách túi (thừa): đã giữ lại và lập sự cố") % {
                    "t": s10.normalise(cd["tracking_number"])}, _maybe_incident_links(new))))
            elif line.damaged:
                notes.append(("warning", format_html("{} {}", _(
                    "Đã quét %(t)s; bưu gửi hư hỏng: đã lập sự cố") % {"t": line.item.tracking_number},
                    _maybe_incident_links(new))))
            else:
                notes.append(("success", _("Đã quét %(t)s; chuyển giao cho bạn khi kết thúc mở túi.") % {
                    "t": line.item.tracking_number}))
            kept = [str(p.pk) for p in present]
            if not _is_htmx(request):
                for level, text in notes:
                    getattr(messages, level)(request, text)
                query = urlencode([("present", p) for p in kept])
                return redirect(f"{reverse('dispatch:bag_open', args=[bag.pk])}{'?' + query if query else ''}")
            form = OpenScanForm(bag=bag, viewer=user, initial={"present": kept})
        bag = selectors.bag_get(viewer=user, pk=pk)
    context = _open_context(request, bag, form, finish_form, notes)
    if is_post and _is_htmx(request):
        return render(request, "dispatch/bag_open_panel.html", context)
    return render(request, "dispatch/bag_open.html", context, status=status)


@login_required
@require_POST
def bag_open_paste(request, pk: int):
    """Many numbers pasted at once, recorded as one batch (bag_open_scans): each number stands
    alone; the page says how many were scanned, extra and refused, and why each refusal."""
    bag = _bag_for_action(request, pk)
    form = PasteScanForm(request.POST)
    if form.is_valid():
        outcomes, _status = _run(form, services.bag_open_scans, actor=request.user, bag=bag,
                                 scans=[services.ScanInput(number) for number in form.numbers()])
        if outcomes is not None:
            counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("scanned", "extra", "refused")}
            summary = _("Đã gửi %(n)d mã: quét %(s)d, thừa %(x)d (đã lập sự cố), từ chối %(r)d.") % {
                "n": len(outcomes), "s": counts["scanned"], "x": counts["extra"], "r": counts["refused"]}
            (messages.warning if counts["extra"] or counts["refused"] else messages.success)(request, summary)
            for outcome in outcomes:
                if outcome.error is not None:
                    messages.error(request, str(outcome.error.message))
    return _back_to_opening(request, bag, form)


@login_required
@require_POST
def bag_open_unscan(request, pk: int):
    """Undo one scan before the finish (the receiver, with a reason); back to the opening page,
    where the item is listed as remaining again."""
    bag = _bag_for_action(request, pk)
    form = UnscanForm(request.POST)
    if form.is_valid():
        cd = form.cleaned_data
        line, _status = _run(form, services.bag_open_unscan, actor=request.user, bag=bag,
                             tracking_number=cd["tracking_number"], reason=cd["reason"])
        if line is not None:
            messages.success(request, _("Đã hủy quét %(t)s; bưu gửi trở lại danh sách chưa quét.") % {
                "t": line.item.tracking_number})
    return _back_to_opening(request, bag, form)


@login_required
@require_POST
def bag_open_finish(request, pk: int):
    bag = _bag_for_action(request, pk)
    user = request.user
    form = OpenFinishForm(request.POST, bag=bag, viewer=user)
    status = 200
    if form.is_valid():
        finished, status = _run(form, services.bag_open_finish, actor=user, bag=bag,
                                present=list(form.cleaned_data["present"]))
        if finished is not None:
            opening = _opening(request, finished)
            if opening["missing"] or opening["extra"] or opening["damaged"] or opening["incidents"]:
                messages.warning(request, _(
                    "Đã kết thúc mở túi %(b)s: %(s)d/%(e)d bưu gửi đã quét, thiếu %(m)d, thừa %(x)d, hư hỏng %(d)d. "
                    "Các sai lệch đã được lập sự cố và biên bản.") % {
                    "b": finished.identifier, "s": len(opening["scanned"]), "e": opening["expected"],
                    "m": len(opening["missing"]), "x": len(opening["extra"]), "d": len(opening["damaged"])})
            else:
                messages.success(request, _("Đã kết thúc mở túi %(b)s: đủ %(n)d bưu gửi, không có sai lệch.") % {
                    "b": finished.identifier, "n": opening["expected"]})
            return redirect(f"{reverse('dispatch:bag_detail', args=[finished.pk])}#opening")
    bag = selectors.bag_get(viewer=user, pk=pk)
    scan_form = OpenScanForm(bag=bag, viewer=user, initial={"present": request.POST.getlist("present")})
    return render(request, "dispatch/bag_open.html", _open_context(request, bag, scan_form, form), status=status)


# --- transfers ---------------------------------------------------------------------------------------


def _may_transfer(user) -> bool:
    return any(has_perm(user, code) for code in TRANSFER_CODES)


def _transfers_involving(user):
    return (restrict(BagTransfer.objects.select_related("giver", "taker", "facility"), user)
            .filter(Q(giver=user) | Q(taker=user)).annotate(n_bags=Count("bags")).order_by("-created_at", "-pk"))


@login_required
@require_GET
def transfer_inbox(request):
    user = request.user
    if not _may_transfer(user):
        raise Http404(_("Không tìm thấy."))
    mine = _transfers_involving(user)
    return render(request, "dispatch/transfer_inbox.html", {
        "waiting": selectors.transfers_waiting_for(viewer=user),
        "sent": mine.filter(giver=user, status=TransferStatus.OPEN),
        "recent": mine.exclude(status=TransferStatus.OPEN)[:20],
        "held": bags_to_hand_over(user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def transfer_new(request):
    user = request.user
    if not _may_transfer(user):
        raise Http404(_("Không tìm thấy."))
    initial = {"bags": request.GET.getlist("bag"), "taker": request.GET.get("taker") or None,
               "mail_trip": request.GET.get("trip") or None}
    form = TransferNewForm(request.POST if request.method == "POST" else None, viewer=user, initial=initial)
    status = 200
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        transfer, status = _run(form, services.transfer_create, actor=user, taker=cd["taker"], bags=list(cd["bags"]),
                                mail_trip=cd.get("mail_trip"))
        if transfer is not None:
            messages.success(request, _("Đã lập phiếu %(n)s; túi vẫn do bạn giữ cho đến khi %(t)s xác nhận nhận túi.") % {
                "n": transfer.number, "t": transfer.taker})
            return redirect("dispatch:transfer_detail", pk=transfer.pk)
    return render(request, "dispatch/transfer_new.html", {"form": form}, status=status)


@permission_required_404("dispatch.view")
@require_GET
def transfer_detail(request, pk: int):
    transfer = selectors.transfer_get(viewer=request.user, pk=pk)
    user = request.user
    is_open = transfer.status == TransferStatus.OPEN
    return render(request, "dispatch/transfer_detail.html", {
        "transfer": transfer,
        "bags": transfer.bags.select_related("origin", "destination", "holder").order_by("identifier"),
        "can_confirm": is_open and user.pk == transfer.taker_id,
        "can_cancel": is_open and user.pk in (transfer.giver_id, transfer.taker_id),
    })


@login_required
@require_POST
def transfer_complete(request, pk: int):
    transfer = selectors.transfer_get(viewer=request.user, pk=pk)
    try:
        services.transfer_complete(actor=request.user, transfer=transfer)
    except ValidationFailed as exc:  # not cleared for the bags' secrecy, or a bag no longer with the giver
        messages.error(request, _("Chưa nhận được túi theo phiếu %(n)s: %(e)s") % {"n": transfer.number, "e": exc.message})
    else:
        messages.success(request, _("Bạn đã xác nhận phiếu %(n)s; các túi trên phiếu nay do bạn giữ.") % {
            "n": transfer.number})
    return redirect("dispatch:transfer_detail", pk=transfer.pk)


@login_required
@require_POST
def transfer_cancel(request, pk: int):
    transfer = selectors.transfer_get(viewer=request.user, pk=pk)
    services.transfer_cancel(actor=request.user, transfer=transfer)
    messages.success(request, _("Đã hủy phiếu %(n)s; túi vẫn do bên giao giữ.") % {"n": transfer.number})
    return redirect("dispatch:transfer_detail", pk=transfer.pk)

