from django.core.management.base import BaseCommand

from kt1.audit.services import audit_checkpoint


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit chain's current head (run it periodically, e.g. hourly)."

    def handle(self, *args, **options):
        cp = audit_checkpoint()
        self.stdout.write("audit chain is empty" if cp is None else f"checkpoint at entry #{cp.seq} signed by key {cp.key_id}")
