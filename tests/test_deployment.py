"""Production settings: the deploy self-check passes, and refuses to start without secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _kt1(args: list[str], **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KT1_", "DJANGO_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **env_overrides})
    return subprocess.run([sys.executable, "-m", "kt1.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_has_no_warnings(tmp_path):
    result = _kt1(
        ["check", "--deploy", "--fail-level", "WARNING"],
        KT1_SECRET_KEY="q7#R2v!xL9@pZ4s&Wm8^kT1nB6yH3cJ0eF5gA-uD_oI+rE=wS%tY*hN(lM)jK",
        KT1_ALLOWED_HOSTS="kt1.tuyenquang.gov.vn",
        KT1_FIELD_KEYS="_Qd3HoS2W8MdgI7E2l_Bo5RJgVCn5yBrcfVsFo8G-Mw=",
        KT1_AUDIT_SIGNING_KEY="nS0Xq4mW8r2fUjQyJ3b7Zk1LhV9cTpA6eD5gYxR0sHI=",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _kt1(["check"], KT1_ALLOWED_HOSTS="kt1.example.vn", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode != 0
    assert "KT1_SECRET_KEY" in result.stderr


def test_database_url_selects_postgres():
    code = (
        "import os; os.environ['DATABASE_URL']='postgres://kt1:pw@db.internal:5433/kt1';"
        "import django; from django.conf import settings; django.setup();"
        "d=settings.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['PORT'], d['NAME'], d['CONN_MAX_AGE'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KT1_", "DJANGO_", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.dev")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["django.db.backends.postgresql", "db.internal", "5433", "kt1", "600"], result.stderr


def test_the_wsgi_application_loads_its_views_and_freezes_them_out_of_the_collector(tmp_path):
    """config.wsgi: the URLconf is loaded at start and the startup objects frozen (no full-collection
    pause of every object in the middle of a request)."""
    code = ("import gc, sys; import config.wsgi; "
            "print(gc.get_freeze_count(), 'kt1.api.v1.items' in sys.modules, 'kt1.dispatch.views_bags' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KT1_", "DJANGO_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.dev", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    frozen, api_loaded, pages_loaded = result.stdout.split()
    assert int(frozen) > 50_000 and api_loaded == pages_loaded == "True"
