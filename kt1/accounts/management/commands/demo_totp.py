from django.core.management.base import BaseCommand, CommandError

from kt1.accounts.demo import demo_token


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo.* account (demo mode only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            self.stdout.write(demo_token(username.strip().lower()))
        except PermissionError as exc:
            raise CommandError(str(exc)) from exc
