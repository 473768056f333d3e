"""Post-side pages (namespace `items`): pickups, counter, items I hold, handover lists, delivery."""

from django.urls import path

from . import views_post as v

urlpatterns = [
    path("post/pickups/<int:pk>/confirm/", v.pickup_confirm, name="pickup_confirm"),
    path("post/pickups/<int:pk>/cancel/", v.pickup_cancel_post, name="pickup_cancel_post"),
    path("post/pickups/<int:pk>/collect/", v.pickup_collect, name="pickup_collect"),
    path("post/counter/", v.counter_accept, name="counter_accept"),
    path("post/counter/register/", v.counter_register, name="counter_register"),
    path("post/mine/", v.my_items, name="my_items"),
    path("post/item/<str:tracking_number>/", v.record_event, name="record_event"),
    path("post/item/<str:tracking_number>/failed/", v.attempt_failed, name="attempt_failed"),
    path("post/item/<str:tracking_number>/return/", v.return_start, name="return_start"),
    path("post/deliver/", v.deliver, name="deliver"),
    path("handovers/", v.handover_list, name="handover_list"),
    path("handovers/new/", v.handover_new, name="handover_new"),
    path("handovers/<int:pk>/", v.handover_detail, name="handover_detail"),
    path("handovers/<int:pk>/complete/", v.handover_complete, name="handover_complete"),
    path("handovers/<int:pk>/cancel/", v.handover_cancel, name="handover_cancel"),
]
