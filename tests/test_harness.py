"""Proves the harness: the database each suite claims to use is the one the tests really get."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.mark.django_db
def test_database_is_the_one_the_suite_asked_for():
    assert connection.vendor == ("postgresql" if ON_POSTGRES else "sqlite")
    # pytest-django made a test database; the tests never see a real one.
    name = str(connection.settings_dict["NAME"])
    if ON_POSTGRES:
        assert name.startswith("test_kt1"), name
    else:
        assert connection.is_in_memory_db(), name
    # Migrations ran on it: the custom user model's table is there.
    assert get_user_model()._meta.db_table in connection.introspection.table_names()


@pytest.mark.django_db
@pytest.mark.skipif(not os.environ.get("KT1_PG_CLUSTER_DIR"), reason="only on the throwaway cluster")
def test_postgres_is_the_throwaway_cluster():
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_directory = cursor.fetchone()[0]
        cursor.execute("SHOW fsync")
        fsync = cursor.fetchone()[0]
        cursor.execute("SHOW server_version_num")
        version = int(cursor.fetchone()[0])
    assert Path(data_directory).parent == Path(os.environ["KT1_PG_CLUSTER_DIR"])
    assert fsync == "off"
    assert version >= 150000


def _item(path: Path, marked: bool) -> SimpleNamespace:
    return SimpleNamespace(
        nodeid=str(path), path=path, get_closest_marker=lambda name: object() if marked else None
    )


def test_browser_marker_is_refused_outside_tests_browser(request):
    # The conftest module pytest registered (importing it again would make a second copy).
    conftest_path = Path(__file__).with_name("conftest.py").resolve()
    conftest = next(
        plugin
        for plugin in request.config.pluginmanager.get_plugins()
        if getattr(plugin, "__file__", None) and Path(plugin.__file__).resolve() == conftest_path
    )
    here = Path(__file__).resolve()
    items = [
        _item(here, marked=True),
        _item(here, marked=False),
        _item(conftest.BROWSER_DIR / "test_x.py", marked=True),
    ]
    assert conftest.misplaced_browser_tests(items) == [str(here)]


def test_this_module_is_not_marked_browser(request):
    assert request.node.get_closest_marker("browser") is None
