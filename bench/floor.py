"""The framework's floor: a bare Django view returning the story page's bytes from memory.

bench/run.py serves this under the same gunicorn settings and interpreter as the
site, so (site requests per second) / (floor requests per second) says how much
of the machine the newsroom's own work takes. The bytes come from the file named
by BENCH_FLOOR_BODY (the story page as the site served it in the same run).

    BENCH_FLOOR_BODY=bench/data/floor.html gunicorn bench.floor:application
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

with open(os.environ.get("BENCH_FLOOR_BODY", ""), "rb") as body_file:
    BODY = body_file.read()


def page(request):
    return HttpResponse(BODY, content_type="text/html; charset=utf-8")


urlpatterns = [path("", page)]

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("SECRET_KEY", "bench-floor-not-a-secret"),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)
application = get_wsgi_application()
