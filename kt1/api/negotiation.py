"""Content negotiation for an API that speaks JSON only.

DRF's negotiation parses the Accept header and matches it against each renderer on every request
(a tenth of a tracking lookup's CPU). The common requests — no Accept header, `*/*`, or exactly
the first renderer's media type, and no `?format=` — get the first renderer at once; anything
else is negotiated by DRF as before (so an unacceptable type still answers 406)."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class JsonFirstContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "").strip()
        first = renderers[0] if renderers else None
        if (first is not None and not format_suffix and self.settings.URL_FORMAT_OVERRIDE not in request.GET
                and accept in ("", "*/*", first.media_type)):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
