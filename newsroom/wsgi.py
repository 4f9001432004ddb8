"""WSGI entry point: `gunicorn newsroom.wsgi`.

Django's handler is wrapped in the callables named by NEWSROOM_WSGI_WRAPPERS, innermost
first: with the project's settings, anonymous readers' cached pages are answered before
Django's handler runs (delivery.cache.serve_hits_first). The project names them in a
setting so that this package imports no app.
"""
import os

from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
django_application = get_wsgi_application()


def wrapped(django_app):
    """`django_app` inside each NEWSROOM_WSGI_WRAPPERS callable, the first innermost."""
    from django.conf import settings

    app = django_app
    for path in getattr(settings, "NEWSROOM_WSGI_WRAPPERS", []):
        app = import_string(path)(app)
    return app


application = wrapped(django_application)

if os.environ["DJANGO_SETTINGS_MODULE"] == "newsroom.settings":
    from newsroom.settings import require_secret_key  # noqa: E402

    require_secret_key()
