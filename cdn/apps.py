from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CdnConfig(AppConfig):
    name = "cdn"
    verbose_name = _("CDN")

    def ready(self):
        # Request batching follows Django's request signals (idle when no CDN is set).
        from . import checks, purge  # noqa: F401
