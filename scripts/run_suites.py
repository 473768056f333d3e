#!/usr/bin/env python3
"""Run KT1's test suites one after the other and print one summary.

    scripts/run_suites.py                  # sqlite, postgres, browser
    scripts/run_suites.py postgres browser # only those

Suites:
  sqlite    pytest on SQLite (DATABASE_URL unset), everything but tests/browser
  postgres  the same tests on a throwaway PostgreSQL cluster (scripts/pg_cluster.py)
  browser   tests/browser with Playwright driving Debian's chromium against live_server (SQLite)

A suite that cannot run (no PostgreSQL server binaries, no chromium) or that collects no test
is reported loudly. With CI=true that fails the run; otherwise it is a warning and the suite is
skipped, so a laptop without chromium can still run the rest.

Environment: CI, PYTEST_WORKERS (xdist workers, default 2; 0 or 1 = no xdist), PYTEST_ARGS (extra
pytest arguments, e.g. "-k login -x"), KT1_CHROMIUM (default /usr/bin/chromium),
KT1_SUITE_TIMEOUT (seconds per suite, default 2400: CI's hard limit is 90 minutes for the whole run).

Run with the project's virtualenv python: pytest is run as `sys.executable -m pytest`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_cluster  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}
WORKERS = os.environ.get("PYTEST_WORKERS", "2")
EXTRA = shlex.split(os.environ.get("PYTEST_ARGS", ""))
TIMEOUT = int(os.environ.get("KT1_SUITE_TIMEOUT", "2400"))
PYTEST_NO_TESTS_COLLECTED = 5


@dataclass
class Result:
    name: str
    status: str = "not run"  # passed | FAILED | SKIPPED (missing prerequisite) | EMPTY
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""


def loud(message: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\n!!! {message}\n{bar}\n", flush=True)


def chromium_path() -> str | None:
    configured = os.environ.get("KT1_CHROMIUM", "/usr/bin/chromium")
    if os.access(configured, os.X_OK):
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


def junit_counts(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    root = ET.parse(path).getroot()  # noqa: S314 - written by our own pytest run just now
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in total:
            total[key] += int(suite.get(key, 0))
    return {
        "passed": total["tests"] - total["failures"] - total["errors"] - total["skipped"],
        "failed": total["failures"] + total["errors"],
        "skipped": total["skipped"],
    }


def run_command(cmd: list[str], env: dict[str, str]) -> int:
    """Run cmd in its own process group so that a timeout or Ctrl-C stops pytest, its xdist
    workers and their chromiums together, with SIGTERM first so pg_cluster.py can clean up."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603 - fixed argv, no shell
    try:
        return proc.wait(timeout=TIMEOUT)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        if isinstance(exc, subprocess.TimeoutExpired):
            loud(f"suite timed out after {TIMEOUT}s (KT1_SUITE_TIMEOUT): stopping it")
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if isinstance(exc, KeyboardInterrupt):
            raise
        return 124


def pytest_cmd(junit: Path, paths: list[str], ignore_browser: bool) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", f"--junitxml={junit}"]
    if WORKERS not in {"", "0", "1"}:
        cmd += ["-n", WORKERS]
    if ignore_browser:
        cmd += ["--ignore=tests/browser"]
    return cmd + EXTRA + paths


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    # The SQLite and browser suites must never reach a database from the caller's shell.
    for name in ("DATABASE_URL", "KT1_PG_CLUSTER_DIR"):
        env.pop(name, None)
    return env


def run_suite(name: str, workdir: Path) -> Result:
    result = Result(name)
    junit = workdir / f"{name}.xml"
    env = base_env()
    if name == "sqlite":
        cmd = pytest_cmd(junit, ["tests"], ignore_browser=True)
    elif name == "postgres":
        if pg_cluster.find_bindir() is None:
            result.status = "SKIPPED"
            result.note = "no initdb/pg_ctl (apt-get install postgresql)"
            return result
        cmd = [sys.executable, str(ROOT / "scripts" / "pg_cluster.py"), "run", "--"]
        cmd += pytest_cmd(junit, ["tests"], ignore_browser=True)
    elif name == "browser":
        chromium = chromium_path()
        if chromium is None:
            result.status = "SKIPPED"
            result.note = "no chromium at /usr/bin/chromium (apt-get install chromium)"
            return result
        env["KT1_CHROMIUM"] = chromium
        # Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
        # from such a thread unless told it is fine (it is: the loop is Playwright's, not ours).
        env["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        cmd = pytest_cmd(junit, ["tests/browser"], ignore_browser=False)
    else:
        raise SystemExit(f"unknown suite {name!r}; choose from sqlite, postgres, browser")

    print(f"\n===== suite {name}: {shlex.join(cmd)}", flush=True)
    started = time.monotonic()
    rc = run_command(cmd, env)
    result.seconds = time.monotonic() - started
    result.counts = junit_counts(junit)
    if rc == 0:
        result.status = "passed"
    elif rc == PYTEST_NO_TESTS_COLLECTED:
        result.status = "EMPTY"
        result.note = "pytest collected no tests"
    else:
        result.status = "FAILED"
        result.note = f"exit code {rc}"
    return result


def main(argv: list[str]) -> int:
    names = argv or ["sqlite", "postgres", "browser"]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="kt1-junit-") as tmp:
        for name in names:
            result = run_suite(name, Path(tmp))
            results.append(result)
            if result.status in {"SKIPPED", "EMPTY"}:
                verdict = "this FAILS the run (CI=true)" if CI else "skipped; set CI=true to make this fatal"
                loud(f"suite {name!r} did not run: {result.note} -- {verdict}")

    failed = [r for r in results if r.status == "FAILED" or (CI and r.status in {"SKIPPED", "EMPTY"})]
    print("\n===== KT1 test suites" + (" (CI)" if CI else ""))
    for r in results:
        c = r.counts
        counts = f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped" if c else "no results"
        note = f"  ({r.note})" if r.note else ""
        print(f"  {r.name:<9} {r.status:<8} {r.seconds:6.1f}s  {counts}{note}")
    for r in results:
        if r.status in {"SKIPPED", "EMPTY"} and not CI:
            print(f"  WARNING: suite {r.name!r} was not run: {r.note}")
    if failed:
        print(f"  result: FAILED ({', '.join(r.name for r in failed)})")
    total = {k: sum(r.counts.get(k, 0) for r in results) for k in ("passed", "failed", "skipped")}
    print(
        f"total: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped", flush=True
    )
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
