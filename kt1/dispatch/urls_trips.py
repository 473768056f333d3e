"""Trip and round pages (namespace `dispatch`): mail trips, vehicle trips, delivery rounds and
their coverage, volume reports, and the administrators' configuration of dispatch reference data."""

from django.urls import path

from . import views_trips as v

urlpatterns = [
    path("trips/", v.trip_list, name="trip_list"),
    path("trips/new/", v.trip_new, name="trip_new"),
    path("trips/<int:pk>/", v.trip_detail, name="trip_detail"),
    path("trips/<int:pk>/load/", v.trip_load, name="trip_load"),
    path("trips/<int:pk>/depart/", v.trip_depart, name="trip_depart"),
    path("trips/<int:pk>/arrive/", v.trip_arrive, name="trip_arrive"),
    path("vehicle-trips/", v.vehicle_trip_list, name="vehicle_trip_list"),
    path("vehicle-trips/new/", v.vehicle_trip_new, name="vehicle_trip_new"),
    path("rounds/", v.round_list, name="round_list"),
    path("rounds/new/", v.round_new, name="round_new"),
    path("rounds/coverage/", v.coverage, name="coverage"),
    path("rounds/<int:pk>/", v.round_detail, name="round_detail"),
    path("rounds/<int:pk>/start/", v.round_start, name="round_start"),
    path("rounds/<int:pk>/complete/", v.round_complete, name="round_complete"),
    path("reports/volume/", v.volume_report, name="volume_report"),
    path("reports/volume.xlsx", v.volume_report_xlsx, name="volume_report_xlsx"),
    path("config/", v.config, name="config"),
    path("config/routes/new/", v.route_new, name="route_new"),
    path("config/vehicles/new/", v.vehicle_new, name="vehicle_new"),
    path("config/delivery-routes/new/", v.delivery_route_new, name="delivery_route_new"),
    path("config/mix-rule/new/", v.mix_rule_new, name="mix_rule_new"),
    path("config/round-rules/new/", v.round_rule_new, name="round_rule_new"),
]
