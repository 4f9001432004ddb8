"""Pages rendered inside the process, as an anonymous reader would get them.

Static publishing and the read model render pages through Django's own handler with the
project's middleware (not the test client): the same stack, the same view, the same headers as
a real request, for a given origin (scheme and host).
"""

import io
from urllib.parse import unquote_to_bytes, urlsplit

from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.utils import translation

_handler = None


def handler():
    """Django's request handler with the project's middleware, built once per process."""
    global _handler
    if _handler is None:
        built = BaseHandler()
        built.load_middleware()
        _handler = built
    return _handler


def request(url, origin, **flags):
    """A GET of `url` from `origin` ("https://news.example.cn"); `flags` are set on the request
    (skip_page_cache, refresh_read_model)."""
    parts = urlsplit(origin)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else 80)
    environ = {
        "REQUEST_METHOD": "GET",
        # WSGI carries the path as bytes decoded as latin-1 (PEP 3333).
        "PATH_INFO": unquote_to_bytes(urlsplit(url).path).decode("iso-8859-1"),
        "QUERY_STRING": urlsplit(url).query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": parts.netloc or "localhost",
        "HTTP_X_FORWARDED_PROTO": scheme,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    built = WSGIRequest(environ)
    built.internal = True  # newsroom.request_log keeps it out of the readers' access lines
    for name, value in flags.items():
        setattr(built, name, value)
    return built


def get(url, origin, **flags):
    """The response to a GET of `url` from `origin`, leaving the calling request's language as
    it was (this may run inside an admin request)."""
    with translation.override(translation.get_language()):
        return handler().get_response(request(url, origin, **flags))
