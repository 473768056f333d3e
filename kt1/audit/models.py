"""The tamper-evident audit log.

Append-only and hash-chained: entry n stores SHA-256(prev_hash || canonical JSON of its content),
and the head row (one per chain) holds the last sequence number and hash. Writers lock the head,
so the sequence has no gaps and no two writers ever chain onto the same predecessor.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditHead(models.Model):
    chain = models.CharField(max_length=30, unique=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.chain}@{self.last_seq}"


class AuditEntry(models.Model):
    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(_("Thời điểm"))
    action = models.CharField(_("Hành động"), max_length=60, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_username = models.CharField(max_length=150, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict)
    ip = models.GenericIPAddressField(null=True)
    channel = models.CharField(max_length=10, default="web")
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("nhật ký")
        verbose_name_plural = _("nhật ký")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class AuditCheckpoint(models.Model):
    """An Ed25519 signature over (chain, seq, hash) of one entry. Rewriting history after it would
    need the private key: recomputing hashes alone no longer passes verification."""

    chain = models.CharField(max_length=30, default="main")
    seq = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    public_key = models.CharField(max_length=64)  # base64 raw Ed25519 public key, for offline checks
    signature = models.CharField(max_length=100)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_checkpoint_unique")]

    def __str__(self) -> str:
        return f"checkpoint @{self.seq}"
