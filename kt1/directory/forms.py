"""Forms of the directory pages.

Plain forms, not ModelForms: a ModelForm builds and validates the model instance itself, while
here the services own building, validating and saving. A form only parses input and offers the
choices a person may pick: for every reference, the ACTIVE records inside the person's change
scope, so a retired unit, agency or facility cannot be chosen for new work.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kt1.core.permissions import restrict, scope_of
from kt1.core.web import STATUS_CHOICES, YES_NO_ANY, bool_choice

from .choices import COMMUNE_LEVELS, AgencyLevel, AgencyType, FacilityKind, UnitLevel
from .models import AdministrativeUnit, Agency, AgencyAddress, AgencyContact, Facility


def _label(model: type[Model], field: str):
    return model._meta.get_field(field).verbose_name


def _initial(obj: Model, fields: tuple[str, ...]) -> dict:
    """The record's current values for the form (foreign keys by id, without extra queries)."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        values[name] = getattr(obj, field.attname)
    return values


def _descendant_ids(model: type[Model], root_id: int) -> set[int]:
    """The record and everything below it: none of them can become its parent."""
    found = {root_id}
    frontier = {root_id}
    while frontier:
        frontier = set(model.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return found


class ReferenceField(forms.ModelChoiceField):
    """A foreign key choice limited to active records in the actor's change scope.

    A posted id outside the choices is refused. When the person can see that record and it is
    retired, the message names it (the same sentence the services use); anything else gets
    Django's generic, translated message, so nothing outside the scope is confirmed to exist.
    """

    def __init__(self, queryset: QuerySet, *, visible: QuerySet | None = None, **kwargs):
        super().__init__(queryset, **kwargs)
        self.visible = visible

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            refused = self._visible_record(value)
            if refused is not None and not refused.is_active:
                raise ValidationError(
                    gettext("%(label)s “%(name)s” đã ngừng hiệu lực, không chọn được.")
                    % {"label": self.label, "name": refused},
                    code="retired",
                ) from None
            raise

    def label_from_instance(self, obj):
        return _retired_mark(obj, super().label_from_instance(obj))

    def _visible_record(self, value):
        if self.visible is None or value in self.empty_values:
            return None
        try:
            return self.visible.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            return None


def _retired_mark(obj, label: str) -> str:
    return label if obj.is_active else gettext("%(label)s — đã ngừng hiệu lực") % {"label": label}


class UnitChoiceField(ReferenceField):
    def label_from_instance(self, obj):
        label = f"{obj.name} ({obj.parent.name})" if obj.level in COMMUNE_LEVELS and obj.parent_id else obj.name
        return _retired_mark(obj, label)


class AgencyChoiceField(ReferenceField):
    def label_from_instance(self, obj):
        return _retired_mark(obj, f"{obj.name} ({obj.short_name})")


def _offered(base: QuerySet, user, keep: int | None) -> QuerySet:
    """Active records in change scope, plus the record's current value when editing (even if
    retired since): an edit form then shows what is stored instead of silently blanking it, and
    the service refuses the retired value by name if the person leaves it."""
    condition = Q(pk__in=base.active().values("pk"))
    if keep:
        condition |= Q(pk=keep)
    return restrict(base.filter(condition), user, "change")


def _units(user, *, provinces_only: bool = False, province_id: int | None = None,
           keep: int | None = None) -> tuple[QuerySet, QuerySet]:
    """(choices, visible) for an administrative-unit field."""
    base = AdministrativeUnit.objects.select_related("parent")
    if provinces_only:
        base = base.filter(level=UnitLevel.PROVINCE)
    if province_id is not None:
        base = base.filter(Q(pk=province_id) | Q(parent_id=province_id))
    return _offered(base, user, keep).order_by("parent__code", "code"), restrict(base, user, "view")


def _parents(model: type[Model], user, *, exclude_tree_of: Model | None = None,
             keep: int | None = None) -> tuple[QuerySet, QuerySet]:
    base = model.objects.all()
    choices = _offered(base, user, keep)
    if exclude_tree_of is not None and exclude_tree_of.pk:
        choices = choices.exclude(pk__in=_descendant_ids(model, exclude_tree_of.pk))
    return choices, restrict(base, user, "view")


# --- administrative units ---------------------------------------------------------------------


class UnitCreateForm(forms.Form):
    code = forms.CharField(label=_label(AdministrativeUnit, "code"), max_length=10)
    name = forms.CharField(label=_label(AdministrativeUnit, "name"), max_length=200)
    level = forms.ChoiceField(label=_label(AdministrativeUnit, "level"))
    parent = UnitChoiceField(
        AdministrativeUnit.objects.none(), label=_label(AdministrativeUnit, "parent"), required=False,
        help_text=_("Để trống khi tạo tỉnh; chọn tỉnh khi tạo xã, phường, đặc khu."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only a national administrator creates provinces (the service refuses anyone else):
        # offer the level only to them, so a provincial administrator never meets a 403.
        nation = any(g.nation for g in scope_of(user).grants)
        self.fields["level"].choices = [
            (value, label) for value, label in UnitLevel.choices if nation or value != UnitLevel.PROVINCE
        ]
        choices, visible = _units(user, provinces_only=True)
        self.fields["parent"].queryset = choices
        self.fields["parent"].visible = visible


class UnitEditForm(forms.Form):
    code = forms.CharField(label=_label(AdministrativeUnit, "code"), max_length=10)
    name = forms.CharField(label=_label(AdministrativeUnit, "name"), max_length=200)

    FIELDS = ("code", "name")

    def __init__(self, *args, unit: AdministrativeUnit, **kwargs):
        kwargs.setdefault("initial", _initial(unit, self.FIELDS))
        super().__init__(*args, **kwargs)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}


# --- agencies ---------------------------------------------------------------------------------


class AgencyForm(forms.Form):
    FIELDS = ("name", "short_name", "agency_type", "level", "admin_unit", "parent", "is_mandatory", "enrolled_on")

    name = forms.CharField(label=_label(Agency, "name"), max_length=300)
    short_name = forms.CharField(label=_label(Agency, "short_name"), max_length=60,
                                 help_text=_("Không trùng với cơ quan khác trong cùng tỉnh."))
    agency_type = forms.ChoiceField(label=_label(Agency, "agency_type"), choices=AgencyType.choices)
    level = forms.ChoiceField(label=_label(Agency, "level"), choices=AgencyLevel.choices)
    admin_unit = UnitChoiceField(AdministrativeUnit.objects.none(), label=_label(Agency, "admin_unit"))
    parent = AgencyChoiceField(Agency.objects.none(), label=_label(Agency, "parent"), required=False)
    is_mandatory = forms.BooleanField(label=_label(Agency, "is_mandatory"), required=False)
    enrolled_on = forms.DateField(
        label=_label(Agency, "enrolled_on"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Để trống nếu cơ quan chưa sử dụng KT1."),
    )

    def __init__(self, *args, user, agency: Agency | None = None, **kwargs):
        if agency is not None:
            kwargs.setdefault("initial", _initial(agency, self.FIELDS))
        super().__init__(*args, **kwargs)
        units, visible_units = _units(user, keep=agency.admin_unit_id if agency else None)
        self.fields["admin_unit"].queryset = units
        self.fields["admin_unit"].visible = visible_units
        parents, visible_parents = _parents(Agency, user, exclude_tree_of=agency, keep=agency.parent_id if agency else None)
        self.fields["parent"].queryset = parents.order_by("name")
        self.fields["parent"].visible = visible_parents

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class AddressForm(forms.Form):
    label = forms.CharField(label=_label(AgencyAddress, "label"), max_length=100, initial=_("Trụ sở"))
    street = forms.CharField(label=_label(AgencyAddress, "street"), max_length=300)
    admin_unit = UnitChoiceField(AdministrativeUnit.objects.none(), label=_label(AgencyAddress, "admin_unit"))
    is_default = forms.BooleanField(label=_label(AgencyAddress, "is_default"), required=False)

    def __init__(self, *args, user, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        units, visible = _units(user, province_id=agency.province_id)
        self.fields["admin_unit"].queryset = units
        self.fields["admin_unit"].visible = visible
        if agency.admin_unit_id:
            self.fields["admin_unit"].initial = agency.admin_unit_id


class ContactForm(forms.Form):
    full_name = forms.CharField(label=_label(AgencyContact, "full_name"), max_length=150)
    position = forms.CharField(label=_label(AgencyContact, "position"), max_length=150, required=False)
    phone = forms.CharField(label=_label(AgencyContact, "phone"), max_length=30, required=False)
    email = forms.EmailField(label=_label(AgencyContact, "email"), required=False)


# --- facilities -------------------------------------------------------------------------------


class FacilityForm(forms.Form):
    FIELDS = ("postcode", "name", "kind", "parent", "admin_unit", "address", "phone")

    postcode = forms.CharField(
        label=_label(Facility, "postcode"), max_length=5,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("5 chữ số, không trùng với cơ sở khác."),
    )
    name = forms.CharField(label=_label(Facility, "name"), max_length=200)
    kind = forms.ChoiceField(label=_label(Facility, "kind"), choices=FacilityKind.choices)
    parent = ReferenceField(
        Facility.objects.none(), label=_label(Facility, "parent"), required=False,
        help_text=_("Để trống với bưu điện tỉnh; bắt buộc với các cơ sở khác."),
    )
    admin_unit = UnitChoiceField(AdministrativeUnit.objects.none(), label=_label(Facility, "admin_unit"))
    address = forms.CharField(label=_label(Facility, "address"), max_length=300, required=False)
    phone = forms.CharField(label=_label(Facility, "phone"), max_length=30, required=False)

    def __init__(self, *args, user, facility: Facility | None = None, **kwargs):
        if facility is not None:
            kwargs.setdefault("initial", _initial(facility, self.FIELDS))
        super().__init__(*args, **kwargs)
        units, visible_units = _units(user, keep=facility.admin_unit_id if facility else None)
        self.fields["admin_unit"].queryset = units
        self.fields["admin_unit"].visible = visible_units
        parents, visible_parents = _parents(Facility, user, exclude_tree_of=facility,
                                            keep=facility.parent_id if facility else None)
        self.fields["parent"].queryset = parents.order_by("postcode")
        self.fields["parent"].visible = visible_parents

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}


# --- list filters (GET) -----------------------------------------------------------------------


def _any(choices) -> list:
    return [("", _("Tất cả")), *choices]


class _FilterForm(forms.Form):
    """A list page's filters. Invalid values are ignored (the list shows as if the filter were
    absent) rather than answering an error page for a hand-edited URL."""

    q = forms.CharField(label=_("Tìm"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search"}))
    status = forms.ChoiceField(label=_("Hiệu lực"), choices=STATUS_CHOICES, required=False)

    def values(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"q": (data.get("q") or "").strip(), "status": data.get("status") or "active"}


class AgencyFilterForm(_FilterForm):
    agency_type = forms.ChoiceField(label=_label(Agency, "agency_type"), choices=_any(AgencyType.choices), required=False)
    level = forms.ChoiceField(label=_label(Agency, "level"), choices=_any(AgencyLevel.choices), required=False)
    admin_unit = forms.TypedChoiceField(label=_label(Agency, "admin_unit"), coerce=int, required=False, empty_value=None)
    mandatory = forms.ChoiceField(label=_("Bắt buộc"), choices=YES_NO_ANY, required=False)
    enrolled = forms.ChoiceField(label=_("Đã tham gia KT1"), choices=YES_NO_ANY, required=False)

    field_order = ["q", "agency_type", "level", "admin_unit", "mandatory", "enrolled", "status"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only units that hold a visible agency: a national list of every commune would be useless here.
        units = restrict(AdministrativeUnit.objects.select_related("parent"), user).filter(
            pk__in=restrict(Agency.objects.all(), user).values("admin_unit_id")
        ).order_by("parent__code", "code")
        self.fields["admin_unit"].choices = _any(
            [(u.pk, f"{u.name} ({u.parent.name})" if u.parent_id else u.name) for u in units]
        )

    def values(self) -> dict:
        values = super().values()
        data = self.cleaned_data
        values.update(
            agency_type=data.get("agency_type") or "",
            level=data.get("level") or "",
            admin_unit=data.get("admin_unit"),
            mandatory=bool_choice(data.get("mandatory")),
            enrolled=bool_choice(data.get("enrolled")),
        )
        return values


class FacilityFilterForm(_FilterForm):
    kind = forms.ChoiceField(label=_label(Facility, "kind"), choices=_any(FacilityKind.choices), required=False)
    parent = forms.IntegerField(widget=forms.HiddenInput, required=False)

    field_order = ["q", "kind", "status"]

    def values(self) -> dict:
        values = super().values()
        values.update(kind=self.cleaned_data.get("kind") or "", parent=self.cleaned_data.get("parent"))
        return values


class UnitFilterForm(_FilterForm):
    level = forms.ChoiceField(label=_label(AdministrativeUnit, "level"), choices=_any(UnitLevel.choices), required=False)
    province = forms.IntegerField(widget=forms.HiddenInput, required=False)

    field_order = ["q", "level", "status"]

    def values(self) -> dict:
        values = super().values()
        values.update(level=self.cleaned_data.get("level") or "", province=self.cleaned_data.get("province"))
        return values
