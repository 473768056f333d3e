"""Gap-free form numbers (handover lists, pickup requests): paper registers are audited by number,
so a number is taken inside the transaction that creates the form and is never skipped."""

from __future__ import annotations

from django.db import models, transaction


class NumberSequence(models.Model):
    name = models.CharField(max_length=60, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "core"

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


def next_number(name: str) -> int:
    with transaction.atomic():
        NumberSequence.objects.get_or_create(name=name)
        seq = NumberSequence.objects.select_for_update().get(name=name)
        seq.last_value += 1
        seq.save(update_fields=["last_value"])
        return seq.last_value
