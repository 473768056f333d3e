from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.otp_verify_view, name="otp_verify"),
    path("two-factor/enrol/", views.otp_enrol_view, name="otp_enrol"),
]
