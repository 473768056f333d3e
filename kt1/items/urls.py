"""Item pages. Each area keeps its own pattern list (agency side and tracking; post-side
operations; printable documents) so they can grow independently under one namespace."""

from .urls_agency import urlpatterns as agency_patterns
from .urls_documents import urlpatterns as document_patterns
from .urls_post import urlpatterns as post_patterns

app_name = "items"

urlpatterns = [*agency_patterns, *post_patterns, *document_patterns]
