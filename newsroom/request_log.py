"""Request ids and log lines: one id per request, on every line logged while it runs.

The id comes from the incoming X-Request-ID header when it looks like one (nginx sets it,
see deploy/nginx/newsroom-proxy.conf), else it is made here; the response echoes it, so a
reader's complaint, nginx's log and the app's lines can be matched. After the response,
one access line (logger "newsroom.access") says method, path, status, duration and, for
staff, the user id. Pages the site renders for itself (delivery.internal) log theirs at DEBUG,
marked "internal".

LOG_FORMAT=json writes every line as one JSON object (python-json-logger); the default
"text" keeps lines readable for people.
"""

import logging
import os
import re
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"  # the header as WSGI names it (request.headers would copy them all)
WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")

current_request_id = ContextVar("newsroom_request_id", default=None)
access_logger = logging.getLogger("newsroom.access")


def request_id_from(value):
    """The incoming id if it is safe to log and echo (8-128 of A-Z a-z 0-9 . _ : -), else a new one."""
    if value and WELL_FORMED.match(value):
        return value
    return os.urandom(16).hex()  # 32 hex digits, as uuid4().hex, without building a UUID


class RequestIdMiddleware:
    """First in MIDDLEWARE: everything after it, and Django's own error lines, carry the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = request_id_from(request.META.get(META_KEY))
        # Left set until request_finished (the response is closed): Django logs 4xx/5xx
        # responses ("django.request") after the middleware chain has returned.
        current_request_id.set(request.request_id)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        self.log_access(request, response, time.perf_counter() - started)
        return response

    @staticmethod
    def log_access(request, response, seconds):
        user_id = None
        user = getattr(request, "user", None)  # absent when a middleware answered early (/healthz)
        try:
            # Without a session cookie nobody is signed in: a reader's user is never looked up.
            signed_in = settings.SESSION_COOKIE_NAME in request.COOKIES
            if signed_in and user is not None and user.is_authenticated and user.is_staff:
                user_id = user.pk
        except Exception:  # noqa: BLE001 - the session store may be what failed; log the line anyway
            pass
        duration_ms = round(seconds * 1000, 1)
        # A page the site renders for itself (delivery.internal: the read model, static
        # publishing) is no reader's request: a refill of the archive would otherwise add a
        # million lines from 127.0.0.1 to the access log. Kept at DEBUG, marked.
        internal = getattr(request, "internal", False)
        access_logger.log(
            logging.DEBUG if internal else logging.INFO,
            "%s%s %s %s %sms%s", "internal " if internal else "", request.method, request.path,
            response.status_code, duration_ms, f" user={user_id}" if user_id else "",
            extra={
                "internal": internal,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": user_id,
            },
        )


def log_hit(environ, status, request_id, seconds):
    """The access line of a page-cache hit answered before Django (delivery.cache): the same
    line as RequestIdMiddleware's, made without looking up which source line logged it (what
    Logger.info does first, and a fair share of a hit's cost; no format prints it)."""
    duration_ms = round(seconds * 1000, 1)
    method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
    record = access_logger.makeRecord(
        access_logger.name, logging.INFO, __file__, 0, "%s %s %s %sms", (method, path, status, duration_ms), None,
        extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms, "user_id": None,
               "request_id": request_id},
    )
    access_logger.handle(record)


def _forget_request_id(**kwargs):
    current_request_id.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="newsroom.request_log.forget")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (`-` outside a request)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get() or "-"
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(request_id)s %(message)s"


def logging_config(log_format="text", *, level="WARNING", access=True):
    """The LOGGING setting: everything to stderr, as text or as JSON lines.

    `access` turns on the per-request access lines (off under `make run`, where the
    development server prints its own)."""
    if log_format not in {"text", "json"}:
        raise ImproperlyConfigured(f"LOG_FORMAT={log_format!r}: use 'text' (the default) or 'json'.")
    formatters = {
        "text": {"format": TEXT_FORMAT},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            # UTC, ISO 8601: the same clock as gunicorn's lines (Django sets TZ for the app).
            "timestamp": "time",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        },
    }
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "newsroom.request_log.RequestIdFilter"}},
        "formatters": {log_format: formatters[log_format]},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "newsroom.access": {"level": "INFO" if access else "WARNING"},
        },
    }
    if log_format == "json":
        # Django's own loggers print with their own handlers and formats; here everything
        # goes through the one JSON handler instead.
        config["loggers"]["django"] = {"handlers": [], "level": level, "propagate": True}
        config["loggers"]["django.server"] = {"handlers": ["console"], "level": "INFO", "propagate": False}
    return config
