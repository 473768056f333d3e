"""Settings for benchmark runs only: the production settings as they are (DEBUG off, persistent
connections from KT1_CONN_MAX_AGE, every middleware), plus bench/urls.py, which adds the bare JSON
baseline view. Nothing here is importable from the product: config.urls never sees bench/bare/.

The production settings redirect plain HTTP to HTTPS; the benchmark clients talk plain HTTP on
loopback and send `X-Forwarded-Proto: https`, as the TLS-terminating proxy in front of gunicorn does.
"""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
