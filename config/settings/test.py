"""Test settings: the database comes from DATABASE_URL (SQLite by default, PostgreSQL when the
suite runner started a throwaway cluster); fast hashing; demo helpers off so tests see production
behaviour."""

from .base import *  # noqa: F403

SECRET_KEY = "kt1-tests-" + "t" * 50
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
KT1_DEMO = False
# `kt1 load_demo` without its two months of items (~40 s of CPU): tests that need them set 60.
KT1_DEMO_HISTORY_DAYS = 0
AXES_ENABLED = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
