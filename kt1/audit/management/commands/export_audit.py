from django.core.management.base import BaseCommand

from kt1.audit.export import export_lines
from kt1.audit.services import audit_checkpoint


class Command(BaseCommand):
    help = "Write the audit chain as JSON Lines for offline verification (tools/verify_audit_export.py)."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="file to write")

    def handle(self, *args, out, **options):
        audit_checkpoint()  # the export ends on a signed checkpoint, so its tail is covered too
        count = 0
        with open(out, "w", encoding="utf-8") as handle:
            for line in export_lines():
                handle.write(line + "\n")
                count += 1
        self.stdout.write(f"wrote {count} lines to {out}")
