from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    # The API first: its requests (most of all tracking lookups from handhelds) outnumber the pages'.
    path("api/v1/", include("kt1.api.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("kt1.accounts.urls")),
    path("directory/", include("kt1.directory.urls")),
    path("items/", include("kt1.items.urls")),
    path("dispatch/", include("kt1.dispatch.urls")),
    path("incidents/", include("kt1.incidents.urls")),
    path("audit/", include("kt1.audit.urls")),
    path("", include("kt1.core.urls")),
]
