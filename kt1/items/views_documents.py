"""Printable documents as PDF: item label, handover list, delivery receipt.

An item or handover outside the person's scope answers 404; so does a document the person may not
print (a police officer can look an item up but does not print its label) and a receipt that does
not exist yet (the list is unsigned, or not a delivery): a 403 would confirm the object exists.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kt1.core.errors import ValidationFailed

from . import documents, selectors


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Content-Length"] = str(len(pdf))
    return response


def _not_found():
    return Http404(_("Không tìm thấy."))


@never_cache
@login_required
@require_GET
def item_label(request, tracking_number: str):
    try:
        item = selectors.item_get(viewer=request.user, tracking_number=tracking_number)
    except ValidationFailed as exc:  # a malformed identifier in a URL is simply not a page
        raise _not_found() from exc
    if not documents.may_print_label(request.user, item):
        raise _not_found()
    return _pdf_response(documents.label_pdf(item), f"KT1-{item.tracking_number}.pdf")


@never_cache
@login_required
@require_GET
def handover_pdf(request, pk: int):
    handover = selectors.handover_get(viewer=request.user, pk=pk)
    return _pdf_response(documents.handover_pdf(handover), f"KT1-{handover.number}.pdf")


@never_cache
@login_required
@require_GET
def receipt_pdf(request, pk: int):
    handover = selectors.handover_get(viewer=request.user, pk=pk)
    if not documents.has_receipt(handover):
        raise _not_found()
    return _pdf_response(documents.receipt_pdf(handover), f"KT1-BN-{handover.number}.pdf")
