from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from .v1 import directory, items, me

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path("me/", me.MeApi.as_view(), name="me"),
    path("agencies/", directory.AgencyListApi.as_view(), name="agency_list"),
    path("agencies/<int:pk>/", directory.AgencyDetailApi.as_view(), name="agency_detail"),
    path("facilities/", directory.FacilityListApi.as_view(), name="facility_list"),
    path("facilities/<int:pk>/", directory.FacilityDetailApi.as_view(), name="facility_detail"),
    path("admin-units/", directory.AdministrativeUnitListApi.as_view(), name="admin_unit_list"),
    path("items/", items.ItemCollectionApi.as_view(), name="item_list"),
    path("items/<str:tracking_number>/", items.ItemDetailApi.as_view(), name="item_detail"),
    path("items/<str:tracking_number>/events/", items.ItemEventsApi.as_view(), name="item_events"),
    path("events/batch/", items.EventBatchApi.as_view(), name="event_batch"),
]
