"""Production settings with every cache replaced by a dummy: pages as a cache miss costs them.

bench/run.py starts a second gunicorn with DJANGO_SETTINGS_MODULE=bench.settings_uncached
to measure the uncached pages.
"""

from newsroom.settings import *  # noqa: F401,F403
from newsroom.settings import CACHES

CACHES = {alias: {"BACKEND": "django.core.cache.backends.dummy.DummyCache"} for alias in CACHES}
