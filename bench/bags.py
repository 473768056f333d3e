#!/usr/bin/env python3
"""Closing a bag of 500 items, and opening it: server time on SQLite and on PostgreSQL, next to a
bare insert of 500 rows from the same run (issue 4's performance target: each under 1 s of server
time).

    .venv/bin/python bench/bags.py                  # both: a SQLite temp file, then a durable PostgreSQL
    .venv/bin/python bench/bags.py --db sqlite      # one of them
    .venv/bin/python bench/bags.py --db postgres    # = scripts/pg_cluster.py run --durable -- ... --child
    .venv/bin/python bench/bags.py --scan-batch 100 # the opening's scans uploaded 100 at a time

Server time is time.perf_counter() around the service calls (what a request spends in the domain
layer and the database, without HTTP and JSON), in a process running the production settings
(bench.settings) against a fresh, migrated database: SQLite as configured for production (WAL,
synchronous=NORMAL, immediate transactions), PostgreSQL with fsync, synchronous_commit and
full_page_writes on.

Each repetition fills two bags of 500 new items each (registered by an agency clerk, accepted at
the counter and handed to one processing operator; none of that is timed):

  add      500 × bag_add_item, one transaction each (first bag; reported, no target);
  seal     bag_seal (first bag): one transaction that lists the 500 items and moves their custody
           to the bag (500 KBAG custody events and audit entries);
           [each bag is handed to the receiving counter clerk: transfer_create + transfer_complete]
  opening  (first bag) bag_receive (seal check) + the 500 scans uploaded as a handheld sends them,
           bag_open_scans with --scan-batch scans per call (default: all 500 in one call, one
           transaction: the bag locked once, the lines read with one query, one conditional UPDATE;
           no custody moves, no audit entry) + bag_open_finish (one transaction: custody of the 500
           scanned items moves to the receiver, 500 KOUT custody events with the scan time as their
           device time, each sealed by its audit entry, and one `opened` bag event);
  opening scan by scan
           (second bag) the same with 500 × bag_open_scan, one transaction each (reported next to
           it: what a page scanning one item at a time costs).

Baselines, timed the same way in the same database right after: 500 rows inserted with one
executemany in one transaction (the shape of the seal and of a batch upload), and 500 single-row
inserts in 500 transactions (the shape of scanning one by one), into a scratch table with the
columns of the bag-event table and no checks, no audit, no ORM.

After each repetition the database is checked for each bag (every item back in one person's
hands, 500 KBAG and 500 KOUT events, each KOUT's device time its line's scan time, no scan
refused, no audit entry written by a scan, no incident) and at the end the whole audit chain is
re-verified. Three repetitions by default; the figures are medians. Results:
KT1_BENCH_DIR/bags.json (both databases) and KT1_BENCH_DIR/bags/<database>.json. The exit status is
1 only when a check fails; the verdicts against the target are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DIR, ROOT, machine, say, setup_django, table  # noqa: E402

TARGET_S = 1.0
BAGS_DIR = BENCH_DIR / "bags"
DATABASES = ("sqlite", "postgres")


# --- the child: one database ------------------------------------------------------------------------


def build_world():
    """A province through the services (tests/factories.py), its people vetted and trained."""
    import datetime as dt

    from django.test import override_settings

    from kt1.core.choices import Secrecy
    from kt1.core.clock import local_today
    from kt1.dispatch import services as d
    from tests import factories as f

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        w = f.build_province_world("Tỉnh đo")
        p = w.people
        for role in ("agency_clerk", "counter_clerk", "operator"):
            f.cleared(p[role], Secrecy.B, police=p["police"])
        d.mix_rule_set(actor=f.root_admin(), groups=[["A"], ["B", "C"], ["none"]],
                       valid_from=local_today() - dt.timedelta(days=1))
    return w


def items_for_operator(w, n: int) -> list:
    """n items registered by the agency clerk, accepted by the counter clerk, handed to the operator."""
    from kt1.items import services as svc
    from kt1.items.choices import EventCode
    from tests import factories as f

    p = w.people
    items = [f.item(p["agency_clerk"], w.other_agency) for _ in range(n)]
    for actor, code in ((p["counter_clerk"], EventCode.ACCEPTED), (p["operator"], EventCode.HANDOVER)):
        outcomes = svc.custody_record_batch(actor=actor, requests=[
            svc.CustodyRequest(event_uuid=uuid.uuid4(), tracking_number=i.tracking_number, code=code) for i in items])
        refused = [o for o in outcomes if not o.ok]
        if refused:
            raise SystemExit(f"setup: {len(refused)} {code} events refused: {refused[0].error}")
    return items


def scratch_table_create() -> None:
    from django.db import connection

    key = "INTEGER PRIMARY KEY AUTOINCREMENT" if connection.vendor == "sqlite" else "BIGSERIAL PRIMARY KEY"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bag_insert")
        cursor.execute(
            f"CREATE TABLE bench_bag_insert (id {key}, bag_id BIGINT NOT NULL, seq INTEGER NOT NULL, "
            "code VARCHAR(14) NOT NULL, actor_id BIGINT NOT NULL, giver_id BIGINT NULL, taker_id BIGINT NULL, "
            "facility_id BIGINT NULL, item_id BIGINT NULL, occurred_at TIMESTAMP WITH TIME ZONE NOT NULL, "
            "data TEXT NOT NULL, audit_seq BIGINT NULL, UNIQUE (bag_id, seq))")


INSERT = ("INSERT INTO bench_bag_insert (bag_id, seq, code, actor_id, giver_id, taker_id, facility_id, item_id, "
          "occurred_at, data, audit_seq) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")


def baseline(rep: int, rows: int, actor_id: int, facility_id: int, item_ids: list[int]) -> dict:
    """A bare insert of `rows` rows: one transaction, then one transaction per row."""
    from django.db import connection, transaction
    from django.utils import timezone

    def values(bag_id: int) -> list[tuple]:
        moment = timezone.now().isoformat()
        return [(bag_id, seq, "item_scanned", actor_id, None, None, facility_id, item_ids[seq % len(item_ids)], moment,
                 json.dumps({"tracking_number": f"KT{seq:08d}0VN", "listed": True}), None) for seq in range(rows)]

    one = values(2 * rep)
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(INSERT, one)
    one_tx = time.perf_counter() - t0
    many = values(2 * rep + 1)
    t0 = time.perf_counter()
    for row in many:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(INSERT, row)
    per_row_tx = time.perf_counter() - t0
    return {"insert_1tx_s": one_tx, "insert_per_row_tx_s": per_row_tx}


def sealed_for_receiver(w, items, seal_number: str, timed: bool):
    """A bag of `items` filled by the operator (500 × bag_add_item), sealed, and handed to the
    receiving counter clerk (transfer_create + transfer_complete, not timed). With timed=True the
    adds and the seal are measured."""
    from kt1.dispatch import services as d

    p = w.people
    operator, receiver = p["operator"], p["counter_clerk"]
    bag = d.bag_create(actor=operator, destination=w.post_office)
    adds = []
    for item in items:
        t0 = time.perf_counter()
        d.bag_add_item(actor=operator, bag=bag, tracking_number=item.tracking_number)
        adds.append(time.perf_counter() - t0)
    t0, c0, b0 = time.perf_counter(), time.process_time(), backend_cpu()
    d.bag_seal(actor=operator, bag=bag, seal_number=seal_number)
    seal, seal_cpu, seal_db_cpu = time.perf_counter() - t0, time.process_time() - c0, backend_cpu() - b0
    transfer = d.transfer_create(actor=operator, taker=receiver, bags=[bag])
    d.transfer_complete(actor=receiver, transfer=transfer)
    if not timed:
        return bag, {}
    return bag, {"add_total_s": sum(adds), "add_median_s": statistics.median(adds), "seal_s": seal,
                 "seal_cpu_s": seal_cpu, "seal_db_cpu_s": seal_db_cpu}


def open_bag(w, bag, seal_number: str, numbers: list[str], batch: int | None) -> dict:
    """receive + the scans + finish, timed. batch=None: one bag_open_scan per number (one
    transaction each); else bag_open_scans with `batch` numbers per call (one transaction each)."""
    from kt1.audit.models import AuditEntry
    from kt1.dispatch import services as d

    receiver = w.people["counter_clerk"]
    audit_before = AuditEntry.objects.count()
    opening_c0, opening_b0 = time.process_time(), backend_cpu()
    t0 = time.perf_counter()
    d.bag_receive(actor=receiver, bag=bag, seal_number_read=seal_number, seal_intact=True)
    receive = time.perf_counter() - t0
    calls, refused = [], 0
    if batch is None:
        for number in numbers:
            t0 = time.perf_counter()
            d.bag_open_scan(actor=receiver, bag=bag, tracking_number=number)
            calls.append(time.perf_counter() - t0)
    else:
        for start in range(0, len(numbers), batch):
            scans = [d.ScanInput(number) for number in numbers[start:start + batch]]
            t0 = time.perf_counter()
            outcomes = d.bag_open_scans(actor=receiver, bag=bag, scans=scans)
            calls.append(time.perf_counter() - t0)
            refused += sum(1 for o in outcomes if o.status != d.ScanStatus.SCANNED)
    t0 = time.perf_counter()
    d.bag_open_finish(actor=receiver, bag=bag)
    finish = time.perf_counter() - t0
    opening_cpu, opening_db_cpu = time.process_time() - opening_c0, backend_cpu() - opening_b0
    return {"receive_s": receive, "scan_total_s": sum(calls), "scan_median_s": statistics.median(calls),
            "scan_p99_s": percentile(calls, 99) if len(calls) > 1 else calls[0], "scan_max_s": max(calls),
            "scan_calls": len(calls), "finish_s": finish, "opening_s": receive + sum(calls) + finish,
            "opening_cpu_s": opening_cpu, "opening_db_cpu_s": opening_db_cpu, "refused": refused,
            "audit_entries": AuditEntry.objects.count() - audit_before}


def check_opened(w, bag, items, opening: dict) -> list[str]:
    from kt1.dispatch.choices import BagStatus
    from kt1.dispatch.models import Bag, BagItem
    from kt1.incidents.models import Incident
    from kt1.items.models import CustodyEvent, Item

    n, receiver = len(items), w.people["counter_clerk"]
    ids = [i.pk for i in items]
    problems = []
    if Bag.objects.get(pk=bag.pk).status != BagStatus.OPENED:
        problems.append("bag not opened")
    if opening["refused"]:
        problems.append(f"{opening['refused']} scans refused")
    held = Item.objects.filter(pk__in=ids, holder=receiver, holder_bag__isnull=True).count()
    if held != n:
        problems.append(f"{held} of {n} items held by the receiver")
    for code in ("KBAG", "KOUT"):
        count = CustodyEvent.objects.filter(item_id__in=ids, code=code, bag=bag).count()
        if count != n:
            problems.append(f"{count} {code} events for {n} items")
    scanned_at = dict(BagItem.objects.filter(bag=bag).values_list("item_id", "scanned_at"))
    outs = CustodyEvent.objects.filter(bag=bag, code="KOUT").values_list("item_id", "device_time")
    if any(device_time != scanned_at.get(item_id) for item_id, device_time in outs):
        problems.append("a KOUT event whose device time is not its scan time")
    if opening["audit_entries"] != n + 2:  # received, n KOUT, opened
        problems.append(f"{opening['audit_entries']} audit entries for the opening (expected {n + 2}: none per scan)")
    if Incident.objects.filter(bag=bag).exists():
        problems.append("incidents opened")
    return problems


def repetition(w, rep: int, n: int, batch: int) -> dict:
    """Two bags of n fresh items each: the first opened with the scans uploaded in batches (the
    headline figure), the second scan by scan (reported next to it)."""
    items = items_for_operator(w, n)
    seal_number = f"BENCH-{rep:03d}"
    bag, result = sealed_for_receiver(w, items, seal_number, timed=True)
    batched = open_bag(w, bag, seal_number, [i.tracking_number for i in items], batch)
    problems = check_opened(w, bag, items, batched)
    result.update({k: v for k, v in batched.items() if k not in ("refused", "audit_entries")})

    single_items = items_for_operator(w, n)
    single_seal = f"BENCH-{rep:03d}-S"
    single_bag, _ = sealed_for_receiver(w, single_items, single_seal, timed=False)
    single = open_bag(w, single_bag, single_seal, [i.tracking_number for i in single_items], None)
    problems += [f"scan by scan: {p}" for p in check_opened(w, single_bag, single_items, single)]
    result.update({f"single_{k}": v for k, v in single.items() if k not in ("refused", "audit_entries")})
    result["problems"] = problems
    result.update(baseline(rep, n, w.people["operator"].pk, w.processing.pk, [i.pk for i in items]))
    return result


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend process (the server runs on
    this machine: /proc), 0 on SQLite, whose work is in the Django process's own CPU time. With the
    Django process's CPU it bounds the server time from below whatever else the machine is doing."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def database_facts() -> dict[str, str]:
    from django.db import connection

    from bench.common import postgres_facts

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return postgres_facts(cursor)
        cursor.execute("SELECT sqlite_version()")
        facts = {"sqlite": cursor.fetchone()[0]}
        for pragma in ("journal_mode", "synchronous"):
            cursor.execute(f"PRAGMA {pragma}")
            facts[pragma] = str(cursor.fetchone()[0])
        return facts


def load() -> str:
    """The 1-minute load average: other work on the machine shows in wall times, not in CPU times."""
    return f"{os.getloadavg()[0]:.1f}"


def child(args) -> int:
    setup_django(BAGS_DIR)
    from django.core.management import call_command
    from django.db import connection

    from kt1.audit.services import audit_verify

    load_start = load()
    t0 = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    w = build_world()
    scratch_table_create()
    vendor = "postgres" if connection.vendor == "postgresql" else "sqlite"
    say(f"{vendor}: migrated and built the world in {time.monotonic() - t0:.0f} s")
    reps = []
    for rep in range(1, args.reps + 1):
        reps.append(repetition(w, rep, args.items, batch_size(args)))
        r = reps[-1]
        say(f"{vendor} rep {rep}/{args.reps}: seal {ms(r['seal_s'])}, opening {ms(r['opening_s'])} "
            f"({r['scan_calls']} uploads, finish {ms(r['finish_s'])}), scan by scan {ms(r['single_opening_s'])} (scan "
            f"median {ms(r['single_scan_median_s'])}), add {ms(r['add_total_s'])}; insert 1 tx "
            f"{ms(r['insert_1tx_s'])}, {args.items} tx {ms(r['insert_per_row_tx_s'])}; "
            f"{'; '.join(r['problems']) or 'checks passed'}")
    verified = audit_verify()
    summary = {
        "database": vendor, "facts": {**database_facts(), "load average at start/end": f"{load_start} / {load()}"},
        "machine": machine(), "items": args.items, "reps": args.reps, "scan_batch": batch_size(args),
        "median": {k: statistics.median(r[k] for r in reps) for k in reps[0] if k != "problems"},
        "runs": reps, "problems": [p for r in reps for p in r["problems"]],
        "audit_chain_ok": bool(verified.ok),
    }
    if not verified.ok:
        summary["problems"].append(f"audit chain: {verified}")
    BAGS_DIR.mkdir(parents=True, exist_ok=True)
    (BAGS_DIR / f"{vendor}.json").write_text(json.dumps(summary, indent=2, default=str))
    print(report([summary]))
    return 0 if not summary["problems"] else 1


# --- the parent: both databases, one report -----------------------------------------------------------


def batch_size(args) -> int:
    return args.scan_batch or args.items


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:,.1f} ms"


def verdict(seconds: float) -> str:
    return "PASS" if seconds < TARGET_S else "FAIL"


def report(summaries: list[dict]) -> str:
    n = summaries[0]["items"]
    names = [s["database"] for s in summaries]
    med = [s["median"] for s in summaries]

    def row(label: str, key: str, target: str = "", judge: bool = False) -> list[str]:
        cells = [label] + [ms(m[key]) + (f" {verdict(m[key])}" if judge else "") for m in med]
        return cells + [target]

    def db_row(label: str, key: str) -> list[str]:
        return [label] + [ms(m.get(key, 0)) if s["database"] == "postgres" else "—"
                          for s, m in zip(summaries, med, strict=True)] + [""]

    batch = summaries[0]["scan_batch"]
    uploads = -(-n // batch)
    rows = [
        row(f"seal a bag of {n} items (1 transaction)", "seal_s", "< 1 s", judge=True),
        row("  CPU of the Django process", "seal_cpu_s"),
        db_row("  CPU of the PostgreSQL backend", "seal_db_cpu_s"),
        row(f"opening: receive + {n} scans in {uploads} upload(s) of {batch} + finish", "opening_s", "< 1 s",
            judge=True),
        row("  CPU of the Django process", "opening_cpu_s"),
        db_row("  CPU of the PostgreSQL backend", "opening_db_cpu_s"),
        row(f"  the {uploads} upload(s) together", "scan_total_s"),
        row("  one upload, slowest", "scan_max_s"),
        row("  receive (seal check)", "receive_s"),
        row("  finish", "finish_s"),
        row(f"opening scan by scan: receive + {n} × bag_open_scan + finish", "single_opening_s"),
        row("  CPU of the Django process", "single_opening_cpu_s"),
        db_row("  CPU of the PostgreSQL backend", "single_opening_db_cpu_s"),
        row(f"  {n} scans together", "single_scan_total_s"),
        row("  one scan, median", "single_scan_median_s"),
        row("  one scan, p99", "single_scan_p99_s"),
        row("  one scan, slowest", "single_scan_max_s", "< 1 s each", judge=True),
        row("  finish", "single_finish_s"),
        row(f"add {n} items one by one ({n} transactions)", "add_total_s"),
        row("  one add, median", "add_median_s"),
        row(f"baseline: INSERT {n} rows, 1 transaction", "insert_1tx_s"),
        row(f"baseline: INSERT {n} rows, {n} transactions", "insert_per_row_tx_s"),
    ]
    rows.append(["seal ÷ baseline (1 transaction)"] + [f"{m['seal_s'] / m['insert_1tx_s']:.0f}×" for m in med] + [""])
    rows.append([f"opening scan by scan ÷ baseline ({n} transactions)"]
                + [f"{m['single_opening_s'] / m['insert_per_row_tx_s']:.1f}×" for m in med] + [""])
    facts = "; ".join(f"{s['database']}: " + ", ".join(f"{k} {v}" for k, v in s["facts"].items()) for s in summaries)
    checks = "; ".join(f"{s['database']}: " + ("; ".join(s["problems"]) or "every item back in one person's hands, "
                                               f"{n} KBAG + {n} KOUT events (device time = scan time), no "
                                               "audit entry per scan, no incident, audit chain verified")
                       for s in summaries)
    m = summaries[0]["machine"]
    head = (f"Bags: server time (perf_counter around the service calls), median of {summaries[0]['reps']} repetitions "
            f"with {n} fresh items each; {m['cores']} cores, {m['cpu']}, Python {m['python']}, Django {m['django']}.\n"
            f"{facts}\nChecks: {checks}")
    return head + "\n" + table(rows, ["measure", *names, "target"])


def run_child(db: str, args) -> dict:
    BAGS_DIR.mkdir(parents=True, exist_ok=True)
    result_file = BAGS_DIR / f"{db}.json"
    result_file.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--items", str(args.items),
               "--reps", str(args.reps), "--scan-batch", str(args.scan_batch)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kt1-bench-bags-") as tmp:
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
            code = subprocess.call(command, env=env, cwd=ROOT)  # noqa: S603 - our own argv
    else:
        env.pop("DATABASE_URL", None)
        code = subprocess.call([sys.executable, str(ROOT / "scripts" / "pg_cluster.py"), "run", "--durable", "--",  # noqa: S603
                                *command], env=env, cwd=ROOT)
    if not result_file.exists():
        raise SystemExit(f"the {db} run wrote no results (exit {code})")
    return json.loads(result_file.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=[*DATABASES, "both"], default="both")
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--scan-batch", type=int, default=0, metavar="N",
                        help="scans per upload when opening (default 0: all of them in one upload)")
    parser.add_argument("--child", action="store_true", help="run in this process against DATABASE_URL")
    args = parser.parse_args(argv)
    if args.child:
        if not os.environ.get("DATABASE_URL"):
            raise SystemExit("--child needs DATABASE_URL (a throwaway database)")
        return child(args)
    dbs = DATABASES if args.db == "both" else (args.db,)
    summaries = [run_child(db, args) for db in dbs]
    print()
    print(report(summaries))
    (BENCH_DIR / "bags.json").write_text(json.dumps(summaries, indent=2, default=str))
    # Like the other benchmarks: the verdicts are printed, not enforced (the machines are shared);
    # a failed check of the database is.
    return 1 if any(s["problems"] for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
