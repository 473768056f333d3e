from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from kt1.core.home import home_tiles


@login_required
def home(request):
    from kt1.accounts.models import RoleAssignment

    roles = RoleAssignment.objects.current().filter(user=request.user).select_related("agency", "facility", "province")
    return render(request, "core/home.html", {"tiles": home_tiles(request.user), "kt1_role_labels": [str(r) for r in roles]})


def healthz(request):
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
