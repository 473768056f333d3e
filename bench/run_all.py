#!/usr/bin/env python3
"""Seed, then run every benchmark, then print one table (what `make bench` runs).

    scripts/pg_cluster.py run --durable --set shared_buffers=1GB --set max_wal_size=4GB -- \\
        .venv/bin/python bench/run_all.py

Each step is its own process (bench/seed_pg.py, bench/lookup.py, bench/ingest.py); their results
land in KT1_BENCH_DIR (default var/bench, emptied first) as JSON; this script adds the machine and
the database settings and writes results.md there too. Exit status 0 when every step ran and
nothing was refused or failed a check; the verdicts against the targets are printed, not enforced
(the machines are noisy: read the ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bags import report as bags_report  # noqa: E402
from bench.common import (  # noqa: E402
    BENCH_DIR,
    DEFAULT_WORKERS,
    django_env,
    machine,
    postgres_facts,
    require_database_url,
    say,
    setup_django,
    table,
)
from bench.ingest import report as ingest_report  # noqa: E402
from bench.lookup import report as lookup_report  # noqa: E402

HERE = Path(__file__).resolve().parent


def step(args: list[str], bench_dir: Path) -> int:
    env = {**django_env(bench_dir), "KT1_BENCH_DIR": str(bench_dir)}
    t0 = time.monotonic()
    code = subprocess.call([sys.executable, *args], env=env)  # noqa: S603
    say(f"{args[0]} finished in {time.monotonic() - t0:.0f} s (exit {code})")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=6_000_000)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn sync workers")
    parser.add_argument("--lookup-seconds", type=int, default=15)
    parser.add_argument("--ingest-clients", type=int, default=2)
    parser.add_argument("--ingest-events", type=int, default=10_000, help="events per ingest run")
    parser.add_argument("--rounds", type=int, default=3, help="lookup rounds and ingest runs")
    args = parser.parse_args(argv)
    require_database_url()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    bench_dir = args.bench_dir
    if bench_dir.exists():
        shutil.rmtree(bench_dir)
    bench_dir.mkdir(parents=True)
    t0 = time.monotonic()
    load_before = os.getloadavg()
    failed = []
    if step([str(HERE / "seed_pg.py"), "--items", str(args.items), "--events", str(args.events)], bench_dir):
        raise SystemExit("seeding failed")
    seeded = time.monotonic() - t0
    if step([str(HERE / "lookup.py"), "--workers", str(args.workers), "--rounds", str(args.rounds),
             "--seconds", str(args.lookup_seconds)], bench_dir):
        failed.append("lookup")
    if step([str(HERE / "ingest.py"), "--workers", str(args.workers), "--clients", str(args.ingest_clients),
             "--runs", str(args.rounds), "--events", str(args.ingest_events)], bench_dir):
        failed.append("ingest")
    # Bags (issue 4) run on fresh databases of their own: a SQLite file and a second durable cluster.
    if step([str(HERE / "bags.py")], bench_dir):
        failed.append("bags")

    setup_django(bench_dir)
    from django.db import connection

    with connection.cursor() as cursor:
        pg = postgres_facts(cursor)
    facts = {**machine(), **pg, "load average (1/5/15 min) before": " ".join(f"{x:.1f}" for x in load_before),
             "load average after": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    manifest = json.loads((bench_dir / "manifest.json").read_text())
    counts = manifest["counts"]
    lines = [
        "# KT1 benchmark run",
        "",
        f"Data: {counts['items']:,} items, {counts['events']:,} custody events, {counts['agencies']} agencies, "
        f"{counts['people']} people; seeded in {seeded:.0f} s. Whole run: {time.monotonic() - t0:.0f} s.",
        "",
        table([[k, v] for k, v in facts.items()], ["machine", "value"]),
        "",
    ]
    for name, render in (("lookup", lookup_report), ("ingest", ingest_report), ("bags", bags_report)):
        path = bench_dir / f"{name}.json"
        if path.exists():
            lines += [render(json.loads(path.read_text())), ""]
        else:
            lines += [f"{name}: no result", ""]
    text = "\n".join(lines)
    (bench_dir / "results.md").write_text(text)
    print(text)
    if failed:
        say(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
