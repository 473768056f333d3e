"""The demo installation: one province after the 2025 reform (Tuyên Quang, merged with Hà Giang),
with its agencies, postal facilities, staff and vetting records, plus a small second province so
that scoping is visible. Loaded by `kt1 load_demo` (run by `make run`) through the services only.

Not an installed app: it has no models, only data (`data.py`) and the loader (`loader.py`).
"""
