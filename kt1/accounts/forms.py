"""Forms of the people pages: they parse input; the services in kt1.accounts.services validate the
rules and refuse with Vietnamese messages that land on these forms (kt1.core.web.call_service).

Every foreign-key field offers only active records inside the viewer's change scope.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from kt1.core.choices import Secrecy
from kt1.core.clock import LOCAL_TZ
from kt1.core.permissions import restrict
from kt1.directory.choices import UnitLevel
from kt1.directory.models import AdministrativeUnit, Agency, Facility

from .choices import Role, VettingStatus

ANY = [("", _("Tất cả"))]
YES_NO_ANY = [("", _("Tất cả")), ("yes", _("Có")), ("no", _("Không"))]

SCOPE_HELP = _(
    "Văn thư cơ quan: chọn cơ quan. Giao dịch viên, bưu tá, khai thác viên, lái xe, áp tải, kiểm soát viên: "
    "chọn cơ sở bưu chính (bưu điện tỉnh để có phạm vi toàn bưu điện tỉnh). Sở KH&CN, Công an tỉnh, Sở Tài chính: "
    "chọn tỉnh. Quản trị hệ thống: chọn tỉnh, hoặc để trống cho phạm vi toàn quốc. Để trống các ô không áp dụng."
)


class _AgencyChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.province})"


class _FacilityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.postcode} {obj.name} ({obj.province})"


class RoleScopeMixin(forms.Form):
    """Role and its scope. All three scope selects are shown; which one applies depends on the role
    and the service refuses a mismatch."""

    role = forms.ChoiceField(label=_("Vai trò"), choices=[("", "—")] + list(Role.choices), help_text=SCOPE_HELP)
    agency = _AgencyChoice(label=_("Cơ quan"), queryset=Agency.objects.none(), required=False,
                           error_messages={"invalid_choice": _("Cơ quan không hợp lệ, ngoài phạm vi của bạn hoặc đã ngừng hiệu lực.")})
    facility = _FacilityChoice(label=_("Cơ sở bưu chính"), queryset=Facility.objects.none(), required=False,
                               error_messages={"invalid_choice": _("Cơ sở bưu chính không hợp lệ, ngoài phạm vi của bạn hoặc đã ngừng hiệu lực.")})
    province = forms.ModelChoiceField(label=_("Tỉnh"), queryset=AdministrativeUnit.objects.none(), required=False,
                                      error_messages={"invalid_choice": _("Tỉnh không hợp lệ, ngoài phạm vi của bạn hoặc đã ngừng hiệu lực.")})

    def setup_scope_fields(self, viewer) -> None:
        self.fields["agency"].queryset = restrict(Agency.objects.active().select_related("province"), viewer, "change").order_by(
            "province__name", "name"
        )
        self.fields["facility"].queryset = restrict(
            Facility.objects.active().select_related("province"), viewer, "change"
        ).order_by("postcode")
        self.fields["province"].queryset = restrict(
            AdministrativeUnit.objects.active().filter(level=UnitLevel.PROVINCE), viewer, "change"
        ).order_by("name")

    def role_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"role": d["role"], "agency": d.get("agency"), "facility": d.get("facility"), "province": d.get("province")}


class _PasswordPair(forms.Form):
    password = forms.CharField(label=_("Mật khẩu"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("Ít nhất 10 ký tự, không quá đơn giản, không giống tên đăng nhập."))
    password2 = forms.CharField(label=_("Nhập lại mật khẩu"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("Hai lần nhập mật khẩu không khớp."))
        return data


class UserCreateForm(_PasswordPair, RoleScopeMixin):
    username = forms.CharField(label=_("Tên đăng nhập"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "off"}))
    full_name = forms.CharField(label=_("Họ và tên"), max_length=150)
    email = forms.EmailField(label=_("Thư điện tử"), required=False)
    phone = forms.CharField(label=_("Điện thoại"), max_length=30, required=False)
    position = forms.CharField(label=_("Chức danh"), max_length=150, required=False)

    field_order = ["username", "full_name", "email", "phone", "position", "password", "password2",
                   "role", "agency", "facility", "province"]

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_scope_fields(viewer)


class UserEditForm(forms.Form):
    full_name = forms.CharField(label=_("Họ và tên"), max_length=150)
    email = forms.EmailField(label=_("Thư điện tử"), required=False)
    phone = forms.CharField(label=_("Điện thoại"), max_length=30, required=False)
    position = forms.CharField(label=_("Chức danh"), max_length=150, required=False)


class RoleGrantForm(RoleScopeMixin):
    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_scope_fields(viewer)


class SetPasswordForm(_PasswordPair):
    pass


class OwnPasswordForm(_PasswordPair):
    current_password = forms.CharField(label=_("Mật khẩu hiện tại"), strip=False,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    field_order = ["current_password", "password", "password2"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["password"].label = _("Mật khẩu mới")
        self.fields["password2"].label = _("Nhập lại mật khẩu mới")

    def clean_current_password(self):
        value = self.cleaned_data["current_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("Mật khẩu hiện tại không đúng."))
        return value


class VettingRequestForm(forms.Form):
    note = forms.CharField(label=_("Nội dung đề nghị"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Vị trí công việc, lý do đề nghị thẩm tra."))


class VettingApproveForm(forms.Form):
    valid_until = forms.DateField(label=_("Hiệu lực đến hết ngày"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    max_secrecy = forms.ChoiceField(label=_("Độ mật tối đa được tiếp xúc"), choices=[("", "—")] + list(Secrecy.choices))
    reference = forms.CharField(label=_("Số văn bản kết luận"), max_length=100, required=False)
    note = forms.CharField(label=_("Ghi chú kết luận"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def valid_until_moment(self) -> dt.datetime:
        """The end of the chosen local day (Asia/Ho_Chi_Minh), as an aware UTC datetime."""
        day = self.cleaned_data["valid_until"]
        return dt.datetime.combine(day, dt.time.max, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


class VettingRejectForm(forms.Form):
    reference = forms.CharField(label=_("Số văn bản kết luận"), max_length=100, required=False)
    note = forms.CharField(label=_("Lý do không đạt"), widget=forms.Textarea(attrs={"rows": 3}))


class VettingRevokeForm(forms.Form):
    reason = forms.CharField(label=_("Lý do thu hồi"), widget=forms.Textarea(attrs={"rows": 3}))


class TrainingForm(forms.Form):
    course = forms.CharField(label=_("Khóa đào tạo"), max_length=200)
    completed_on = forms.DateField(label=_("Ngày hoàn thành"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    valid_until = forms.DateField(label=_("Hiệu lực đến"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                  help_text=_("Để trống nếu chứng nhận không có thời hạn."))


# --- list filters -------------------------------------------------------------------------------


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Tìm"), required=False, widget=forms.TextInput(attrs={"type": "search"}))
    role = forms.ChoiceField(label=_("Vai trò"), required=False, choices=ANY + list(Role.choices))
    active = forms.ChoiceField(label=_("Đang hoạt động"), required=False, choices=YES_NO_ANY)


class VettingFilterForm(forms.Form):
    q = forms.CharField(label=_("Tìm"), required=False, widget=forms.TextInput(attrs={"type": "search"}))
    status = forms.ChoiceField(label=_("Trạng thái"), required=False, choices=ANY + list(VettingStatus.choices))
    expiring = forms.IntegerField(label=_("Hết hạn trong (ngày)"), required=False, min_value=0, max_value=3650)
