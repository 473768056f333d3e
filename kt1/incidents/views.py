"""Incident pages: the list with counts, an incident with its written records and who has confirmed
them, confirming a record in one's own session, closing with a conclusion, and the record as PDF.

Views parse, call a selector or a service, and render. An incident outside the person's scope is a
404; a confirmation by someone not named on the record, or a closing by someone who may not close,
is a 403 from the service; an illegal step (already confirmed, already closed) a 409 page naming it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kt1.core.permissions import has_perm
from kt1.core.web import call_service, paginate, permission_required_404
from kt1.dispatch.documents import pdf_response

from . import documents, selectors, services
from .choices import IncidentKind, IncidentStatus
from .forms import CloseForm, IncidentFilterForm
from .models import Incident

CLOSING_CODES = ("dispatch.report", "accounts.vetting.decide")  # supervisors, oversight, admins; the police


def _maybe_url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


@permission_required_404("incidents.view")
@require_GET
def incident_list(request):
    user = request.user
    form = IncidentFilterForm(request.GET or None, viewer=user)
    v = form.values()
    by_status = selectors.incident_counts(
        selectors.incident_list(viewer=user, kind=v["kind"], facility=v["facility"], q=v["q"]), "status")
    by_kind = selectors.incident_counts(
        selectors.incident_list(viewer=user, status=v["status"], facility=v["facility"], q=v["q"]), "kind")
    page = paginate(request, selectors.incident_list(viewer=user, **v))
    return render(request, "incidents/incident_list.html", {
        "form": form, "page": page,
        "status_counts": [(value, label, by_status.get(value, 0)) for value, label in IncidentStatus.choices],
        "kind_counts": [(value, label, by_kind[value]) for value, label in IncidentKind.choices if by_kind.get(value)],
    })


def _detail_context(request, incident: Incident, **extra) -> dict:
    user = request.user
    records = []
    for record in selectors.incident_records(viewer=user, incident=incident):
        confirmations = list(selectors.record_confirmations(record=record))
        mine = next((c for c in confirmations if c.person_id == user.pk), None)
        records.append({"record": record, "confirmations": confirmations,
                        "pending": sum(1 for c in confirmations if c.confirmed_at is None),
                        "can_confirm": mine is not None and mine.confirmed_at is None})
    can_close = incident.status != IncidentStatus.CLOSED and any(has_perm(user, c) for c in CLOSING_CODES)
    return {
        "incident": incident,
        "records": records,
        "can_close": can_close,
        "close_form": extra.pop("close_form", None) or (CloseForm() if can_close else None),
        "item_url": _maybe_url("items:item_detail", incident.item.tracking_number) if incident.item_id else None,
        "bag_url": _maybe_url("dispatch:bag_detail", incident.bag_id) if incident.bag_id else None,
        **extra,
    }


@permission_required_404("incidents.view")
@require_GET
def incident_detail(request, pk: int):
    incident = selectors.incident_get(viewer=request.user, pk=pk)
    return render(request, "incidents/incident_detail.html", _detail_context(request, incident))


@login_required
@require_POST
def record_confirm(request, pk: int):
    record = selectors.record_get(viewer=request.user, pk=pk)
    services.record_confirm(actor=request.user, record=record)  # not named: 403; already confirmed: 409
    messages.success(request, _("Bạn đã xác nhận biên bản %(n)s.") % {"n": record.number})
    return redirect("incidents:incident_detail", pk=record.incident_id)


@login_required
@require_POST
def incident_close(request, pk: int):
    incident = selectors.incident_get(viewer=request.user, pk=pk)
    form = CloseForm(request.POST)
    form.is_valid()
    # The service judges who may close before it looks at the conclusion, so a person who may not
    # close is refused (403) whatever they typed; a missing conclusion lands on the form.
    closed = call_service(form, services.incident_close, actor=request.user, incident=incident,
                          conclusion=form.cleaned_data.get("conclusion") or "")
    if closed is not None:
        messages.success(request, _("Đã kết thúc sự cố %(n)s.") % {"n": closed.number})
        return redirect("incidents:incident_detail", pk=closed.pk)
    return render(request, "incidents/incident_detail.html", _detail_context(request, incident, close_form=form))


@never_cache
@login_required
@require_GET
def record_pdf(request, pk: int):
    record = selectors.record_get(viewer=request.user, pk=pk)
    return pdf_response(documents.record_pdf(record), f"KT1-{record.number}.pdf")
