from django.core.management.base import BaseCommand, CommandError

from kt1.audit.services import audit_verify


class Command(BaseCommand):
    help = "Re-check the whole audit chain; exit non-zero naming the first bad entry."

    def handle(self, *args, **options):
        result = audit_verify()
        if not result.ok:
            raise CommandError(f"audit chain broken at entry #{result.first_bad_seq}: {result.problem} "
                               f"({result.checked} entries verified before it)")
        self.stdout.write(f"audit chain ok: {result.checked} entries")
