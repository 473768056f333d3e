"""The API speaks JSON only: the common requests skip DRF's negotiation, the others get its answer."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests import factories as f
from tests.helpers import api_client

pytestmark = pytest.mark.django_db


def test_json_is_chosen_at_once_and_anything_else_is_negotiated_as_before(world):
    w = world["A"]
    item = f.item(w.people["agency_clerk"], w.other_agency)
    client = api_client(w.people["supervisor"])
    url = reverse("api:item_detail", args=[item.tracking_number])
    for accept in (None, "*/*", "application/json"):
        extra = {} if accept is None else {"HTTP_ACCEPT": accept}
        response = client.get(url, **extra)
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        assert json.loads(response.content)["tracking_number"] == item.tracking_number
    assert client.get(url, HTTP_ACCEPT="text/html").status_code == 406
    indented = client.get(url, HTTP_ACCEPT="application/json; indent=2")  # negotiated by DRF: its parameters apply
    assert indented.status_code == 200 and b'\n  "tracking_number"' in indented.content
    assert client.get(url + "?format=json").status_code == 200
    assert client.get(url + "?format=xml").status_code == 404  # DRF: no renderer for the format asked
