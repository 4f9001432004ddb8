"""gunicorn settings for the newsroom: `gunicorn -c deploy/gunicorn.conf.py` from the project folder.

Everything an operator may want to change comes from the environment (the systemd unit's
EnvironmentFile, see DEPLOY.md), with defaults for one server behind nginx:

GUNICORN_BIND          where to listen; default 127.0.0.1:8000 (nginx is the one facing the
                       network). Several, comma-separated; "unix:/run/newsroom/gunicorn.sock" works.
GUNICORN_WORKERS       worker processes; default 2 per CPU this process may use, plus 1.
GUNICORN_THREADS       threads per worker; default 1 (sync workers). More than 1 runs gthread.
GUNICORN_TIMEOUT       seconds before a stuck request's worker is killed and replaced; 30.
GUNICORN_MAX_REQUESTS  requests before a worker is replaced (bounds memory growth); 1000,
                       with up to 10% random jitter so workers do not all restart at once.
GUNICORN_ACCESS_LOG    "-" (stderr) or a file for gunicorn's own access lines; off by
                       default, since the app writes one per request itself (logger
                       newsroom.access, with the user id for staff, as JSON with LOG_FORMAT=json).
GUNICORN_FORWARDED_ALLOW_IPS  proxies trusted for X-Forwarded-*; default 127.0.0.1,::1.
LOG_LEVEL, LOG_FORMAT  as for the app: gunicorn's own lines follow LOG_FORMAT=json too.
"""

import os


def _int(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r}: a whole number is needed.") from None


def _cpus():
    try:
        return len(os.sched_getaffinity(0))  # respects CPU limits set on the service
    except AttributeError:
        return os.cpu_count() or 1


wsgi_app = "newsroom.wsgi:application"
bind = [part.strip() for part in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if part.strip()]

workers = _int("GUNICORN_WORKERS", 2 * _cpus() + 1)
threads = _int("GUNICORN_THREADS", 1)
if threads > 1:
    worker_class = "gthread"

# A request slower than this is stuck: the worker is killed and replaced. nginx's
# proxy_read_timeout (deploy/nginx/newsroom-proxy.conf) is a little longer.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30  # a restart lets running requests finish this long
keepalive = 5

max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# Worker heartbeats in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicornc's control socket lives in the home folder by default, which a system user may
# not have and several instances would share.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "") == ""
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

loglevel = os.environ.get("LOG_LEVEL", "info").lower()
errorlog = "-"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# The request id the app answered with (its own, or nginx's X-Request-ID), then the usual.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s "%(a)s"'

if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s",
                "timestamp": "time",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "json_ensure_ascii": False,
            }
        },
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }


def on_starting(server):
    """Load the search segmenter's dictionary (jieba, 1-2 s) in the master, before any fork.

    Workers are forked from the master with the dictionary already in memory, so neither the
    first search of a new worker nor the one after each recycle (GUNICORN_MAX_REQUESTS) waits
    for it, and the workers share its pages instead of each building a copy. Only the
    segmenter is loaded here, not the application: workers still import Django after the
    fork, so no database connection is ever shared between processes.
    """
    import time

    from articles.search import jieba

    started = time.monotonic()
    jieba()
    server.log.info("Search segmenter loaded in %.1f s", time.monotonic() - started)
