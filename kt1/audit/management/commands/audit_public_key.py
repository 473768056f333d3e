from django.core.management.base import BaseCommand

from kt1.audit import signing


class Command(BaseCommand):
    help = "Print the base64 Ed25519 public key that verifies audit checkpoints (give it to inspectors)."

    def handle(self, *args, **options):
        self.stdout.write(signing.public_key_b64())
