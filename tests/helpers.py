"""Signing people in for page and API tests."""

from __future__ import annotations

import time

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from kt1.accounts.services import api_token_create


def verified_client(user, client: Client | None = None) -> Client:
    """A client signed in as `user` with the second factor passed, as after a real sign-in."""
    client = client or Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session["kt1_signed_in_at"] = time.time()
    session.save()
    return client


def api_client(user) -> APIClient:
    client = APIClient()
    token = api_token_create(actor=None, user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
