"""Bag pages (namespace `dispatch`): bags, their printable list, transfers, receiving and opening."""

from django.urls import path

from . import views_bags as v

urlpatterns = [
    path("bags/", v.bag_list, name="bag_list"),
    path("bags/new/", v.bag_new, name="bag_new"),
    path("bags/<int:pk>/", v.bag_detail, name="bag_detail"),
    path("bags/<int:pk>/add/", v.bag_add_item, name="bag_add_item"),
    path("bags/<int:pk>/remove/", v.bag_remove_item, name="bag_remove_item"),
    path("bags/<int:pk>/seal/", v.bag_seal, name="bag_seal"),
    path("bags/<int:pk>/cancel/", v.bag_cancel, name="bag_cancel"),
    path("bags/<int:pk>/list.pdf", v.bag_pdf, name="bag_pdf"),
    path("bags/<int:pk>/receive/", v.bag_receive, name="bag_receive"),
    path("bags/<int:pk>/open/", v.bag_open, name="bag_open"),
    path("bags/<int:pk>/open/paste/", v.bag_open_paste, name="bag_open_paste"),
    path("bags/<int:pk>/open/unscan/", v.bag_open_unscan, name="bag_open_unscan"),
    path("bags/<int:pk>/open/finish/", v.bag_open_finish, name="bag_open_finish"),
    path("transfers/", v.transfer_inbox, name="transfer_inbox"),
    path("transfers/new/", v.transfer_new, name="transfer_new"),
    path("transfers/<int:pk>/", v.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/complete/", v.transfer_complete, name="transfer_complete"),
    path("transfers/<int:pk>/cancel/", v.transfer_cancel, name="transfer_cancel"),
]
