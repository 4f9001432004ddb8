"""Language choice: the admin speaks zh-hans unless an editor picks English; readers always get zh-hans."""

import logging

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.functional import SimpleLazyObject, empty


class AdminLocaleMiddleware(LocaleMiddleware):
    """Chinese by default everywhere; in the admin, an editor's own choice of language wins.

    The choice is the language cookie set by Django's `set_language` view (the
    switch in the admin's top bar), not the browser's Accept-Language: a newsroom
    works in Chinese even on machines set up in English. Keeping public pages in one
    language also keeps them one cache entry each.
    """

    admin_prefix = "/admin/"

    def process_request(self, request):
        language = settings.LANGUAGE_CODE
        if request.path_info.startswith(self.admin_prefix):
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            if chosen and translation.check_for_language(chosen) and chosen in dict(settings.LANGUAGES):
                language = chosen
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        if request.path_info.startswith(self.admin_prefix):
            response.headers.setdefault("Vary", "Cookie")
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class LazyMessageMiddleware(MessageMiddleware):
    """Django's messages (the admin's "saved" notes), with the store made when first used.

    Django makes the store (a cookie store and a session store, with a cookie signer) on every
    request and writes it back on every response. A reader's page never adds or shows a
    message, so here the store is made only when something adds or reads one; a store never
    made has nothing to write, exactly as an unused one writes nothing.
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        store = request.__dict__.get("_messages")
        if isinstance(store, SimpleLazyObject) and store._wrapped is empty:
            return response
        return super().process_response(request, response)


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


class MediaStorageUnavailableMiddleware:
    """When the photo storage (an S3-compatible bucket) fails in the middle of a request,
    answer 503 with a plain message instead of a server error. Uploads are checked before
    they are accepted (articles.forms.PhotoField), so this is the rare failure between that
    check and the write; the request's transaction has rolled back, so no row points at a
    file that was never stored, and the browser's Back button returns to the filled-in form.
    """

    MESSAGE = (
        "图片存储暂时不可用，本次操作没有保存。请返回上一页（已填写的内容仍在），稍后重试。\n"
        "The photo storage is briefly unavailable; nothing was saved. Go back (what you typed is still "
        "in the form) and try again shortly.\n"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.http import HttpResponse

        from newsroom.storage import is_storage_failure

        if not is_storage_failure(exception):
            return None
        logging.getLogger("newsroom.faults").warning("media storage failed: %s %s: %r", request.method, request.path, exception)
        response = HttpResponse(self.MESSAGE, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
