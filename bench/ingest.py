#!/usr/bin/env python3
"""Batch custody-event ingest through the API, every invariant checked, against a bare INSERT of
the same number of rows measured in the same run.

    scripts/pg_cluster.py run --durable -- sh -c '.venv/bin/python bench/seed_pg.py && .venv/bin/python bench/ingest.py'

The seeder left a pool of items accepted at a counter and handed to an operator of the processing
centre. Each client process is a postman with their own API token and items; for each item it
uploads the rest of the journey in order:

    KHOV (takes the item from the operator)  EMG (at the delivery office)  [KSEAL, 1 item in 10]
    EDG (out for delivery)  [EMH absent + EDG again, 1 item in 20]  EMI (delivered to a clerk of the
    recipient agency, who is vetted and trained; name signed on screen)

as POST /api/v1/events/batch/ with 500 events per request, one request after another. Every event
goes through the custody engine: item lock, state machine, permission and scope, holder and taker
checks (role, vetting, training), idempotency, one audit entry each. The figure is events/s over
the wall time of a run (all clients together); the median of the runs is reported (a warm-up run
comes first and is not counted). After each run the database is checked: every event stored
once, one custody.recorded audit entry per event, each item delivered to its clerk.

Baseline, same number of rows, same clients and batch size: a plain multi-row INSERT into a copy
of the custody-event table (same columns and indexes), one transaction per batch; no checks, no
audit, no HTTP. It says what the disk and PostgreSQL alone allow here.

Target (issue 3): ≥ 2,000 events/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_DIR,
    DEFAULT_WORKERS,
    Server,
    http_post_json,
    load_manifest,
    median,
    require_database_url,
    say,
    setup_django,
    table,
)

TARGET = 2000.0
ICT = dt.timezone(dt.timedelta(hours=7))


def journey(index: int, number: str, operator: int, clerk: int) -> list[dict]:
    """The events a postman uploads for one item, in order."""
    device = dt.datetime.now(ICT).replace(microsecond=0).isoformat()

    def ev(code: str, **extra) -> dict:
        return {"event_uuid": str(uuid.uuid4()), "tracking_number": number, "code": code, "device_time": device,
                **extra}

    events = [ev("KHOV", giver=operator), ev("EMG")]
    if index % 10 == 3:
        events.append(ev("KSEAL", note="Bì, niêm phong nguyên vẹn"))
    events.append(ev("EDG"))
    if index % 20 == 7:
        events += [ev("EMH", reason="ABSENT", next_action="retry"), ev("EDG")]
    events.append(ev("EMI", taker=clerk, signer_name="Văn thư cơ quan nhận"))
    return events


def plan(manifest: dict, *, clients: int, sizes: list[int], cursor: int) -> tuple[list[list[list[dict]]], int]:
    """plan[run][client] = the client's events for that run, sizes[run] events per run; items are
    taken from the pool from `cursor` on (each item is used once, across invocations too)."""
    pool = manifest["pool"]
    result = []
    for size in sizes:
        run_plan = []
        for _client in range(clients):
            events: list[dict] = []
            index = 0
            while len(events) < size // clients:
                if cursor >= len(pool):
                    raise SystemExit("the ingest pool is used up: seed with a larger --pool or use fewer events")
                number, operator, clerk = pool[cursor]
                events += journey(index, number, operator, clerk)
                cursor += 1
                index += 1
            run_plan.append(events)
        result.append(run_plan)
    return result, cursor


def _client(port: int, token: str, events: list[dict], batch: int, start_at: float, out) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    t0 = time.time()
    batches, statuses = [], {}
    created = duplicates = refused = 0
    refusals: dict[str, int] = {}
    for i in range(0, len(events), batch):
        chunk = events[i:i + batch]
        b0 = time.time()
        status, body = http_post_json(port, "/api/v1/events/batch/", {"events": chunk},
                                      {"Authorization": f"Token {token}"})
        batches.append(time.time() - b0)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            answer = json.loads(body)
            created += answer["created"]
            duplicates += answer["duplicates"]
            refused += answer["refused"]
            for r in answer["results"]:
                if r["status"] == "refused":
                    refusals[r["code"]] = refusals.get(r["code"], 0) + 1
        else:
            refused += len(chunk)
            refusals[f"http_{status}"] = refusals.get(f"http_{status}", 0) + len(chunk)
    out.put({"start": t0, "end": time.time(), "sent": len(events), "created": created, "duplicates": duplicates,
             "refused": refused, "refusals": refusals, "statuses": statuses, "batch_seconds": batches})


def run_clients(port: int, tokens: list[str], plan_for_run: list[list[dict]], batch: int) -> dict:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 0.5
    procs = [ctx.Process(target=_client, args=(port, token, events, batch, start_at, out))
             for token, events in zip(tokens, plan_for_run, strict=True)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    merged = {k: sum(r[k] for r in results) for k in ("sent", "created", "duplicates", "refused")}
    refusals: dict[str, int] = {}
    for r in results:
        for k, v in r["refusals"].items():
            refusals[k] = refusals.get(k, 0) + v
    batches = sorted(s for r in results for s in r["batch_seconds"])
    return {**merged, "wall": wall, "events_per_s": merged["sent"] / wall, "refusals": refusals,
            "batch_p50_s": median(batches), "batch_max_s": batches[-1]}


def db_counts() -> dict[str, int]:
    from kt1.audit.models import AuditEntry
    from kt1.items.models import CustodyEvent

    return {"events": CustodyEvent.objects.count(),
            "audit_custody": AuditEntry.objects.filter(action="custody.recorded").count(),
            "audit_refused": AuditEntry.objects.filter(action="custody.refused").count()}


def check_run(events: list[list[dict]], before: dict, after: dict) -> list[str]:
    """What the database says after a run: every event once, sealed, and each item delivered."""
    from kt1.items.models import CustodyEvent, Item

    problems = []
    sent = sum(len(e) for e in events)
    uuids = [e["event_uuid"] for client in events for e in client]
    if after["events"] - before["events"] != sent:
        problems.append(f"{after['events'] - before['events']} events stored for {sent} sent")
    if after["audit_custody"] - before["audit_custody"] != sent:
        problems.append(f"{after['audit_custody'] - before['audit_custody']} custody.recorded entries for {sent} events")
    stored = 0
    for i in range(0, len(uuids), 5000):
        stored += CustodyEvent.objects.filter(event_uuid__in=uuids[i:i + 5000], audit_seq__isnull=False).count()
    if stored != sent:
        problems.append(f"{stored} of {sent} events found sealed by their event_uuid")
    expected = {}
    for client in events:
        for e in client:
            if e["code"] == "EMI":
                expected[e["tracking_number"]] = e["taker"]
    wrong = 0
    numbers = list(expected)
    for i in range(0, len(numbers), 5000):
        for number, status, holder in Item.objects.filter(tracking_number__in=numbers[i:i + 5000]).values_list(
                "tracking_number", "status", "holder_id"):
            if status != "delivered" or holder != expected[number]:
                wrong += 1
    if wrong:
        problems.append(f"{wrong} of {len(expected)} items not delivered to their clerk")
    return problems


def verify_chain(since_seq: int) -> tuple[int, str]:
    """Re-hash the audit chain from the start and re-check every custody event this benchmark
    wrote against the entry that sealed it (what `verify_audit` does, minus the COPY-seeded events
    that never had entries)."""
    from kt1.audit.models import AuditEntry
    from kt1.audit.services import GENESIS_HASH, chain_hash, entry_payload
    from kt1.items.models import CustodyEvent
    from kt1.items.services import event_payload

    prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=5000):
        if entry.seq != expected_seq or entry.prev_hash != prev or chain_hash(prev, entry_payload(entry)) != entry.entry_hash:
            return checked, f"audit chain broken at {entry.seq}"
        prev, expected_seq, checked = entry.entry_hash, expected_seq + 1, checked + 1
    sealed = dict(AuditEntry.objects.filter(action="custody.recorded", seq__gt=since_seq).values_list("seq", "data"))
    events = CustodyEvent.objects.filter(audit_seq__gt=since_seq).select_related("item")
    n = 0
    for event in events.iterator(chunk_size=5000):
        n += 1
        if sealed.get(event.audit_seq) != event_payload(event):
            return checked, f"custody event {event.event_uuid} does not match audit entry {event.audit_seq}"
    if n != len(sealed):
        return checked, f"{len(sealed)} custody.recorded entries for {n} events"
    return checked, ""


# --- baseline: plain INSERT ----------------------------------------------------------------------

def _insert_client(conninfo: str, rows: list[tuple], batch: int, start_at: float, out) -> None:
    import psycopg

    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    t0 = time.time()
    with psycopg.connect(conninfo) as conn:
        cur = conn.cursor()
        for i in range(0, len(rows), batch):
            chunk = rows[i:i + batch]
            placeholders = ",".join(["(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,now(),%s,'',%s)"] * len(chunk))
            cur.execute(
                "INSERT INTO bench_insert (item_id, seq, event_uuid, fingerprint, code, status_after, actor_id, giver_id, "
                "taker_id, facility_id, occurred_at, device_time, note, next_action) VALUES " + placeholders,
                [v for row in chunk for v in row])
            conn.commit()
    out.put({"start": t0, "end": time.time()})


def baseline_insert(plan_for_run: list[list[dict]], batch: int) -> dict:
    """The same number of rows as one run, from as many clients, in batches of the same size."""
    import psycopg
    from django.db import connection

    s = connection.settings_dict
    conninfo = psycopg.conninfo.make_conninfo(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
                                              host=s["HOST"], port=s["PORT"])
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_insert")
        conn.execute("CREATE TABLE bench_insert (LIKE items_custodyevent INCLUDING ALL)")
        item_id, actor = conn.execute("SELECT id, holder_id FROM items_item ORDER BY id LIMIT 1").fetchone()
    now = dt.datetime.now(dt.UTC)
    per_client = []
    for c, client in enumerate(plan_for_run):
        per_client.append([(item_id, c * 1_000_000 + n, uuid.UUID(e["event_uuid"]), "0" * 64, e["code"], "accepted", actor, None, None,
                            None, now, "") for n, e in enumerate(client, start=1)])
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 0.5
    procs = [ctx.Process(target=_insert_client, args=(conninfo, rows, batch, start_at, out)) for rows in per_client]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_insert")
    rows = sum(len(r) for r in per_client)
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    return {"rows": rows, "wall": wall, "rows_per_s": rows / wall}


def run(*, bench_dir: Path, workers: int, clients: int, runs: int, events_per_run: int, batch: int) -> dict:
    setup_django(bench_dir)
    from kt1.audit.models import AuditEntry

    manifest = load_manifest(bench_dir)
    if clients > len(manifest["clients"]):
        raise SystemExit(f"the seeder made {len(manifest['clients'])} ingest clients")
    tokens = [c["token"] for c in manifest["clients"][:clients]]
    cursor_file = bench_dir / "pool_cursor"
    cursor = int(cursor_file.read_text()) if cursor_file.exists() else 0
    # The warm-up is one batch per client.
    runs_plan, cursor = plan(manifest, clients=clients, sizes=[clients * batch] + [events_per_run] * runs, cursor=cursor)
    cursor_file.write_text(str(cursor))
    first_seq = (AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0)
    results = []
    with Server(workers=workers, bench_dir=bench_dir) as server:
        for r, plan_for_run in enumerate(runs_plan):
            before = db_counts()
            result = run_clients(server.port, tokens, plan_for_run, batch)
            after = db_counts()
            result["problems"] = check_run(plan_for_run, before, after)
            result["warmup"] = r == 0
            results.append(result)
            say(f"{'warm-up' if r == 0 else f'run {r}/{runs}'}: {result['sent']:,} events in {result['wall']:.1f} s = "
                f"{result['events_per_s']:,.0f} events/s; created {result['created']:,}, refused {result['refused']} "
                f"{result['refusals'] or ''}; batch p50 {result['batch_p50_s']:.2f} s; "
                f"{'; '.join(result['problems']) or 'database checks passed'}")
    baselines = []
    for r in range(runs):
        baselines.append(baseline_insert(runs_plan[1 + r], batch))
        say(f"baseline {r + 1}/{runs}: {baselines[-1]['rows']:,} rows in {baselines[-1]['wall']:.2f} s = "
            f"{baselines[-1]['rows_per_s']:,.0f} rows/s")
    checked, problem = verify_chain(first_seq)
    say(f"audit chain: {checked:,} entries re-hashed; benchmark events against their entries: {problem or 'all match'}")
    counted = [r for r in results if not r["warmup"]]
    summary = {
        "loadavg": os.getloadavg(),
        "workers": workers, "clients": clients, "batch": batch, "runs": runs, "events_per_run": counted[0]["sent"],
        "events_per_s": median([r["events_per_s"] for r in counted]),
        "baseline_rows_per_s": median([b["rows_per_s"] for b in baselines]),
        "refused": sum(r["refused"] for r in results), "duplicates": sum(r["duplicates"] for r in results),
        "sent": sum(r["sent"] for r in results), "created": sum(r["created"] for r in results),
        "problems": [p for r in results for p in r["problems"]] + ([problem] if problem else []),
        "chain_entries_checked": checked, "runs_detail": results, "baselines": baselines,
    }
    summary["ratio"] = summary["events_per_s"] / summary["baseline_rows_per_s"]
    summary["ok"] = summary["events_per_s"] >= TARGET
    (bench_dir / "ingest.json").write_text(json.dumps(summary, indent=2))
    return summary


def report(s: dict) -> str:
    rows = [["batch ingest events/s", f"{s['events_per_s']:,.0f}",
             f"{s['baseline_rows_per_s']:,.0f} rows/s (plain INSERT)", f"{s['ratio']:.2f}", "≥ 2,000 events/s",
             "PASS" if s["ok"] else "FAIL"]]
    head = (f"Batch ingest: {s['clients']} clients × {s['batch']} events per request, gunicorn {s['workers']} sync "
            f"workers, median of {s['runs']} runs of {s['events_per_run']:,} events (after a warm-up run); "
            f"sent {s['sent']:,}, created {s['created']:,}, refused {s['refused']}, duplicates {s['duplicates']}; "
            f"checks: {'; '.join(s['problems']) or 'every event stored once and sealed, every item delivered, chain intact'}")
    return head + "\n" + table(rows, ["metric", "figure", "baseline", "ratio", "target", "verdict"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=10_000, help="events per run, all clients together")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args(argv)
    require_database_url()
    summary = run(bench_dir=args.bench_dir, workers=args.workers, clients=args.clients, runs=args.runs,
                  events_per_run=args.events, batch=args.batch)
    print(report(summary))
    return 0 if not summary["problems"] and summary["refused"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
