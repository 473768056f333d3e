"""The permission suite: every page and every API endpoint, as every role, against an object in the
person's scope (province A) and one outside it (province B).

Every named URL must have a spec below: a new page or endpoint without one fails
`test_every_url_has_a_permission_spec`, so nothing ships unchecked.

A spec says which roles may open the URL on an in-scope object (200 for GET); everyone else gets
`denied` (404 where the person may not even know of the thing, 403 where they can see the object but
not the action). For an object of province B every role of province A gets 404, exactly like a
missing object. POST-only actions are exercised only by roles that must be refused, and the suite
checks that the refusal changed nothing (the audit log did not grow).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kt1.audit.models import AuditEntry
from tests.helpers import api_client, verified_client

ROLES = ("admin", "agency_clerk", "counter_clerk", "postman", "operator", "driver", "escort",
         "supervisor", "oversight", "police", "finance")
EVERYONE = frozenset(ROLES)
POSTAL = frozenset({"counter_clerk", "postman", "operator", "driver", "escort", "supervisor"})


@dataclass(frozen=True)
class Spec:
    allowed: frozenset[str]
    kwargs: Callable | None = None  # (world side) -> URL kwargs; None for collection URLs
    method: str = "GET"
    denied: int = 404  # for roles not allowed on an in-scope object
    denied_by_role: dict[str, int] = field(default_factory=dict)
    api: bool = False
    query: str = ""


# Names served to anonymous visitors or that are not per-object pages.
PUBLIC = {"set_language", "accounts:login", "accounts:logout", "accounts:otp_verify", "accounts:otp_enrol",
          "core:healthz", "api:schema"}

SPECS: dict[str, Spec] = {
    "core:home": Spec(EVERYONE),
    "api:me": Spec(EVERYONE, api=True),
    "api:agency_list": Spec(EVERYONE, api=True),
    "api:agency_detail": Spec(EVERYONE, kwargs=lambda w: {"pk": w.agency.pk}, api=True),
    "api:facility_list": Spec(EVERYONE, api=True),
    "api:facility_detail": Spec(EVERYONE, kwargs=lambda w: {"pk": w.post_office.pk}, api=True),
    "api:admin_unit_list": Spec(EVERYONE, api=True),
    **{  # directory pages: everyone reads within the province; only administrators change it, and
        # the others, who can see the object, get 403 (see tests/directory for the permitted actions).
        "directory:agency_list": Spec(EVERYONE),
        "directory:agency_detail": Spec(EVERYONE, kwargs=lambda w: {"pk": w.agency.pk}),
        "directory:agency_create": Spec(frozenset({"admin"}), denied=403),
        "directory:agency_edit": Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": w.agency.pk}, denied=403),
        "directory:agency_retire": Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": w.agency.pk}, method="POST",
                                        denied=403),
        "directory:agency_address_add": Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": w.agency.pk}, denied=403),
        "directory:agency_address_retire": Spec(
            frozenset({"admin"}), kwargs=lambda w: {"pk": w.agency.pk, "address_pk": w.agency.addresses.first().pk},
            method="POST", denied=403),
        "directory:agency_contact_add": Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": w.agency.pk}, denied=403),
        "directory:agency_contact_retire": Spec(
            frozenset({"admin"}), kwargs=lambda w: {"pk": w.agency.pk, "contact_pk": _directory_contact(w).pk},
            method="POST", denied=403),
        "directory:facility_list": Spec(EVERYONE),
        "directory:facility_detail": Spec(EVERYONE, kwargs=lambda w: {"pk": w.post_office.pk}),
        "directory:facility_create": Spec(frozenset({"admin"}), denied=403),
        "directory:facility_edit": Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": w.post_office.pk}, denied=403),
        "directory:facility_retire": Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": w.post_office.pk},
                                          method="POST", denied=403),
        "directory:unit_list": Spec(EVERYONE),
        "directory:unit_detail": Spec(EVERYONE, kwargs=lambda w: {"pk": w.commune.pk}),
        "directory:unit_create": Spec(frozenset({"admin"}), denied=403),
        "directory:unit_edit": Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": w.commune.pk}, denied=403),
        "directory:unit_retire": Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": w.commune.pk}, method="POST",
                                      denied=403),
    },
}


def _directory_contact(w):
    """A contact of the world's agency (the world has none), added once through the service."""
    from kt1.directory.models import AgencyContact
    from kt1.directory.services import agency_contact_add
    from tests.factories import root_admin

    return AgencyContact.objects.filter(agency=w.agency).first() or agency_contact_add(
        actor=root_admin(), agency=w.agency, full_name="Liên hệ thử")


def all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
                walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.name:
                names.add(prefix + p.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_has_a_permission_spec():
    missing = sorted(all_url_names() - set(SPECS) - PUBLIC)
    assert not missing, f"URLs without a permission spec: {missing}"


def _client_for(spec: Spec, user):
    return api_client(user) if spec.api else verified_client(user)


def _call(client, spec: Spec, url: str):
    if spec.method == "GET":
        return client.get(url + spec.query)
    return client.post(url, {})


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_role_in_and_out_of_scope(name, world):
    spec = SPECS[name]
    ours, theirs = world["A"], world["B"]
    for role in ROLES:
        user = ours.people[role]
        client = _client_for(spec, user)
        if spec.kwargs is not None:
            # Outside the scope: indistinguishable from a missing object, whatever the role.
            out_url = reverse(name, kwargs=spec.kwargs(theirs))
            before = AuditEntry.objects.count()
            response = _call(client, spec, out_url)
            assert response.status_code == 404, f"{role} on {name} of another province: {response.status_code}"
            if spec.method != "GET":
                assert AuditEntry.objects.count() == before, f"{role} changed something via {name}"
        url = reverse(name, kwargs=spec.kwargs(ours) if spec.kwargs else None)
        if role in spec.allowed:
            if spec.method != "GET":
                continue  # permitted actions are exercised by their feature tests
            response = _call(client, spec, url)
            assert response.status_code == 200, f"{role} on {name}: {response.status_code}"
        else:
            before = AuditEntry.objects.count()
            response = _call(client, spec, url)
            expected = spec.denied_by_role.get(role, spec.denied)
            assert response.status_code == expected, f"{role} on {name}: {response.status_code}, expected {expected}"
            assert AuditEntry.objects.count() == before, f"{role} changed something via {name}"
