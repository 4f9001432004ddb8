"""Language choice: the admin follows the editor's browser, the public site is always Chinese."""

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
