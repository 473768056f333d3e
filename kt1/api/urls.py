from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from .v1 import directory, dispatch, items, me

app_name = "api"

urlpatterns = [
    # The tracking lookup first: the API's most frequent request, resolved without trying the others.
    path("items/<str:tracking_number>/", items.ItemDetailApi.as_view(), name="item_detail"),
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path("me/", me.MeApi.as_view(), name="me"),
    path("agencies/", directory.AgencyListApi.as_view(), name="agency_list"),
    path("agencies/<int:pk>/", directory.AgencyDetailApi.as_view(), name="agency_detail"),
    path("facilities/", directory.FacilityListApi.as_view(), name="facility_list"),
    path("facilities/<int:pk>/", directory.FacilityDetailApi.as_view(), name="facility_detail"),
    path("admin-units/", directory.AdministrativeUnitListApi.as_view(), name="admin_unit_list"),
    path("items/", items.ItemCollectionApi.as_view(), name="item_list"),
    path("items/<str:tracking_number>/events/", items.ItemEventsApi.as_view(), name="item_events"),
    path("events/batch/", items.EventBatchApi.as_view(), name="event_batch"),
    # dispatch (issue 4): bags, transfers, trips, rounds, reports, incidents
    path("bags/", dispatch.BagCollectionApi.as_view(), name="bag_list"),
    path("bags/<int:pk>/", dispatch.BagDetailApi.as_view(), name="bag_detail"),
    path("bags/<int:pk>/items/", dispatch.BagItemAddApi.as_view(), name="bag_items"),
    path("bags/<int:pk>/items/<str:tracking_number>/remove/", dispatch.BagItemRemoveApi.as_view(),
         name="bag_item_remove"),
    path("bags/<int:pk>/seal/", dispatch.BagSealApi.as_view(), name="bag_seal"),
    path("bags/<int:pk>/receive/", dispatch.BagReceiveApi.as_view(), name="bag_receive"),
    path("bags/<int:pk>/scan/", dispatch.BagScanApi.as_view(), name="bag_scan"),
    path("bags/<int:pk>/scans/", dispatch.BagScanBatchApi.as_view(), name="bag_scans"),
    path("bags/<int:pk>/unscan/", dispatch.BagUnscanApi.as_view(), name="bag_unscan"),
    path("bags/<int:pk>/open-finish/", dispatch.BagOpenFinishApi.as_view(), name="bag_open_finish"),
    path("bag-transfers/", dispatch.TransferCollectionApi.as_view(), name="transfer_list"),
    path("bag-transfers/<int:pk>/", dispatch.TransferDetailApi.as_view(), name="transfer_detail"),
    path("bag-transfers/<int:pk>/confirm/", dispatch.TransferConfirmApi.as_view(), name="transfer_confirm"),
    path("bag-transfers/<int:pk>/cancel/", dispatch.TransferCancelApi.as_view(), name="transfer_cancel"),
    path("mail-trips/", dispatch.MailTripCollectionApi.as_view(), name="mail_trip_list"),
    path("mail-trips/<int:pk>/", dispatch.MailTripDetailApi.as_view(), name="mail_trip_detail"),
    path("mail-trips/<int:pk>/depart/", dispatch.MailTripDepartApi.as_view(), name="mail_trip_depart"),
    path("mail-trips/<int:pk>/arrive/", dispatch.MailTripArriveApi.as_view(), name="mail_trip_arrive"),
    path("vehicle-trips/", dispatch.VehicleTripCollectionApi.as_view(), name="vehicle_trip_list"),
    path("delivery-rounds/", dispatch.RoundCollectionApi.as_view(), name="round_list"),
    path("delivery-rounds/coverage/", dispatch.RoundCoverageApi.as_view(), name="round_coverage"),
    path("delivery-rounds/<int:pk>/", dispatch.RoundDetailApi.as_view(), name="round_detail"),
    path("delivery-rounds/<int:pk>/start/", dispatch.RoundStartApi.as_view(), name="round_start"),
    path("delivery-rounds/<int:pk>/complete/", dispatch.RoundCompleteApi.as_view(), name="round_complete"),
    path("reports/trip-volumes/", dispatch.TripVolumesApi.as_view(), name="trip_volumes"),
    path("incidents/", dispatch.IncidentListApi.as_view(), name="incident_list"),
    path("incidents/<int:pk>/", dispatch.IncidentDetailApi.as_view(), name="incident_detail"),
    path("incident-records/<int:pk>/confirm/", dispatch.RecordConfirmApi.as_view(), name="record_confirm"),
]
