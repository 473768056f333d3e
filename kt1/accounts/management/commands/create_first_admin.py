import getpass

from django.core.management.base import BaseCommand, CommandError

from kt1.accounts.services import bootstrap_first_admin
from kt1.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create the first national administrator of an empty installation."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--full-name", required=True)
        parser.add_argument("--password", help="Omit to be asked (recommended).")

    def handle(self, *args, username, full_name, password=None, **options):
        password = password or getpass.getpass("Mật khẩu: ")
        try:
            user = bootstrap_first_admin(username=username, full_name=full_name, password=password)
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"Đã tạo quản trị viên {user.username}. Lần đăng nhập đầu sẽ yêu cầu bật xác thực hai lớp.")
