"""The printable bag list (A4 PDF, WeasyPrint): the bag's S9 identifier with its Code 128, origin and
destination, seal number, one line per item (number, kind, secrecy letter, weight), totals and the
signatures of the person who sealed the bag and the person who received it. The seal number is
withheld from the receiving side until the bag is received (kt1.dispatch.policy): a list printed
there before the seal check must not carry the number the clerk is to read off the seal.

Envelope data only (DOMAIN §7): the agency-private fields are never read here, and the secrecy
level appears as its letter. Callers authorise first (the bag comes from bag_get for the viewer).
"""

from __future__ import annotations

import base64

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from kt1.items.documents import barcode_svg, render_pdf

from . import selectors
from .choices import BagStatus
from .models import Bag

LETTERS = ("A", "B", "C")


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Content-Length"] = str(len(pdf))
    response["Cache-Control"] = "no-store"
    return response


def human_readable(identifier: str) -> str:
    """The S9 identifier in its parts: origin, destination, category+subclass, year+dispatch,
    receptacle serial, flags, weight."""
    if len(identifier) != 29:
        return identifier
    i = identifier
    return f"{i[0:6]} {i[6:12]} {i[12:15]} {i[15:20]} {i[20:23]} {i[23:25]} {i[25:29]}"


def _svg_data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def bag_list_context(bag: Bag, *, viewer) -> dict:
    """`viewer`: the person printing, for what they may be told (the seal number: kt1.dispatch.policy)."""
    lines = list(selectors.bag_lines(bag=bag).order_by("added_at", "pk"))
    for number, line in enumerate(lines, start=1):
        line.line_no = number
    by_secrecy = [(letter, sum(1 for ln in lines if ln.item.secrecy == letter)) for letter in LETTERS]
    return {
        "bag": bag,
        "viewer": viewer,
        "title": _("BẢNG KÊ TÚI THƯ KT1"),
        "lines": lines,
        "total_items": len(lines),
        "total_weight_g": sum(ln.item.weight_g for ln in lines),
        "by_secrecy": [(letter, n) for letter, n in by_secrecy if n],
        "secrecy_letter": bag.highest_secrecy if bag.highest_secrecy in LETTERS else "",
        "barcode_src": _svg_data_uri(barcode_svg(bag.identifier)),
        "identifier_hr": human_readable(bag.identifier),
        "last_in_dispatch": bag.identifier[23:24] == "1" if len(bag.identifier) == 29 else False,
        "is_open": bag.status == BagStatus.OPEN,
        "is_cancelled": bag.status == BagStatus.CANCELLED,
    }


def bag_list_html(bag: Bag, *, viewer) -> str:
    return render_to_string("dispatch/bag_pdf.html", bag_list_context(bag, viewer=viewer))


def bag_list_pdf(bag: Bag, *, viewer) -> bytes:
    return render_pdf(bag_list_html(bag, viewer=viewer))
