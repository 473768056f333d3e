"""The product's URLs plus one bare Django JSON view, the baseline the lookup benchmark compares
against (same gunicorn process, same middleware stack, no database query)."""

from django.http import JsonResponse
from django.urls import include, path


def bare(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("", include("config.urls")),
]
