"""Shared by the benchmarks: the environment of a run, gunicorn, machine facts, and small statistics.

A run keeps its state in one directory (KT1_BENCH_DIR, default var/bench): the generated secrets
(so the seeder and the server encrypt and sign with the same keys), the seeder's manifest (API
tokens, the items each ingest client may use, the sample of tracking numbers for lookups) and the
results. Everything in it belongs to one throwaway database; nothing is reused across clusters.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_DIR = Path(os.environ.get("KT1_BENCH_DIR", ROOT / "var" / "bench"))
SECRETS_FILE = "secrets.json"
MANIFEST_FILE = "manifest.json"
HOST = "127.0.0.1"
# What the TLS proxy in front of gunicorn adds; production settings redirect plain HTTP otherwise.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


# gunicorn's own recommendation for sync workers, (2 x cores) + 1: a worker waiting for PostgreSQL
# leaves its core to another. Figure and baseline always run on the same server.
DEFAULT_WORKERS = 2 * (os.cpu_count() or 1) + 1


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def require_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit(
            "DATABASE_URL must point at a throwaway PostgreSQL database; run through "
            "`scripts/pg_cluster.py run --durable -- ...` (see bench/README.md)"
        )
    return url


def run_secrets(bench_dir: Path = BENCH_DIR) -> dict[str, str]:
    """Secrets for this run, generated once per run directory."""
    from cryptography.fernet import Fernet

    bench_dir.mkdir(parents=True, exist_ok=True)
    path = bench_dir / SECRETS_FILE
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "KT1_SECRET_KEY": secrets.token_urlsafe(64),
        "KT1_FIELD_KEYS": Fernet.generate_key().decode(),
        "KT1_AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    path.write_text(json.dumps(values))
    return values


def django_env(bench_dir: Path = BENCH_DIR) -> dict[str, str]:
    """The environment of every process of a run that loads Django (seeder, server, baseline)."""
    return {
        **os.environ,
        **run_secrets(bench_dir),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "KT1_ALLOWED_HOSTS": f"{HOST},localhost",
        "KT1_CONN_MAX_AGE": os.environ.get("KT1_CONN_MAX_AGE", "600"),
        "PYTHONPATH": str(ROOT),
    }


def setup_django(bench_dir: Path = BENCH_DIR) -> None:
    os.environ.update(django_env(bench_dir))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def load_manifest(bench_dir: Path = BENCH_DIR) -> dict:
    path = bench_dir / MANIFEST_FILE
    if not path.exists():
        raise SystemExit(f"{path} is missing: run bench/seed_pg.py first")
    return json.loads(path.read_text())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving bench.settings on loopback; stopped (by its own pid) on exit."""

    def __init__(self, workers: int = 2, bench_dir: Path = BENCH_DIR, timeout: int = 120) -> None:
        self.workers = workers
        self.port = free_port()
        self.bench_dir = bench_dir
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.log = bench_dir / f"gunicorn-{self.port}.log"

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Server:
        cmd = [
            str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"{HOST}:{self.port}",
            "--workers", str(self.workers), "--worker-class", "sync", "--timeout", str(self.timeout),
            "--graceful-timeout", "5", "--log-level", "warning", "--chdir", str(ROOT),
        ]
        self.log_handle = open(self.log, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(cmd, env=django_env(self.bench_dir), stdout=self.log_handle,  # noqa: S603
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.proc.returncode}); see {self.log}")
            with contextlib.suppress(OSError):
                status, _body = http_get(self.port, "/bench/bare/")
                if status == 200:
                    say(f"gunicorn ({self.workers} sync workers) on {self.base}")
                    return self
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise SystemExit(f"gunicorn did not answer within 60 s; see {self.log}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # The arbiter's own pid: it stops its workers itself.
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log_handle.close()


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers={**PROXY_HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_post_json(port: int, path: str, payload, headers: dict[str, str] | None = None,
                   timeout: float = 300) -> tuple[int, bytes]:
    body = json.dumps(payload).encode()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={
            **PROXY_HEADERS, "Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    import django

    return {
        "cpu": cpu or platform.processor(),
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
    }


def postgres_facts(cursor) -> dict[str, str]:
    facts = {}
    cursor.execute("SELECT version()")
    facts["postgresql"] = cursor.fetchone()[0].split(" on ")[0]
    for name in ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers"):
        cursor.execute(f"SHOW {name}")
        facts[name] = cursor.fetchone()[0]
    return facts


def table(rows: list[list[str]], header: list[str]) -> str:
    """A Markdown table (also readable as plain text)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in rows)])
