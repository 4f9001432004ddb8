"""Production settings with the readers' page cache off: every request builds its page.

bench/run.py starts a second gunicorn with DJANGO_SETTINGS_MODULE=bench.settings_uncached
to measure the uncached pages. NEWSROOM_PAGE_CACHE_SECONDS = 0 makes delivery.cache's
cached_page call the view straight away (no lookup, no dependency versions, no
next-scheduled query); every cache backend is also a dummy, so nothing else is reused. The read
model (delivery.read_model) stays on: it is not a cache but where readers' pages are kept; the
"built" server sets NEWSROOM_READ_MODEL=0 to measure pages built by their views.
"""

from newsroom.settings import *  # noqa: F401,F403
from newsroom.settings import CACHES

CACHES = {alias: {"BACKEND": "django.core.cache.backends.dummy.DummyCache"} for alias in CACHES}
NEWSROOM_PAGE_CACHE_SECONDS = 0
