"""Language choice: the admin follows the editor's browser, the public site is always Chinese."""

import logging

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class AdminLocaleMiddleware(LocaleMiddleware):
    """Let staff read the admin in English if their browser asks; readers get zh-hans.

    Keeping public pages in one language also keeps them one cache entry each,
    rather than one per Accept-Language header.
    """

    admin_prefix = "/admin/"

    def process_request(self, request):
        if request.path_info.startswith(self.admin_prefix):
            return super().process_request(request)
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = settings.LANGUAGE_CODE

    def process_response(self, request, response):
        if request.path_info.startswith(self.admin_prefix):
            return super().process_response(request, response)
        response.headers.setdefault("Content-Language", settings.LANGUAGE_CODE)
        return response


class DatabaseUnavailableMiddleware:
    """While the database is unreachable (restarting, failing over), answer 503 with a plain
    message instead of a server error: a reader is told to retry, an editor that their
    change was not saved (the request's transaction rolled back, so nothing half-done
    stays). Persistent connections are health-checked at the next request
    (conn_health_checks), so the site recovers by itself once the database is back.
    """

    MESSAGE = "数据库暂时不可用，本次操作没有保存，请稍后重试。\nThe database is briefly unavailable; nothing was saved. Please try again shortly.\n"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import DatabaseError, InterfaceError, OperationalError, connections
        from django.http import HttpResponse

        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        # A broken connection must not be reused by this thread's next request.
        for connection in connections.all(initialized_only=True):
            try:
                if not connection.is_usable():
                    connection.close()
            except DatabaseError:
                pass
        logging.getLogger("newsroom.faults").warning("database unavailable: %s %s: %s", request.method, request.path, exception)
        response = HttpResponse(self.MESSAGE, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        response["Cache-Control"] = "no-store"
        return response
