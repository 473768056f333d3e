"""About two months of KT1 items for the demo province, played through the real services.

`load_with_history(loader)` runs the province loader at the start of the history (people need their
roles, vetting and training before they handle anything), adds what items need (weight rules,
failure reasons, serial ranges, a cleared clerk for every agency that sends or receives, the Thái
Nguyên postman and police), then plays the traffic day by day on a simulated clock
(kt1.core.clock.simulated_time) in chronological order, so every row and audit entry carries the
moment it happened and the custody chain verifies.

The working day, local time (who does what is a data choice of the demo, not a rule of the system):

  06:30  the mail-route driver takes the sorted items for the remote offices (Hà Giang, Chiêm Hóa)
  07:30  the central office's postman, and the supervisor for top-secret (A) items, take their round
  07:40  the supervisor starts the returns of yesterday's refused or undeliverable items
  07:50  morning round in the city; the remote postmen take over from the driver and go out at ~09:00
  09:00  agencies register items all day; pickups are requested, confirmed and collected, or the
         clerk brings them to the counter
  11:30  the counters hand the morning's items to the processing centre; the operator signs, sorts
  13:30  afternoon round in the city
  14:30  the driver collects at the remote counters
  15:30  the mail trip to Thái Nguyên leaves (internal list, signed on arrival by the Thái Nguyên postman;
         on the last day a sealed bag, kt1.dispatch, still waiting for its trip at the end)
  15:45  the counters, 15:50 the pickup postman, 17:15 the driver hand over the day's items; the operator
         signs in their own session and sorts
Urgent (Hỏa tốc) items run the same chain within hours, at night and at weekends too.

The last working afternoon stops at 16:00, before the real current time, so every state is on screen:
items registered (some in a requested or a confirmed pickup), held by a counter clerk, the operator,
the driver or a postman, in a sealed bag, out for delivery, failed, returned, cancelled, delivered,
and handover lists waiting for their taker's signature. Deterministic: one random.Random(2026),
dates relative to today.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings

from kt1.accounts import services as people
from kt1.accounts.choices import Role
from kt1.accounts.demo import DEMO_PASSWORD
from kt1.accounts.models import User
from kt1.audit.services import audit_batch
from kt1.core.choices import Secrecy
from kt1.core.clock import LOCAL_TZ, SimulatedClock, now, simulated_time
from kt1.directory.choices import AgencyLevel, AgencyType, FacilityKind
from kt1.directory.models import Agency, AgencyContact
from kt1.dispatch import services as dispatch
from kt1.items import services as svc
from kt1.items.choices import EventCode, HandoverKind, ItemKind, NextAction, Urgency
from kt1.items.services import CustodyRequest, ItemInput

from . import data as D
from .dispatch import load_dispatch

HISTORY_DAYS = 60  # settings.KT1_DEMO_HISTORY_DAYS overrides; 0 loads the province without items

# A drawn signature (150×48, black and white) as the signature pad sends it: every clerk "signs" the
# same scribble, small enough for hundreds of lists.
SIGNATURE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAJYAAAAwAQAAAADbP768AAABKElEQVR42uWTMUoDURRFz/8jjEXIBGyCBCYo"
    "iKWlhRCXYCWWLkGwssqUli5AxEosLFyBJNikEGxthAEDaSxmRCSRn38tZqIZdQPiLS/nwXv38oz4rqnlp/6p9/CLd1UBJUla0pdcwZ2sAe0q"
    "Vz+SfDzjkCRXd5JvBvOzbhfwlx5gUM5OUie523FX8mHJvRubML1b6IFvlvtlFmAnSOE1Lb1hC6DNAeSzOwYYsLAJF4DFQQN6jGEZjgHLG5wD"
    "10CENgDLIgLYA2qJ3waQk+9KN6sjyXey4jbXdZLODkeSon7h+c5Y0ulkJCkJywziXNLj9F5SGpcZJC/AswDiNC82XR8CK7YBE2NiAVI/kvTk"
    "WxB+ZprFkodgvo/avjGBtDXfW4YqcuYP/sIHByvhqvHyQ/IAAAAASUVORK5CYII="
)

RULES_FROM = dt.date(2025, 11, 1)  # Decision 32/2025/QĐ-TTg; the successor circular is not published
LEGAL_BASIS = "Giá trị trình diễn — quy định chưa công bố"
KIND_LIMITS = ((ItemKind.LETTER, 2_000), (ItemKind.PACKET, 5_000), (ItemKind.PARCEL, 30_000))
FAILURE_REASONS = (
    ("VANG", "Cơ quan nhận không có người ký nhận", NextAction.RETRY),
    ("SAIDC", "Sai địa chỉ, không tìm thấy cơ quan", NextAction.RETURN),
    ("CHUYEN", "Cơ quan đã chuyển địa điểm", NextAction.RETURN),
    ("TUCHOI", "Cơ quan nhận từ chối nhận", NextAction.RETURN),
    ("NGHI", "Ngày nghỉ, cơ quan đóng cửa", NextAction.RETRY),
)
RETURN_REASONS = ("SAIDC", "CHUYEN", "TUCHOI")
SERVICE_INDICATOR = "KT"
SERIAL_SPAN = 10_000  # serials per facility: the first four digits of its postcode, then four more

# Volume. Each item costs about 0.2 s of CPU through the services on SQLite (seven custody events,
# each validated, scoped, cleared and sealed in the audit chain), so the demo keeps to a few items
# per working day to load in about a minute: volume is reduced, never a service skipped.
WORKDAY_ITEMS = (2, 4)  # registered per working day, besides the urgent ones
NIGHT_URGENT = 0.2  # chance of an urgent item on a working evening
WEEKEND_URGENT = (0, 1)  # urgent items on a weekend day

CITY_UNITS = frozenset({"08001", "08002", "08003", "08004"})
HA_GIANG_UNITS = frozenset({"08005", "08006", "08012", "08013", "08014", "08015", "08016", "08017", "08018", "08019"})
CHIEM_HOA_UNITS = frozenset({"08008", "08009", "08010", "08011"})

# Thái Nguyên has no people in the province loader: the inter-provincial items need a postman there
# and the police officer who vets him and the clerks.
TN_POLICE = ("ha.minh.tuan", "Hà Minh Tuấn", "Cán bộ Công an tỉnh Thái Nguyên", "0208 3855 201")
TN_POSTMAN = ("luong.van.dat", "Lương Văn Đạt", "Bưu tá", "0912 200 001")

SUBJECTS = (
    "V/v triển khai kế hoạch cải cách hành chính năm 2026",
    "V/v báo cáo tình hình kinh tế - xã hội tháng",
    "V/v tổ chức hội nghị sơ kết công tác quý",
    "V/v góp ý dự thảo quy chế làm việc",
    "V/v rà soát, bổ sung quy hoạch cán bộ",
    "V/v phòng, chống thiên tai và tìm kiếm cứu nạn",
    "V/v kiểm tra công tác bảo vệ bí mật nhà nước",
    "V/v đề nghị cung cấp hồ sơ, tài liệu",
    "V/v triệu tập cán bộ dự lớp bồi dưỡng",
    "V/v phân bổ kinh phí chi thường xuyên",
    "V/v vận hành chính quyền địa phương hai cấp",
    "V/v tăng cường bảo đảm an ninh, trật tự",
    "Báo cáo kết quả thực hiện nhiệm vụ tháng",
    "Kế hoạch kiểm tra, giám sát năm 2026",
    "Thông báo kết luận của Thường trực",
    "Quyết định về công tác cán bộ",
)
DOC_TYPES = ("CV", "BC", "KH", "TB", "QĐ", "TTr")

# Where an item is in the demo's own bookkeeping (the services hold the truth; this only says which
# scheduled step picks it up next).
REGISTERED, HELD, LISTED, SORTED, ROUTE, ROUTE_IN, CARRIED, OUT, FAILED, TO_RETURN, EXPRESS, BAGGED, DONE = (
    "registered", "held", "listed", "sorted", "route", "route_in", "carried", "out", "failed", "to_return", "express",
    "bagged", "done")


def load_with_history(loader) -> None:
    """Run the province loader, then play the item history (unless KT1_DEMO_HISTORY_DAYS is 0).

    The loader must have been constructed before this call: its own dates (vetting validity,
    trainings) stay relative to the real today while its services run at the start of the history."""
    days = int(getattr(settings, "KT1_DEMO_HISTORY_DAYS", HISTORY_DAYS))
    if days <= 0:
        loader.run()
        return
    plan = history_plan(now(), days)
    # One transaction (load_demo's): the audit entries are chained in memory and inserted together
    # at the end (kt1.audit.services.audit_batch), as a custody batch does; nothing reads them before.
    with simulated_time(plan.setup) as clock, audit_batch():
        loader.run()
        _History(loader, clock, plan).run()
        load_dispatch(loader, clock, plan)  # bags, trips and rounds in every state (kt1/demo/dispatch.py)


# --- the calendar ---------------------------------------------------------------------------------


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def is_workday(day: dt.date) -> bool:
    return day.weekday() < 5


def next_workday(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class Plan:
    first_day: dt.date
    last_day: dt.date  # the last working day played; it stops at `cutoff`
    cutoff: dt.datetime
    real_now: dt.datetime

    @property
    def setup(self) -> dt.datetime:
        return local(self.first_day, 7, 0)


def history_plan(real_now: dt.datetime, days: int = HISTORY_DAYS) -> Plan:
    """From `days` ago to the last working afternoon that has already passed (today's when the
    demo is loaded after 16:30 on a working day, otherwise the previous working day's)."""
    today = real_now.astimezone(LOCAL_TZ).date()
    last = today
    if not (is_workday(today) and real_now >= local(today, 16, 30)):
        last = today - dt.timedelta(days=1)
        while not is_workday(last):
            last -= dt.timedelta(days=1)
    return Plan(today - dt.timedelta(days=days), last, local(last, 16, 0), real_now)


# --- the demo's view of one item ----------------------------------------------------------------------


@dataclass(eq=False)
class _Piece:
    number: str
    sender: Agency
    recipient: Agency
    clerk: User  # the sender's clerk
    secrecy: str
    urgency: str
    fate: str  # "deliver" | "return" (refused or undeliverable on the first visit) | "cancel"
    holder: User
    stage: str = REGISTERED
    returning: bool = False
    courier: User | None = None

    @property
    def target(self) -> Agency:
        return self.sender if self.returning else self.recipient


@dataclass(frozen=True)
class _Clerk:
    user: User
    level: str


class _History:
    def __init__(self, loader, clock: SimulatedClock, plan: Plan) -> None:
        self.loader = loader
        self.clock = clock
        self.plan = plan
        self.rng = random.Random(2026)  # noqa: S311 - demo data, not secrets
        self.queue: list = []
        self.seq = itertools.count()
        self.pieces: list[_Piece] = []
        self.numbers: dict[int, int] = {}  # registry numbers per sending agency
        u = loader.users
        self.admin = loader.admin
        self.police = u["demo.police"]
        self.counter = u["demo.counter"]
        self.postman = u["demo.postman"]
        self.operators = (u["demo.operator"], u["ma.van.long"])
        self.driver = u["demo.driver"]
        self.supervisor = u["demo.supervisor"]
        self.hg_counter = u["nong.van.khanh"]
        self.hg_postman = u["hoang.thi.nga"]
        self.ys_counter = u["trieu.thi.hien"]
        self.ch_postman = u["quan.van.binh"]
        self.tq = loader.units[D.PROVINCE_CODE]
        self.ktvc = loader.facilities["ktvc"]
        self.unit_of = self._seats()
        self.failure_due: dt.date | None = None

    # --- the run --------------------------------------------------------------------------------

    def run(self) -> None:
        self._reference_data()
        self._thai_nguyen_people()
        self._clerks()
        self._senders_and_recipients()
        day = self.plan.first_day
        while day <= self.plan.last_day:
            self.at(local(day, 0, 0), self._day, day)
            day += dt.timedelta(days=1)
        self._scenario()
        while self.queue:
            moment, _seq, action, args = heapq.heappop(self.queue)
            if moment > self.clock.now:
                self.clock.set(moment)
            action(*args)

    def at(self, moment: dt.datetime, action: Callable, *args) -> None:
        """Schedule a step; steps at or after the cutoff never happen (they are still to come)."""
        if moment < self.plan.cutoff:
            heapq.heappush(self.queue, (moment, next(self.seq), action, args))

    def later(self, low: int, high: int) -> dt.datetime:
        return self.clock.now + dt.timedelta(minutes=self.rng.randint(low, high))

    def tick(self, low: int = 4, high: int = 30) -> None:
        self.clock.advance(seconds=self.rng.randint(low, high))

    def office_time(self, moment: dt.datetime) -> dt.datetime:
        """The moment, or the next working morning when the counter is closed."""
        day = moment.astimezone(LOCAL_TZ).date()
        if is_workday(day) and local(day, 7, 30) <= moment <= local(day, 17, 15):
            return moment
        if not (is_workday(day) and moment < local(day, 7, 30)):
            day = next_workday(day)
        return local(day, 7, 45) + dt.timedelta(minutes=self.rng.randint(0, 60))

    def operator_on(self, moment: dt.datetime) -> User:
        day = moment.astimezone(LOCAL_TZ).date()
        return self.operators[1] if day.weekday() in (2, 6) and day != self.plan.last_day else self.operators[0]

    # --- reference data and people --------------------------------------------------------------

    def _reference_data(self) -> None:
        for kind, limit in KIND_LIMITS:
            svc.kind_rule_set(actor=self.admin, kind=kind, max_weight_g=limit, legal_basis=LEGAL_BASIS, valid_from=RULES_FROM)
        for code, label, action in FAILURE_REASONS:
            svc.failure_reason_create(actor=self.admin, code=code, label=label, default_next_action=action,
                                      valid_from=RULES_FROM)
        # Which secrecy levels may share a bag: A alone, B with C, plain mail apart (the model's example;
        # the real rule is not published).
        dispatch.mix_rule_set(actor=self.admin, groups=[[Secrecy.A], [Secrecy.B, Secrecy.C], [Secrecy.NONE]],
                              legal_basis=LEGAL_BASIS, valid_from=RULES_FROM)
        for spec in D.FACILITIES + D.OTHER_FACILITIES:
            if spec.kind == FacilityKind.SERVICE_POINT:
                continue
            first = int(spec.postcode[:4]) * SERIAL_SPAN
            svc.serial_range_create(actor=self.admin, facility=self.loader.facilities[spec.key], first_serial=first,
                                    last_serial=first + SERIAL_SPAN - 1, service_indicator=SERVICE_INDICATOR)
        self.clock.advance(minutes=5)

    def _person(self, username: str, full_name: str, role: str, position: str, phone: str, **scope) -> User:
        user = people.user_create(actor=self.admin, username=username, full_name=full_name, password=DEMO_PASSWORD,
                                  role=role, phone=phone, position=position, **scope)
        self.loader.users[username] = user
        return user

    def _clear(self, user: User, level: str, police: User, reference: str) -> None:
        """Vetting by the province's police and the KT1 training, as the province loader does."""
        vetting = people.vetting_request(actor=self.admin, user=user,
                                         note=f"Đề nghị thẩm tra tiêu chuẩn chính trị đối với {user.full_name}.")
        people.vetting_approve(actor=police, vetting=vetting, max_secrecy=level, reference=reference,
                               valid_until=self.plan.real_now + dt.timedelta(days=self.rng.randint(240, 700)),
                               note="Đạt tiêu chuẩn chính trị.")
        completed = self.plan.first_day - dt.timedelta(days=self.rng.randint(30, 400))
        people.training_record(actor=self.admin, user=user, course=D.TRAINING_COURSE, completed_on=completed,
                               valid_until=completed + dt.timedelta(days=730))
        self.tick(2, 6)

    def _thai_nguyen_people(self) -> None:
        username, name, position, phone = TN_POLICE
        self.tn_police = self._person(username, name, Role.POLICE, position, phone,
                                      province=self.loader.units[D.OTHER_PROVINCE_CODE])
        username, name, position, phone = TN_POSTMAN
        self.tn_postman = self._person(username, name, Role.POSTMAN, position, phone,
                                       facility=self.loader.facilities["tn_bdt"])
        self.tn_decisions = 0
        self._clear(self.tn_postman, Secrecy.B, self.tn_police, self._tn_reference())

    def _tn_reference(self) -> str:
        self.tn_decisions += 1
        return f"{self.tn_decisions:03d}/KL-CAT-PA03-TN"

    def _clerks(self) -> None:
        """A cleared clerk for every enrolled agency of Tuyên Quang and every agency of Thái Nguyên:
        the demo's own clerks where they are cleared, otherwise the clerk on the agency's contact card
        gets an account (provincial agencies' clerks up to A, communes' up to B)."""
        agencies = self.loader.agencies
        self.clerks: dict[int, _Clerk] = {}
        for spec in D.DEMO_PEOPLE + D.STAFF:
            if spec.role == Role.AGENCY_CLERK and spec.vetting == D.APPROVED and spec.trained:
                self.clerks[agencies[spec.scope].pk] = _Clerk(self.loader.users[spec.username], spec.max_secrecy)
        taken = set(User.objects.values_list("username", flat=True))
        for agency in agencies.values():
            if agency.pk in self.clerks or not (agency.enrolled_on or agency.province_id != self.tq.pk):
                continue
            contact = AgencyContact.objects.filter(agency=agency).order_by("pk").first()
            if contact is not None:
                name, phone = contact.full_name, contact.phone
            else:
                name = f"{self.rng.choice(D.SURNAMES)} {self.rng.choice(D.MIDDLE)} {self.rng.choice(D.GIVEN)}"
                phone = f"0912 3{self.rng.randint(10, 99)} {self.rng.randint(100, 999)}"
            username = _username(name, taken)
            taken.add(username)
            user = self._person(username, name, Role.AGENCY_CLERK, "Văn thư", phone, agency=agency)
            level = Secrecy.A if agency.level == AgencyLevel.PROVINCE else Secrecy.B
            if agency.province_id == self.tq.pk:
                self._clear(user, level, self.police, self.loader._reference())
            else:
                self._clear(user, level, self.tn_police, self._tn_reference())
            self.clerks[agency.pk] = _Clerk(user, level)

    def _seats(self) -> dict[int, str]:
        codes = {spec.key: spec.unit for spec in D.PROVINCIAL_AGENCIES + D.OTHER_PROVINCE_AGENCIES}
        for unit in D.COMMUNES:
            for prefix, *_rest in D.COMMUNE_BODIES:
                codes[f"{prefix}_{unit.code}"] = unit.code
        return {agency.pk: codes[key] for key, agency in self.loader.agencies.items()}

    def _senders_and_recipients(self) -> None:
        agencies = self.loader.agencies
        self.senders = [a for a in agencies.values() if a.enrolled_on and a.province_id == self.tq.pk]
        heavy = {"ubnd": 6, "tinh_uy": 5, "hdnd": 2.5, "cong_an": 2.5, "so_noi_vu": 2.5, "so_tai_chinh": 2.5}
        key_of = {a.pk: key for key, a in agencies.items()}
        self.sender_weights = [heavy.get(key_of[a.pk], 2 if a.level == AgencyLevel.PROVINCE else 1) for a in self.senders]
        self.recipients = [a for a in agencies.values() if a.pk in self.clerks]
        liked = {"ubnd": 10, "tinh_uy": 8, "hdnd": 4, "cong_an": 4}
        self.recipient_weights = [
            1.2 if a.province_id != self.tq.pk else liked.get(key_of[a.pk], 2.5 if a.level == AgencyLevel.PROVINCE else 1)
            for a in self.recipients
        ]
        self.city_senders = [a for a in self.senders if a.level == AgencyLevel.PROVINCE]

    def _scenario(self) -> None:
        """What the history must show whatever the dice say: one cancelled and one returned item
        early on, and a last working day that stops with work in every state (see the module
        docstring)."""
        a = self.loader.agencies
        last = self.plan.last_day
        before = last - dt.timedelta(days=1)
        while not is_workday(before):
            before -= dt.timedelta(days=1)
        early = next_workday(self.plan.first_day + dt.timedelta(days=1))
        self.at(local(early, 10, 5), self._batch, a["tinh_uy"], 0, ("so_y_te",), "counter", "cancel")
        self.at(local(early, 10, 35), self._batch, a["ubnd"], 0, ("ubnd_08003",), "counter", "return")
        self.at(local(early, 11, 0), self._batch, a["ubnd"], 0, ("tinh_uy",), "counter", "deliver", Secrecy.A)
        self.at(local(early, 14, 0), self._batch, a["ubnd"], 0, ("tn_ubnd",), "counter")
        # Sorted the evening before: the morning round of the last day (whose first visit fails).
        self.at(local(before, 13, 0), self._batch, a["ubnd"], 0, ("so_noi_vu", "hdnd"), "counter")
        # Accepted in the morning: the afternoon round in the city (still out at the end), an item for
        # a commune (with the operator until the next morning round) and the bag for Thái Nguyên.
        self.at(local(last, 8, 45), self._batch, a["tinh_uy"], 0,
                ("ubnd", "hdnd", "cong_an", "ubnd_08007", "tn_tinh_uy"), "counter")
        # Collected by the postman before noon, listed for the processing centre at 15:50 (unsigned).
        self.at(local(last, 9, 40), self._batch, a["so_noi_vu"], 0, ("ubnd", "mttq"), "pickup")
        # Accepted at the counter after the midday handover: in the counter's unsigned evening list.
        self.at(local(last, 12, 30), self._batch, a["so_tai_chinh"], 0, ("ubnd", "so_y_te"), "counter")
        # Pickups still open, and an item waiting for the counter.
        self.at(local(last, 14, 50), self._waiting_pickup, "ubnd", ("tinh_uy", "hdnd"), local(last, 15, 25))
        self.at(local(last, 15, 40), self._waiting_pickup, "tinh_uy", ("ubnd", "cong_an"), None)
        self.at(local(last, 15, 45), self._batch, a["ubnd_08002"], 0, ("so_gddt",), "counter")
        self.failure_due = last  # the first visit of the last morning finds nobody to sign

    # --- one day ----------------------------------------------------------------------------------

    def _day(self, day: dt.date) -> None:
        if is_workday(day):
            self.at(local(day, 6, 30), self._driver_out)
            self.at(local(day, 7, 30), self._take, "am")
            self.at(local(day, 7, 40), self._returns)
            self.at(local(day, 7, 50), self._round, self.postman, "am")
            self.at(local(day, 7, 55), self._round, self.supervisor, "am")
            self.at(local(day, 8, 30), self._round, self.tn_postman, "am")
            self.at(local(day, 8, 45), self._remote_round, self.ch_postman)
            self.at(local(day, 9, 15), self._remote_round, self.hg_postman)
            self.at(local(day, 11, 30), self._to_processing, (self.counter, self.supervisor))
            self.at(local(day, 13, 30), self._take, "pm")
            self.at(local(day, 13, 45), self._round, self.postman, "pm")
            self.at(local(day, 13, 50), self._round, self.supervisor, "pm")
            self.at(local(day, 14, 30), self._driver_collect)
            self.at(local(day, 15, 30), self._trip)
            self.at(local(day, 15, 45), self._to_processing, (self.counter, self.supervisor))
            self.at(local(day, 15, 50), self._to_processing, (self.postman,))
            self.at(local(day, 17, 15), self._driver_in)
            count = self.rng.randint(*WORKDAY_ITEMS)
            senders = self.rng.choices(self.senders, weights=self.sender_weights, k=count)
            batches: dict[int, list] = {}
            for sender in senders:
                batches.setdefault(sender.pk, [sender, 0])[1] += 1
            for sender, n in batches.values():
                self.at(local(day, 9, 0) + dt.timedelta(minutes=self.rng.randint(0, 435)), self._batch, sender, n)
            if self.rng.random() < NIGHT_URGENT:
                self.at(local(day, 18, 30) + dt.timedelta(minutes=self.rng.randint(0, 180)), self._urgent)
        else:
            for _ in range(self.rng.randint(*WEEKEND_URGENT)):
                self.at(local(day, 8, 0) + dt.timedelta(minutes=self.rng.randint(0, 720)), self._urgent)

    # --- registration and acceptance ------------------------------------------------------------

    def _register(self, sender: Agency, urgency: str | None = None, recipient: Agency | None = None,
                  fate: str | None = None, secrecy: str = Secrecy.NONE) -> _Piece:
        """Register one item; the scenario names its recipient, urgency, fate and secrecy."""
        rng = self.rng
        clerk = self.clerks[sender.pk]
        provincial = sender.level == AgencyLevel.PROVINCE
        weights = (62, 20, 12, 6) if provincial else (80, 15, 5, 0)
        drawn = rng.choices((Secrecy.NONE, Secrecy.C, Secrecy.B, Secrecy.A), weights=weights)[0]
        if recipient is not None:
            drawn = secrecy
        elif not Secrecy.covers(clerk.level, drawn):
            drawn = clerk.level
        secrecy = drawn
        while recipient is None:
            candidate = rng.choices(self.recipients, weights=self.recipient_weights)[0]
            cleared = Secrecy.covers(self.clerks[candidate.pk].level, secrecy)
            # Nobody in Thái Nguyên's post is cleared for A in the demo.
            if candidate.pk != sender.pk and cleared and not (secrecy == Secrecy.A and candidate.province_id != self.tq.pk):
                recipient = candidate
        if urgency is None:
            urgency = rng.choices((Urgency.NONE, Urgency.EXPRESS, Urgency.SCHEDULED), weights=(85, 11, 4))[0]
        kind = rng.choices((ItemKind.LETTER, ItemKind.PACKET, ItemKind.PARCEL), weights=(80, 15, 5))[0]
        weight = {ItemKind.LETTER: (15, 350), ItemKind.PACKET: (300, 2_500), ItemKind.PARCEL: (2_000, 15_000)}[kind]
        deliver_by = None
        if urgency == Urgency.SCHEDULED:
            deliver_by = local(next_workday(next_workday(self.clock.now.astimezone(LOCAL_TZ).date())), 11, 0)
        if sender.pk not in self.numbers:
            self.numbers[sender.pk] = rng.randint(40, 400)  # where the agency's register stood two months ago
        number = self.numbers[sender.pk] = self.numbers[sender.pk] + rng.randint(1, 6)
        abbr = _abbreviation(sender.short_name)
        private = {"registry_number": f"{number}/VT-{abbr}",
                   "document_number": f"{number}/{rng.choice(DOC_TYPES)}-{abbr}"}
        if secrecy != Secrecy.A and rng.random() < 0.8:
            private["summary"] = rng.choice(SUBJECTS)  # an A document has no summary (Decree 63/2026)
        named, named_only = "", False
        if secrecy == Secrecy.A or rng.random() < 0.08:
            named = "Đồng chí Bí thư" if recipient.agency_type == AgencyType.PARTY else "Đồng chí Thủ trưởng cơ quan"
            named_only = secrecy == Secrecy.A
        local_recipient = recipient.province_id == self.tq.pk and self.unit_of[recipient.pk] not in (
            HA_GIANG_UNITS | CHIEM_HOA_UNITS)
        roll = rng.random()
        if fate is None:
            fate = "deliver"
            if urgency == Urgency.NONE and roll < 0.025:
                fate = "cancel"
            elif urgency == Urgency.NONE and secrecy != Secrecy.A and local_recipient and roll < 0.045:
                fate = "return"
        item = svc.item_register(actor=clerk.user, data=ItemInput(
            sender_agency=sender, recipient_agency=recipient, kind=kind, weight_g=rng.randint(*weight), secrecy=secrecy,
            urgency=urgency, deliver_by=deliver_by, named_recipient=named, named_only=named_only, private=private))
        piece = _Piece(item.tracking_number, sender, recipient, clerk.user, secrecy, urgency, fate, holder=clerk.user)
        self.pieces.append(piece)
        return piece

    def _area(self, agency: Agency) -> str:
        unit = self.unit_of[agency.pk]
        return "hg" if unit in HA_GIANG_UNITS else "ys" if unit == "08007" else "city"

    def _batch(self, sender: Agency, n: int, recipients: tuple[str, ...] = (), mode: str = "",
               fate: str = "deliver", secrecy: str = Secrecy.NONE) -> None:
        """A clerk registers the day's envelopes, then brings them to the counter or asks for a pickup.
        The scenario of the last days names the recipients (plain letters) and the way ("counter",
        "pickup")."""
        pieces = []
        for i in range(len(recipients) or n):
            if i:
                self.clock.advance(minutes=self.rng.randint(2, 9))
            if recipients:
                pieces.append(self._register(sender, Urgency.NONE, self.loader.agencies[recipients[i]], fate, secrecy))
            else:
                pieces.append(self._register(sender))
        for piece in pieces:
            if piece.fate == "cancel":
                self.at(self.later(5, 40), self._cancel, piece)
            elif piece.urgency == Urgency.EXPRESS:
                piece.stage = EXPRESS
                self.at(self.later(10, 25), self._express_accept, piece)
        regular = [p for p in pieces if p.stage == REGISTERED and p.fate != "cancel"]
        top = [p for p in regular if p.secrecy == Secrecy.A]
        rest = [p for p in regular if p.secrecy != Secrecy.A]
        if top:
            self.at(self.office_time(self.later(20, 80)), self._counter, self.supervisor, top)
        area = self._area(sender)
        counter = {"city": self.counter, "hg": self.hg_counter, "ys": self.ys_counter}[area]
        pickup = self.rng.random() < 0.4 if not mode else mode == "pickup"
        if rest and area in ("city", "hg") and pickup:
            postman, level = (self.postman, Secrecy.B) if area == "city" else (self.hg_postman, Secrecy.C)
            collect = [p for p in rest if Secrecy.covers(level, p.secrecy)]
            rest = [p for p in rest if p not in collect]
            if collect:
                self.at(self.later(3, 10), self._pickup_request, collect, counter, postman)
        if rest:
            self.at(self.office_time(self.later(20, 80)), self._counter, counter, rest)

    def _cancel(self, piece: _Piece) -> None:
        self._event(piece.clerk, piece, EventCode.CANCELLED, note="Văn thư đăng ký nhầm, hủy đăng ký")
        piece.stage = DONE

    def _counter(self, acceptor: User, pieces: list[_Piece]) -> None:
        """The clerk brings the envelopes; the counter checks, both sign the handover list."""
        clerk = pieces[0].clerk
        handover = svc.handover_create(actor=acceptor, kind=HandoverKind.COUNTER, tracking_numbers=_numbers(pieces),
                                       giver=clerk, taker=acceptor, giver_signature=SIGNATURE,
                                       giver_signed_name=clerk.full_name)
        self.clock.advance(minutes=self.rng.randint(1, 4))
        svc.handover_complete(actor=acceptor, handover=handover)
        self._moved(pieces, acceptor, EXPRESS if pieces[0].stage == EXPRESS else HELD)

    def _pickup_request(self, pieces: list[_Piece], counter: User, postman: User) -> None:
        wanted_by = self.later(120, 240) if self.rng.random() < 0.3 else None
        pickup = svc.pickup_request(actor=pieces[0].clerk, agency=pieces[0].sender, tracking_numbers=_numbers(pieces),
                                    wanted_by=wanted_by)
        self.at(self.office_time(self.later(10, 45)), self._pickup_confirm, pickup, pieces, counter, postman)

    def _pickup_confirm(self, pickup, pieces: list[_Piece], counter: User, postman: User) -> None:
        svc.pickup_confirm(actor=counter, pickup=pickup, postman=postman)
        self.at(self.office_time(self.later(40, 120)), self._collect, pieces, postman)

    def _waiting_pickup(self, key: str, recipients: tuple[str, ...], confirm_at: dt.datetime | None) -> None:
        """The scenario's pickups still open at the end: requested, or confirmed but not collected."""
        sender = self.loader.agencies[key]
        pieces = []
        for recipient in recipients:
            pieces.append(self._register(sender, Urgency.NONE, self.loader.agencies[recipient], "deliver"))
            self.tick(60, 300)
        pickup = svc.pickup_request(actor=pieces[0].clerk, agency=sender, tracking_numbers=_numbers(pieces),
                                    note="Đề nghị thu gom trong chiều nay")
        if confirm_at is not None:
            self.at(confirm_at, self._confirm_only, pickup)

    def _confirm_only(self, pickup) -> None:
        svc.pickup_confirm(actor=self.counter, pickup=pickup, postman=self.postman)

    def _collect(self, pieces: list[_Piece], postman: User) -> None:
        clerk = pieces[0].clerk
        handover = svc.handover_create(actor=postman, kind=HandoverKind.PICKUP, tracking_numbers=_numbers(pieces),
                                       giver=clerk, taker=postman, giver_signature=SIGNATURE,
                                       giver_signed_name=clerk.full_name)
        self.clock.advance(minutes=self.rng.randint(1, 3))
        svc.handover_complete(actor=postman, handover=handover)
        self._moved(pieces, postman, HELD)

    # --- processing -------------------------------------------------------------------------------

    def _to_processing(self, givers: Iterable[User]) -> None:
        """Counter clerks (or the pickup postman) hand what they accepted to the processing centre;
        the operator on duty signs in their own session a little later and sorts."""
        operator = self.operator_on(self.clock.now)
        for giver in givers:
            pieces = self._held(giver, HELD)
            if pieces:
                handover = self._internal(giver, operator, pieces)
                self.at(self.later(20, 40), self._sort, operator, handover, pieces)

    def _internal(self, giver: User, taker: User, pieces: list[_Piece], note: str = ""):
        handover = svc.handover_create(actor=giver, kind=HandoverKind.INTERNAL, tracking_numbers=_numbers(pieces),
                                       giver=giver, taker=taker, note=note)
        for piece in pieces:
            if piece.stage != EXPRESS:
                piece.stage = LISTED
        self.tick()
        return handover

    def _sort(self, operator: User, handover, pieces: list[_Piece]) -> None:
        svc.handover_complete(actor=operator, handover=handover)
        self.tick()
        self._events(operator, pieces, EventCode.INTO_SORTING, facility_id=self.ktvc.pk)
        for piece in pieces:
            piece.holder = operator
            piece.courier = self._courier_for(piece)
            if piece.stage == EXPRESS:
                self.at(self.later(5, 15), self._express_dispatch, piece)
            else:
                piece.stage = SORTED

    def _courier_for(self, piece: _Piece) -> User:
        target = piece.target
        if target.province_id != self.tq.pk:
            return self.tn_postman
        if piece.secrecy == Secrecy.A:
            return self.supervisor
        unit = self.unit_of[target.pk]
        if Secrecy.covers(Secrecy.C, piece.secrecy):
            if unit in HA_GIANG_UNITS:
                return self.hg_postman
            if unit in CHIEM_HOA_UNITS:
                return self.ch_postman
        return self.postman

    def _driver_out(self) -> None:
        """The mail route to the remote offices leaves early with their sorted items."""
        pieces = self._sorted_for(self.hg_postman, self.ch_postman)
        self._events(self.driver, pieces, EventCode.HANDOVER)
        self._moved(pieces, self.driver, ROUTE)

    def _driver_collect(self) -> None:
        pieces = [p for giver in (self.hg_counter, self.ys_counter, self.hg_postman) for p in self._held(giver, HELD)]
        self._events(self.driver, pieces, EventCode.HANDOVER)
        self._moved(pieces, self.driver, ROUTE_IN)

    def _driver_in(self) -> None:
        pieces = self._held(self.driver, ROUTE_IN)
        if pieces:
            operator = self.operator_on(self.clock.now)
            handover = self._internal(self.driver, operator, pieces, note="Chuyến thư từ các bưu cục huyện")
            self.at(self.later(15, 25), self._sort, operator, handover, pieces)

    def _trip(self) -> None:
        """The inter-provincial mail trip: one list per operator holding Thái Nguyên's items, signed
        by the Thái Nguyên postman when the trip arrives. On the last day the operator seals the plain
        ones in a bag instead (kt1.dispatch), which is still waiting for its trip at the end."""
        pieces = self._sorted_for(self.tn_postman)
        if self.clock.now.astimezone(LOCAL_TZ).date() == self.plan.last_day:
            self._bag([p for p in pieces if p.secrecy == Secrecy.NONE and p.holder.pk == self.operators[0].pk])
            return
        for holder in {p.holder.pk: p.holder for p in pieces}.values():
            mine = [p for p in pieces if p.holder.pk == holder.pk]
            handover = self._internal(holder, self.tn_postman, mine, note="Chuyến thư liên tỉnh Tuyên Quang – Thái Nguyên")
            self.at(self.later(120, 150), self._arrive, handover, mine)

    def _bag(self, pieces: list[_Piece]) -> None:
        if not pieces:
            return
        operator = self.operators[0]
        bag = dispatch.bag_create(actor=operator, destination=self.loader.facilities["tn_bdt"])
        for piece in pieces:
            dispatch.bag_add_item(actor=operator, bag=bag, tracking_number=piece.number)
            self.tick(3, 10)
        dispatch.bag_seal(actor=operator, bag=bag, seal_number=f"KC{self.rng.randint(100_000, 999_999)}")
        for piece in pieces:
            piece.stage = BAGGED

    def _arrive(self, handover, pieces: list[_Piece]) -> None:
        svc.handover_complete(actor=self.tn_postman, handover=handover)
        self._moved(pieces, self.tn_postman, CARRIED)
        self.tick()

    # --- delivery -------------------------------------------------------------------------------

    def _take(self, part: str) -> None:
        """Postmen of the central office (and the supervisor) take their round from the operator,
        each recording the handover as the taker."""
        for courier in (self.postman, self.supervisor):
            # The afternoon round stays in the city.
            pieces = [p for p in self._sorted_for(courier) if part == "am" or self.unit_of[p.target.pk] in CITY_UNITS]
            self._events(courier, pieces, EventCode.HANDOVER)
            self._moved(pieces, courier, CARRIED)

    def _returns(self) -> None:
        pieces = [p for p in self.pieces if p.stage == TO_RETURN]
        self._events(self.supervisor, pieces, EventCode.RETURN_STARTED,
                     note="Cơ quan nhận không nhận được bưu gửi: chuyển hoàn về cơ quan gửi")
        for piece in pieces:
            piece.returning, piece.stage = True, CARRIED

    def _remote_round(self, courier: User) -> None:
        """A remote postman takes the route's bag from the driver at the office, then goes out."""
        pieces = [p for p in self._held(self.driver, ROUTE) if p.courier.pk == courier.pk]
        self._events(courier, pieces, EventCode.HANDOVER)
        self._events(courier, pieces, EventCode.AT_DELIVERY_OFFICE)
        self._moved(pieces, courier, CARRIED)
        self.clock.advance(minutes=self.rng.randint(5, 15))
        self._round(courier, "am")

    def _round(self, courier: User, part: str) -> None:
        stages = (CARRIED,) if part == "pm" else (CARRIED, FAILED)
        pieces = [p for p in self.pieces if p.holder.pk == courier.pk and p.stage in stages]
        if not pieces:
            return
        self._events(courier, pieces, EventCode.OUT_FOR_DELIVERY)
        for piece in pieces:
            piece.stage = OUT
        visits: dict[tuple[int, bool], list[_Piece]] = {}
        for piece in pieces:
            visits.setdefault((piece.target.pk, piece.returning), []).append(piece)
        groups = list(visits.values())
        self.rng.shuffle(groups)
        # The visits spread over the round, which ends before noon or at 17:00.
        first = self.later(15, 30)
        day = first.astimezone(LOCAL_TZ).date()
        end = local(day, 11, 45) if part == "am" else local(day, 17, 0)
        step = max((end - first) / len(groups), dt.timedelta(minutes=8))
        for index, group in enumerate(groups):
            self.at(first + index * step, self._visit, courier, group)

    def _visit(self, courier: User, pieces: list[_Piece]) -> None:
        """At the agency: the clerk checks the envelopes and signs on the postman's screen, or nobody
        can sign (the agency is absent or closed), or an envelope is refused or undeliverable."""
        at = self.clock.now.astimezone(LOCAL_TZ)
        off_hours = not is_workday(at.date()) or not (7 <= at.hour < 18)
        forced = courier.pk == self.postman.pk and at.date() == self.failure_due and at.hour < 12
        if forced:
            self.failure_due = None
        if forced or self.rng.random() < (0.35 if off_hours else 0.04):
            self._events(courier, pieces, EventCode.DELIVERY_FAILED, reason_code="NGHI" if off_hours else "VANG")
            for piece in pieces:
                piece.stage = FAILED
            return
        handed = []
        for piece in pieces:
            if piece.fate == "return" and not piece.returning:
                self._event(courier, piece, EventCode.DELIVERY_FAILED, reason_code=self.rng.choice(RETURN_REASONS))
                piece.stage = TO_RETURN
            else:
                handed.append(piece)
        if not handed:
            return
        target = handed[0].target
        clerk = self.clerks[target.pk].user
        kind = HandoverKind.RETURN if handed[0].returning else HandoverKind.DELIVERY
        handover = svc.handover_create(actor=courier, kind=kind, tracking_numbers=_numbers(handed), giver=courier,
                                       taker=clerk)
        self.clock.advance(minutes=self.rng.randint(1, 4))
        svc.handover_complete(actor=courier, handover=handover, taker_signature=SIGNATURE,
                              taker_signed_name=clerk.full_name)
        self._moved(handed, clerk, DONE)

    # --- urgent (Hỏa tốc) -------------------------------------------------------------------------

    def _urgent(self) -> None:
        sender = self.rng.choice(self.city_senders)
        piece = self._register(sender, urgency=Urgency.EXPRESS)
        piece.stage = EXPRESS
        self.at(self.later(15, 30), self._express_accept, piece)

    def _express_accept(self, piece: _Piece) -> None:
        area = self._area(piece.sender)
        acceptor = self.supervisor if piece.secrecy == Secrecy.A else {
            "city": self.counter, "hg": self.hg_counter, "ys": self.ys_counter}[area]
        self._counter(acceptor, [piece])
        travel = (10, 20) if area == "city" else (70, 110)
        self.at(self.later(10, 20), self._express_to_processing, piece, travel)

    def _express_to_processing(self, piece: _Piece, travel: tuple[int, int]) -> None:
        operator = self.operator_on(self.clock.now)
        handover = self._internal(piece.holder, operator, [piece], note="Hỏa tốc")
        self.at(self.later(*travel), self._sort, operator, handover, [piece])

    def _express_dispatch(self, piece: _Piece) -> None:
        courier = piece.courier
        if courier.pk == self.tn_postman.pk:
            handover = self._internal(piece.holder, courier, [piece], note="Hỏa tốc — chuyến thư riêng")
            self.at(self.later(100, 150), self._express_arrive, handover, piece)
        elif courier.pk in (self.hg_postman.pk, self.ch_postman.pk):
            self._event(self.driver, piece, EventCode.HANDOVER)
            piece.holder = self.driver
            self.at(self.later(60, 110), self._express_remote, piece)
        else:
            self._event(courier, piece, EventCode.HANDOVER)
            piece.holder = courier
            self.at(self.later(3, 8), self._express_out, piece)

    def _express_arrive(self, handover, piece: _Piece) -> None:
        svc.handover_complete(actor=piece.courier, handover=handover)
        piece.holder = piece.courier
        self.at(self.later(10, 20), self._express_out, piece)

    def _express_remote(self, piece: _Piece) -> None:
        self._event(piece.courier, piece, EventCode.HANDOVER)
        self._event(piece.courier, piece, EventCode.AT_DELIVERY_OFFICE)
        piece.holder = piece.courier
        self.at(self.later(3, 8), self._express_out, piece)

    def _express_out(self, piece: _Piece) -> None:
        self._event(piece.courier, piece, EventCode.OUT_FOR_DELIVERY)
        piece.stage = OUT
        self.at(self.later(20, 60), self._visit, piece.courier, [piece])

    # --- helpers ----------------------------------------------------------------------------------

    def _event(self, actor: User, piece: _Piece, code: str, **fields) -> None:
        self._events(actor, [piece], code, **fields)

    def _events(self, actor: User, pieces: list[_Piece], code: str, **fields) -> None:
        """One person records the same event for several items at once (a handheld's batch)."""
        if not pieces:
            return
        requests = [CustodyRequest(event_uuid=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                                   tracking_number=piece.number, code=code, **fields) for piece in pieces]
        for outcome in svc.custody_record_batch(actor=actor, requests=requests):
            if not outcome.ok:
                raise outcome.error
        self.tick()

    def _moved(self, pieces: list[_Piece], holder: User, stage: str) -> None:
        for piece in pieces:
            piece.holder, piece.stage = holder, stage
        self.tick()

    def _held(self, holder: User, stage: str) -> list[_Piece]:
        return [p for p in self.pieces if p.stage == stage and p.holder.pk == holder.pk]

    def _sorted_for(self, *couriers: User) -> list[_Piece]:
        wanted = {c.pk for c in couriers}
        return [p for p in self.pieces if p.stage == SORTED and p.courier.pk in wanted]


def _numbers(pieces: Iterable[_Piece]) -> list[str]:
    return [p.number for p in pieces]


def _username(full_name: str, taken: set[str]) -> str:
    """"Nguyễn Thị Thu Hà" → "nguyen.thi.thu.ha" (then .2, .3 … when taken)."""
    plain = unicodedata.normalize("NFD", full_name.replace("đ", "d").replace("Đ", "D"))
    base = ".".join("".join(c for c in plain if not unicodedata.combining(c)).lower().split())
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}.{n}"
    return candidate


def _abbreviation(short_name: str) -> str:
    """The sign an agency puts after its document numbers: "UBND tỉnh" → "UBND", "Sở Nội vụ" → "SNV"."""
    words = [w for w in short_name.replace("&", " ").split() if w.lower() != "tỉnh"]
    if words and words[0].isupper() and len(words[0]) > 1:
        return words[0]
    return "".join(w[0].upper() for w in words)
