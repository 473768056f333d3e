"""Agency side and tracking: search, the item page, an agency's lists, registration, pickups.

The item page answers at /items/<S10>/: the pattern accepts only the S10 shape, so it never
shadows another area's fixed paths (handovers/, labels/ …) under the same prefix."""

from django.urls import path, re_path

from . import views_agency as views

S10_PATH = r"(?P<tracking_number>[A-Za-z]{2}[0-9]{9}[A-Za-z]{2})"

urlpatterns = [
    path("track/", views.track, name="track"),
    path("outgoing/", views.outgoing, name="outgoing"),
    path("incoming/", views.incoming, name="incoming"),
    path("register/", views.item_register, name="register"),
    path("register/addresses/", views.recipient_address_options, name="recipient_addresses"),
    path("pickups/", views.pickup_list, name="pickup_list"),
    path("pickups/new/", views.pickup_new, name="pickup_new"),
    path("pickups/<int:pk>/", views.pickup_detail, name="pickup_detail"),
    path("pickups/<int:pk>/cancel/", views.pickup_cancel, name="pickup_cancel"),
    re_path(rf"^{S10_PATH}/$", views.item_detail, name="item_detail"),
    re_path(rf"^{S10_PATH}/cancel/$", views.item_cancel, name="cancel"),
]
