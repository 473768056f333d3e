"""Bags, mail trips and delivery rounds in every state, after the item history's last afternoon.

`load_dispatch(loader, clock, plan)` runs inside the history's simulated clock and audit batch
(kt1/demo/items.py::load_with_history), from the last afternoon's cutoff (16:00) and for under
half an hour, through the real services only (kt1.dispatch.services, kt1.items.services):

- reference data: the secrecy mix rule (unless the history made one), round rules (ward and province
  2 a day, commune and special zone 1), two mail routes from the processing centre (22100) to the
  Yên Sơn and Hà Giang post offices (shifts Sáng 07:00, Chiều 14:00) and one back from Yên Sơn, a
  dedicated KT1 van and a non-dedicated truck, delivery routes of the central post office (the
  province and the city wards) and of Yên Sơn (its commune);
- fresh items (registered by cleared clerks, accepted at the central counter, handed to the operator
  or the postman), so the history's own end states stay as they were;
- bags: open (with an item), sealed (on a planned trip, listed for the driver, not yet taken: the
  trip page shows why departure is refused), in transit (departed trip to Hà Giang), received (seal
  checked), opened clean, cancelled, received with a seal mismatch (incident, record with the
  escort's confirmation outstanding), opened with an item missing (incident);
- mail trips planned, departed and arrived; vehicle trips on the truck (driver demo.driver, escort
  demo.escort) and on the van;
- delivery rounds of the last day planned, out and completed (delivered, failed, not attempted):
  the coverage for that day shows Yên Sơn's agencies served (1 of 1) and the city's short (1 of 2).

Deterministic: random.Random(2026) for seal numbers and weights.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from kt1.accounts.choices import Role
from kt1.accounts.models import RoleAssignment, User
from kt1.core.choices import Secrecy
from kt1.core.clock import LOCAL_TZ, SimulatedClock
from kt1.directory.choices import UnitLevel
from kt1.directory.models import Agency
from kt1.dispatch import services as dispatch
from kt1.dispatch.models import DeliveryRoute, MailRoute, RoundRule, SecrecyMixRule, Vehicle
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind, ItemKind
from kt1.items.services import CustodyRequest, ItemInput

from . import data as D

ROUND_LEGAL_BASIS = "QĐ 37/2021/QĐ-TTg (mẫu trình diễn)"
MIX_LEGAL_BASIS = "Giá trị trình diễn — quy định chưa công bố"
RULES_FROM = dt.date(2025, 11, 1)
ROUND_RULES = ((UnitLevel.WARD, 2), ("province", 2), (UnitLevel.COMMUNE, 1), ("special_zone", 1))
SHIFTS = [("Sáng", dt.time(7, 0)), ("Chiều", dt.time(14, 0))]
SIGNATURE = (  # the same scribble the item history uses
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAJYAAAAwAQAAAADbP768AAABKElEQVR42uWTMUoDURRFz/8jjEXIBGyCBCYo"
    "iKWlhRCXYCWWLkGwssqUli5AxEosLFyBJNikEGxthAEDaSxmRCSRn38tZqIZdQPiLS/nwXv38oz4rqnlp/6p9/CLd1UBJUla0pdcwZ2sAe0q"
    "Vz+SfDzjkCRXd5JvBvOzbhfwlx5gUM5OUie523FX8mHJvRubML1b6IFvlvtlFmAnSOE1Lb1hC6DNAeSzOwYYsLAJF4DFQQN6jGEZjgHLG5wD"
    "10CENgDLIgLYA2qJ3waQk+9KN6sjyXey4jbXdZLODkeSon7h+c5Y0ulkJCkJywziXNLj9F5SGpcZJC/AswDiNC82XR8CK7YBE2NiAVI/kvTk"
    "WxB+ZprFkodgvo/avjGBtDXfW4YqcuYP/sIHByvhqvHyQ/IAAAAASUVORK5CYII="
)
WINDOW = dt.timedelta(minutes=29)  # everything happens between the cutoff and cutoff + 29 min


def load_dispatch(loader, clock: SimulatedClock, plan) -> None:
    _Dispatch(loader, clock, plan).run()


class _Dispatch:
    def __init__(self, loader, clock: SimulatedClock, plan) -> None:
        self.loader = loader
        self.clock = clock
        self.plan = plan
        self.rng = random.Random(2026)  # noqa: S311 - demo data, not secrets
        self.limit = min(plan.cutoff + WINDOW, plan.real_now)
        u = loader.users
        self.admin = loader.admin
        self.counter = u["demo.counter"]
        self.postman = u["demo.postman"]
        self.operator = u["demo.operator"]
        self.driver = u["demo.driver"]
        self.escort = u["demo.escort"]
        self.ys_counter = u["trieu.thi.hien"]
        self.clerk = u["demo.clerk"]  # UBND tỉnh
        self.clerk2 = u["demo.clerk2"]  # Tỉnh ủy
        f = loader.facilities
        self.ktvc, self.bc_tt, self.bc_ys, self.bc_hg = f["ktvc"], f["bc_tt"], f["bc_yen_son"], f["bc_ha_giang"]
        self.seals = 0

    # --- the run --------------------------------------------------------------------------------

    def run(self) -> None:
        self.clock.set(max(self.clock.now, self.plan.cutoff) + dt.timedelta(minutes=1))
        self.day = self.clock.now.astimezone(LOCAL_TZ).date()
        self._reference_data()
        self._bags_and_trips()
        self._rounds()
        if self.clock.now >= self.limit:
            raise RuntimeError(f"demo dispatch ran past {self.limit:%H:%M}: {self.clock.now:%H:%M}")

    def step(self, low: int = 8, high: int = 20) -> None:
        self.clock.advance(seconds=self.rng.randint(low, high))

    # --- reference data -------------------------------------------------------------------------

    def _reference_data(self) -> None:
        admin = self.admin
        if not SecrecyMixRule.objects.exists():
            dispatch.mix_rule_set(actor=admin, groups=[[Secrecy.A], [Secrecy.B, Secrecy.C], [Secrecy.NONE]],
                                  legal_basis=MIX_LEGAL_BASIS, valid_from=RULES_FROM)
        for level, n in ROUND_RULES:
            if not RoundRule.objects.filter(unit_level=level).exists():
                dispatch.round_rule_set(actor=admin, unit_level=level, min_rounds_per_day=n,
                                        legal_basis=ROUND_LEGAL_BASIS, valid_from=RULES_FROM)
        self.routes = {}
        for code, name, origin, destination in (
            ("KTVC-YS", "Khai thác Tuyên Quang → Bưu cục Yên Sơn", self.ktvc, self.bc_ys),
            ("KTVC-HG", "Khai thác Tuyên Quang → Bưu cục Trung tâm Hà Giang", self.ktvc, self.bc_hg),
            ("YS-KTVC", "Bưu cục Yên Sơn → Khai thác Tuyên Quang", self.bc_ys, self.ktvc),
        ):
            route = MailRoute.objects.filter(code=code).first()
            if route is None:
                route = dispatch.mail_route_create(actor=admin, code=code, name=name, origin=origin,
                                                   destination=destination, shifts=SHIFTS)
            self.routes[code] = route
        vehicles = {}
        for registration, dedicated, description in (
            ("22C-012.34", True, "Xe tải nhỏ chuyên dùng KT1"),
            ("22C-056.78", False, "Xe tải đường thư (không chuyên dùng KT1)"),
        ):
            vehicle = Vehicle.objects.filter(registration=registration.upper()).first()
            if vehicle is None:
                vehicle = dispatch.vehicle_create(actor=admin, registration=registration, facility=self.ktvc,
                                                  is_dedicated=dedicated, description=description)
            vehicles[dedicated] = vehicle
        self.van, self.truck = vehicles[True], vehicles[False]
        units = self.loader.units
        city = [units[D.PROVINCE_CODE]] + [units[c] for c in ("08001", "08002", "08003", "08004")]
        self.delivery_routes = {}
        for code, name, facility, served in (
            ("TT-01", "Tuyến phát nội thành (Bưu cục Trung tâm)", self.bc_tt, city),
            ("YS-01", "Tuyến phát xã Yên Sơn", self.bc_ys, [units["08007"]]),
        ):
            route = DeliveryRoute.objects.filter(code=code).first()
            if route is None:
                route = dispatch.delivery_route_create(actor=admin, code=code, name=name, facility=facility,
                                                       admin_units=served)
            self.delivery_routes[code] = route
        self.step()

    # --- items ----------------------------------------------------------------------------------

    def _clerk_of(self, agency: Agency) -> User:
        assignment = (RoleAssignment.objects.current().filter(agency=agency, role=Role.AGENCY_CLERK, user__is_active=True)
                      .select_related("user").order_by("pk"))
        for a in assignment:
            return a.user
        raise LookupError(f"no clerk for {agency}")

    def _accepted(self, sender: User, recipients: list[str], secrecy: str = Secrecy.NONE) -> list[str]:
        """Register plain letters, brought to the central counter; demo.counter holds them."""
        agency = RoleAssignment.objects.current().filter(user=sender, role=Role.AGENCY_CLERK).first().agency
        numbers = []
        for key in recipients:
            item = svc.item_register(actor=sender, data=ItemInput(
                sender_agency=agency, recipient_agency=self.loader.agencies[key], kind=ItemKind.LETTER,
                weight_g=self.rng.randint(20, 300), secrecy=secrecy,
                private={"registry_number": f"{self.rng.randint(500, 900)}/VT-KT1"}))
            numbers.append(item.tracking_number)
            self.step(4, 10)
        handover = svc.handover_create(actor=self.counter, kind=HandoverKind.COUNTER, tracking_numbers=numbers,
                                       giver=sender, taker=self.counter, giver_signature=SIGNATURE,
                                       giver_signed_name=sender.full_name)
        self.step(4, 10)
        svc.handover_complete(actor=self.counter, handover=handover)
        self.step(4, 10)
        return numbers

    def _take(self, taker: User, numbers: list[str], **fields) -> None:
        """The taker records the handover on their handheld (as the history's couriers do)."""
        self._events(taker, numbers, EventCode.HANDOVER, **fields)

    def _events(self, actor: User, numbers: list[str], code: str, **fields) -> None:
        requests = [CustodyRequest(event_uuid=uuid.UUID(int=self.rng.getrandbits(128), version=4), tracking_number=n,
                                   code=code, **fields) for n in numbers]
        for outcome in svc.custody_record_batch(actor=actor, requests=requests):
            if not outcome.ok:
                raise outcome.error
        self.step(4, 10)

    # --- bags and trips -------------------------------------------------------------------------

    def seal(self) -> str:
        self.seals += 1
        return f"KC{7_000_000 + self.rng.randint(0, 99) * 100 + self.seals}"

    def _bag(self, destination, numbers: list[str], seal: bool = True):
        bag = dispatch.bag_create(actor=self.operator, destination=destination)
        for number in numbers:
            dispatch.bag_add_item(actor=self.operator, bag=bag, tracking_number=number)
            self.step(3, 8)
        if seal:
            bag = dispatch.bag_seal(actor=self.operator, bag=bag, seal_number=self.seal())
            self.step(3, 8)
        return bag

    def _bags_and_trips(self) -> None:
        # Items for Yên Sơn (commune bodies) and Hà Giang; one secret (C) letter among them.
        ys = ["ubnd_08007", "dang_uy_08007", "ubnd_08007", "dang_uy_08007", "ubnd_08007", "dang_uy_08007"]
        plain = self._accepted(self.clerk, ys + ["ubnd_08005"])
        secret = self._accepted(self.clerk, ["ubnd_08007"], Secrecy.C)
        loose = self._accepted(self.clerk2, ["ubnd_08007"])
        self._take(self.operator, plain + secret + loose, facility_id=self.ktvc.pk)
        self._events(self.operator, plain + secret + loose, EventCode.INTO_SORTING, facility_id=self.ktvc.pk)

        # Arrived trip (Sáng, Yên Sơn): four bags, received and opened at Yên Sơn.
        received = self._bag(self.bc_ys, secret)
        clean = self._bag(self.bc_ys, plain[0:1])
        mismatch = self._bag(self.bc_ys, plain[1:2])
        missing = self._bag(self.bc_ys, plain[2:4])
        ys_route = self.routes["KTVC-YS"]
        morning, afternoon = ys_route.shifts.order_by("departs_at")[:2]
        arrived = dispatch.mail_trip_create(actor=self.operator, route=ys_route, shift=morning, service_date=self.day,
                                            bags=[received, clean, mismatch, missing])
        self.step()
        dispatch.vehicle_trip_create(actor=self.operator, vehicle=self.truck, driver=self.driver, escort=self.escort,
                                     service_date=self.day, mail_trips=[arrived])
        self.step()
        bags = [received, clean, mismatch, missing]
        self._transfer(self.operator, self.escort, bags, trip=arrived)
        dispatch.mail_trip_depart(actor=self.driver, trip=arrived)
        self.clock.advance(minutes=4)
        dispatch.mail_trip_arrive(actor=self.escort, trip=arrived)
        self.step()
        self._transfer(self.escort, self.ys_counter, bags)
        for bag in (received, clean, missing):
            dispatch.bag_receive(actor=self.ys_counter, bag=bag, seal_number_read=bag.seal_number, seal_intact=True)
            self.step(5, 12)
        # The seal read differs from the one recorded: incident and record; the escort, present, has
        # not confirmed it yet.
        misread = mismatch.seal_number[:-1] + ("8" if mismatch.seal_number.endswith("9") else "9")
        dispatch.bag_receive(actor=self.ys_counter, bag=mismatch, seal_number_read=misread, seal_intact=True,
                             present=[self.escort])
        self.step()
        dispatch.bag_open_scan(actor=self.ys_counter, bag=clean, tracking_number=plain[0])
        self.step(3, 8)
        dispatch.bag_open_finish(actor=self.ys_counter, bag=clean)
        self.step()
        dispatch.bag_open_scan(actor=self.ys_counter, bag=missing, tracking_number=plain[2])
        self.step(3, 8)
        dispatch.bag_open_finish(actor=self.ys_counter, bag=missing)  # plain[3] missing: incident
        self.step()

        # Departed trip (Chiều, Hà Giang): one bag with the crew on the road.
        hg_route = self.routes["KTVC-HG"]
        transit = self._bag(self.bc_hg, plain[6:7])
        departed = dispatch.mail_trip_create(actor=self.operator, route=hg_route,
                                             shift=hg_route.shifts.order_by("departs_at")[1], service_date=self.day,
                                             bags=[transit])
        self.step()
        dispatch.vehicle_trip_create(actor=self.operator, vehicle=self.truck, driver=self.driver, escort=self.escort,
                                     service_date=self.day, mail_trips=[departed])
        self.step()
        self._transfer(self.operator, self.escort, [transit], trip=departed)
        dispatch.mail_trip_depart(actor=self.driver, trip=departed)
        self.step()

        # Planned trip (Chiều, Yên Sơn) on the van: its bag is listed for the driver, who has not
        # taken it yet (the driver's home shows the transfer; the trip page why it cannot leave).
        waiting = self._bag(self.bc_ys, plain[4:5])
        planned = dispatch.mail_trip_create(actor=self.operator, route=ys_route, shift=afternoon, service_date=self.day,
                                            bags=[waiting])
        self.step()
        dispatch.vehicle_trip_create(actor=self.operator, vehicle=self.van, driver=self.driver, service_date=self.day,
                                     mail_trips=[planned])
        self.step()
        dispatch.transfer_create(actor=self.operator, taker=self.driver, bags=[waiting], mail_trip=planned)
        self.step()

        # A bag cancelled before sealing (its letter taken back out), and one still being filled.
        cancelled = self._bag(self.bc_ys, loose, seal=False)
        dispatch.bag_cancel(actor=self.operator, bag=cancelled)
        self.step()
        self._bag(self.bc_ys, loose + plain[5:6], seal=False)

    def _transfer(self, giver: User, taker: User, bags, trip=None) -> None:
        transfer = dispatch.transfer_create(actor=giver, taker=taker, bags=bags, mail_trip=trip)
        self.step(20, 40)
        dispatch.transfer_complete(actor=taker, transfer=transfer)
        self.step()

    # --- delivery rounds ------------------------------------------------------------------------

    def _rounds(self) -> None:
        a = self.loader.agencies
        to_ubnd = self._accepted(self.clerk2, ["ubnd"])
        city = self._accepted(self.clerk, ["tinh_uy", "cong_an", "hdnd", "so_noi_vu"])
        commune = self._accepted(self.clerk, ["ubnd_08007"])
        numbers = to_ubnd + city + commune
        self._take(self.postman, numbers)
        tt, ys = self.delivery_routes["TT-01"], self.delivery_routes["YS-01"]

        # Completed in the city: delivered to UBND tỉnh, nobody at Tỉnh ủy, Công an not reached.
        done = dispatch.round_create(actor=self.postman, route=tt, postman=self.postman, service_date=self.day,
                                     tracking_numbers=to_ubnd + city[:2])
        self.step()
        dispatch.round_start(actor=self.postman, rnd=done)
        self.step(60, 120)
        self._deliver(to_ubnd, a["ubnd"])
        self._events(self.postman, city[:1], EventCode.DELIVERY_FAILED, reason_code="VANG")
        dispatch.round_complete(actor=self.postman, rnd=done)
        self.step()

        # Completed in Yên Sơn: one round meets the commune's rule.
        ys_round = dispatch.round_create(actor=self.postman, route=ys, postman=self.postman, service_date=self.day,
                                         tracking_numbers=commune)
        self.step()
        dispatch.round_start(actor=self.postman, rnd=ys_round)
        self.step(60, 120)
        self._deliver(commune, a["ubnd_08007"])
        dispatch.round_complete(actor=self.postman, rnd=ys_round)
        self.step()

        # Out in the city, and planned for later.
        out = dispatch.round_create(actor=self.postman, route=tt, postman=self.postman, service_date=self.day,
                                    tracking_numbers=city[2:3])
        self.step()
        dispatch.round_start(actor=self.postman, rnd=out)
        self.step()
        dispatch.round_create(actor=self.counter, route=tt, postman=self.postman, service_date=self.day,
                              tracking_numbers=city[3:4])
        self.step()

    def _deliver(self, numbers: list[str], agency: Agency) -> None:
        clerk = self._clerk_of(agency)
        handover = svc.handover_create(actor=self.postman, kind=HandoverKind.DELIVERY, tracking_numbers=numbers,
                                       giver=self.postman, taker=clerk)
        self.step(30, 60)
        svc.handover_complete(actor=self.postman, handover=handover, taker_signature=SIGNATURE,
                              taker_signed_name=clerk.full_name)
        self.step()
