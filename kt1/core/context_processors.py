from django.conf import settings

from .navigation import visible_menu
from .permissions import scope_of


def kt1(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"kt1_demo": settings.KT1_DEMO}
    scope = scope_of(user)
    return {
        "kt1_demo": settings.KT1_DEMO,
        "kt1_menu": visible_menu(user, request.path) if user.is_verified() else [],
        "kt1_perms": scope.permissions,
        "kt1_roles": sorted(scope.roles),
    }
