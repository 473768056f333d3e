from django.urls import path

from .views import agencies, facilities, units

app_name = "directory"

urlpatterns = [
    path("units/", units.unit_list, name="unit_list"),
    path("units/new/", units.unit_create, name="unit_create"),
    path("units/<int:pk>/", units.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", units.unit_edit, name="unit_edit"),
    path("units/<int:pk>/retire/", units.unit_retire, name="unit_retire"),
    path("agencies/", agencies.agency_list, name="agency_list"),
    path("agencies/new/", agencies.agency_create, name="agency_create"),
    path("agencies/<int:pk>/", agencies.agency_detail, name="agency_detail"),
    path("agencies/<int:pk>/edit/", agencies.agency_edit, name="agency_edit"),
    path("agencies/<int:pk>/retire/", agencies.agency_retire, name="agency_retire"),
    path("agencies/<int:pk>/addresses/new/", agencies.agency_address_add, name="agency_address_add"),
    path("agencies/<int:pk>/addresses/<int:address_pk>/retire/", agencies.agency_address_retire,
         name="agency_address_retire"),
    path("agencies/<int:pk>/contacts/new/", agencies.agency_contact_add, name="agency_contact_add"),
    path("agencies/<int:pk>/contacts/<int:contact_pk>/retire/", agencies.agency_contact_retire,
         name="agency_contact_retire"),
    path("facilities/", facilities.facility_list, name="facility_list"),
    path("facilities/new/", facilities.facility_create, name="facility_create"),
    path("facilities/<int:pk>/", facilities.facility_detail, name="facility_detail"),
    path("facilities/<int:pk>/edit/", facilities.facility_edit, name="facility_edit"),
    path("facilities/<int:pk>/retire/", facilities.facility_retire, name="facility_retire"),
]
