"""What the dispatch API modules share: references in request bodies looked up in the caller's
scope, error responses, and the output shapes of bags, trips and incidents as references."""

from __future__ import annotations

from django.db.models import Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from kt1.accounts.models import RoleAssignment, User
from kt1.core.errors import PermissionDenied, ValidationFailed
from kt1.core.permissions import has_perm, restrict, scope_of
from kt1.dispatch.models import Bag
from kt1.dispatch.policy import seal_hidden_from
from kt1.incidents import selectors as incident_selectors
from kt1.incidents.models import Incident

from ..items import ErrorOutput, FacilityRefOutput, PersonRefOutput

MAX_IDS = 200  # bags in one transfer or trip, people present, mail trips on one vehicle
MAX_ROUND_ITEMS = 500

_INVALID_CHOICE = gettext_lazy("Giá trị “{input}” không hợp lệ.")
ID_ERRORS = {"invalid": gettext_lazy("Phải là số nguyên.")}
DATE_ERRORS = {"invalid": gettext_lazy("Ngày theo dạng YYYY-MM-DD.")}
BOOL_ERRORS = {"invalid": gettext_lazy("Chỉ nhận true hoặc false.")}

ERRORS = {
    400: OpenApiResponse(ErrorOutput, description="Dữ liệu không hợp lệ hoặc bị từ chối (mã lỗi trong `code`)"),
    403: OpenApiResponse(ErrorOutput, description="Thấy đối tượng nhưng không được thực hiện thao tác"),
    404: OpenApiResponse(ErrorOutput, description="Không có, hoặc ngoài phạm vi của người gọi"),
    409: OpenApiResponse(ErrorOutput, description="Trạng thái hiện tại không cho phép (illegal_transition, ...)"),
}
WRITE_ERRORS = {k: ERRORS[k] for k in (400, 403, 404, 409)}


def choice(choices, **kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=choices, error_messages={"invalid_choice": _INVALID_CHOICE}, **kwargs)


def id_list(help_text: str, *, required: bool = True, max_length: int = MAX_IDS) -> serializers.ListField:
    return serializers.ListField(child=serializers.IntegerField(error_messages=ID_ERRORS), required=required,
                                 max_length=max_length, help_text=help_text, error_messages={
                                     "not_a_list": gettext_lazy("Phải là một danh sách."),
                                     "max_length": gettext_lazy("Tối đa {max_length} phần tử.")})


def require_any(user, *codes: str) -> None:
    """For people who can see the object but hold none of the codes the operation needs: 403
    before their input is even read (the service checks again)."""
    if not any(has_perm(user, code) for code in codes):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


# --- references in request bodies, looked up in the caller's scope ------------------------------------


def unknown_reference(field: str, label: str, value) -> ValidationFailed:
    message = _("%(label)s “%(name)s” không tồn tại.") % {"label": label, "name": value}
    return ValidationFailed(message, detail={field: message})


def one_in_scope(user, queryset, pk: int | None, field: str, label: str):
    """One row the caller may see; an unknown or out-of-scope id is refused the same way."""
    if pk is None:
        return None
    obj = restrict(queryset, user).filter(pk=pk).first()
    if obj is None:
        raise unknown_reference(field, label, pk)
    return obj


def many_in_scope(user, queryset, pks: list[int], field: str, label: str) -> list:
    wanted = list(dict.fromkeys(pks))
    found = {obj.pk: obj for obj in restrict(queryset, user).filter(pk__in=wanted)}
    for pk in wanted:
        if pk not in found:
            raise unknown_reference(field, label, pk)
    return [found[pk] for pk in wanted]


def colleagues(user, pks: list[int], field: str, label: str) -> list[User]:
    """Active people who hold a current role in a province the caller acts in (a taker, a crew
    member, a postman, people present at an opening). Whether they may take custody is the
    service's check; here only that they exist for the caller."""
    wanted = list(dict.fromkeys(pks))
    if not wanted:
        return []
    scope = scope_of(user)
    people = User.objects.filter(pk__in=wanted, is_active=True)
    if not any(g.nation for g in scope.grants):
        provinces = scope.province_ids
        current = RoleAssignment.objects.current().filter(
            Q(facility__province_id__in=provinces) | Q(agency__province_id__in=provinces) | Q(province_id__in=provinces))
        people = people.filter(pk__in=current.values("user_id"))
    found = {person.pk: person for person in people}
    for pk in wanted:
        if pk not in found:
            raise unknown_reference(field, label, pk)
    return [found[pk] for pk in wanted]


def colleague(user, pk: int | None, field: str, label: str) -> User | None:
    return None if pk is None else colleagues(user, [pk], field, label)[0]


def assigned_facility_id(user) -> int | None:
    return (RoleAssignment.objects.current().filter(user=user, facility__isnull=False).order_by("pk")
            .values_list("facility_id", flat=True).first())


def incidents_for(viewer, bag: Bag):
    return incident_selectors.incident_list(viewer=viewer, bag=bag)


def incident_mark(bag: Bag) -> int:
    return Incident.objects.filter(bag=bag).aggregate(m=Max("pk"))["m"] or 0


def opened_since(viewer, bag: Bag, mark: int) -> list[Incident]:
    """Incidents the caller's own call just opened on this bag (the bag is locked while a service
    writes them; another person's concurrent call on the same bag is told apart by reporter)."""
    return list(incidents_for(viewer, bag).filter(pk__gt=mark, reported_by=viewer).order_by("pk"))


# --- shared output shapes -----------------------------------------------------------------------------


class IncidentRefOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    status = serializers.CharField()
    tracking_number = serializers.CharField(source="item.tracking_number", allow_null=True)
    police_notified = serializers.BooleanField()

    class Meta:
        ref_name = "IncidentRef"


class BagRefOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    identifier = serializers.CharField()

    class Meta:
        ref_name = "BagRef"


class TripRefOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()

    class Meta:
        ref_name = "TripRef"


class BagOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    identifier = serializers.CharField(help_text="Số hiệu túi theo UPU S9 (29 ký tự, mã bưu chính Việt Nam)")
    dispatch_id = serializers.CharField(help_text="Số hiệu chuyến thư theo UPU S8 (20 ký tự đầu)")
    origin = FacilityRefOutput()
    destination = FacilityRefOutput()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    seal_number = serializers.SerializerMethodField(
        help_text="Số niêm phong; null với cơ sở nhận cho tới khi nhận túi (họ đọc số trên kẹp chì để đối chiếu)")
    highest_secrecy = serializers.CharField()
    item_count = serializers.IntegerField(help_text="Số bưu gửi khi niêm phong")
    weight_g = serializers.IntegerField()
    holder = PersonRefOutput(allow_null=True)
    facility = FacilityRefOutput(allow_null=True)
    trip = TripRefOutput(allow_null=True)
    created_at = serializers.DateTimeField()
    sealed_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    seal_intact = serializers.BooleanField(allow_null=True)
    opened_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Bag"

    def get_seal_number(self, bag) -> str | None:
        if not bag.seal_number or seal_hidden_from(self.context["viewer"], bag):
            return None
        return bag.seal_number
