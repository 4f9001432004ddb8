"""/healthz: is this process able to serve? For monitoring and load balancers, every few seconds.

It runs one trivial query on every database alias (the primary and any replicas) and one
set/get on every cache alias, and answers JSON with each check's result and time:

    {"status": "ok", "checks": {"database:default": {"ok": true, "ms": 0.4}, ...}}

200 while the primary database answers ("degraded" when a replica or a cache does not: the
site still serves), 503 when it does not. Never cached; no host names, users or messages
in the output, only the class of the error. It is answered by a middleware placed before
the others, so it costs no session, no template and no host or HTTPS check: monitoring may
call it by address (http://127.0.0.1:8000/healthz) whatever ALLOWED_HOSTS and SECURE_SSL say.
"""

import os
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpResponse, JsonResponse

PATHS = {"/healthz", "/healthz/"}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in PATHS:
            return healthz(request)
        return self.get_response(request)


def _timed(check, alias):
    started = time.perf_counter()
    try:
        error = check(alias)
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check, reported by class only
        error = type(exc).__name__
    result = {"ok": error is None, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if error:
        result["error"] = error
    return result


def _check_database(alias):
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        # A broken connection must not be handed to the next request.
        try:
            connection.close()
        except Exception:  # noqa: BLE001
            pass
        raise
    return None


def _check_cache(alias):
    cache = caches[alias]
    # One key per process and thread: two workers checking at once never read each other's.
    key = f"healthz:{os.getpid()}:{threading.get_ident()}"
    token = uuid.uuid4().hex
    cache.set(key, token, timeout=30)
    # The Redis backend turns an unreachable Redis into misses; a miss here is the failure.
    return None if cache.get(key) == token else "NotStored"


def healthz(request):
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    checks = {}
    for alias in settings.DATABASES:
        checks[f"database:{alias}"] = _timed(_check_database, alias)
    for alias in settings.CACHES:
        checks[f"cache:{alias}"] = _timed(_check_cache, alias)
    if not checks["database:default"]["ok"]:
        status, code = "down", 503
    elif all(check["ok"] for check in checks.values()):
        status, code = "ok", 200
    else:
        status, code = "degraded", 200
    response = JsonResponse({"status": status, "checks": checks}, status=code)
    if request.method == "HEAD":
        response.content = b""
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
