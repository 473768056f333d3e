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
DISPATCH_READERS = POSTAL | {"admin", "oversight", "police"}
NO_DISPATCH = {"agency_clerk": 404, "finance": 404}  # no dispatch reads at all: the object is unknown to them
BAG_STAFF = frozenset({"operator", "counter_clerk", "supervisor"})


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
    **{  # items API: everyone acting in the province sees a registered item of its agencies (the envelope;
        # private fields are tested in tests/api/test_items_api.py); the batch upload is for people who
        # record custody, the others get 404 for the collection. POST on the item and events URLs shares
        # their GET names, so tests/api/test_items_api.py runs it as every role in and out of scope.
        "api:item_list": Spec(EVERYONE, api=True),
        "api:item_detail": Spec(EVERYONE, kwargs=lambda w: {"tracking_number": _api_item(w).tracking_number}, api=True),
        "api:item_events": Spec(EVERYONE, kwargs=lambda w: {"tracking_number": _api_item(w).tracking_number}, api=True),
        "api:event_batch": Spec(POSTAL | {"agency_clerk"}, method="POST", api=True),
    },
    **{  # dispatch API: postal staff, administrators, oversight and the police of the province read bags,
        # transfers, trips, rounds and incidents (agency clerks and finance get 404); an action is for the
        # roles holding its code (403 for the other readers) and, among them, for the person it names: the
        # taker confirms a transfer, the crew departs, the round's postman starts it, a person present
        # confirms a record. POST on the collection URLs (create) shares their GET names and runs as every
        # role in tests/api/test_dispatch_api.py, which also runs the permitted actions.
        **{name: Spec(DISPATCH_READERS, api=True) for name in (
            "api:bag_list", "api:transfer_list", "api:mail_trip_list", "api:vehicle_trip_list", "api:round_list",
            "api:round_coverage", "api:incident_list")},
        "api:trip_volumes": Spec(frozenset({"admin", "supervisor", "oversight"}), api=True),
        "api:bag_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_bag(w).pk}, api=True),
        **{name: Spec(frozenset({"counter_clerk", "operator", "supervisor"}), kwargs=lambda w: {"pk": _dispatch_bag(w).pk},
                      method="POST", denied=403, denied_by_role=NO_DISPATCH, api=True)
           for name in ("api:bag_items", "api:bag_seal", "api:bag_receive", "api:bag_scan", "api:bag_scans",
                        "api:bag_unscan", "api:bag_open_finish")},
        "api:bag_item_remove": Spec(
            frozenset({"counter_clerk", "operator", "supervisor"}), method="POST", denied=403,
            denied_by_role=NO_DISPATCH, api=True,
            kwargs=lambda w: {"pk": _dispatch_bag(w).pk, "tracking_number": _api_item(w).tracking_number}),
        "api:transfer_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_transfer(w).pk}, api=True),
        "api:transfer_confirm": Spec(frozenset({"driver"}), kwargs=lambda w: {"pk": _dispatch_transfer(w).pk},
                                     method="POST", denied=403, denied_by_role=NO_DISPATCH, api=True),
        "api:transfer_cancel": Spec(frozenset({"operator", "driver"}), kwargs=lambda w: {"pk": _dispatch_transfer(w).pk},
                                    method="POST", denied=403, denied_by_role=NO_DISPATCH, api=True),
        "api:mail_trip_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_trip(w).pk}, api=True),
        **{name: Spec(frozenset({"driver", "escort"}), kwargs=lambda w: {"pk": _dispatch_trip(w).pk}, method="POST",
                      denied=403, denied_by_role=NO_DISPATCH, api=True)
           for name in ("api:mail_trip_depart", "api:mail_trip_arrive")},
        "api:round_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_round(w).pk}, api=True),
        "api:round_start": Spec(frozenset({"postman"}), kwargs=lambda w: {"pk": _dispatch_round(w).pk}, method="POST",
                                denied=403, denied_by_role=NO_DISPATCH, api=True),
        "api:round_complete": Spec(frozenset({"postman", "supervisor"}), kwargs=lambda w: {"pk": _dispatch_round(w).pk},
                                   method="POST", denied=403, denied_by_role=NO_DISPATCH, api=True),
        "api:incident_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_record(w).incident_id},
                                    api=True),
        "api:record_confirm": Spec(frozenset({"escort"}), kwargs=lambda w: {"pk": _dispatch_record(w).pk},
                                   method="POST", denied=403, denied_by_role=NO_DISPATCH, api=True),
    },
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
    **{  # printable documents (PDF): the label for postal staff and the sending clerk only (the others
        # who can see the item get 404); lists and receipts for the parties, supervisors and the province.
        "items:label": Spec(POSTAL | {"agency_clerk"}, kwargs=lambda w: {"tracking_number": _doc_item(w).tracking_number}),
        "items:handover_pdf": Spec(frozenset({"admin", "agency_clerk", "postman", "supervisor", "oversight", "police"}),
                                   kwargs=lambda w: {"pk": _doc_delivery(w).pk}),
        "items:receipt_pdf": Spec(frozenset({"admin", "agency_clerk", "postman", "supervisor", "oversight", "police"}),
                                  kwargs=lambda w: {"pk": _doc_delivery(w).pk}),
    },
    **{  # post-side pages: staff who record custody open them, the others get 404; a visible list or
        # pickup that is not theirs to sign, cancel or collect answers 403 (tests/items/test_post_pages.py
        # runs the permitted actions).
        "items:my_items": Spec(POSTAL),
        "items:handover_new": Spec(POSTAL),
        "items:handover_list": Spec(EVERYONE),
        "items:counter_accept": Spec(frozenset({"counter_clerk", "postman", "supervisor"})),
        "items:counter_register": Spec(frozenset({"counter_clerk", "postman", "supervisor"})),
        "items:deliver": Spec(frozenset({"counter_clerk", "postman", "supervisor"})),
        "items:record_event": Spec(POSTAL, kwargs=lambda w: {"tracking_number": _doc_item(w).tracking_number}),
        "items:attempt_failed": Spec(frozenset({"counter_clerk", "postman", "supervisor"}),
                                     kwargs=lambda w: {"tracking_number": _doc_item(w).tracking_number}),
        "items:return_start": Spec(frozenset({"counter_clerk", "supervisor"}), method="POST",
                                   kwargs=lambda w: {"tracking_number": _doc_item(w).tracking_number}),
        "items:pickup_confirm": Spec(frozenset({"counter_clerk", "supervisor"}), method="POST",
                                     kwargs=lambda w: {"pk": _post_pickup(w).pk}),
        "items:pickup_cancel_post": Spec(frozenset({"counter_clerk", "supervisor"}), method="POST",
                                         kwargs=lambda w: {"pk": _post_pickup(w).pk}),
        "items:pickup_collect": Spec(frozenset({"postman"}), kwargs=lambda w: {"pk": _post_pickup(w).pk},
                                     denied_by_role={"counter_clerk": 403, "supervisor": 403}),
        "items:handover_detail": Spec(frozenset({"admin", "agency_clerk", "postman", "supervisor", "oversight", "police"}),
                                      kwargs=lambda w: {"pk": _doc_delivery(w).pk}),
        **{name: Spec(frozenset(allowed), kwargs=lambda w: {"pk": _post_open_handover(w).pk}, method="POST",
                      denied_by_role={r: 403 for r in ("counter_clerk", "operator", "supervisor", "admin", "police",
                                                       "oversight") if r not in allowed})
           for name, allowed in [("items:handover_complete", {"operator"}),
                                 ("items:handover_cancel", {"counter_clerk", "operator"})]},
    },
    **{  # agency side and tracking: everyone searches and opens items in scope; the agency pages are the
        # clerk's (404 for the others); cancelling is the sending clerk's (403 for those who see the item);
        # pickup pages for the requesting clerk and the staff who confirm (tests/items runs the actions).
        "items:track": Spec(EVERYONE),
        "items:item_detail": Spec(EVERYONE, kwargs=lambda w: {"tracking_number": _doc_item(w).tracking_number}),
        "items:cancel": Spec(frozenset({"agency_clerk"}), kwargs=lambda w: {"tracking_number": _doc_item(w).tracking_number},
                             method="POST", denied=403),
        "items:outgoing": Spec(frozenset({"agency_clerk"})),
        "items:incoming": Spec(frozenset({"agency_clerk"})),
        "items:register": Spec(frozenset({"agency_clerk"})),
        "items:recipient_addresses": Spec(frozenset({"agency_clerk"})),
        "items:pickup_list": Spec(frozenset({"agency_clerk", "counter_clerk", "supervisor"})),
        "items:pickup_new": Spec(frozenset({"agency_clerk"})),
        "items:pickup_detail": Spec(frozenset({"agency_clerk", "counter_clerk", "supervisor"}),
                                    kwargs=lambda w: {"pk": _agency_pickup(w).pk}),
        "items:pickup_cancel": Spec(frozenset({"agency_clerk"}), kwargs=lambda w: {"pk": _agency_pickup(w).pk},
                                    method="POST"),
    },
    **{  # bag pages: everyone acting for the post in the province (and its administrators, oversight and
        # police) reads bags, transfers and incidents; clerks and finance get 404. Working on a bag is for
        # operators, counter clerks and supervisors: the others, who see the bag, get 403. A transfer is
        # confirmed by its taker and withdrawn by either party (403 for the others); a record is confirmed
        # by a person named on it (403 for the others); an incident is
        # closed by supervisors, administrators, oversight or the police. tests/dispatch/test_bag_pages.py
        # and tests/incidents/test_incident_pages.py run the permitted actions.
        "dispatch:bag_list": Spec(DISPATCH_READERS),
        "dispatch:bag_new": Spec(BAG_STAFF),
        "dispatch:bag_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_bag(w).pk}),
        "dispatch:bag_pdf": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_bag(w).pk}),
        **{name: Spec(BAG_STAFF, kwargs=lambda w: {"pk": _dispatch_bag(w).pk}, method=method, denied=403,
                      denied_by_role={"agency_clerk": 404, "finance": 404})
           for name, method in [("dispatch:bag_add_item", "POST"), ("dispatch:bag_remove_item", "POST"),
                                ("dispatch:bag_seal", "POST"), ("dispatch:bag_cancel", "POST"),
                                ("dispatch:bag_receive", "GET"), ("dispatch:bag_open", "GET"),
                                ("dispatch:bag_open_paste", "POST"), ("dispatch:bag_open_unscan", "POST"),
                                ("dispatch:bag_open_finish", "POST")]},
        "dispatch:transfer_inbox": Spec(BAG_STAFF | {"driver", "escort"}),
        "dispatch:transfer_new": Spec(BAG_STAFF | {"driver", "escort"}),
        "dispatch:transfer_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_transfer(w).pk}),
        **{name: Spec(frozenset(allowed), kwargs=lambda w: {"pk": _dispatch_transfer(w).pk}, method="POST", denied=403,
                      denied_by_role={"agency_clerk": 404, "finance": 404})
           for name, allowed in [("dispatch:transfer_complete", {"driver"}),
                                 ("dispatch:transfer_cancel", {"operator", "driver"})]},
        "incidents:incident_list": Spec(DISPATCH_READERS),
        "incidents:incident_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_record(w).incident_id}),
        "incidents:record_pdf": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_record(w).pk}),
        "incidents:record_confirm": Spec(frozenset({"escort"}), kwargs=lambda w: {"pk": _dispatch_record(w).pk},
                                         method="POST", denied=403, denied_by_role={"agency_clerk": 404, "finance": 404}),
        "incidents:incident_close": Spec(frozenset({"supervisor", "admin", "oversight", "police"}),
                                         kwargs=lambda w: {"pk": _dispatch_record(w).incident_id}, method="POST",
                                         denied=403, denied_by_role={"agency_clerk": 404, "finance": 404}),
    },
    **{  # dispatch trips, rounds, reports and configuration: everyone who reads dispatch in the province
        # opens lists and details (an agency clerk or finance gets 404); planning is for operators and
        # supervisors, the crew departs and arrives, the round's postman starts it (403 for colleagues
        # who see it), reports for supervisors, administrators and oversight, configuration for
        # administrators. tests/dispatch/test_trip_pages.py and test_reports.py run the actions.
        "dispatch:trip_list": Spec(DISPATCH_READERS),
        "dispatch:trip_new": Spec(frozenset({"operator", "supervisor"})),
        "dispatch:trip_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_trip(w).pk}),
        "dispatch:trip_load": Spec(frozenset({"operator", "supervisor"}), kwargs=lambda w: {"pk": _dispatch_trip(w).pk},
                                   method="POST"),
        "dispatch:trip_depart": Spec(frozenset({"driver", "escort"}), kwargs=lambda w: {"pk": _dispatch_trip(w).pk},
                                     method="POST"),
        "dispatch:trip_arrive": Spec(frozenset({"driver", "escort"}), kwargs=lambda w: {"pk": _dispatch_trip(w).pk},
                                     method="POST"),
        "dispatch:vehicle_trip_list": Spec(DISPATCH_READERS),
        "dispatch:vehicle_trip_new": Spec(frozenset({"operator", "supervisor"})),
        "dispatch:round_list": Spec(DISPATCH_READERS),
        "dispatch:round_new": Spec(frozenset({"counter_clerk", "postman", "supervisor"})),
        "dispatch:round_detail": Spec(DISPATCH_READERS, kwargs=lambda w: {"pk": _dispatch_round(w).pk}),
        "dispatch:round_start": Spec(frozenset({"postman"}), kwargs=lambda w: {"pk": _dispatch_round(w).pk},
                                     method="POST", denied_by_role={"counter_clerk": 403, "supervisor": 403}),
        "dispatch:round_complete": Spec(frozenset({"postman", "supervisor"}), kwargs=lambda w: {"pk": _dispatch_round(w).pk},
                                        method="POST", denied_by_role={"counter_clerk": 403}),
        "dispatch:coverage": Spec(DISPATCH_READERS),
        "dispatch:volume_report": Spec(frozenset({"supervisor", "admin", "oversight"})),
        "dispatch:volume_report_xlsx": Spec(frozenset({"supervisor", "admin", "oversight"})),
        **{name: Spec(frozenset({"admin"})) for name in (
            "dispatch:config", "dispatch:route_new", "dispatch:vehicle_new", "dispatch:delivery_route_new",
            "dispatch:mix_rule_new", "dispatch:round_rule_new")},
    },
    **{  # people pages: administrators manage the people of their province; the police and supervisors
        # read them (403 on a manager's action); a page whose permission a person lacks is 404. A person
        # sees their own vettings (403 on a decision); only the police decide. tests/accounts runs the actions.
        "accounts:me": Spec(EVERYONE),
        "accounts:user_list": Spec(frozenset({"admin", "police", "supervisor"})),
        "accounts:user_detail": Spec(frozenset({"admin", "police", "supervisor"}), kwargs=lambda w: {"pk": w.people["postman"].pk}),
        "accounts:user_create": Spec(frozenset({"admin"})),
        **{name: Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": w.people["postman"].pk}, method=method,
                      denied_by_role={"police": 403, "supervisor": 403})
           for name, method in [("accounts:user_edit", "GET"), ("accounts:user_set_password", "GET"),
                                ("accounts:role_grant", "GET"), ("accounts:user_set_active", "POST"),
                                ("accounts:user_reset_two_factor", "POST")]},
        "accounts:role_end": Spec(frozenset({"admin"}), kwargs=lambda w: {"pk": _people_role(w).pk}, method="POST",
                                  denied_by_role={"police": 403, "supervisor": 403}),
        "accounts:training_add": Spec(frozenset({"admin", "supervisor"}), kwargs=lambda w: {"pk": w.people["postman"].pk}),
        "accounts:vetting_request": Spec(frozenset({"admin", "supervisor"}), kwargs=lambda w: {"pk": w.people["postman"].pk}),
        "accounts:vetting_list": Spec(EVERYONE),
        "accounts:vetting_detail": Spec(frozenset({"admin", "police", "supervisor", "postman"}),
                                        kwargs=lambda w: {"pk": _people_vetting(w).pk}),
        "accounts:vetting_approve": Spec(frozenset({"police"}), kwargs=lambda w: {"pk": _people_vetting(w).pk},
                                         denied_by_role={"admin": 403, "supervisor": 403, "postman": 403}),
        "accounts:vetting_reject": Spec(frozenset({"police"}), kwargs=lambda w: {"pk": _people_vetting(w).pk},
                                        denied_by_role={"admin": 403, "supervisor": 403, "postman": 403}),
        "accounts:vetting_revoke": Spec(frozenset({"police"}), kwargs=lambda w: {"pk": _people_approved_vetting(w).pk},
                                        denied_by_role={"admin": 403, "supervisor": 403, "driver": 403}),
        "audit:entry_list": Spec(frozenset({"admin", "police", "supervisor"})),
        "audit:verify": Spec(frozenset({"admin", "police", "supervisor"}), method="POST"),
    },
}


def _people_role(w):
    """The world's postman's current role assignment."""
    from kt1.accounts.models import RoleAssignment

    return RoleAssignment.objects.current().get(user=w.people["postman"])


def _people_vetting(w):
    """A pending vetting request for the world's postman (built once through the service)."""
    from kt1.accounts.models import Vetting
    from kt1.accounts.services import vetting_request

    return Vetting.objects.filter(user=w.people["postman"], status="requested").first() or vetting_request(
        actor=w.people["supervisor"], user=w.people["postman"], note="")


def _people_approved_vetting(w):
    """An approved vetting of the world's driver (built once through the services)."""
    from kt1.accounts.models import Vetting
    from tests import factories as f

    if not Vetting.objects.filter(user=w.people["driver"], status="approved").exists():
        f.cleared(w.people["driver"], police=w.people["police"])
    return Vetting.objects.get(user=w.people["driver"], status="approved")


def _directory_contact(w):
    """A contact of the world's agency (the world has none), added once through the service."""
    from kt1.directory.models import AgencyContact
    from kt1.directory.services import agency_contact_add
    from tests.factories import root_admin

    return AgencyContact.objects.filter(agency=w.agency).first() or agency_contact_add(
        actor=root_admin(), agency=w.agency, full_name="Liên hệ thử")


def _doc_item(w):
    """A registered item from the world's agency (built once through the services)."""
    from kt1.items.models import Item
    from tests import factories as f

    return Item.objects.filter(sender_agency=w.agency, status="registered").first() or f.item(
        w.people["agency_clerk"], w.other_agency)


def _agency_pickup(w):
    """A pickup request of the world's agency for one registered item (built once through the services)."""
    from kt1.items.models import PickupRequest
    from kt1.items.services import pickup_request
    from tests import factories as f

    existing = PickupRequest.objects.filter(agency=w.agency).first()
    if existing:
        return existing
    item = f.item(w.people["agency_clerk"], w.other_agency)
    return pickup_request(actor=w.people["agency_clerk"], agency=w.agency, tracking_numbers=[item.tracking_number])


def _doc_delivery(w):
    """A signed delivery list: an item from the world's other agency delivered to the world's agency clerk."""
    import uuid

    from kt1.items import services as svc
    from kt1.items.models import HandoverList
    from tests import factories as f

    existing = HandoverList.objects.filter(kind="delivery", status="completed", agency=w.agency).first()
    if existing:
        return existing
    p = w.people
    sender = f.person("agency_clerk", agency=w.other_agency)
    for user in (sender, p["agency_clerk"], p["counter_clerk"], p["postman"]):
        f.cleared(user, police=p["police"])
    item = f.item(sender, w.agency)
    sig = "data:image/png;base64,iVBORw0KGgo="
    counter = svc.handover_create(actor=p["counter_clerk"], kind="counter", tracking_numbers=[item.tracking_number],
                                  giver=sender, taker=p["counter_clerk"], giver_signature=sig, giver_signed_name="Văn thư")
    svc.handover_complete(actor=p["counter_clerk"], handover=counter)
    for code in ("KHOV", "EDG"):
        svc.custody_record(actor=p["postman"], request=svc.CustodyRequest(
            event_uuid=uuid.uuid4(), tracking_number=item.tracking_number, code=code))
    delivery = svc.handover_create(actor=p["postman"], kind="delivery", tracking_numbers=[item.tracking_number],
                                   giver=p["postman"], taker=p["agency_clerk"])
    return svc.handover_complete(actor=p["postman"], handover=delivery, taker_signature=sig, taker_signed_name="Văn thư")


def _post_pickup(w):
    """A pickup of the world's agency confirmed for the world's postman (built once through the services)."""
    from kt1.items.models import PickupRequest
    from kt1.items.services import pickup_confirm, pickup_request
    from tests import factories as f

    existing = PickupRequest.objects.filter(agency=w.agency, status="confirmed").first()
    if existing:
        return existing
    f.cleared(w.people["postman"], police=w.people["police"])
    item = f.item(w.people["agency_clerk"], w.other_agency)
    pickup = pickup_request(actor=w.people["agency_clerk"], agency=w.agency, tracking_numbers=[item.tracking_number])
    return pickup_confirm(actor=w.people["counter_clerk"], pickup=pickup, postman=w.people["postman"])


def _post_open_handover(w):
    """An unsigned internal list: the world's counter clerk hands an accepted item to the operator."""
    from kt1.items import services as svc
    from kt1.items.models import HandoverList
    from tests import factories as f

    existing = HandoverList.objects.filter(kind="internal", status="open", giver=w.people["counter_clerk"]).first()
    if existing:
        return existing
    p = w.people
    for user in (p["agency_clerk"], p["counter_clerk"], p["operator"]):
        f.cleared(user, police=p["police"])
    item = f.item(p["agency_clerk"], w.other_agency)
    counter = svc.handover_create(actor=p["counter_clerk"], kind="counter", tracking_numbers=[item.tracking_number],
                                  giver=p["agency_clerk"], taker=p["counter_clerk"],
                                  giver_signature="data:image/png;base64,iVBORw0KGgo=", giver_signed_name="Văn thư")
    svc.handover_complete(actor=p["counter_clerk"], handover=counter)
    return svc.handover_create(actor=p["counter_clerk"], kind="internal", tracking_numbers=[item.tracking_number],
                               giver=p["counter_clerk"], taker=p["operator"])


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


def _api_item(w):
    """A registered item sent by the world's agency, built once through the service."""
    from kt1.items.models import Item
    from tests import factories as f

    return Item.objects.filter(sender_agency=w.agency).order_by("pk").first() or f.item(
        w.people["agency_clerk"], w.other_agency)


def _dispatch_bag(w):
    """An open bag at the world's processing facility for its commune office."""
    from kt1.dispatch.models import Bag
    from kt1.dispatch.services import bag_create

    return Bag.objects.filter(origin=w.processing, status="open").order_by("pk").first() or bag_create(
        actor=w.people["operator"], destination=w.post_office)


def _dispatch_transfer(w):
    """An unconfirmed transfer: the world's operator lists a sealed bag of one item for its driver."""
    import datetime as dt
    import uuid

    from kt1.core.clock import local_today
    from kt1.dispatch import services as d
    from kt1.dispatch.models import BagTransfer, SecrecyMixRule
    from kt1.items.services import CustodyRequest, custody_record
    from tests import factories as f

    p = w.people
    existing = BagTransfer.objects.filter(giver=p["operator"], status="open").first()
    if existing:
        return existing
    for role in ("agency_clerk", "counter_clerk", "operator", "driver"):
        f.cleared(p[role], police=p["police"])
    if not SecrecyMixRule.objects.exists():
        d.mix_rule_set(actor=f.root_admin(), groups=[["A"], ["B", "C"], ["none"]],
                       valid_from=local_today() - dt.timedelta(days=1))
    item = f.item(p["agency_clerk"], w.other_agency)
    for actor, code in ((p["counter_clerk"], "EMA"), (p["operator"], "KHOV")):
        custody_record(actor=actor, request=CustodyRequest(event_uuid=uuid.uuid4(), tracking_number=item.tracking_number,
                                                           code=code))
    bag = d.bag_create(actor=p["operator"], destination=w.post_office)
    d.bag_add_item(actor=p["operator"], bag=bag, tracking_number=item.tracking_number)
    d.bag_seal(actor=p["operator"], bag=bag, seal_number=f"PS-{w.province.pk}")
    return d.transfer_create(actor=p["operator"], taker=p["driver"], bags=[bag])


def _dispatch_trip(w):
    """A planned mail trip processing → commune office on a vehicle trip with the world's driver and escort."""
    import datetime as dt

    from kt1.core.clock import local_today
    from kt1.dispatch import services as d
    from kt1.dispatch.models import MailTrip
    from tests.factories import root_admin

    existing = MailTrip.objects.filter(route__origin=w.processing).first()
    if existing:
        return existing
    p = w.people
    route = d.mail_route_create(actor=root_admin(), code=f"PS{w.province.pk}", name="Tuyến thử", origin=w.processing,
                                destination=w.post_office, shifts=[("Sáng", dt.time(7, 0))])
    trip = d.mail_trip_create(actor=p["operator"], route=route, shift=route.shifts.get(), service_date=local_today())
    vehicle = d.vehicle_create(actor=root_admin(), registration=f"PS-{w.province.pk}", facility=w.processing,
                               is_dedicated=False)
    d.vehicle_trip_create(actor=p["operator"], vehicle=vehicle, driver=p["driver"], escort=p["escort"],
                          service_date=local_today(), mail_trips=[trip])
    return trip


def _dispatch_round(w):
    """A planned delivery round of the world's commune office for its postman."""
    from kt1.core.clock import local_today
    from kt1.dispatch import services as d
    from kt1.dispatch.models import DeliveryRound
    from tests.factories import root_admin

    existing = DeliveryRound.objects.filter(route__facility=w.post_office).first()
    if existing:
        return existing
    route = d.delivery_route_create(actor=root_admin(), code=f"PS{w.province.pk}", name="Tuyến phát thử",
                                    facility=w.post_office, admin_units=[w.commune])
    return d.round_create(actor=w.people["counter_clerk"], route=route, postman=w.people["postman"],
                          service_date=local_today())


def _dispatch_record(w):
    """The written record of an incident at the world's processing facility, drawn up by another
    operator with the world's escort present (not yet confirmed by the escort)."""
    from kt1.incidents.models import IncidentRecord
    from kt1.incidents.services import incident_open
    from tests import factories as f

    existing = IncidentRecord.objects.filter(incident__facility=w.processing).first()
    if existing:
        return existing
    reporter = f.person("operator", facility=w.processing)
    incident = incident_open(actor=reporter, kind="other", facility=w.processing, description="Sự cố thử",
                             present=[w.people["escort"]])
    return incident.records.get()


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
