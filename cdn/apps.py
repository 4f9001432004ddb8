from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CdnConfig(AppConfig):
    name = "cdn"
    verbose_name = _("CDN")

    def ready(self):
        # Purges follow delivery.dependencies.public_urls_changed (idle when no CDN is set).
        from . import checks, purge  # noqa: F401
