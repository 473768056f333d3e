"""Mail-trip volume report: the page and the XLSX carry the figures of the trips actually built
(outgoing and incoming, by day, shift and month), and only people with the report right of the
province get them."""

from __future__ import annotations

import datetime as dt
import uuid
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kt1.core.choices import Secrecy
from kt1.core.clock import local_today
from kt1.dispatch import services as d
from kt1.items import services as svc
from kt1.items.choices import EventCode
from tests import factories as f
from tests.helpers import verified_client

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _held(w, holder, weights):
    p = w.people
    items = []
    for weight in weights:
        item = f.item(p["agency_clerk"], w.other_agency, weight_g=weight)
        svc.custody_record(actor=p["counter_clerk"], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.ACCEPTED))
        if holder != p["counter_clerk"]:
            svc.custody_record(actor=holder, request=svc.CustodyRequest(
                event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=EventCode.HANDOVER))
        items.append(item)
    return items


_seals = iter(range(1, 1000))


def _bag(actor, destination, items):
    bag = d.bag_create(actor=actor, destination=destination)
    for item in items:
        d.bag_add_item(actor=actor, bag=bag, tracking_number=item.tracking_number)
    return d.bag_seal(actor=actor, bag=bag, seal_number=f"KC-R{next(_seals)}")


@pytest.fixture
def volumes(world):
    """At the processing facility: yesterday one outgoing trip; today two outgoing trips (morning,
    afternoon) and one incoming trip (morning)."""
    w = world["A"]
    p = w.people
    admin = f.root_admin()
    for role in ("agency_clerk", "counter_clerk", "operator"):
        f.cleared(p[role], Secrecy.B, police=p["police"])
    d.mix_rule_set(actor=admin, groups=[["A"], ["B", "C"], ["none"]], valid_from=local_today() - dt.timedelta(days=1))
    out = d.mail_route_create(actor=admin, code="R1", name="Đi", origin=w.processing, destination=w.post_office,
                              shifts=[("Sáng", dt.time(7, 0)), ("Chiều", dt.time(14, 0))])
    back = d.mail_route_create(actor=admin, code="R2", name="Về", origin=w.post_office, destination=w.processing,
                               shifts=[("Sáng", dt.time(9, 0))])
    today, yesterday = local_today(), local_today() - dt.timedelta(days=1)
    op, sup = p["operator"], p["supervisor"]
    morning, afternoon = out.shifts.get(name="Sáng"), out.shifts.get(name="Chiều")
    b1 = _bag(op, w.post_office, _held(w, op, [100, 200]))
    b2 = _bag(op, w.post_office, _held(w, op, [500]))
    b3 = _bag(op, w.post_office, _held(w, op, [50, 50, 50]))
    b4 = _bag(op, w.post_office, _held(w, op, [1000]))
    b5 = _bag(p["counter_clerk"], w.processing, _held(w, p["counter_clerk"], [250, 250]))
    d.mail_trip_create(actor=op, route=out, shift=morning, service_date=today, bags=[b1, b2])
    d.mail_trip_create(actor=op, route=out, shift=afternoon, service_date=today, bags=[b3])
    d.mail_trip_create(actor=op, route=out, shift=morning, service_date=yesterday, bags=[b4])
    d.mail_trip_create(actor=sup, route=back, shift=back.shifts.get(), service_date=today, bags=[b5])
    w.today, w.yesterday = today, yesterday
    return w


def _query(w, group, facility=None):
    return {"facility": (facility or w.processing).pk, "date_from": w.yesterday.isoformat(),
            "date_to": w.today.isoformat(), "group": group}


def _figures(f):
    return (f.trips, f.bags, f.items, f.weight_g)


def test_volume_report_by_day_shift_and_month(volumes):
    w = volumes
    client = verified_client(w.people["supervisor"])
    page = client.get(reverse("dispatch:volume_report"), _query(w, "day"))
    assert page.status_code == 200
    table = page.context["table"]
    assert [(line.period, _figures(line.outgoing), _figures(line.incoming)) for line in table.lines] == [
        (w.yesterday.isoformat(), (1, 1, 1, 1000), (0, 0, 0, 0)),
        (w.today.isoformat(), (2, 3, 6, 950), (1, 1, 2, 500)),
    ]
    assert _figures(table.total_out) == (3, 4, 7, 1950) and _figures(table.total_in) == (1, 1, 2, 500)
    body = page.content.decode()
    assert "1,950" in body or "1.950" in body  # kilograms shown with three decimals
    assert w.today.strftime("%d/%m/%Y") in body

    table = client.get(reverse("dispatch:volume_report"), _query(w, "shift")).context["table"]
    assert [(line.period, line.shift, _figures(line.outgoing), _figures(line.incoming)) for line in table.lines] == [
        (w.yesterday.isoformat(), "Sáng", (1, 1, 1, 1000), (0, 0, 0, 0)),
        (w.today.isoformat(), "Chiều", (1, 1, 3, 150), (0, 0, 0, 0)),
        (w.today.isoformat(), "Sáng", (1, 2, 3, 800), (1, 1, 2, 500)),
    ]

    table = client.get(reverse("dispatch:volume_report"), _query(w, "month")).context["table"]
    months = sorted({w.yesterday.strftime("%Y-%m"), w.today.strftime("%Y-%m")})
    assert [line.period for line in table.lines] == months
    assert _figures(table.total_out) == (3, 4, 7, 1950) and _figures(table.total_in) == (1, 1, 2, 500)

    # The other end of the route sees the same trips the other way round.
    table = client.get(reverse("dispatch:volume_report"), _query(w, "day", facility=w.post_office)).context["table"]
    assert _figures(table.total_out) == (1, 1, 2, 500) and _figures(table.total_in) == (3, 4, 7, 1950)


def test_volume_report_xlsx_carries_the_same_numbers(volumes):
    w = volumes
    client = verified_client(w.people["oversight"])
    r = client.get(reverse("dispatch:volume_report_xlsx"), _query(w, "day"))
    assert r.status_code == 200 and r["Content-Type"] == XLSX
    filename = f"KT1-san-luong-{w.processing.postcode}-{w.yesterday:%Y%m%d}-{w.today:%Y%m%d}.xlsx"
    assert r["Content-Disposition"] == f'attachment; filename="{filename}"'
    ws = load_workbook(BytesIO(r.content)).active
    assert ws["A1"].value.startswith("SẢN LƯỢNG CHUYẾN THƯ KT1") and w.processing.postcode in ws["A1"].value
    assert w.yesterday.strftime("%d/%m/%Y") in ws["A2"].value and w.today.strftime("%d/%m/%Y") in ws["A2"].value
    header = [c.value for c in ws[4]]
    assert header[0] == "Ngày" and header[1] == "Đi: Số chuyến" and header[5] == "Đến: Số chuyến"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5, max_row=7)]
    assert rows[0][0].date() == w.yesterday and rows[0][1:] == [1, 1, 1, 1.0, 0, 0, 0, 0.0]
    assert rows[1][0].date() == w.today and rows[1][1:] == [2, 3, 6, 0.95, 1, 1, 2, 0.5]
    assert rows[2][0] == "Tổng cộng" and rows[2][1:] == [3, 4, 7, 1.95, 1, 1, 2, 0.5]
    assert ws["B5"].number_format == "#,##0" and ws["E5"].number_format == "#,##0.000"
    assert ws["A5"].number_format == "dd/mm/yyyy"
    assert ws.column_dimensions["E"].width >= 12

    by_shift = load_workbook(BytesIO(client.get(reverse("dispatch:volume_report_xlsx"), _query(w, "shift")).content)).active
    assert by_shift["B4"].value == "Ca" and [by_shift.cell(row=r, column=2).value for r in (5, 6, 7)] == [
        "Sáng", "Chiều", "Sáng"]
    assert by_shift["A8"].value == "Tổng cộng" and by_shift["C8"].value == 3


def test_volume_report_permissions_and_defaults(volumes, world):
    w, other = volumes, world["B"]
    for role in ("operator", "agency_clerk", "driver", "police"):
        client = verified_client(w.people[role])
        assert client.get(reverse("dispatch:volume_report")).status_code == 404, role
        assert client.get(reverse("dispatch:volume_report_xlsx"), _query(w, "day")).status_code == 404, role
    oversight = verified_client(w.people["oversight"])
    page = oversight.get(reverse("dispatch:volume_report"))
    assert page.status_code == 200 and page.context["table"].facility == w.processing  # the province's facility
    assert page.context["table"].date_to == local_today()
    # A facility of another province is not a choice: no figures.
    page = oversight.get(reverse("dispatch:volume_report"), _query(w, "day", facility=other.processing))
    assert page.status_code == 200 and page.context["table"] is None and page.context["form"].errors["facility"]
    assert oversight.get(reverse("dispatch:volume_report_xlsx"), _query(w, "day", facility=other.processing)).status_code == 400
    bad = {**_query(w, "day"), "date_from": w.today.isoformat(), "date_to": w.yesterday.isoformat()}
    assert oversight.get(reverse("dispatch:volume_report"), bad).context["form"].errors["date_to"]
    admin = verified_client(w.people["admin"])
    assert admin.get(reverse("dispatch:volume_report"), _query(w, "day")).status_code == 200
