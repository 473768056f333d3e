#!/usr/bin/env python3
"""Tracking lookup throughput against a bare Django JSON view, measured in the same run.

    scripts/pg_cluster.py run --durable -- sh -c '.venv/bin/python bench/seed_pg.py && .venv/bin/python bench/lookup.py'

gunicorn (sync workers, persistent database connections) serves bench.settings: the production
settings plus /bench/bare/, which returns {"ok": true} through the same middleware stack. wrk, at
16 connections, alternates between
  * bare:   GET /bench/bare/
  * lookup: GET /api/v1/items/<random tracking number>/ as demo.supervisor (API token), whose scope
            is the whole provincial network, so each number is found, scope-checked and serialised;
numbers are drawn from a 100,000-number sample spread over all items. Each round runs both; the
figures are the medians over the rounds. Target (issue 3): lookup ≥ 1/3 of the bare view's
requests/s, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_DIR,
    DEFAULT_WORKERS,
    Server,
    http_get,
    load_manifest,
    median,
    require_database_url,
    say,
    table,
)

LUA = Path(__file__).resolve().parent / "lookup.lua"
RATIO_TARGET = 1 / 3
P99_TARGET_MS = 50.0


def wrk(server: Server, mode: str, token: str, numbers: Path, seconds: int, connections: int, threads: int) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
           server.base, "--", str(numbers)]
    env = {**os.environ, "KT1_BENCH_MODE": mode, "KT1_BENCH_TOKEN": token}
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603
    line = next(x for x in reversed(out.splitlines()) if x.startswith("{"))
    result = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["p99_ms"] = result["p99_us"] / 1000
    result["p50_ms"] = result["p50_us"] / 1000
    result["errors"] = sum(result[k] for k in ("non_2xx", "connect_errors", "read_errors", "write_errors", "timeouts"))
    return result


def run(*, bench_dir: Path, workers: int, rounds: int, seconds: int, connections: int, threads: int) -> dict:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    manifest = load_manifest(bench_dir)
    token = manifest["viewer"]["token"]
    numbers = bench_dir / manifest["sample_file"]
    first = numbers.read_text().split()[0]
    with Server(workers=workers, bench_dir=bench_dir) as server:
        status, body = http_get(server.port, f"/api/v1/items/{first}/", {"Authorization": f"Token {token}"})
        if status != 200 or json.loads(body).get("tracking_number") != first:
            raise SystemExit(f"lookup of {first} answered {status}: {body[:300]!r}")
        say(f"warming up ({max(3, seconds // 2)} s each)")
        wrk(server, "lookup", token, numbers, max(3, seconds // 2), connections, threads)
        wrk(server, "bare", token, numbers, max(3, seconds // 2), connections, threads)
        bare, lookup = [], []
        for r in range(rounds):
            order = ("bare", "lookup") if r % 2 == 0 else ("lookup", "bare")
            for mode in order:
                result = wrk(server, mode, token, numbers, seconds, connections, threads)
                (bare if mode == "bare" else lookup).append(result)
                say(f"round {r + 1}/{rounds} {mode:6s}: {result['rps']:8.0f} req/s, p99 {result['p99_ms']:6.1f} ms, "
                    f"errors {result['errors']}")
    summary = {
        "loadavg": os.getloadavg(),
        "workers": workers, "connections": connections, "threads": threads, "rounds": rounds, "seconds": seconds,
        "bare_rps": median([x["rps"] for x in bare]), "bare_p99_ms": median([x["p99_ms"] for x in bare]),
        "lookup_rps": median([x["rps"] for x in lookup]), "lookup_p99_ms": median([x["p99_ms"] for x in lookup]),
        "lookup_p50_ms": median([x["p50_ms"] for x in lookup]), "bare_p50_ms": median([x["p50_ms"] for x in bare]),
        "errors": sum(x["errors"] for x in bare + lookup),
        "rounds_detail": {"bare": bare, "lookup": lookup},
    }
    summary["ratio"] = summary["lookup_rps"] / summary["bare_rps"]
    summary["ratio_ok"] = summary["ratio"] >= RATIO_TARGET
    summary["p99_ok"] = summary["lookup_p99_ms"] < P99_TARGET_MS
    (bench_dir / "lookup.json").write_text(json.dumps(summary, indent=2))
    return summary


def report(s: dict) -> str:
    rows = [
        ["lookup requests/s", f"{s['lookup_rps']:,.0f}", f"{s['bare_rps']:,.0f} (bare view)",
         f"{s['ratio']:.2f}", "≥ 0.33", "PASS" if s["ratio_ok"] else "FAIL"],
        ["lookup p99", f"{s['lookup_p99_ms']:.1f} ms", f"{s['bare_p99_ms']:.1f} ms (bare view)",
         f"{s['lookup_p99_ms'] / s['bare_p99_ms']:.1f}×", "< 50 ms", "PASS" if s["p99_ok"] else "FAIL"],
    ]
    head = (f"Tracking lookup: {s['connections']} connections, gunicorn {s['workers']} sync workers, "
            f"medians of {s['rounds']} rounds × {s['seconds']} s; errors (non-2xx, socket): {s['errors']}")
    return head + "\n" + table(rows, ["metric", "figure", "baseline", "ratio", "target", "verdict"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    require_database_url()
    summary = run(bench_dir=args.bench_dir, workers=args.workers, rounds=args.rounds, seconds=args.seconds,
                  connections=args.connections, threads=args.threads)
    print(report(summary))
    return 0 if summary["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
