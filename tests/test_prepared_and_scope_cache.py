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
from kt1.accounts.services import api_token_create, role_end, role_grant
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
    # One statement: the item, with the token and the stamp it is confirmed by (kt1.api.auth).
    assert len(queries) == 1, [q["sql"][:80] for q in queries]
    with CaptureQueriesContext(connection) as queries:  # a read that does not confirm the token itself
        assert supervisor.get(reverse("api:item_events", args=[item.tracking_number])).status_code == 200
    assert len(queries) == 3, [q["sql"][:80] for q in queries]  # the token (with the stamp), item, events
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


def test_a_prepared_values_query_gives_what_its_queryset_gives(world):
    w = world["A"]
    clerk = w.people["agency_clerk"]
    items = [f.item(clerk, w.other_agency), f.item(clerk, world["B"].agency)]
    fields = ("pk", "tracking_number", "holder__full_name", "recipient_address__admin_unit__name", "registered_at")
    found = 0
    for viewer in (clerk, world["B"].people["supervisor"]):
        def scoped(value, other, viewer=viewer):
            return (restrict(Item.objects.all(), viewer).filter(tracking_number=value).exclude(named_recipient=other)
                    .order_by().values(*fields))
        query = PreparedQuery(scoped(SENTINEL, "\x00other"), sentinel=(SENTINEL, "\x00other"))
        for item in items:
            got = query.fetch(item.tracking_number, "nobody")
            assert got == list(scoped(item.tracking_number, "nobody"))
            assert query.fetch(item.tracking_number, "") == list(scoped(item.tracking_number, ""))
            found += len(got)
    assert found >= 2  # the clerk sees both
    with pytest.raises(ValueError, match="exactly once"):
        PreparedQuery(Item.objects.filter(tracking_number=SENTINEL).values("pk"), sentinel=(SENTINEL, "absent"))


def test_a_known_caller_whose_token_is_replaced_is_refused_at_once(stamped):
    w = f.build_province_world("Tỉnh khóa")
    item = f.item(w.people["agency_clerk"], w.other_agency)
    supervisor = w.people["supervisor"]
    client = api_client(supervisor)
    assert _lookup(client, item.tracking_number).status_code == 200
    assert _lookup(client, item.tracking_number).status_code == 200  # provisional, confirmed in the item's read
    api_token_create(actor=None, user=supervisor)  # a new key revokes the old one
    response = _lookup(client, item.tracking_number)
    assert response.status_code == 401 and "WWW-Authenticate" in response
    assert _lookup(client, "KT000000000VN").status_code == 401  # not a 400 or 404: the token first


def test_a_known_caller_made_inactive_is_refused_at_once(stamped):
    w = f.build_province_world("Tỉnh tắt")
    item = f.item(w.people["agency_clerk"], w.other_agency)
    client = api_client(w.people["supervisor"])
    assert _lookup(client, item.tracking_number).status_code == 200
    from kt1.accounts.services import user_set_active

    user_set_active(actor=f.root_admin(), user=w.people["supervisor"], active=False)
    assert _lookup(client, item.tracking_number).status_code == 401


def test_a_known_caller_sees_a_new_role_at_once_in_both_directions(stamped):
    w = f.build_province_world("Tỉnh mới")
    item = f.item(w.people["agency_clerk"], w.other_agency)
    other = f.build_province_world("Tỉnh bên")
    outsider = other.people["supervisor"]
    client = api_client(outsider)
    assert _lookup(client, item.tracking_number).status_code == 404  # known now, with a scope that does not see it
    assignment = role_grant(actor=f.root_admin(), user=outsider, role="supervisor", facility=w.provincial_post)
    assert _lookup(client, item.tracking_number).status_code == 200  # the stale 404 was not the answer
    role_end(actor=f.root_admin(), assignment=assignment)
    assert _lookup(client, item.tracking_number).status_code == 404  # nor is the stale 200
    # Someone whose every role ended: no items.view at all, decided on the token as read now.
    for a in RoleAssignment.objects.filter(user=outsider, ended_at__isnull=True):
        role_end(actor=f.root_admin(), assignment=a)
    assert _lookup(client, item.tracking_number).status_code == 404
    role_grant(actor=f.root_admin(), user=outsider, role="supervisor", facility=w.provincial_post)
    assert _lookup(client, item.tracking_number).status_code == 200
