"""WSGI entry point: `gunicorn newsroom.wsgi`.

Anonymous readers' cached pages are answered before Django's handler (delivery.cache).
"""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
django_application = get_wsgi_application()

from delivery.cache import serve_hits_first  # noqa: E402  (needs the apps loaded)

application = serve_hits_first(django_application)

if os.environ["DJANGO_SETTINGS_MODULE"] == "newsroom.settings":
    from newsroom.settings import require_secret_key  # noqa: E402

    require_secret_key()
