"""Recording incidents and their written records (biên bản)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from kt1.audit.services import audit_record
from kt1.core.choices import Secrecy
from kt1.core.clock import now
from kt1.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kt1.core.numbering import next_number
from kt1.core.permissions import has_perm, restrict

from . import actions as A
from .choices import IncidentKind, IncidentStatus
from .models import Incident, IncidentRecord, RecordConfirmation


@transaction.atomic
def incident_open(*, actor, kind: str, facility, description: str, item=None, bag=None, present=(),
                  record_text: str = "") -> Incident:
    """Record an incident with its written record, to be confirmed by every person present (the
    actor confirms on creation). Anything touching a secret item is flagged for the police.
    Audit: incident.opened, incident_record.drawn_up."""
    if not has_perm(actor, "incidents.record"):
        raise PermissionDenied(_("Bạn không có quyền ghi nhận sự cố."))
    if kind not in IncidentKind.values:
        raise ValidationFailed(_("Loại sự cố không hợp lệ."), detail={"kind": _("Không hợp lệ.")})
    if not (description or "").strip():
        raise ValidationFailed(_("Mô tả sự cố."), detail={"description": _("Bắt buộc.")})
    secrecy = Secrecy.NONE
    if item is not None:
        secrecy = item.secrecy
    elif bag is not None:
        secrecy = bag.highest_secrecy
    moment = now()
    incident = Incident.objects.create(
        number=f"SC{moment:%y}-{next_number('incident' + moment.strftime('%y')):05d}", kind=kind, facility=facility,
        item=item, bag=bag, secrecy=secrecy, police_notified=secrecy != Secrecy.NONE,
        description=description.strip(), reported_by=actor, reported_at=moment,
    )
    audit_record(action=A.INCIDENT_OPENED.code, actor=actor, obj=incident,
                 data={"number": incident.number, "kind": kind, "item": item.pk if item else None,
                       "bag": bag.pk if bag else None})
    record = IncidentRecord.objects.create(
        incident=incident, number=f"BB{moment:%y}-{next_number('record' + moment.strftime('%y')):05d}",
        text=(record_text or description).strip(), drawn_up_by=actor, drawn_up_at=moment,
    )
    people = {actor.pk: actor}
    for person in present:
        if person is not None:
            people.setdefault(person.pk, person)
    for person in people.values():
        RecordConfirmation.objects.create(record=record, person=person,
                                          confirmed_at=moment if person.pk == actor.pk else None)
    audit_record(action=A.RECORD_DRAWN_UP.code, actor=actor, obj=record,
                 data={"number": record.number, "present": sorted(people)})
    return incident


@transaction.atomic
def record_confirm(*, actor, record: IncidentRecord) -> RecordConfirmation:
    """A person named as present confirms the record in their own session. Audit:
    incident_record.confirmed."""
    record = restrict(IncidentRecord.objects.all(), actor).filter(pk=record.pk).first()
    if record is None:
        raise NotFound(_("Không tìm thấy biên bản."))
    confirmation = RecordConfirmation.objects.select_for_update().filter(record=record, person=actor).first()
    if confirmation is None:
        raise PermissionDenied(_("Bạn không có tên trong biên bản này."))
    if confirmation.confirmed_at is not None:
        raise Conflict(_("Bạn đã xác nhận biên bản này."))
    confirmation.confirmed_at = now()
    confirmation.save(update_fields=["confirmed_at"])
    audit_record(action=A.RECORD_CONFIRMED.code, actor=actor, obj=record, data={"number": record.number})
    return confirmation


@transaction.atomic
def incident_close(*, actor, incident: Incident, conclusion: str) -> Incident:
    """Close an incident with a conclusion (supervisors). Audit: incident.closed."""
    incident = restrict(Incident.objects.select_for_update(of=("self",)), actor).filter(pk=incident.pk).first()
    if incident is None:
        raise NotFound(_("Không tìm thấy sự cố."))
    if not has_perm(actor, "dispatch.report") and not has_perm(actor, "accounts.vetting.decide"):
        raise PermissionDenied(_("Chỉ kiểm soát viên hoặc công an kết thúc sự cố."))
    if incident.status == IncidentStatus.CLOSED:
        raise Conflict(_("Sự cố đã kết thúc."))
    if not (conclusion or "").strip():
        raise ValidationFailed(_("Ghi kết luận."), detail={"conclusion": _("Bắt buộc.")})
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = now()
    incident.description = f"{incident.description}\n— {_('Kết luận')}: {conclusion.strip()}"
    incident.save(update_fields=["status", "closed_at", "description"])
    audit_record(action=A.INCIDENT_CLOSED.code, actor=actor, obj=incident, data={"conclusion": conclusion.strip()})
    return incident
