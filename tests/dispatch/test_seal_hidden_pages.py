"""The seal number is not told to the receiving side before it has read the physical seal (issue 4).

The receiving counter clerk types the number read off the seal and bag_receive compares it with the
number recorded at sealing. Until then the destination's staff must not find the number on any page
(bag, bag list, transfer, trip, the transfer form), in the printed bag list, or confirm a guess by
searching; the origin's staff and those over both ends see it, and everyone does once the bag is
received. One rule (kt1.dispatch.policy) serves the pages, the search and the API.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import unicodedata
import uuid

import pytest
from django.urls import reverse

from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.dispatch import documents
from kt1.dispatch import services as d
from kt1.dispatch.choices import BagStatus
from kt1.dispatch.models import Bag
from kt1.dispatch.policy import AWAITING_SEAL_CHECK, seal_hidden_from, seal_visible_q
from kt1.items import services as svc
from kt1.items.choices import EventCode
from tests import factories as f
from tests.helpers import api_client

pytestmark = pytest.mark.django_db

SEAL = "KC-4242"
PLACEHOLDER = "Đọc trên kẹp chì khi nhận túi"


@pytest.fixture
def net(world):
    w = world["A"]
    p = w.people
    for role in ("agency_clerk", "counter_clerk", "operator", "driver", "escort", "postman", "supervisor"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    admin = f.root_admin()
    d.mix_rule_set(actor=admin, groups=[["A"], ["B", "C"], ["none"]], valid_from=local_today() - dt.timedelta(days=1))
    w.route = d.mail_route_create(actor=admin, code="R1", name="Khai thác → xã", origin=w.processing,
                                  destination=w.post_office, shifts=[("Sáng", dt.time(7, 0))])
    w.truck = d.vehicle_create(actor=admin, registration="22A-00001", facility=w.processing, is_dedicated=False)
    return w


def held_by(w, holder, n=1) -> list:
    """Items accepted at the commune counter and, unless the counter clerk keeps them, handed on."""
    p = w.people
    out = []
    for _ in range(n):
        item = f.item(p["agency_clerk"], w.other_agency)
        steps = [(p["counter_clerk"], EventCode.ACCEPTED)] + ([] if holder == p["counter_clerk"] else [
            (holder, EventCode.HANDOVER)])
        for actor, code in steps:
            svc.custody_record(actor=actor, request=svc.CustodyRequest(
                event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=code))
        out.append(item)
    return out


def sealed(actor, destination, items, seal) -> Bag:
    bag = d.bag_create(actor=actor, destination=destination)
    for item in items:
        d.bag_add_item(actor=actor, bag=bag, tracking_number=item.tracking_number)
    return d.bag_seal(actor=actor, bag=bag, seal_number=seal)


def travelling(w):
    """A bag sealed at the processing facility for the commune office, carried on a mail trip by the
    crew, arrived and listed for the commune counter clerk (the transfer still open)."""
    p = w.people
    bag = sealed(p["operator"], w.post_office, held_by(w, p["operator"]), SEAL)
    trip = d.mail_trip_create(actor=p["operator"], route=w.route, shift=w.route.shifts.get(), service_date=local_today(),
                              bags=[bag])
    d.vehicle_trip_create(actor=p["operator"], vehicle=w.truck, driver=p["driver"], escort=p["escort"],
                          service_date=local_today(), mail_trips=[trip])
    to_crew = d.transfer_create(actor=p["operator"], taker=p["escort"], bags=[bag], mail_trip=trip)
    d.transfer_complete(actor=p["escort"], transfer=to_crew)
    d.mail_trip_depart(actor=p["driver"], trip=trip)
    d.mail_trip_arrive(actor=p["escort"], trip=trip)
    to_counter = d.transfer_create(actor=p["escort"], taker=p["counter_clerk"], bags=[bag])
    bag = Bag.objects.get(pk=bag.pk)
    assert bag.status in AWAITING_SEAL_CHECK
    return bag, trip, to_crew, to_counter


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def pdf_text(response, tmp_path) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = b"".join(response.streaming_content) if response.streaming else response.content
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", out.stdout.decode("utf-8")))


def search(client, q) -> str:
    return text(client.get(reverse("dispatch:bag_list"), {"q": q}))


def test_destination_is_not_told_the_seal_until_it_receives_the_bag(net, c, tmp_path):
    w, p = net, net.people
    bag, trip, to_crew, to_counter = travelling(w)
    dest = c("counter_clerk")

    page = text(dest.get(reverse("dispatch:bag_detail", args=[bag.pk])))
    assert SEAL not in page and PLACEHOLDER in page and 'data-testid="seal-hidden"' in page
    assert 'data-testid="bag-event-sealed"' in page and "Niêm phong, 1 bưu gửi" in page  # the event, without it
    page = text(dest.get(reverse("dispatch:bag_list")))
    assert bag.identifier in page and SEAL not in page and PLACEHOLDER in page
    page = text(dest.get(reverse("dispatch:trip_detail", args=[trip.pk])))
    assert bag.identifier in page and SEAL not in page and PLACEHOLDER in page
    page = text(dest.get(reverse("dispatch:transfer_detail", args=[to_counter.pk])))
    assert bag.identifier in page and 'data-testid="confirm-form"' in page and SEAL not in page
    content = pdf_text(dest.get(reverse("dispatch:bag_pdf", args=[bag.pk])), tmp_path)
    assert "BẢNG KÊ TÚI THƯ KT1" in content and bag.dispatch_id in content
    assert SEAL not in content and PLACEHOLDER in content

    # A guess is not confirmed by the search, whole or in part, in any case; the API searches the same way.
    for q in (SEAL, SEAL.lower(), "4242"):
        assert bag.identifier not in search(dest, q), q
    assert dest.get(reverse("dispatch:bag_list"), {"q": bag.identifier})["Location"] == reverse(
        "dispatch:bag_detail", args=[bag.pk])  # the scanned bag label still opens the bag
    assert bag.identifier in search(dest, bag.identifier[:12])
    api = api_client(p["counter_clerk"])
    assert api.get(reverse("api:bag_list"), {"q": SEAL}).json()["count"] == 0
    assert api.get(reverse("api:bag_detail", args=[bag.pk])).json()["seal_number"] is None

    # Holding the bag (transfer confirmed) does not tell it either: the form to pass it on names the bag only.
    d.transfer_complete(actor=p["counter_clerk"], transfer=to_counter)
    page = text(dest.get(reverse("dispatch:transfer_new") + f"?bag={bag.pk}"))
    assert bag.identifier in page and SEAL not in page

    # Received with the number read off the seal: from now on the destination sees it everywhere.
    d.bag_receive(actor=p["counter_clerk"], bag=bag, seal_number_read=SEAL, seal_intact=True)
    page = text(dest.get(reverse("dispatch:bag_detail", args=[bag.pk])))
    assert SEAL in page and PLACEHOLDER not in page and f"Niêm phong {SEAL}, 1 bưu gửi" in page
    assert SEAL in text(dest.get(reverse("dispatch:bag_list")))
    assert SEAL in text(dest.get(reverse("dispatch:trip_detail", args=[trip.pk])))
    assert SEAL in text(dest.get(reverse("dispatch:transfer_detail", args=[to_counter.pk])))
    content = pdf_text(dest.get(reverse("dispatch:bag_pdf", args=[bag.pk])), tmp_path)
    assert SEAL in content and PLACEHOLDER not in content
    assert bag.identifier in search(dest, SEAL)
    assert api.get(reverse("api:bag_list"), {"q": SEAL}).json()["count"] == 1


def test_origin_crew_and_supervisor_see_the_seal_in_transit(net, c, tmp_path):
    bag, trip, to_crew, to_counter = travelling(net)
    for role in ("operator", "escort", "supervisor"):
        client = c(role)
        page = text(client.get(reverse("dispatch:bag_detail", args=[bag.pk])))
        assert SEAL in page and PLACEHOLDER not in page and f"Niêm phong {SEAL}, 1 bưu gửi" in page, role
        assert SEAL in text(client.get(reverse("dispatch:bag_list"))), role
        assert SEAL in text(client.get(reverse("dispatch:trip_detail", args=[trip.pk]))), role
        assert bag.identifier in search(client, SEAL), role
    assert SEAL in text(c("operator").get(reverse("dispatch:transfer_detail", args=[to_crew.pk])))
    assert SEAL in text(c("escort").get(reverse("dispatch:transfer_detail", args=[to_counter.pk])))
    content = pdf_text(c("operator").get(reverse("dispatch:bag_pdf", args=[bag.pk])), tmp_path)
    assert SEAL in content and PLACEHOLDER not in content


def test_trip_bag_picker_and_a_list_rendered_without_a_viewer(net, c):
    w, p = net, net.people
    bag = sealed(p["operator"], w.post_office, held_by(w, p["operator"]), SEAL)
    page = text(c("operator").get(reverse("dispatch:trip_new") + f"?route={w.route.pk}"))
    assert f"Chọn túi {bag.identifier}" in page and SEAL in page  # the origin picks bags by their seal too
    # A document rendered with no known viewer withholds the number rather than guess.
    html = documents.bag_list_html(bag, viewer=None)
    assert SEAL not in html and PLACEHOLDER in html


def test_the_rule_and_its_query_form_agree(net, world):
    """seal_hidden_from (one bag) and seal_visible_q (a filter) say the same for every bag and person."""
    w, p = net, net.people
    open_bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    outward = sealed(p["operator"], w.post_office, held_by(w, p["operator"]), "KC-1")
    inward = sealed(p["counter_clerk"], w.processing, held_by(w, p["counter_clerk"]), "KC-2")
    received = sealed(p["operator"], w.post_office, held_by(w, p["operator"]), "KC-3")
    t = d.transfer_create(actor=p["operator"], taker=p["counter_clerk"], bags=[received])
    d.transfer_complete(actor=p["counter_clerk"], transfer=t)
    received = d.bag_receive(actor=p["counter_clerk"], bag=received, seal_number_read="KC-3", seal_intact=True)
    assert received.status == BagStatus.RECEIVED
    bags = [Bag.objects.get(pk=b.pk) for b in (open_bag, outward, inward, received)]
    people = [p[r] for r in ("operator", "counter_clerk", "postman", "escort", "supervisor", "oversight", "police",
                             "admin", "agency_clerk")] + [world["B"].people["operator"]]
    hidden = set()
    for person in people:
        by_rule = {b.pk for b in bags if not seal_hidden_from(person, b)}
        by_query = set(Bag.objects.filter(pk__in=[b.pk for b in bags]).filter(seal_visible_q(person))
                       .values_list("pk", flat=True))
        assert by_rule == by_query, person.username
        hidden |= {(person.pk, pk) for pk in {b.pk for b in bags} - by_rule}
    # Only the receiving side of a bag awaiting its seal check is kept from the number.
    assert hidden == {(p["counter_clerk"].pk, outward.pk), (p["postman"].pk, outward.pk),
                      (p["operator"].pk, inward.pk), (p["escort"].pk, inward.pk)}


def test_sealing_with_a_number_in_use_does_not_name_a_bag_whose_seal_is_hidden(net):
    """The refusal of a seal number in use names the other bag only to someone told its seal: the
    destination cannot learn which arriving bag carries a guessed number by trying to seal with it."""
    w, p = net, net.people
    bag, *_ = travelling(w)
    clerk = p["counter_clerk"]  # at the destination: the seal is hidden from them
    assert seal_hidden_from(clerk, bag)
    own = d.bag_create(actor=clerk, destination=w.processing)
    d.bag_add_item(actor=clerk, bag=own, tracking_number=held_by(w, clerk)[0].tracking_number)
    with pytest.raises(d.ValidationFailed) as refused:
        d.bag_seal(actor=clerk, bag=own, seal_number=SEAL.lower())
    assert refused.value.code == "seal_in_use"
    assert str(refused.value.message) == f"Số niêm phong {SEAL} đang được dùng cho một túi chưa mở."
    assert bag.identifier not in str(refused.value.message)

    operator = p["operator"]  # at the origin: told the seal, so told which bag
    other = d.bag_create(actor=operator, destination=w.post_office)
    d.bag_add_item(actor=operator, bag=other, tracking_number=held_by(w, operator)[0].tracking_number)
    with pytest.raises(d.ValidationFailed) as named:
        d.bag_seal(actor=operator, bag=other, seal_number=SEAL)
    assert str(named.value.message) == f"Số niêm phong {SEAL} đang dùng cho túi {bag.identifier} chưa mở."
    assert Bag.objects.get(pk=own.pk).status == Bag.objects.get(pk=other.pk).status == BagStatus.OPEN
