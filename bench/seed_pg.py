#!/usr/bin/env python3
"""Seed a throwaway PostgreSQL database for the benchmarks: a province, its people, 1M items and
~6M custody events.

    scripts/pg_cluster.py run --durable -- .venv/bin/python bench/seed_pg.py [--items 1000000 --events 6000000]

1. migrate;
2. the world, through the services (so it is validated and audited like real data): the demo
   province (kt1 load_demo: Tuyên Quang after the 2025 reform, 80 agencies, 15 facilities), item
   rules and delivery-failure reasons, and benchmark staff: a clerk for every agency of the
   province, a counter clerk and two postmen at every post office, four operators at the
   processing centre, every one vetted to level A and trained; API tokens for the lookup viewer
   (demo.supervisor, whose scope is the whole provincial network) and the ingest postmen;
3. items and custody events with COPY (a million rows through the ORM would take most of an hour):
   senders are the agencies enrolled in KT1, weighted (provincial bodies send more than commune
   ones), recipients any agency of the province; secrecy, urgency, kind and weight mixed. Each
   item follows one path through the custody state machine (pickup and direct delivery; counter
   acceptance, processing centre and delivery office; a failed attempt; a return; a cancellation;
   the newest items still on their way) and its row (status, holder, holder_since, facility,
   accepted_at, first_attempt_at, delivered_at, last_event_seq, is_returning) is exactly the
   projection the custody engine would have left after those events;
4. the ingest pool: recent items accepted at a counter and handed to an operator of the
   processing centre (KREG, EMA, KHOV), waiting for the postmen of bench/ingest.py.

What the COPY-loaded rows do not have: audit entries (the chain holds only what the services
wrote: the world and, later, the benchmarks' own events) and request fingerprints (a placeholder;
they only matter to a client retrying that very event). `verify_audit` therefore reports the
seeded events as unsealed; the audit chain itself verifies.

Writes var/bench/manifest.json (tokens, the pool, counts) and var/bench/tracking_numbers.txt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DIR, MANIFEST_FILE, require_database_url, say, setup_django  # noqa: E402

BENCH_PASSWORD = "bench-Kt1-pass-2026"
INGEST_CLIENTS_MAX = 4
SERIAL_FIRST = 10_000_000


# --- the world, through the services ------------------------------------------------------------


def build_world() -> dict:
    from django.test import override_settings

    # A fast hasher while ~150 people are created (the server checks API tokens, not passwords),
    # demo mode for the demo province loader, without its two months of item history (the items
    # come from load_items); all only inside this seeding process.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], KT1_DEMO=True,
                           KT1_DEMO_HISTORY_DAYS=0):
        return _build_world()


def _build_world() -> dict:
    from kt1.accounts import services as people
    from kt1.accounts.choices import Role
    from kt1.accounts.models import User
    from kt1.core.choices import Secrecy
    from kt1.core.clock import local_today, now
    from kt1.demo import data as D
    from kt1.demo.loader import load_demo
    from kt1.directory.choices import FacilityKind
    from kt1.directory.models import AdministrativeUnit, Agency, AgencyAddress, Facility
    from kt1.items import services as items

    t0 = time.monotonic()
    load_demo()
    admin = User.objects.get(username=D.DEMO_ADMIN_USERNAME)
    police = User.objects.get(username="demo.police")
    province = AdministrativeUnit.objects.get(code=D.PROVINCE_CODE)
    from kt1.items.models import DeliveryFailureReason, KindRule

    long_ago = local_today() - dt.timedelta(days=900)
    for kind, limit in (("letter", 2000), ("packet", 5000), ("parcel", 30000)):
        if not KindRule.objects.filter(kind=kind).exists():
            items.kind_rule_set(actor=admin, kind=kind, max_weight_g=limit, legal_basis="Giá trị cho đo hiệu năng",
                                valid_from=long_ago)
    for code, label, action in (("ABSENT", "Cơ quan nhận không có người nhận", "retry"),
                                ("MOVED", "Cơ quan đã chuyển địa điểm", "return")):
        if not DeliveryFailureReason.objects.filter(code=code).exists():
            items.failure_reason_create(actor=admin, code=code, label=label, default_next_action=action,
                                        valid_from=long_ago)

    facilities = list(Facility.objects.filter(province=province).order_by("postcode"))
    offices = [f for f in facilities if f.kind == FacilityKind.POST_OFFICE]
    processing = next(f for f in facilities if f.kind == FacilityKind.PROCESSING)
    provincial_post = next(f for f in facilities if f.kind == FacilityKind.PROVINCIAL_POST)
    items.serial_range_create(actor=admin, facility=provincial_post, first_serial=SERIAL_FIRST,
                              last_serial=SERIAL_FIRST + 9_999_999)

    def cleared(user: User) -> User:
        vetting = people.vetting_request(actor=admin, user=user, note="Đo hiệu năng")
        people.vetting_approve(actor=police, vetting=vetting, valid_until=now() + dt.timedelta(days=730),
                               max_secrecy=Secrecy.A, reference="BENCH")
        people.training_record(actor=admin, user=user, course=D.TRAINING_COURSE,
                               completed_on=local_today() - dt.timedelta(days=30))
        return user

    def person(username: str, role: str, **target) -> int:
        user = people.user_create(actor=admin, username=username, full_name=username.replace(".", " ").title(),
                                  password=BENCH_PASSWORD, role=role, **target)
        return cleared(user).pk

    agencies = list(Agency.objects.filter(province=province).order_by("pk"))
    addresses = {a.agency_id: a for a in AgencyAddress.objects.filter(agency__in=agencies, is_default=True)}
    for a in AgencyAddress.objects.filter(agency__in=agencies).order_by("-pk"):
        addresses.setdefault(a.agency_id, a)
    office_by_unit = {f.admin_unit_id: f for f in offices}
    central = next(f for f in offices if f.postcode == "22010")
    world = {"agencies": [], "offices": {}, "processing": processing.pk, "operators": []}
    for agency in agencies:
        address = addresses[agency.pk]
        office = office_by_unit.get(address.admin_unit_id, central)
        level = agency.level
        world["agencies"].append({
            "id": agency.pk, "address": address.pk, "office": office.pk,
            "provincial": level == "province", "enrolled": agency.enrolled_on is not None,
            "clerk": person(f"bench.vt.{agency.pk}", Role.AGENCY_CLERK, agency=agency),
        })
    for office in offices:
        world["offices"][office.pk] = {
            "postcode": office.postcode,
            "counter": person(f"bench.gdv.{office.postcode}", Role.COUNTER_CLERK, facility=office),
            "postmen": [person(f"bench.bt.{office.postcode}.{i}", Role.POSTMAN, facility=office) for i in (1, 2)],
        }
    world["operators"] = [person(f"bench.ktv.{i}", Role.OPERATOR, facility=processing) for i in range(1, 5)]

    world["kind_rules"] = dict(KindRule.objects.values_list("kind", "pk"))
    world["reasons"] = dict(DeliveryFailureReason.objects.values_list("code", "pk"))
    world["issuing_facility"] = provincial_post.pk

    # API tokens: the lookup viewer and one postman per ingest client, each from another office.
    viewer = User.objects.get(username="demo.supervisor")
    world["viewer"] = {"username": viewer.username, "token": people.api_token_create(actor=admin, user=viewer).key}
    world["clients"] = []
    for office in offices[:INGEST_CLIENTS_MAX]:
        postman = User.objects.get(pk=world["offices"][office.pk]["postmen"][0])
        world["clients"].append({"username": postman.username, "postman": postman.pk, "office": office.pk,
                                 "token": people.api_token_create(actor=admin, user=postman).key})
    say(f"world through the services: {len(agencies)} agencies, {len(offices)} post offices, "
        f"{User.objects.count()} people, in {time.monotonic() - t0:.1f} s")
    return world


# --- items and events: small tables by COPY, the millions generated inside PostgreSQL -------------
#
# Generating the rows in Python and COPYing them in was measured at ~10,000 events/s on this
# machine (string formatting dominates): 10 minutes for 6M. PostgreSQL generates them from a few
# small tables COPYed in (agencies, offices, the journeys as templates) more than ten times faster.

KREG, EMA, KHOV, EDD, EDE, EMG, EDG, EMH, EMI, KRET, KCAN = (
    "KREG", "EMA", "KHOV", "EDD", "EDE", "EMG", "EDG", "EMH", "EMI", "KRET", "KCAN")
# Minutes after the previous event (plus a per-item jitter of 0–10 minutes per step).
GAP = {KREG: 0, EMA: 90, KHOV: 40, EDD: 20, EDE: 150, EMG: 70, EDG: 45, EMH: 80, EMI: 75, KRET: 30, KCAN: 25}

# Roles: cs/cr sender's/recipient's clerk, ks sender office's counter clerk, ps/pr a postman of the
# sender's/recipient's office, op an operator of the processing centre. Facilities: so/ro the
# sender's/recipient's post office, pc the processing centre.
# Step: (code, status_after, actor, giver, taker, facility, reason, next_action); a taker means the
# edge moves custody.
_REG = (KREG, "registered", "cs", None, "cs", None, None, "")
_COUNTER = [_REG, (EMA, "accepted", "ks", "cs", "ks", "so", None, ""), (KHOV, "accepted", "op", "ks", "op", "pc", None, "")]
_LONG = _COUNTER + [(EDD, "accepted", "op", None, None, "pc", None, ""), (EDE, "accepted", "op", None, None, "pc", None, ""),
                    (KHOV, "accepted", "pr", "op", "pr", "ro", None, ""), (EMG, "accepted", "pr", None, None, "ro", None, ""),
                    (EDG, "out_for_delivery", "pr", None, None, "ro", None, "")]
_SHORT = [_REG, (EMA, "accepted", "ps", "cs", "ps", "so", None, ""), (EDG, "out_for_delivery", "ps", None, None, "so", None, "")]


def _fail(who: str, office: str) -> list[tuple]:
    return [(EMH, "delivery_failed", who, None, None, office, "ABSENT", "retry"),
            (EDG, "out_for_delivery", who, None, None, office, None, "")]


PATHS: dict[str, list[tuple]] = {
    "pool": _COUNTER,  # waiting at the processing centre for bench/ingest.py
    "cancelled": [_REG, (KCAN, "cancelled", "cs", None, None, None, None, "")],
    "short": _SHORT + [(EMI, "delivered", "ps", "ps", "cr", "so", None, "")],
    "short_failed": _SHORT + _fail("ps", "so") + [(EMI, "delivered", "ps", "ps", "cr", "so", None, "")],
    "long": _LONG + [(EMI, "delivered", "pr", "pr", "cr", "ro", None, "")],
    "long_failed": _LONG + _fail("pr", "ro") + [(EMI, "delivered", "pr", "pr", "cr", "ro", None, "")],
    "returned": _LONG + [(EMH, "delivery_failed", "pr", None, None, "ro", "MOVED", "return"),
                         (KRET, "accepted", "pr", None, None, "ro", None, ""),
                         (EDG, "out_for_delivery", "pr", None, None, "ro", None, ""),
                         (EMI, "returned", "pr", "pr", "cs", "ro", None, "")],
}
CANCELLED_SHARE, RETURNED_SHARE, FAILED_SHARE = 0.01, 0.01, 0.07


def path_rows(reasons: dict[str, int]) -> tuple[list[tuple], list[tuple]]:
    """The journeys as rows: one per step (path, seq, ..., minutes since registration), and the
    item's projection after each prefix, replayed exactly as kt1.items.services._apply updates it."""
    steps, states = [], []
    for name, path in PATHS.items():
        minutes = 0
        at: dict[int, int] = {}  # seq -> minutes since registration
        holder, holder_seq, facility, accepted, first_attempt, delivered, returning = "cs", 1, None, None, None, None, False
        for seq, (code, status, actor, giver, taker, fac, reason, next_action) in enumerate(path, start=1):
            minutes += GAP[code]
            at[seq] = minutes
            steps.append((name, seq, code, status, actor, giver, taker, fac, reasons.get(reason), next_action, minutes))
            if taker is not None:
                holder, holder_seq = taker, seq
            if fac is not None and code != EMI:
                facility = fac
            if code == EMA:
                accepted = seq
            if code in (EMH, EMI) and first_attempt is None:
                first_attempt = seq
            if code == EMI:
                delivered, facility = seq, None
            if code == KRET:
                returning = True
            states.append((name, seq, status, holder, holder_seq, at[holder_seq], facility, accepted, at.get(accepted),
                           first_attempt, at.get(first_attempt), delivered, at.get(delivered), returning))
    return steps, states


def _copy_rows(cur, table: str, rows: list[tuple]) -> None:
    with cur.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


TABLES = ("items_item", "items_custodyevent")


def _drop_indexes(cur) -> list[str]:
    """Drop secondary indexes and unique constraints (not primary or foreign keys) of the two
    tables; return the statements that recreate them. Building an index once after the load is
    several times faster than maintaining it row by row."""
    recreate: list[str] = []
    for table_name in TABLES:
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'u'", [table_name])
        constraints = cur.fetchall()
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u'))",
                    [table_name, table_name])
        indexes = cur.fetchall()
        for name, definition in constraints:
            cur.execute(f'ALTER TABLE {table_name} DROP CONSTRAINT "{name}"')
            recreate.append(f'ALTER TABLE {table_name} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
            recreate.append(definition)
    return recreate


def _p_long(n_items: int, n_events: int, pool: int, in_flight: int) -> float:
    """The share of long journeys that brings the total to n_events (in-flight items count about
    half a long journey, the pool three events each)."""
    settled = n_items - pool - in_flight
    per_item = (n_events - 3 * pool - 4.5 * in_flight) / max(1, settled)
    fixed = CANCELLED_SHARE * 2 + RETURNED_SHARE * 12
    rest = 1 - CANCELLED_SHARE - RETURNED_SHARE
    return min(1.0, max(0.0, ((per_item - fixed) / rest - 4 - 2 * FAILED_SHARE) / 5))


# One statement per stage; %(name)s parameters.
STAGING_SQL = """
CREATE TEMP TABLE bench_item AS
WITH draws AS (
    SELECT g AS id, random() AS r_path, random() AS r_fail, random() AS r_cut, random() AS r_send,
           random() AS r_recv, random() AS r_recv2, random() AS r_time, random() AS r_sec, random() AS r_urg,
           random() AS r_kind, random() AS r_weight, random() AS r_named, random() AS r_private,
           (random() * 4)::int %% 4 AS op, (random() * 2)::int %% 2 AS ps, (random() * 2)::int %% 2 AS pr,
           (random() * 600)::int AS jitter
    FROM generate_series(1, %(n)s) AS g
), shaped AS (
    SELECT d.*,
           CASE WHEN d.id > %(n)s - %(pool)s THEN 'pool'
                WHEN d.id > %(n)s - %(pool)s - %(in_flight)s THEN 'long'
                WHEN d.r_path < %(cancelled)s THEN 'cancelled'
                WHEN d.r_path < %(cancelled)s + %(returned)s THEN 'returned'
                WHEN (d.r_path - %(cancelled)s - %(returned)s) / (1 - %(cancelled)s - %(returned)s) < %(p_long)s
                     THEN CASE WHEN d.r_fail < %(failed)s THEN 'long_failed' ELSE 'long' END
                ELSE CASE WHEN d.r_fail < %(failed)s THEN 'short_failed' ELSE 'short' END
           END AS path
    FROM draws d
)
SELECT s.id, s.path, s.op, s.ps, s.pr, s.jitter,
       CASE WHEN s.path = 'pool' THEN 3
            WHEN s.id > %(n)s - %(pool)s - %(in_flight)s THEN 1 + floor(s.r_cut * 8)::int  -- still on its way
            ELSE (SELECT max(seq) FROM bench_step st WHERE st.path = s.path) END AS n_steps,
       CASE WHEN s.id > %(n)s - %(pool)s - %(in_flight)s
                 THEN %(recent)s::timestamptz + make_interval(secs => s.r_time * 86400)
            ELSE %(oldest)s::timestamptz + make_interval(secs => (s.id - 1)::float8 / %(settled)s * %(span)s) END
           AS registered,
       sa.idx AS s_idx, CASE WHEN ra.idx = sa.idx THEN ra2.idx ELSE ra.idx END AS r_idx,
       CASE WHEN s.r_sec < 0.55 THEN 'none' WHEN s.r_sec < 0.80 THEN 'C' WHEN s.r_sec < 0.95 THEN 'B' ELSE 'A' END
           AS secrecy,
       CASE WHEN s.r_urg < 0.85 THEN 'none' WHEN s.r_urg < 0.97 THEN 'express' ELSE 'scheduled' END AS urgency,
       CASE WHEN s.r_kind < 0.80 THEN 'letter' WHEN s.r_kind < 0.97 THEN 'packet' ELSE 'parcel' END AS kind,
       s.r_weight, s.r_named < 0.1 AS named, s.r_private < 0.7 AS private
FROM shaped s
JOIN bench_send_ticket st ON st.t = floor(s.r_send * %(send_tickets)s)::int
JOIN bench_recv_ticket rt ON rt.t = floor(s.r_recv * %(recv_tickets)s)::int
JOIN bench_recv_ticket rt2 ON rt2.t = floor(s.r_recv2 * %(recv_tickets)s)::int
JOIN bench_agency sa ON sa.idx = st.idx
JOIN bench_agency ra ON ra.idx = rt.idx
JOIN bench_agency ra2 ON ra2.idx = CASE WHEN rt2.idx = sa.idx THEN (sa.idx + 1) %% %(agencies)s ELSE rt2.idx END
"""

# Who plays a role for one item (i: bench_item, sa/ra: sender/recipient agency, so/ro: their offices).
ROLE_SQL = """CASE {role} WHEN 'cs' THEN sa.clerk WHEN 'cr' THEN ra.clerk WHEN 'ks' THEN so.counter
    WHEN 'ps' THEN so.postmen[1 + i.ps] WHEN 'pr' THEN ro.postmen[1 + i.pr] WHEN 'op' THEN (%(operators)s::bigint[])[1 + i.op]
    END"""
FACILITY_SQL = "CASE {facility} WHEN 'so' THEN sa.office WHEN 'ro' THEN ra.office WHEN 'pc' THEN %(processing)s END"
WORLD_JOINS = """JOIN bench_agency sa ON sa.idx = i.s_idx JOIN bench_agency ra ON ra.idx = i.r_idx
    JOIN bench_office so ON so.id = sa.office JOIN bench_office ro ON ro.id = ra.office"""


def _at(minutes: str, seq: str) -> str:
    return f"i.registered + make_interval(secs => {minutes} * 60 + i.jitter * ({seq} - 1))"


EVENTS_SQL = f"""
INSERT INTO items_custodyevent (item_id, seq, event_uuid, fingerprint, code, status_after, actor_id, giver_id,
    taker_id, facility_id, occurred_at, device_time, reason_id, next_action, note, handover_id, audit_seq)
SELECT i.id, s.seq, gen_random_uuid(), %(fingerprint)s, s.code, s.status_after,
       {ROLE_SQL.format(role="s.actor")}, {ROLE_SQL.format(role="s.giver")}, {ROLE_SQL.format(role="s.taker")},
       {FACILITY_SQL.format(facility="s.facility")},
       {_at("s.minutes", "s.seq")},
       CASE WHEN s.seq > 1 THEN {_at("s.minutes", "s.seq")} - interval '7 seconds' END,
       s.reason, s.next_action, '', NULL, NULL
FROM bench_item i JOIN bench_step s ON s.path = i.path AND s.seq <= i.n_steps
{WORLD_JOINS}
ORDER BY i.id, s.seq
"""


def _when(seq_column: str) -> str:
    return f"CASE WHEN p.{seq_column} IS NOT NULL THEN {_at(f'p.{seq_column}_min', f'p.{seq_column}')} END"


ITEMS_SQL = f"""
INSERT INTO items_item (id, tracking_number, kind, weight_g, secrecy, urgency, deliver_by, zone, sender_agency_id,
    recipient_agency_id, recipient_address_id, named_recipient, named_only, private_data, status, is_returning,
    holder_id, holder_since, facility_id, issuing_facility_id, registered_by_id, registered_at, kind_rule_id,
    accepted_at, first_attempt_at, delivered_at, last_event_seq, pickup_request_id)
SELECT i.id, pg_temp.s10(%(serial_first)s + i.id - 1), i.kind,
       CASE i.kind WHEN 'letter' THEN 20 + (i.r_weight * 280)::int WHEN 'packet' THEN 300 + (i.r_weight * 2700)::int
                   ELSE 1000 + (i.r_weight * 14000)::int END,
       i.secrecy, i.urgency,
       CASE WHEN i.urgency = 'scheduled' THEN i.registered + interval '3 days' END, 'within', sa.id, ra.id, ra.address,
       CASE WHEN i.named THEN 'Đồng chí Chánh Văn phòng' ELSE '' END, i.named AND i.secrecy = 'A',
       CASE WHEN i.private THEN (%(private)s::text[])[1 + i.id %% 64] ELSE '' END,
       p.status, p.is_returning, {ROLE_SQL.format(role="p.holder")}, {_when("holder_seq")},
       {FACILITY_SQL.format(facility="p.facility")}, %(issuing)s, sa.clerk, i.registered,
       (%(kind_rules)s::jsonb ->> i.kind)::bigint,
       {_when("accepted")}, {_when("first_attempt")}, {_when("delivered")}, i.n_steps, NULL
FROM bench_item i JOIN bench_state p ON p.path = i.path AND p.seq = i.n_steps
{WORLD_JOINS}
ORDER BY i.id
"""

S10_FUNCTION = """
CREATE FUNCTION pg_temp.s10(serial bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT 'KT' || lpad(serial::text, 8, '0') || (
        SELECT CASE c WHEN 10 THEN 0 WHEN 11 THEN 5 ELSE c END FROM (SELECT 11 - (
            8 * (serial / 10000000 %% 10) + 6 * (serial / 1000000 %% 10) + 4 * (serial / 100000 %% 10)
          + 2 * (serial / 10000 %% 10) + 3 * (serial / 1000 %% 10) + 5 * (serial / 100 %% 10)
          + 9 * (serial / 10 %% 10) + 7 * (serial %% 10)) %% 11 AS c) AS x
    )::text || 'VN'
$$
"""


def load_items(world: dict, *, n_items: int, n_events: int, pool: int, seed: int) -> dict:
    """COPY the world's small tables, generate items and events from them, rebuild indexes."""
    import psycopg
    from django.db import connection

    from kt1.core.clock import now
    from kt1.core.fieldcrypto import encrypt_json

    t0 = time.monotonic()
    moment = now()
    in_flight = max(1, n_items // 100)
    settled = n_items - pool - in_flight
    s = connection.settings_dict
    conninfo = psycopg.conninfo.make_conninfo(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
                                              host=s["HOST"], port=s["PORT"])
    private = [encrypt_json({"registry_number": f"{i}/VP", "document_number": f"{100 + i}/QĐ-UBND",
                             "summary": f"Về việc triển khai nhiệm vụ số {i}"}) for i in range(64)]
    steps, states = path_rows(world["reasons"])
    agencies = world["agencies"]
    send, recv = [], []
    for idx, a in enumerate(agencies):
        if a["enrolled"]:  # only agencies enrolled in KT1 send; provincial bodies send most
            send += [idx] * (40 if a["provincial"] else 6)
        recv += [idx] * (10 if a["provincial"] else 3)
    params = {
        "n": n_items, "pool": pool, "in_flight": in_flight, "settled": settled,
        "cancelled": CANCELLED_SHARE, "returned": RETURNED_SHARE, "failed": FAILED_SHARE,
        "p_long": _p_long(n_items, n_events, pool, in_flight),
        "recent": moment - dt.timedelta(days=2), "oldest": moment - dt.timedelta(days=732),
        "span": 730 * 86400, "send_tickets": len(send), "recv_tickets": len(recv), "agencies": len(agencies),
        "operators": world["operators"], "processing": world["processing"], "issuing": world["issuing_facility"],
        "kind_rules": json.dumps(world["kind_rules"]), "private": private, "serial_first": SERIAL_FIRST,
        # Placeholder: seeded events were not created from a client's request.
        "fingerprint": "0" * 64,
    }
    with psycopg.connect(conninfo) as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM items_item")
        if cur.fetchone()[0]:
            raise SystemExit("items_item is not empty: seed a fresh database")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET work_mem = '256MB'")
        # Rows are consistent by construction; foreign-key triggers would check 8 keys per row.
        cur.execute("SET session_replication_role = replica")
        cur.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        cur.execute(S10_FUNCTION.replace("%%", "%"))
        cur.execute("CREATE TEMP TABLE bench_agency (idx int PRIMARY KEY, id bigint, address bigint, office bigint, "
                    "clerk bigint)")
        _copy_rows(cur, "bench_agency", [(i, a["id"], a["address"], a["office"], a["clerk"]) for i, a in enumerate(agencies)])
        cur.execute("CREATE TEMP TABLE bench_office (id bigint PRIMARY KEY, counter bigint, postmen bigint[])")
        _copy_rows(cur, "bench_office", [(int(pk), o["counter"], o["postmen"]) for pk, o in world["offices"].items()])
        cur.execute("CREATE TEMP TABLE bench_send_ticket (t int PRIMARY KEY, idx int)")
        _copy_rows(cur, "bench_send_ticket", list(enumerate(send)))
        cur.execute("CREATE TEMP TABLE bench_recv_ticket (t int PRIMARY KEY, idx int)")
        _copy_rows(cur, "bench_recv_ticket", list(enumerate(recv)))
        cur.execute("CREATE TEMP TABLE bench_step (path text, seq int, code text, status_after text, actor text, "
                    "giver text, taker text, facility text, reason bigint, next_action text, minutes int, "
                    "PRIMARY KEY (path, seq))")
        _copy_rows(cur, "bench_step", steps)
        cur.execute("CREATE TEMP TABLE bench_state (path text, seq int, status text, holder text, holder_seq int, "
                    "holder_seq_min int, facility text, accepted int, accepted_min int, first_attempt int, "
                    "first_attempt_min int, delivered int, delivered_min int, is_returning bool, PRIMARY KEY (path, seq))")
        _copy_rows(cur, "bench_state", states)
        cur.execute(STAGING_SQL, params)
        cur.execute("ANALYZE bench_item")
        recreate = _drop_indexes(cur)
        say(f"staged {n_items:,} items in {time.monotonic() - t0:.0f} s")
        cur.execute(EVENTS_SQL, params)
        events = cur.rowcount
        say(f"{events:,} events generated at {time.monotonic() - t0:.0f} s")
        cur.execute(ITEMS_SQL, params)
        say(f"{cur.rowcount:,} items generated at {time.monotonic() - t0:.0f} s; rebuilding {len(recreate)} indexes")
        for statement in recreate:
            cur.execute(statement)
        cur.execute("SELECT setval(pg_get_serial_sequence('items_item', 'id'), %s)", [n_items])
        # Serials below this one are taken by the seeded items (no service hands out a block that is
        # already used; this is the one direct write of configuration in the seeder).
        cur.execute("UPDATE items_serialrange SET next_serial = %s WHERE first_serial = %s",
                    [SERIAL_FIRST + n_items, SERIAL_FIRST])
        cur.execute("SELECT i.tracking_number, i.holder_id, ra.clerk FROM bench_item b JOIN items_item i ON i.id = b.id "
                    "JOIN bench_agency ra ON ra.idx = b.r_idx WHERE b.path = 'pool' ORDER BY b.id")
        pool_items = [list(row) for row in cur.fetchall()]
        step = max(1, n_items // 100_000)
        # Cancelled items never reached the post: outside a postal viewer's scope (404), so not sampled.
        cur.execute("SELECT tracking_number FROM items_item WHERE id %% %s = 0 AND status <> 'cancelled' ORDER BY id",
                    [step])
        sample = [row[0] for row in cur.fetchall()]
        conn.commit()
    say(f"indexes rebuilt at {time.monotonic() - t0:.0f} s; vacuum and analyze")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table_name in TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table_name}")
        conn.execute("CHECKPOINT")
    say(f"items and events loaded in {time.monotonic() - t0:.0f} s")
    return {"pool": pool_items, "sample": sample}


def check_sample(numbers: list[str]) -> None:
    """The SQL check digit agrees with kt1.items.s10."""
    from kt1.items import s10

    for number in numbers[:1000]:
        s10.parse(number)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=6_000_000)
    parser.add_argument("--pool", type=int, default=30_000, help="items waiting for the ingest benchmark")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
    args = parser.parse_args(argv)
    require_database_url()
    setup_django(args.bench_dir)
    from django.core.management import call_command

    from kt1.core.clock import now

    t0 = time.monotonic()
    call_command("migrate", verbosity=0)
    say(f"migrated in {time.monotonic() - t0:.1f} s")
    world = build_world()
    loaded = load_items(world, n_items=args.items, n_events=args.events, pool=args.pool, seed=args.seed)
    check_sample(loaded["sample"])
    sample_file = args.bench_dir / "tracking_numbers.txt"
    sample_file.write_text("\n".join(loaded["sample"]) + "\n")
    manifest = {
        "seeded_at": now().isoformat(),
        "seconds": round(time.monotonic() - t0, 1),
        "counts": _counts(),
        "viewer": world["viewer"],
        "clients": world["clients"],
        "pool": loaded["pool"],  # [tracking_number, operator holding it, recipient agency's clerk]
        "sample_file": sample_file.name,
    }
    (args.bench_dir / MANIFEST_FILE).write_text(json.dumps(manifest))
    c = manifest["counts"]
    say(f"seeded {c['items']:,} items and {c['events']:,} custody events ({len(loaded['pool']):,} in the ingest "
        f"pool) in {manifest['seconds']:.0f} s")
    return 0


def _counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as c:
        out = {}
        for key, sql in (("items", "SELECT count(*) FROM items_item"),
                         ("events", "SELECT count(*) FROM items_custodyevent"),
                         ("agencies", "SELECT count(*) FROM directory_agency"),
                         ("people", "SELECT count(*) FROM accounts_user"),
                         ("audit_entries", "SELECT count(*) FROM audit_auditentry")):
            c.execute(sql)
            out[key] = c.fetchone()[0]
        c.execute("SELECT status, count(*) FROM items_item GROUP BY status ORDER BY status")
        out.update({f"status_{s}": n for s, n in c.fetchall()})
    return out


if __name__ == "__main__":
    sys.exit(main())
