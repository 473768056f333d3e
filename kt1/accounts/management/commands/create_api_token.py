from django.core.management.base import BaseCommand, CommandError

from kt1.accounts.models import User
from kt1.accounts.services import api_token_create
from kt1.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Issue an API token for USERNAME and print the key (replaces any previous key)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None:
            raise CommandError(f"Không có người dùng “{username}”.")
        try:
            token = api_token_create(actor=None, user=user)
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(token.key)
