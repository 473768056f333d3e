"""The written record (biên bản) of an incident as an A4 PDF (WeasyPrint): number, time, place, the
people named present with the time each confirmed, the text, the bag and item concerned, and a
signatures block with one cell per person present.

Envelope data only (DOMAIN §7): the bag identifier and seal, the item's number and secrecy letter;
never the agency-private fields. Callers authorise first (the record comes from record_get).
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from kt1.items.documents import render_pdf

from . import selectors
from .models import IncidentRecord


def record_context(record: IncidentRecord) -> dict:
    incident = record.incident
    confirmations = list(selectors.record_confirmations(record=record))
    return {
        "record": record,
        "incident": incident,
        "title": _("BIÊN BẢN SỰ CỐ"),
        "confirmations": confirmations,
        "confirmed": sum(1 for c in confirmations if c.confirmed_at),
        "secrecy_letter": incident.secrecy if incident.secrecy in ("A", "B", "C") else "",
        "item_letter": incident.item.secrecy if incident.item_id and incident.item.secrecy in ("A", "B", "C") else "",
    }


def record_html(record: IncidentRecord) -> str:
    return render_to_string("incidents/record_pdf.html", record_context(record))


def record_pdf(record: IncidentRecord) -> bytes:
    return render_pdf(record_html(record))
