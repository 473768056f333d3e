from django.core.management.base import BaseCommand, CommandError

from kt1.accounts.demo import DEMO_PASSWORD
from kt1.core.errors import ApplicationError
from kt1.demo import data as D
from kt1.demo.loader import DemoRefused, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo province (Tuyên Quang after the 2025 reform, plus a small Thái Nguyên) with its agencies, "
        "postal facilities, staff, vetting records and the demo.* accounts. Demo mode only; idempotent."
    )

    def handle(self, *args, **options):
        try:
            outcome = load_demo()
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        except ApplicationError as exc:  # a service refused a demo row: a bug in the demo data
            raise CommandError(f"Dữ liệu trình diễn không hợp lệ: {exc.message} {exc.as_dict()['detail']}") from exc
        if not outcome.loaded:
            self.stdout.write(f"Dữ liệu trình diễn đã có ({D.PROVINCE_NAME}, mã {D.PROVINCE_CODE}): không nạp lại.")
            return
        c = outcome.counts
        w = self.stdout.write
        w(self.style.SUCCESS("Đã nạp dữ liệu trình diễn."))
        w(f"  Tỉnh: {c['provinces']} ({D.PROVINCE_NAME} và {D.OTHER_PROVINCE_NAME} để thấy phân quyền theo tỉnh)")
        w(f"  {D.PROVINCE_NAME}: {c['communes']} xã, phường; {c['agencies']} cơ quan, "
          f"trong đó {c['mandatory']} bắt buộc sử dụng KT1, {c['enrolled']} đã tham gia")
        w(f"  Cơ sở bưu chính: {c['provincial_post']} bưu điện tỉnh, {c['processing']} cơ sở khai thác, "
          f"{c['post_office']} bưu cục, {c['service_point']} điểm phục vụ")
        w(f"  Người dùng: {c['users']}; đào tạo: {c['trainings']}")
        w(f"  Thẩm tra chính trị: {c['vetting_approved']} đạt, {c['vetting_expiring']} sắp hết hạn (30 ngày), "
          f"{c['vetting_expired']} hết hạn, {c['vetting_requested']} chờ kết luận, {c['vetting_rejected']} không đạt, "
          f"{c['vetting_revoked']} đã thu hồi")
        w(f"  Nhật ký an ninh: {c['audit_entries']} mục")
        w("")
        w("Tài khoản trình diễn:")
        width = max(len(a.username) for a in outcome.accounts)
        for a in outcome.accounts:
            w(f"  {a.username.ljust(width)}  {a.full_name} — {a.role} — {a.scope}")
        w("")
        w("Đăng nhập tại /accounts/login/ với một tài khoản trên.")
        w(f"  Mật khẩu của mọi tài khoản trình diễn (và nhân viên mẫu): {DEMO_PASSWORD}")
        w("  Mã xác thực hai lớp (đổi mỗi 30 giây), chạy trong một cửa sổ khác:")
        w("      .venv/bin/kt1 demo_totp demo.clerk")
        w("  Nhân viên mẫu không có tiền tố demo. sẽ được yêu cầu bật xác thực hai lớp ở lần đăng nhập đầu.")
