#!/usr/bin/env python3
"""A throwaway PostgreSQL cluster for the test suite.

    scripts/pg_cluster.py check            # say which server binaries would be used; exit 1 if none
    scripts/pg_cluster.py run -- CMD ...   # start a cluster, run CMD with DATABASE_URL set, tear down
    scripts/pg_cluster.py run --durable --set shared_buffers=1GB -- CMD ...   # benchmarks (bench/)

The cluster lives in a fresh temp dir, listens on 127.0.0.1 on a free port (and on a unix socket
inside that dir only), trusts local connections and runs with fsync, synchronous_commit and
full_page_writes off: it is for tests and nothing else, and it is stopped and deleted when CMD ends,
whether CMD passed, failed or was interrupted. No system cluster is ever touched.

`--durable` turns fsync, synchronous_commit and full_page_writes back on (PostgreSQL's defaults),
so a benchmark's write figures include the cost of durable commits; `--set NAME=VALUE` (repeatable)
adds any other server setting. Neither changes what the test suite gets.

initdb refuses to run as root, so as root (as in CI) the server runs as the `postgres` system user
in a temp dir that user owns.

Stdlib only: it runs before or without the project's virtualenv.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER_USER = "postgres"
DB_NAME = "kt1"
# Settings for a disposable test cluster only. Never copy these to a real server.
TEST_SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}


def _say(message: str) -> None:
    print(f"[pg_cluster] {message}", file=sys.stderr, flush=True)


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres of one PostgreSQL version.

    Order: $KT1_PG_BINDIR, initdb on PATH (symlinks resolved, e.g. /usr/local/bin/initdb), then
    Debian's /usr/lib/postgresql/<version>/bin, newest version first, where the `postgresql`
    package puts the server binaries without adding them to PATH.
    """
    candidates: list[Path] = []
    if os.environ.get("KT1_PG_BINDIR"):
        candidates.append(Path(os.environ["KT1_PG_BINDIR"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
        reverse=True,
    )
    candidates.extend(Path(p) for p in debian)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DURABLE_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


class Cluster:
    def __init__(self, bindir: Path, settings: dict[str, str] | None = None) -> None:
        self.bindir = bindir
        self.settings = {**TEST_SERVER_SETTINGS, **(settings or {})}
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="kt1-pg-", dir=os.environ.get("KT1_PG_TMPDIR")))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.started = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        # cwd inside the cluster dir: the server user may not be able to read the caller's cwd.
        env = {**os.environ, "LC_ALL": "C", "PGHOST": str(self.root), "PGPORT": str(self.port)}
        return subprocess.run(  # noqa: S603 - our own fixed argv, no shell
            cmd, cwd=self.root, env=env, text=True, capture_output=True, check=False
        )

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            _say(f"{what} failed (exit {result.returncode})")
            sys.stderr.write(result.stdout + result.stderr)
            if self.log.exists():
                sys.stderr.write(f"--- {self.log} ---\n{self.log.read_text(errors='replace')}")
            raise SystemExit(f"[pg_cluster] could not start the test cluster: {what} failed")

    def start(self) -> None:
        t0 = time.monotonic()
        if self.as_root:
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise SystemExit(
                    f"[pg_cluster] running as root but there is no '{SERVER_USER}' system user to run "
                    "initdb as (Debian's postgresql package creates it: apt-get install postgresql)"
                ) from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._check(
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ),
            "initdb",
        )
        # Appending keeps the file's owner (the server user when we run as root).
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# kt1 throwaway test cluster (scripts/pg_cluster.py)\n")
            conf.write(f"port = {self.port}\n")
            conf.write(f"unix_socket_directories = '{self.root}'\n")
            for key, value in self.settings.items():
                conf.write(f"{key} = {value}\n")
        self._check(
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"),
            "pg_ctl start",
        )
        self.started = True
        createdb = self.bindir / "createdb"
        if os.access(createdb, os.X_OK):
            self._check(self._run("createdb", "-h", str(self.root), "-U", "postgres", DB_NAME), "createdb")
        # Without createdb, Django still creates test_kt1 through the always-present `postgres` db.
        _say(
            f"PostgreSQL ({self.bindir}) on 127.0.0.1:{self.port}, dir {self.root}, "
            f"ready in {time.monotonic() - t0:.1f}s"
        )

    def stop(self) -> None:
        try:
            if self.started:
                # immediate: nothing in here is worth a clean shutdown checkpoint.
                result = self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
                if result.returncode != 0:
                    _say("pg_ctl stop failed:\n" + result.stdout + result.stderr)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            if self.root.exists():
                _say(f"could not remove {self.root}")
            else:
                _say(f"stopped and removed {self.root}")


def _raise_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def cmd_check() -> int:
    bindir = find_bindir()
    if bindir is None:
        print(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or in "
            "/usr/lib/postgresql/*/bin; install Debian's `postgresql` package"
        )
        return 1
    print(bindir)
    return 0


def cmd_run(command: list[str], settings: dict[str, str] | None = None) -> int:
    if not command:
        raise SystemExit("usage: pg_cluster.py run -- COMMAND [ARGS...]")
    bindir = find_bindir()
    if bindir is None:
        cmd_check()
        return 2
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    signal.signal(signal.SIGHUP, _raise_on_sigterm)
    cluster = Cluster(bindir, settings)
    try:
        cluster.start()
        env = {**os.environ, "DATABASE_URL": cluster.url, "KT1_PG_CLUSTER_DIR": str(cluster.root)}
        _say(f"running: {' '.join(command)}")
        try:
            return subprocess.call(command, env=env)  # noqa: S603 - the caller's command, no shell
        except FileNotFoundError:
            _say(f"command not found: {command[0]}")
            return 127
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    finally:
        cluster.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("check", help="print the server bindir, exit 1 if there is none")
    run = sub.add_parser("run", help="run COMMAND against a throwaway cluster")
    run.add_argument("--durable", action="store_true",
                     help="fsync, synchronous_commit and full_page_writes on (benchmarks)")
    run.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                     help="one more server setting (repeatable)")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = parser.parse_args(argv)
    if args.action == "check":
        return cmd_check()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    settings = dict(DURABLE_SETTINGS) if args.durable else {}
    for item in args.settings:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            parser.error(f"--set expects NAME=VALUE, got {item!r}")
        settings[name.strip()] = value.strip()
    return cmd_run(command, settings)


if __name__ == "__main__":
    sys.exit(main())
