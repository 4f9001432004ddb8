from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    """Getting pages to readers: the page cache, static publishing and CDN purges."""

    name = "delivery"
    verbose_name = _("Delivery")

    def ready(self):
        # Page-cache invalidation follows model signals; static publishing listens to
        # dependencies.public_urls_changed (idle when off).
        from . import dependencies, static_publish  # noqa: F401
