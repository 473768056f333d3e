"""Printable documents of items and custody, rendered to PDF with WeasyPrint.

* the item label (A6): what goes on the outer envelope — KT1 stamp, the secrecy **letter** only,
  urgency mark, sender and recipient, Code 128 of the S10 identifier;
* the handover list (A4): one line per item, both parties, signatures;
* the delivery (or return) receipt (A4): what the recipient clerk signed for, with the drawn signature.

Envelope data only (DOMAIN §7): nothing here ever decrypts the agency-private fields (registry
number, document number, summary), and the label never spells the secrecy level out in words.
Callers authorise first (see views_documents); these functions only render what they are given.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass

import barcode
import segno
from barcode.writer import SVGWriter
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from kt1.accounts.models import RoleAssignment
from kt1.core.permissions import has_perm, scope_of
from kt1.directory.models import AgencyAddress

from .choices import HandoverKind, HandoverStatus
from .models import HandoverList, Item

PNG_DATA_URI = re.compile(r"^data:image/png;base64,[A-Za-z0-9+/=\s]+$")
DELIVERY_KINDS = (HandoverKind.DELIVERY, HandoverKind.RETURN)


# --- who may print what ---------------------------------------------------------------------------


def may_print_label(user, item: Item) -> bool:
    """Labels are printed when the envelope is registered or accepted: by postal staff, or by a
    clerk of the sending agency. The caller has already checked the item is in the user's scope."""
    if has_perm(user, "items.custody"):
        return True
    return has_perm(user, "items.register") and item.sender_agency_id in scope_of(user).agency_ids


def has_receipt(handover: HandoverList) -> bool:
    """A receipt exists once the recipient (or, for a return, the sender) clerk has signed."""
    return handover.kind in DELIVERY_KINDS and handover.status == HandoverStatus.COMPLETED


# --- rendering ------------------------------------------------------------------------------------


def url_fetcher():
    """A fetcher for inline data: resources only. A stored value can never make the renderer read a
    local file or reach the network."""
    try:
        from weasyprint import URLFetcher
    except ImportError:  # WeasyPrint before the URLFetcher class (pyproject allows >=62): a function
        from weasyprint import default_url_fetcher

        def fetch(url, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError(f"URI uses disallowed protocol: {url[:40]}")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False)


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported lazily: loading Pango costs ~0.5 s once per process

    return HTML(string=html, url_fetcher=url_fetcher()).write_pdf()


def _svg_data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def barcode_svg(number: str) -> bytes:
    """Code 128 of the identifier, as SVG (vector in the PDF, so it scans at any printer resolution).
    X-dimension 0.35 mm: about 60 mm for a 13-character S10 identifier."""
    code = barcode.get("code128", number, writer=SVGWriter())
    return code.render(writer_options={"module_width": 0.35, "module_height": 14, "quiet_zone": 3,
                                       "write_text": False, "background": "white"})


def qr_svg(number: str) -> bytes:
    buf = io.BytesIO()
    segno.make(number, error="m", micro=False).save(buf, kind="svg", scale=4, border=2, xmldecl=False)
    return buf.getvalue()


def human_readable(number: str) -> str:
    """UPU S10 human-readable form: AA 999 999 999 AA."""
    if len(number) != 13:
        return number
    return f"{number[:2]} {number[2:5]} {number[5:8]} {number[8:11]} {number[11:]}"


def signature_src(value: str) -> str:
    """A stored drawn signature, if it is what the services accept (a PNG data URI); else nothing."""
    value = (value or "").strip()
    return value if PNG_DATA_URI.match(value) else ""


def _agency_address(agency_id: int) -> AgencyAddress | None:
    # Reference data printed on a document the caller is already authorised to print (the agency's
    # default address, as written on the envelope).
    return (AgencyAddress.objects.active().filter(agency_id=agency_id).select_related("admin_unit__parent")
            .order_by("-is_default", "pk").first())


# --- item label -----------------------------------------------------------------------------------


def label_context(item: Item) -> dict:
    # Top secret: the outer envelope looks like ordinary mail plus the letter A; the named person
    # and "only the named person may open" are on the inner envelope (DOMAIN §7), so not on the label.
    show_named = bool(item.named_recipient) and item.secrecy != "A"
    return {
        "item": item,
        "secrecy_letter": item.secrecy if item.secrecy in ("A", "B", "C") else "",
        "sender_address": _agency_address(item.sender_agency_id),
        "show_named": show_named,
        "named_only": show_named and item.named_only,
        "barcode_src": _svg_data_uri(barcode_svg(item.tracking_number)),
        "qr_src": _svg_data_uri(qr_svg(item.tracking_number)),
        "number_hr": human_readable(item.tracking_number),
    }


def label_html(item: Item) -> str:
    return render_to_string("items/pdf/label.html", label_context(item))


def label_pdf(item: Item) -> bytes:
    return render_pdf(label_html(item))


# --- handover list and receipt --------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    user: object
    unit: str
    signed_name: str
    signed_at: object
    signature: str


def _unit_of(user, at) -> str:
    """The agency or facility the person acted for at that moment (units change; the document
    keeps the one on the day)."""
    assignment = (RoleAssignment.objects.current(at).filter(user=user)
                  .select_related("agency", "facility").order_by("pk").first())
    if assignment is None:
        return ""
    return str(assignment.agency or assignment.facility or "")


def _parties(handover: HandoverList) -> tuple[Party, Party]:
    agency = str(handover.agency) if handover.agency_id else ""
    facility = str(handover.facility) if handover.facility_id else ""
    if handover.kind in (HandoverKind.PICKUP, HandoverKind.COUNTER):
        giver_unit, taker_unit = agency, facility
    elif handover.kind in DELIVERY_KINDS:
        giver_unit, taker_unit = facility, agency
    else:
        giver_unit = facility
        taker_unit = _unit_of(handover.taker, handover.taker_signed_at or handover.created_at)
    giver = Party(handover.giver, giver_unit or _unit_of(handover.giver, handover.created_at),
                  handover.giver_signed_name, handover.giver_signed_at, signature_src(handover.giver_signature))
    taker = Party(handover.taker, taker_unit or _unit_of(handover.taker, handover.created_at),
                  handover.taker_signed_name, handover.taker_signed_at, signature_src(handover.taker_signature))
    return giver, taker


def _title(kind: str) -> str:
    # Translated at render time: the document follows the language of the request.
    return {
        HandoverKind.PICKUP: _("PHIẾU GIAO NHẬN BƯU GỬI KT1"),
        HandoverKind.COUNTER: _("PHIẾU GIAO NHẬN BƯU GỬI KT1"),
        HandoverKind.INTERNAL: _("BIÊN BẢN GIAO NHẬN BƯU GỬI KT1"),
        HandoverKind.DELIVERY: _("PHIẾU GIAO NHẬN BƯU GỬI KT1"),
        HandoverKind.RETURN: _("PHIẾU GIAO NHẬN BƯU GỬI KT1 CHUYỂN HOÀN"),
    }[kind]


def handover_context(handover: HandoverList) -> dict:
    lines = list(handover.lines.select_related("item__sender_agency", "item__recipient_agency",
                                               "item__recipient_address__admin_unit__parent").order_by("line_no"))
    giver, taker = _parties(handover)
    by_secrecy = {letter: sum(1 for ln in lines if ln.item.secrecy == letter) for letter in ("A", "B", "C")}
    return {
        "handover": handover,
        "title": _title(handover.kind),
        "lines": lines,
        "giver": giver,
        "taker": taker,
        "total_items": len(lines),
        "total_weight_g": sum(ln.weight_g for ln in lines),
        "by_secrecy": [(letter, count) for letter, count in by_secrecy.items() if count],
        "not_intact": sum(1 for ln in lines if not ln.envelope_ok),
        "is_open": handover.status == HandoverStatus.OPEN,
        "is_cancelled": handover.status == HandoverStatus.CANCELLED,
        "is_return": handover.kind == HandoverKind.RETURN,
    }


def handover_html(handover: HandoverList) -> str:
    return render_to_string("items/pdf/handover.html", handover_context(handover))


def handover_pdf(handover: HandoverList) -> bytes:
    return render_pdf(handover_html(handover))


def receipt_html(handover: HandoverList) -> str:
    if not has_receipt(handover):
        raise ValueError("a receipt exists only for a signed delivery or return list")
    context = handover_context(handover)
    lines = context["lines"]
    if handover.kind == HandoverKind.RETURN:
        context["delivery_address"] = _agency_address(handover.agency_id)
    else:
        context["delivery_address"] = lines[0].item.recipient_address if lines else None
    return render_to_string("items/pdf/receipt.html", context)


def receipt_pdf(handover: HandoverList) -> bytes:
    """The delivery receipt of a signed delivery (or return) list."""
    return render_pdf(receipt_html(handover))
