"""Embedded single-machine settings used by `make run`: SQLite under var/, demo helpers on."""

from config import env

from .base import *  # noqa: F403

DEBUG = env.DEBUG
SECRET_KEY = env.SECRET_KEY or "kt1-demo-only-not-for-production-" + "x" * 20
ALLOWED_HOSTS = env.ALLOWED_HOSTS or ["127.0.0.1", "localhost"]
KT1_DEMO = True
