"""Printable documents (PDF): item label, handover list, delivery receipt."""

from django.urls import path

from . import views_documents as views

urlpatterns = [
    path("labels/<str:tracking_number>.pdf", views.item_label, name="label"),
    path("handovers/<int:pk>/print.pdf", views.handover_pdf, name="handover_pdf"),
    path("handovers/<int:pk>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
]
