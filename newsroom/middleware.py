"""Language choice: the admin speaks zh-hans unless an editor picks English; readers always get zh-hans."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
