"""Production: every secret from the environment, HTTPS only, nothing printed that shouldn't be."""

from django.core.exceptions import ImproperlyConfigured

from config import env

from .base import *  # noqa: F403

if not env.SECRET_KEY or len(env.SECRET_KEY) < 50:
    raise ImproperlyConfigured("KT1_SECRET_KEY must be set to at least 50 random characters.")
if not env.ALLOWED_HOSTS:
    raise ImproperlyConfigured("KT1_ALLOWED_HOSTS must list the host names this server answers to.")
if not env.FIELD_KEYS:
    raise ImproperlyConfigured("KT1_FIELD_KEYS must hold at least one Fernet key for agency-private data.")
if not env.AUDIT_SIGNING_KEY:
    raise ImproperlyConfigured("KT1_AUDIT_SIGNING_KEY must hold the base64 Ed25519 seed that signs audit checkpoints.")
DEBUG = False
KT1_DEMO = False
SECURE_SSL_REDIRECT = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.SECURE_HSTS_SECONDS
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
