from django.urls import path

from . import views
from .pages import me as me_pages
from .pages import users as user_pages
from .pages import vetting as vetting_pages

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.otp_verify_view, name="otp_verify"),
    path("two-factor/enrol/", views.otp_enrol_view, name="otp_enrol"),
]

# People, roles, vetting, training and one's own profile (kt1/accounts/pages/).
urlpatterns += [
    path("me/", me_pages.me, name="me"),
    path("people/", user_pages.user_list, name="user_list"),
    path("people/new/", user_pages.user_create, name="user_create"),
    path("people/<int:pk>/", user_pages.user_detail, name="user_detail"),
    path("people/<int:pk>/edit/", user_pages.user_edit, name="user_edit"),
    path("people/<int:pk>/active/", user_pages.user_set_active, name="user_set_active"),
    path("people/<int:pk>/password/", user_pages.user_set_password, name="user_set_password"),
    path("people/<int:pk>/two-factor-reset/", user_pages.user_reset_two_factor, name="user_reset_two_factor"),
    path("people/<int:pk>/roles/new/", user_pages.role_grant, name="role_grant"),
    path("roles/<int:pk>/end/", user_pages.role_end, name="role_end"),
    path("people/<int:pk>/training/new/", user_pages.training_add, name="training_add"),
    path("people/<int:pk>/vetting/new/", vetting_pages.vetting_request, name="vetting_request"),
    path("vetting/", vetting_pages.vetting_list, name="vetting_list"),
    path("vetting/<int:pk>/", vetting_pages.vetting_detail, name="vetting_detail"),
    path("vetting/<int:pk>/approve/", vetting_pages.vetting_approve, name="vetting_approve"),
    path("vetting/<int:pk>/reject/", vetting_pages.vetting_reject, name="vetting_reject"),
    path("vetting/<int:pk>/revoke/", vetting_pages.vetting_revoke, name="vetting_revoke"),
]
