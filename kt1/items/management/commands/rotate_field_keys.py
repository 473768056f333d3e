from django.core.management.base import BaseCommand

from kt1.items.services import private_data_rekey


class Command(BaseCommand):
    help = "Re-encrypt agency-private item data with the first key of KT1_FIELD_KEYS (see docs/operations.md)."

    def handle(self, *args, **options):
        self.stdout.write(f"re-encrypted {private_data_rekey()} items")
