"""The two caches behind a fast API read: prepared querysets and scopes reused per stamp.

kt1.core.prepared must give exactly what the queryset gives; kt1.core.permissions.scope_of may
reuse a scope only while nothing it was computed from has changed, and never one computed from a
transaction that rolled back.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kt1.accounts.models import RoleAssignment
from kt1.accounts.services import role_end, role_grant
from kt1.core import permissions
from kt1.core.models import ScopeStamp
from kt1.core.permissions import bump_scope_stamp, restrict
from kt1.core.prepared import SENTINEL, PreparedQuery
from kt1.items.models import Item
from kt1.items.selectors import _ITEM_RELATED
from tests import factories as f
from tests.helpers import api_client


def _fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


@pytest.mark.django_db
def test_a_prepared_query_gives_what_its_queryset_gives(world):
    w = world["A"]
    clerk = w.people["agency_clerk"]
    items = [f.item(clerk, w.other_agency), f.item(clerk, world["B"].agency)]
    for viewer in (clerk, w.people["supervisor"], world["B"].people["supervisor"]):
        def scoped(value, viewer=viewer):
            return restrict(Item.objects.select_related(*_ITEM_RELATED), viewer).filter(tracking_number=value).order_by()
        query = PreparedQuery(scoped(SENTINEL))
        for item in items:
            expected = list(scoped(item.tracking_number))
            got = query.fetch(item.tracking_number)
            assert [_fields(o) for o in got] == [_fields(o) for o in expected]
            for name in ("sender_agency", "recipient_agency", "holder", "issuing_facility"):
                assert [_fields(getattr(o, name)) for o in got] == [_fields(getattr(o, name)) for o in expected]
            if got:  # the related rows came with it: reading them costs no query
                with CaptureQueriesContext(connection) as queries:
                    _ = (got[0].recipient_address.admin_unit.name, got[0].holder.full_name, got[0].sender_agency.name)
                assert len(queries) == 0
        assert query.fetch("KT000000000VN") == []
    assert PreparedQuery(Item.objects.none().filter(tracking_number=SENTINEL)).fetch(items[0].tracking_number) == []
    with pytest.raises(ValueError, match="exactly once"):
        PreparedQuery(Item.objects.filter(tracking_number=items[0].tracking_number))


@pytest.fixture
def stamped(transactional_db):
    """Scopes are cached only from committed rows: these tests commit (transactional_db)."""
    permissions._SCOPE_CACHE.clear()
    bump_scope_stamp()  # a flushed database has no stamp row: give it one
    yield
    permissions._SCOPE_CACHE.clear()


def _lookup(client, number: str):
    return client.get(reverse("api:item_detail", args=[number]))


def test_an_api_callers_scope_is_reused_until_a_role_changes(stamped):
    w = f.build_province_world("Tỉnh cache")
    item = f.item(w.people["agency_clerk"], w.other_agency)
    supervisor = api_client(w.people["supervisor"])
    assert _lookup(supervisor, item.tracking_number).status_code == 200  # computes and keeps the scope
    with CaptureQueriesContext(connection) as queries:
        assert _lookup(supervisor, item.tracking_number).status_code == 200
    assert len(queries) == 2, [q["sql"][:80] for q in queries]  # the token (with the stamp) and the item
    stamp = ScopeStamp.objects.get(pk=1).value

    assignment = RoleAssignment.objects.get(user=w.people["supervisor"], ended_at__isnull=True)
    role_end(actor=f.root_admin(), assignment=assignment)
    assert ScopeStamp.objects.get(pk=1).value != stamp
    assert _lookup(supervisor, item.tracking_number).status_code == 404  # the ended role is gone at once


def test_a_rolled_back_change_leaves_no_scope_behind(stamped):
    w = f.build_province_world("Tỉnh rollback")
    item = f.item(w.people["agency_clerk"], w.other_agency)
    other = f.build_province_world("Tỉnh khác")
    outsider = other.people["supervisor"]
    client = api_client(outsider)
    assert _lookup(client, item.tracking_number).status_code == 404
    stamp = ScopeStamp.objects.get(pk=1).value
    with pytest.raises(RuntimeError), transaction.atomic():
        role_grant(actor=f.root_admin(), user=outsider, role="supervisor", facility=w.provincial_post)
        # Inside the transaction the new role counts for this request's reads...
        assert _lookup(client, item.tracking_number).status_code == 200
        raise RuntimeError("rolled back")
    # ...but nothing of it survives: same stamp, and the scope computed inside was not kept.
    assert ScopeStamp.objects.get(pk=1).value == stamp
    assert _lookup(client, item.tracking_number).status_code == 404


def test_people_and_directory_changes_change_the_stamp(stamped):
    w = f.build_province_world("Tỉnh dấu")
    stamps = [ScopeStamp.objects.get(pk=1).value]

    def changed() -> bool:
        stamps.append(ScopeStamp.objects.get(pk=1).value)
        return stamps[-1] != stamps[-2]

    from kt1.accounts.services import user_set_active
    from kt1.directory.services import agency_update

    user_set_active(actor=f.root_admin(), user=w.people["postman"], active=False)
    assert changed()
    agency_update(actor=f.root_admin(), agency=w.agency, name="Tên mới của cơ quan")
    assert changed()
    postman = w.people["postman"]
    postman.last_login = postman.date_joined  # a sign-in writes last_login only: no change of scope
    postman.save(update_fields=["last_login"])
    assert not changed()
