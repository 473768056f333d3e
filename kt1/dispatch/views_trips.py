"""Trip and round pages of dispatch: mail trips and vehicle trips, delivery rounds, the
round-coverage check, mail-trip volume reports (on screen and XLSX) and the administrators' pages
for dispatch reference data.

Views parse, call a selector or a service, and render. The dispatch services decide (who may
dispatch from where, whether an escort is needed, whether the crew holds every bag, which item a
postman holds) and refuse with a Vietnamese message: a ValidationFailed lands on the form
(call_service) or in a message on the page it came from, an illegal transition becomes a 409 page,
an object outside the person's scope a 404, and an action the person may not take on a visible
object a 403 (DomainErrorMiddleware).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kt1.accounts.clearance import handling_clearance
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.core.errors import ValidationFailed
from kt1.core.permissions import has_perm, restrict, scope_of
from kt1.core.web import call_service, paginate, permission_required_404
from kt1.directory.choices import FacilityKind, UnitLevel
from kt1.directory.models import Facility
from kt1.items import selectors as item_selectors
from kt1.items.choices import ItemStatus

from . import reports, selectors, services
from .choices import RoundStatus, TripStatus
from .forms_trips import (
    CoverageForm,
    DeliveryRouteForm,
    MailRouteForm,
    MixRuleForm,
    RoundFilterForm,
    RoundNewForm,
    RoundRuleForm,
    RoundSetupForm,
    TripFilterForm,
    TripLoadForm,
    TripNewForm,
    TripRouteForm,
    VehicleForm,
    VehicleTripFilterForm,
    VehicleTripForm,
    VolumeReportForm,
)
from .models import Bag, DeliveryRound, MailTrip

# Items a postman may take out on a round: in post hands, not yet delivered or returned.
ROUND_READY = (ItemStatus.ACCEPTED, ItemStatus.DELIVERY_FAILED, ItemStatus.OUT_FOR_DELIVERY)


def _maybe_url(name: str, *args, query: str = "") -> str | None:
    """A page another area owns (bag transfers, item pages), if installed."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


def _status_counts(queryset, choices) -> list[dict]:
    rows = {r["status"]: r["n"] for r in queryset.model.objects.filter(pk__in=queryset.values("pk")).order_by()
            .values("status").annotate(n=Count("pk"))}
    return [{"value": value, "label": label, "n": rows.get(value, 0)} for value, label in choices]


# --- mail trips ------------------------------------------------------------------------------------


@permission_required_404("dispatch.view")
@require_GET
def trip_list(request):
    form = TripFilterForm(request.GET or None, viewer=request.user)
    trips = selectors.mail_trip_list(viewer=request.user, **form.values())
    if form.mine_value():
        trips = trips.filter(Q(vehicle_trip__driver=request.user) | Q(vehicle_trip__escort=request.user))
    counts = _status_counts(trips, TripStatus.choices)
    status = form.status_value()
    if status:
        trips = trips.filter(status=status)
    return render(request, "dispatch/trip_list.html", {
        "form": form, "page": paginate(request, trips), "counts": counts, "status": status,
        "total": sum(c["n"] for c in counts), "can_plan": has_perm(request.user, "dispatch.trip"),
    })


@permission_required_404("dispatch.trip")
@require_http_methods(["GET", "POST"])
def trip_new(request):
    route_form = TripRouteForm(request.GET if "route" in request.GET else None, viewer=request.user)
    route = route_form.cleaned_data["route"] if route_form.is_bound and route_form.is_valid() else None
    form = None
    if route is not None:
        form = TripNewForm(request.POST if request.method == "POST" else None, viewer=request.user, route=route)
        if form.is_bound and form.is_valid():
            cd = form.cleaned_data
            trip = call_service(form, services.mail_trip_create, actor=request.user, route=route, shift=cd["shift"],
                                service_date=cd["service_date"], bags=list(cd["bags"]))
            if trip is not None:
                messages.success(request, _("Đã lập chuyến thư %(n)s với %(k)d túi.") % {
                    "n": trip.number, "k": len(cd["bags"])})
                return redirect("dispatch:trip_detail", pk=trip.pk)
    elif request.method == "POST":
        messages.error(request, _("Chọn đường thư trước."))
    return render(request, "dispatch/trip_new.html", {"route_form": route_form, "route": route, "form": form})


def _departure_blockers(trip: MailTrip, bags: list[Bag]) -> list[str]:
    """Why the crew cannot depart yet, in the words the service would use (shown before they try)."""
    vt = trip.vehicle_trip
    if trip.status != TripStatus.PLANNED:
        return []
    if vt is None:
        return [_("Chuyến thư chưa được xếp lên chuyến xe.")]
    blockers = []
    if not bags:
        blockers.append(_("Chuyến thư không có túi nào."))
    crew = [u for u in (vt.driver, vt.escort) if u is not None]
    not_held = [b.identifier for b in bags if b.holder_id not in {u.pk for u in crew}]
    if not_held:
        blockers.append(_("Tổ lái chưa nhận túi: %(l)s.") % {"l": ", ".join(not_held)})
    level = max((b.highest_secrecy for b in bags), key=Secrecy.rank, default=Secrecy.NONE)
    for person in crew:
        clearance = handling_clearance(person, level)
        if not clearance:
            blockers.append(clearance.reason)
    return blockers


def _trip_context(request, trip: MailTrip, **extra) -> dict:
    user = request.user
    bags = list(Bag.objects.filter(trip=trip).select_related("holder", "origin", "destination").order_by("pk"))
    vt = trip.vehicle_trip
    crew_ids = {vt.driver_id, vt.escort_id} - {None} if vt else set()
    is_crew = user.pk in crew_ids and has_perm(user, "dispatch.carry")
    can_load = trip.status == TripStatus.PLANNED and has_perm(user, "dispatch.trip")
    not_held = [b for b in bags if b.holder_id not in crew_ids]
    return {
        "trip": trip, "bags": bags, "vt": vt,
        "totals": {"items": sum(b.item_count for b in bags), "weight_kg": sum(b.weight_g for b in bags) / 1000},
        "blockers": _departure_blockers(trip, bags),
        "is_crew": is_crew,
        "can_depart": is_crew and trip.status == TripStatus.PLANNED,
        "can_arrive": is_crew and trip.status == TripStatus.DEPARTED,
        "can_load": can_load,
        "load_form": extra.pop("load_form", None) or (TripLoadForm(viewer=user, trip=trip) if can_load else None),
        "transfer_url": _maybe_url("dispatch:transfer_new", query=urlencode({
            "trip": trip.pk, "bag": [b.pk for b in not_held], "taker": vt.escort_id or vt.driver_id}, doseq=True))
        if not_held and vt else None,
        "can_assign_vehicle": vt is None and trip.status == TripStatus.PLANNED and has_perm(user, "dispatch.trip"),
        **extra,
    }


@permission_required_404("dispatch.view")
@require_GET
def trip_detail(request, pk: int):
    trip = selectors.mail_trip_get(viewer=request.user, pk=pk)
    return render(request, "dispatch/trip_detail.html", _trip_context(request, trip))


@transaction.atomic
def _load_bags(*, actor, trip: MailTrip, bags: list[Bag]) -> list[Bag]:
    """All the chosen bags go on the trip, or none of them."""
    return [services.mail_trip_load(actor=actor, trip=trip, bag=bag) for bag in bags]


@permission_required_404("dispatch.trip")
@require_POST
def trip_load(request, pk: int):
    trip = selectors.mail_trip_get(viewer=request.user, pk=pk)
    form = TripLoadForm(request.POST, viewer=request.user, trip=trip)
    if form.is_valid():
        bags = list(form.cleaned_data["bags"])
        if call_service(form, _load_bags, actor=request.user, trip=trip, bags=bags) is not None:
            messages.success(request, _("Đã đưa thêm %(k)d túi lên chuyến thư %(n)s.") % {"k": len(bags), "n": trip.number})
            return redirect("dispatch:trip_detail", pk=trip.pk)
    return render(request, "dispatch/trip_detail.html", _trip_context(request, trip, load_form=form), status=400)


def _crew_step(request, pk: int, service, done: str):
    trip = selectors.mail_trip_get(viewer=request.user, pk=pk)
    try:
        service(actor=request.user, trip=trip)
    except ValidationFailed as exc:
        messages.error(request, _("Chuyến thư %(n)s: %(e)s") % {"n": trip.number, "e": exc.message})
    else:
        messages.success(request, done % {"n": trip.number})
    return redirect("dispatch:trip_detail", pk=trip.pk)


@permission_required_404("dispatch.carry")
@require_POST
def trip_depart(request, pk: int):
    return _crew_step(request, pk, services.mail_trip_depart, _("Chuyến thư %(n)s đã xuất phát."))


@permission_required_404("dispatch.carry")
@require_POST
def trip_arrive(request, pk: int):
    return _crew_step(request, pk, services.mail_trip_arrive, _("Chuyến thư %(n)s đã đến nơi."))


# --- vehicle trips ---------------------------------------------------------------------------------


@permission_required_404("dispatch.view")
@require_GET
def vehicle_trip_list(request):
    form = VehicleTripFilterForm(request.GET or None)
    trips = selectors.vehicle_trip_list(viewer=request.user, **form.values()).prefetch_related(
        "mail_trips__route", "mail_trips__shift")
    return render(request, "dispatch/vehicle_trip_list.html", {
        "form": form, "page": paginate(request, trips), "can_plan": has_perm(request.user, "dispatch.trip"),
    })


@permission_required_404("dispatch.trip")
@require_http_methods(["GET", "POST"])
def vehicle_trip_new(request):
    initial = {"mail_trips": request.GET.getlist("trip")}
    form = VehicleTripForm(request.POST if request.method == "POST" else None, viewer=request.user, initial=initial)
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        vt = call_service(form, services.vehicle_trip_create, actor=request.user, vehicle=cd["vehicle"],
                          driver=cd["driver"], escort=cd.get("escort"), service_date=cd["service_date"],
                          mail_trips=list(cd["mail_trips"]))
        if vt is not None:
            messages.success(request, _("Đã lập chuyến xe %(n)s (xe %(v)s) chở %(k)d chuyến thư.") % {
                "n": vt.number, "v": vt.vehicle, "k": len(cd["mail_trips"])})
            if len(cd["mail_trips"]) == 1:
                return redirect("dispatch:trip_detail", pk=cd["mail_trips"][0].pk)
            return redirect("dispatch:vehicle_trip_list")
    return render(request, "dispatch/vehicle_trip_new.html", {"form": form})


# --- delivery rounds -------------------------------------------------------------------------------


@permission_required_404("dispatch.view")
@require_GET
def round_list(request):
    form = RoundFilterForm(request.GET or None, viewer=request.user)
    values = form.values()
    status = values.pop("status")
    rounds = selectors.round_list(viewer=request.user, **values)
    counts = _status_counts(rounds, RoundStatus.choices)
    if status:
        rounds = rounds.filter(status=status)
    return render(request, "dispatch/round_list.html", {
        "form": form, "page": paginate(request, rounds), "counts": counts, "status": status,
        "total": sum(c["n"] for c in counts), "can_plan": has_perm(request.user, "dispatch.round"),
    })


def _round_candidates(viewer, route, postman) -> list:
    """Items the postman holds, still to deliver, bound for a unit the route serves (the service
    checks the same and refuses anything else)."""
    units = set(route.admin_units.values_list("pk", flat=True))
    held = item_selectors.item_list(viewer=viewer).filter(holder=postman, status__in=ROUND_READY).order_by(
        "tracking_number")
    out = []
    for item in held:
        target = item.sender_agency if item.is_returning else item.recipient_agency
        unit = (item.recipient_address.admin_unit_id if item.recipient_address_id and not item.is_returning
                else target.admin_unit_id)
        if unit in units:
            out.append(item)
    return out


@permission_required_404("dispatch.round")
@require_http_methods(["GET", "POST"])
def round_new(request):
    data = request.GET if "route" in request.GET else None
    setup = RoundSetupForm(data, viewer=request.user, initial={"postman": request.user.pk})
    ready = setup.is_bound and setup.is_valid()
    form = candidates = None
    if ready:
        route, postman = setup.cleaned_data["route"], setup.cleaned_data["postman"]
        candidates = _round_candidates(request.user, route, postman)
        form = RoundNewForm(request.POST if request.method == "POST" else None, candidates=candidates)
        if form.is_bound and form.is_valid():
            cd = form.cleaned_data
            rnd = call_service(form, services.round_create, actor=request.user, route=route, postman=postman,
                               service_date=cd["service_date"], tracking_numbers=cd["tracking_numbers"])
            if rnd is not None:
                messages.success(request, _("Đã lập chuyến phát %(n)s với %(k)d bưu gửi.") % {
                    "n": rnd.number, "k": len(cd["tracking_numbers"])})
                return redirect("dispatch:round_detail", pk=rnd.pk)
    elif request.method == "POST":
        messages.error(request, _("Chọn tuyến phát và bưu tá trước."))
    return render(request, "dispatch/round_new.html", {"setup": setup, "form": form, "candidates": candidates})


def _round_context(request, rnd: DeliveryRound) -> dict:
    user = request.user
    lines = list(rnd.lines.select_related("item", "item__recipient_agency", "item__sender_agency").order_by("pk"))
    may_run = has_perm(user, "dispatch.round")
    return {
        "rnd": rnd, "lines": lines,
        "results": {r: sum(1 for line in lines if line.result == r) for r in ("delivered", "failed", "not_attempted")},
        "can_start": may_run and rnd.status == RoundStatus.PLANNED and user.pk == rnd.postman_id,
        "can_complete": may_run and rnd.status == RoundStatus.OUT
        and (user.pk == rnd.postman_id or "supervisor" in scope_of(user).roles),
        "deliver_url": _maybe_url("items:deliver") if rnd.status == RoundStatus.OUT and user.pk == rnd.postman_id
        else None,
    }


@permission_required_404("dispatch.view")
@require_GET
def round_detail(request, pk: int):
    rnd = selectors.round_get(viewer=request.user, pk=pk)
    return render(request, "dispatch/round_detail.html", _round_context(request, rnd))


def _round_step(request, pk: int, service, done: str):
    rnd = selectors.round_get(viewer=request.user, pk=pk)
    try:
        service(actor=request.user, rnd=rnd)
    except ValidationFailed as exc:
        messages.error(request, _("Chuyến phát %(n)s: %(e)s") % {"n": rnd.number, "e": exc.message})
    else:
        messages.success(request, done % {"n": rnd.number})
    return redirect("dispatch:round_detail", pk=rnd.pk)


@permission_required_404("dispatch.round")
@require_POST
def round_start(request, pk: int):
    return _round_step(request, pk, services.round_start, _("Chuyến phát %(n)s đã bắt đầu; bưu gửi đang đi phát."))


@permission_required_404("dispatch.round")
@require_POST
def round_complete(request, pk: int):
    return _round_step(request, pk, services.round_complete, _("Chuyến phát %(n)s đã kết thúc; kết quả đã ghi."))


def _unit_level_label(level: str) -> str:
    return str(UnitLevel(level).label) if level in UnitLevel.values else level


@permission_required_404("dispatch.view")
@require_GET
def coverage(request):
    form = CoverageForm(request.GET or None)
    day = form.day_value()
    rows = selectors.round_coverage(viewer=request.user, day=day)
    short = [r for r in rows if not r.ok]
    rules = {r.rule.pk: r.rule for r in rows if r.rule is not None}
    return render(request, "dispatch/coverage.html", {
        "form": form, "day": day, "rows": sorted(rows, key=lambda r: (r.ok, r.agency.name)),
        "n_ok": len(rows) - len(short), "n_short": len(short),
        "rules": [(r, _unit_level_label(r.unit_level)) for r in sorted(rules.values(), key=lambda r: r.unit_level)],
        "missing_rule": any(r.rule is None for r in rows),
    })


# --- volume report ---------------------------------------------------------------------------------


def _default_facility(user) -> Facility | None:
    """The facility the person works at; for provincial roles, the province's processing facility."""
    mine = scope_of(user).facility_ids
    visible = restrict(Facility.objects.active(), user)
    if mine:
        own = visible.filter(pk__in=list(mine)).exclude(parent_id__in=list(mine)).order_by("postcode").first()
        if own is not None:
            return own
    return visible.filter(kind=FacilityKind.PROCESSING).order_by("postcode").first() or visible.order_by(
        "postcode").first()


def _volume_table(request):
    form = VolumeReportForm(request.GET, viewer=request.user, default_facility=_default_facility(request.user))
    if not form.is_valid():
        return form, None
    cd = form.cleaned_data
    return form, reports.volume_table(viewer=request.user, facility=cd["facility"], date_from=cd["date_from"],
                                      date_to=cd["date_to"], group=cd["group"])


@permission_required_404("dispatch.report")
@require_GET
def volume_report(request):
    form, table = _volume_table(request)
    return render(request, "dispatch/report_volume.html", {
        "form": form, "table": table, "group_label": reports.group_label(table.group) if table else "",
    })


@permission_required_404("dispatch.report")
@require_GET
def volume_report_xlsx(request):
    form, table = _volume_table(request)
    if table is None:
        return render(request, "dispatch/report_volume.html", {"form": form, "table": None}, status=400)
    response = HttpResponse(reports.volume_xlsx(table),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{reports.xlsx_filename(table)}"'
    return response


# --- configuration (administrators) ----------------------------------------------------------------


@permission_required_404("dispatch.configure")
@require_GET
def config(request):
    user, today = request.user, local_today()
    mix_rules = list(selectors.mix_rule_list(viewer=user)[:5])
    return render(request, "dispatch/config_index.html", {
        "routes": selectors.mail_route_list(viewer=user),
        "vehicles": selectors.vehicle_list(viewer=user),
        "delivery_routes": selectors.delivery_route_list(viewer=user),
        "mix_current": next((r for r in mix_rules if r.is_valid_on(today)), None),
        "mix_rules": mix_rules,
        "round_rules": [(r, _unit_level_label(r.unit_level)) for r in selectors.round_rule_list(viewer=user)],
        "today": today,
    })


def _config_form(request, form_class, service, *, title: str, done: str, needs_viewer: bool = True, **convert):
    kwargs = {"viewer": request.user} if needs_viewer else {}
    form = form_class(request.POST if request.method == "POST" else None, **kwargs)
    if form.is_bound and form.is_valid():
        args = dict(form.cleaned_data)
        for name, func in convert.items():
            args[name] = func(args[name])
        obj = call_service(form, service, actor=request.user, **args)
        if obj is not None:
            messages.success(request, done % {"o": obj})
            return redirect("dispatch:config")
    return render(request, "dispatch/config_form.html", {"form": form, "title": title})


@permission_required_404("dispatch.configure")
@require_http_methods(["GET", "POST"])
def route_new(request):
    return _config_form(request, MailRouteForm, services.mail_route_create, title=_("Thêm đường thư"),
                        done=_("Đã tạo đường thư %(o)s."))


@permission_required_404("dispatch.configure")
@require_http_methods(["GET", "POST"])
def vehicle_new(request):
    return _config_form(request, VehicleForm, services.vehicle_create, title=_("Thêm phương tiện"),
                        done=_("Đã thêm xe %(o)s."))


@permission_required_404("dispatch.configure")
@require_http_methods(["GET", "POST"])
def delivery_route_new(request):
    return _config_form(request, DeliveryRouteForm, services.delivery_route_create, title=_("Thêm tuyến phát"),
                        done=_("Đã tạo tuyến phát %(o)s."), admin_units=list)


@permission_required_404("dispatch.configure")
@require_http_methods(["GET", "POST"])
def mix_rule_new(request):
    return _config_form(request, MixRuleForm, services.mix_rule_set, needs_viewer=False,
                        title=_("Quy tắc đóng chung độ mật: phiên bản mới"),
                        done=_("Đã đặt quy tắc đóng chung độ mật: %(o)s."))


@permission_required_404("dispatch.configure")
@require_http_methods(["GET", "POST"])
def round_rule_new(request):
    return _config_form(request, RoundRuleForm, services.round_rule_set, needs_viewer=False,
                        title=_("Quy định số chuyến phát: phiên bản mới"),
                        done=_("Đã đặt quy định số chuyến phát: %(o)s."))

