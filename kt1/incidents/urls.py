"""Incident pages (namespace `incidents`)."""

from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="incident_list"),
    path("<int:pk>/", views.incident_detail, name="incident_detail"),
    path("<int:pk>/close/", views.incident_close, name="incident_close"),
    path("records/<int:pk>/confirm/", views.record_confirm, name="record_confirm"),
    path("records/<int:pk>/print.pdf", views.record_pdf, name="record_pdf"),
]
